"""Plain-language statements from the certainty and the size of the effect.

The wording follows GRADE guidelines 26 (Santesso et al., "Informative statements to
communicate the findings of systematic reviews of interventions", J Clin Epidemiol
2020;119:126-135): the certainty sets the hedge (high: none, moderate: "probably", low: "may",
very low: "the evidence is very uncertain about ..."), the size sets the verb (an important
effect "reduces"/"increases", a small important one "... slightly", a trivial or no effect
"results in little to no difference in").

The size is read from the minimal important difference (MID): an estimate below the MID is
trivial; at or beyond it, the effect is important when the whole confidence interval is beyond
the MID too and small ("slightly") when the interval reaches below it, unless the team gives a
``large`` threshold, in which case estimates between the MID and ``large`` are small. Without a
MID the null is the threshold (GRADE's minimally contextualised approach): an interval that
excludes the null is an effect, one that includes it is "little to no difference". The
statements are drafts the team edits.
"""

from __future__ import annotations

import math

from .errors import GradeInputError

IMPORTANT, SMALL, TRIVIAL = "important", "small", "trivial"
SIZES = (IMPORTANT, SMALL, TRIVIAL)

#: (certainty, size) -> template; {x} intervention, {y} outcome, {verb} "reduce"/"increase",
#: {verbs} "reduces"/"increases".
TEMPLATES = {
    ("high", IMPORTANT): "{x} {verbs} {y}.",
    ("high", SMALL): "{x} {verbs} {y} slightly.",
    ("high", TRIVIAL): "{x} results in little to no difference in {y}.",
    ("moderate", IMPORTANT): "{x} probably {verbs} {y}.",
    ("moderate", SMALL): "{x} probably {verbs} {y} slightly.",
    ("moderate", TRIVIAL): "{x} probably results in little to no difference in {y}.",
    ("low", IMPORTANT): "{x} may {verb} {y}.",
    ("low", SMALL): "{x} may {verb} {y} slightly.",
    ("low", TRIVIAL): "{x} may result in little to no difference in {y}.",
    ("very low", IMPORTANT): "The evidence is very uncertain about the effect of {x} on {y}.",
    ("very low", SMALL): "The evidence is very uncertain about the effect of {x} on {y}.",
    ("very low", TRIVIAL): "The evidence is very uncertain about the effect of {x} on {y}.",
}


def _scale(value: float | None, ratio: bool, name: str) -> float | None:
    if value is None:
        return None
    if ratio:
        if value <= 0 or value == 1:
            raise GradeInputError(f"For a ratio measure the {name} is a ratio other than 1.")
        return abs(math.log(value))
    if value == 0:
        raise GradeInputError(f"The {name} must not be 0.")
    return abs(value)


def effect_size_class(
    estimate: float,
    ci_lb: float,
    ci_ub: float,
    *,
    mid: float | None = None,
    large: float | None = None,
    ratio: bool = False,
) -> str:
    """'important', 'small' or 'trivial' for an effect on the analysis scale (null 0).

    ``mid`` and ``large`` are in the measure's own units (a ratio such as 1.25 for OR and RR,
    with ``ratio=True`` and the effect given as a log ratio).
    """
    if any(v is None or not math.isfinite(v) for v in (estimate, ci_lb, ci_ub)):
        raise GradeInputError("The pooled effect or its confidence interval is missing.")
    threshold = _scale(mid, ratio, "minimal important difference")
    big = _scale(large, ratio, "large-effect threshold")
    excludes_null = ci_lb > 0 or ci_ub < 0
    if threshold is None:
        return IMPORTANT if excludes_null else TRIVIAL
    size = abs(estimate)
    if size < threshold:
        return TRIVIAL
    if big is not None:
        return IMPORTANT if size >= big else SMALL
    nearest = min(abs(ci_lb), abs(ci_ub)) if excludes_null else 0.0
    return IMPORTANT if nearest >= threshold else SMALL


def statement(
    certainty: str, intervention: str, outcome: str, *, size: str, estimate: float = -1.0
) -> str:
    """The informative statement for a certainty, a size and the direction of ``estimate``."""
    if (certainty, size) not in TEMPLATES:
        raise GradeInputError(f"No statement for certainty {certainty!r} and size {size!r}.")
    if not intervention or not outcome:
        raise GradeInputError("A statement needs the intervention and the outcome.")
    reduce = estimate < 0
    text = TEMPLATES[(certainty, size)].format(
        x=intervention.strip(),
        y=outcome.strip(),
        verb="reduce" if reduce else "increase",
        verbs="reduces" if reduce else "increases",
    )
    return text[0].upper() + text[1:]


def statement_of(
    result: dict,
    certainty: str,
    intervention: str,
    outcome: str,
    *,
    mid: float | None = None,
    large: float | None = None,
) -> str:
    """``statement`` for the main model of a synthesis results dict."""
    main = result.get("main") or {}
    size = effect_size_class(
        main.get("estimate"),
        main.get("ci_lb"),
        main.get("ci_ub"),
        mid=mid,
        large=large,
        ratio=result.get("transform") == "exp",
    )
    return statement(certainty, intervention, outcome, size=size, estimate=main["estimate"])
