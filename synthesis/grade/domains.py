"""Suggested GRADE judgements from a synthesis results dict, and the certainty they lead to.

Each function reads the stored results dict (docs/architecture.md, synthesis; effects on the
analysis scale, so the null is 0) and returns a ``DomainSuggestion``: the suggestion ("no
concern", "serious", "very serious", or None where only the team can judge), the levels it
would rate down (or up), the evidence with the numbers used, and the rule with its source.
GRADE leaves these judgements to people; the rules below draft them from the handbook's own
criteria and bands, and a lead accepts or changes each with a written reason.

Sources: GRADE handbook (Schünemann, Brożek, Guyatt, Oxman, eds., 2013): 5.2.1 study limitations
(risk of bias), 5.2.2 inconsistency, 5.2.3 indirectness, 5.2.4 imprecision, 5.2.5 publication
bias, 5.3 rating up; the GRADE guidelines papers in J Clin Epidemiol (4 risk of bias, 2011;64:407;
5 publication bias, 2011;64:1277; 6 imprecision, 2011;64:1283; 7 inconsistency, 2011;64:1294;
9 rating up, 2011;64:1311; 34 imprecision update, 2022;150:216); the Cochrane Handbook.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import GradeInputError
from .ois import OptimalInformationSize

NO_CONCERN, SERIOUS, VERY_SERIOUS = "no concern", "serious", "very serious"
SUGGESTION_LEVELS = {NO_CONCERN: 0, SERIOUS: 1, VERY_SERIOUS: 2}
_BY_LEVEL = {0: NO_CONCERN, 1: SERIOUS, 2: VERY_SERIOUS}
UPGRADE_WORDS = {0: "no upgrade", 1: "upgrade one level", 2: "upgrade two levels"}
CERTAINTIES = ("very low", "low", "moderate", "high")

RULE_RISK_OF_BIAS = (
    "GRADE handbook 5.2.1 (study limitations) and GRADE guidelines 4: rate down when the "
    "proportion of information from studies at high risk of bias is enough to affect the "
    "interpretation of the results, as the Cochrane Handbook 5.1 (chapter 12) table on study "
    "limitations puts it: most information from studies at low risk: no concern; most from "
    "studies at low risk or with some concerns: judgement (suggested serious); high-risk "
    "information that changes the conclusion: serious, very serious when it is most of it."
)
RULE_INCONSISTENCY = (
    "GRADE handbook 5.2.2 and GRADE guidelines 7: point estimates that vary widely, confidence "
    "intervals with little or no overlap, a small p of the test of heterogeneity, a large I². "
    "GRADE sets no I² threshold; the bands used are the Cochrane Handbook's overlapping ones "
    "(0-40 % might not be important, 30-60 % moderate, 50-90 % substantial, 75-100 % "
    "considerable): suggested serious from I² 50 % or two other signals, very serious from "
    "75 % with another signal. GRADE guidance 36 warns against relying on I² alone."
)
RULE_INDIRECTNESS = (
    "GRADE handbook 5.2.3: differences in population, intervention, comparator or outcome "
    "from the question, and indirect comparisons. No number can show it: the team judges."
)
RULE_IMPRECISION = (
    "GRADE handbook 5.2.4, GRADE guidelines 6 and 34: rate down when the 95 % CI includes "
    "both an important and an unimportant effect (crosses one threshold: serious) or both "
    "important benefit and important harm (crosses both: very serious). Thresholds: the "
    "team's minimal important difference; without one, RR/OR 0.75 and 1.25 (GRADE 6's rough "
    "guide) for ratio measures, else the null (minimally contextualised). Also rate down "
    "when the participants fall short of the optimal information size."
)
RULE_PUBLICATION_BIAS = (
    "GRADE handbook 5.2.5 and GRADE guidelines 5; tests for funnel plot asymmetry only with "
    "at least 10 studies (Sterne et al., BMJ 2011;343:d4002, as the Cochrane Handbook "
    "recommends). Suggested serious when Egger's regression test "
    "gives p < 0.10 (Egger et al., BMJ 1997) or trim-and-fill changes the conclusion."
)
RULE_LARGE_EFFECT = (
    "GRADE handbook 5.3 and GRADE guidelines 9: for non-randomised evidence only, rate up one "
    "level for RR > 2 or < 0.5 and two levels for RR > 5 or < 0.2, when no plausible "
    "confounding explains it and there is no other reason to rate down."
)
RULE_DOSE_RESPONSE = (
    "GRADE handbook 5.3 and GRADE guidelines 9: for non-randomised evidence only, a "
    "dose-response gradient may rate up one level; the team judges it."
)


@dataclass(frozen=True)
class DomainSuggestion:
    domain: str
    suggestion: str | None  # NO_CONCERN | SERIOUS | VERY_SERIOUS, UPGRADE_WORDS, or None
    levels: int  # levels down (domains) or up (large_effect, dose_response)
    evidence: str
    rule: str
    data: dict = field(default_factory=dict)


def _suggest(domain: str, level: int | None, evidence: list[str], rule: str, **data):
    suggestion = None if level is None else _BY_LEVEL[level]
    return DomainSuggestion(domain, suggestion, level or 0, " ".join(evidence), rule, data)


# ----- helpers ---------------------------------------------------------------------------


def _is_ratio(result: dict) -> bool:
    return result.get("transform") == "exp"


def _show(x: float | None, result: dict) -> str:
    if x is None:
        return "n/a"
    return f"{math.exp(x):.2f}" if _is_ratio(result) else f"{x:.3g}"


def _interval(lb, ub, result: dict) -> str:
    return f"{_show(lb, result)} to {_show(ub, result)}"


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _excludes_null(lb: float, ub: float) -> bool:
    return lb > 0 or ub < 0


def _main(result: dict) -> dict:
    main = result.get("main")
    if not main or not _finite(main.get("estimate"), main.get("ci_lb"), main.get("ci_ub")):
        raise GradeInputError("The analysis has no pooled estimate with a confidence interval.")
    return main


def _conclusion_change(main: dict, other: dict) -> bool | None:
    """Whether ``other`` changes the conclusion of ``main``: its CI excludes the null while the
    main one does not (or the reverse), or its estimate lies on the other side of the null."""
    if not _finite(other.get("estimate"), other.get("ci_lb"), other.get("ci_ub")):
        return None
    before = _excludes_null(main["ci_lb"], main["ci_ub"])
    after = _excludes_null(other["ci_lb"], other["ci_ub"])
    side_changed = main["estimate"] * other["estimate"] < 0
    return before != after or side_changed


def _describe(model: dict, result: dict) -> str:
    interval = _interval(model["ci_lb"], model["ci_ub"], result)
    return f"{_show(model['estimate'], result)} ({interval})"


# ----- risk of bias (5.2.1) ----------------------------------------------------------------


def risk_of_bias(result: dict) -> DomainSuggestion:
    """Share of the main model's weight from studies at high risk and with some concerns, and
    whether the analysis without the high-risk studies changes the conclusion."""
    main = _main(result)
    high = set((result.get("spec") or {}).get("high_rob") or [])
    studies = result.get("studies") or []
    weights = {"high": 0.0, "some": 0.0, "low": 0.0, "none": 0.0}
    names: dict[str, list[str]] = {"high": [], "some": [], "low": [], "none": []}
    for s in studies:
        rob = s.get("rob")
        group = (
            "none"
            if not rob
            else "high"
            if rob in high
            else "low"
            if str(rob).strip().lower() == "low"
            else "some"
        )
        weights[group] += float(s.get("weight") or 0.0)
        names[group].append(str(s.get("study")))
    total = sum(weights.values())
    if not studies or total <= 0:
        return _suggest(
            "risk_of_bias", None, ["The analysis reports no study weights."], RULE_RISK_OF_BIAS
        )
    share = {g: 100 * w / total for g, w in weights.items()}
    if not names["high"] and not names["some"] and not names["low"]:
        return _suggest(
            "risk_of_bias",
            None,
            ["No study in this analysis has a risk-of-bias judgement: the team judges."],
            RULE_RISK_OF_BIAS,
            shares=share,
        )
    evidence = [
        f"Weight from studies at high risk of bias: {share['high']:.0f} %"
        + (f" ({', '.join(names['high'])})" if names["high"] else "")
        + f"; with some concerns: {share['some']:.0f} %; at low risk: {share['low']:.0f} %"
        + (f"; not judged: {share['none']:.0f} %" if names["none"] else "")
        + "."
    ]
    changed = None
    if names["high"]:
        sens = [
            s
            for s in result.get("sensitivity") or []
            if s.get("kind") == "without_high_rob" and not s.get("error")
        ]
        if sens:
            changed = _conclusion_change(main, sens[0])
        if changed is None:
            evidence.append(
                "The analysis without them was not run or could not be fitted, so whether they "
                "change the conclusion is unknown."
            )
        else:
            evidence.append(
                f"Without them the estimate is {_describe(sens[0], result)}, against "
                f"{_describe(main, result)} with them: the conclusion "
                + ("changes." if changed else "does not change.")
            )
    if names["high"] and changed:
        level = 2 if share["high"] > 50 else 1
    elif share["high"] > 50:
        level = 1
    elif share["low"] > 50:
        level = 0
    else:
        level = 1
        evidence.append("Most of the weight is not from studies at low risk of bias.")
    return _suggest(
        "risk_of_bias", level, evidence, RULE_RISK_OF_BIAS, shares=share, conclusion_changes=changed
    )


# ----- inconsistency (5.2.2) ------------------------------------------------------------------

I2_BANDS = (
    (0, 40, "might not be important"),
    (30, 60, "may represent moderate heterogeneity"),
    (50, 90, "may represent substantial heterogeneity"),
    (75, 100, "considerable heterogeneity"),
)


def _non_overlapping(studies: list[dict]) -> tuple[str, str] | None:
    """A pair of studies whose confidence intervals do not overlap (the most separated)."""
    usable = [s for s in studies if _finite(s.get("ci_lb"), s.get("ci_ub"))]
    if len(usable) < 2:
        return None
    lowest_upper = min(usable, key=lambda s: s["ci_ub"])
    highest_lower = max(usable, key=lambda s: s["ci_lb"])
    if lowest_upper["ci_ub"] < highest_lower["ci_lb"]:
        return str(lowest_upper.get("study")), str(highest_lower.get("study"))
    return None


def inconsistency(result: dict) -> DomainSuggestion:
    """I² with its CI and band, the prediction interval against the CI, non-overlapping CIs."""
    main = _main(result)
    k = main.get("k") or 0
    if k < 2:
        return _suggest(
            "inconsistency",
            None,
            ["A single study: inconsistency cannot be judged from the data."],
            RULE_INCONSISTENCY,
        )
    i2 = main.get("i2")
    evidence = []
    if i2 is not None:
        bands = [text for lo, hi, text in I2_BANDS if lo <= i2 <= hi]
        ci = (
            f" (95 % CI {main['i2_ci_lb']:.0f} % to {main['i2_ci_ub']:.0f} %)"
            if _finite(main.get("i2_ci_lb"), main.get("i2_ci_ub"))
            else ""
        )
        evidence.append(f"I² = {i2:.0f} %{ci}: {' / '.join(bands)}.")
    q_p = main.get("q_p")
    if q_p is not None:
        q = f"Q = {main['q']:.2f}, " if main.get("q") is not None else ""
        evidence.append(f"Test of heterogeneity: {q}p = {q_p:.3g}.")
    pi_crosses = False
    if _finite(main.get("pi_lb"), main.get("pi_ub")):
        pi_crosses = not _excludes_null(main["pi_lb"], main["pi_ub"]) and _excludes_null(
            main["ci_lb"], main["ci_ub"]
        )
        evidence.append(
            f"Prediction interval {_interval(main['pi_lb'], main['pi_ub'], result)}"
            + (" includes the null while the confidence interval does not." if pi_crosses else ".")
        )
    pair = _non_overlapping(result.get("studies") or [])
    evidence.append(
        f"The confidence intervals of {pair[0]} and {pair[1]} do not overlap."
        if pair
        else "Every pair of study confidence intervals overlaps."
    )
    signals = sum([pi_crosses, pair is not None, q_p is not None and q_p < 0.10])
    if i2 is not None and i2 >= 75 and (pi_crosses or pair is not None):
        level = 2
    elif (i2 is not None and i2 >= 50) or signals >= 2:
        level = 1
    else:
        level = 0
    return _suggest(
        "inconsistency",
        level,
        evidence,
        RULE_INCONSISTENCY,
        i2=i2,
        pi_crosses_null=pi_crosses,
        non_overlapping=list(pair) if pair else None,
    )


# ----- indirectness (5.2.3) -------------------------------------------------------------------


def indirectness(result: dict | None = None) -> DomainSuggestion:
    """No suggestion: indirectness is judged by the team, with a reason."""
    return _suggest(
        "indirectness",
        None,
        ["Judged by the team: no data in the analysis can show indirectness."],
        RULE_INDIRECTNESS,
    )


# ----- imprecision (5.2.4) --------------------------------------------------------------------


def _thresholds(result: dict, mid: float | None) -> tuple[float, float, str] | None:
    """The (lower, upper) thresholds on the analysis scale, and where they come from."""
    ratio = _is_ratio(result)
    if mid is not None:
        if ratio:
            if mid <= 0 or mid == 1:
                raise GradeInputError(
                    f"For a ratio measure the MID is a ratio other than 1 (e.g. 1.25), not {mid}."
                )
            t = abs(math.log(mid))
            return -t, t, f"the MID (ratio {math.exp(-t):.2f} / {math.exp(t):.2f})"
        if mid == 0:
            raise GradeInputError("The minimal important difference must not be 0.")
        return -abs(mid), abs(mid), f"the MID (±{abs(mid):g})"
    if ratio:
        return math.log(0.75), math.log(1.25), "GRADE's rough guide (ratio 0.75 / 1.25)"
    return None


def imprecision(
    result: dict,
    *,
    mid: float | None = None,
    ois: int | OptimalInformationSize | None = None,
    participants: int | None = None,
) -> DomainSuggestion:
    """The CI against the null or the MID, and the participants against the OIS.

    ``mid`` is in the measure's own units: a ratio for OR and RR (1.25 and 0.8 both mean a
    threshold of |log 1.25|), a difference otherwise.
    """
    main = _main(result)
    lb, ub = main["ci_lb"], main["ci_ub"]
    evidence = [f"Pooled effect {_describe(main, result)}."]
    thresholds = _thresholds(result, mid)
    if thresholds:
        lo, hi, source = thresholds
        crosses = [t for t in (lo, hi) if lb < t < ub]
        level = len(crosses)
        if level == 2:
            evidence.append(
                f"The confidence interval crosses both thresholds of {source}: it includes "
                "important benefit and important harm."
            )
        elif level == 1:
            evidence.append(
                f"The confidence interval crosses {_show(crosses[0], result)}, a threshold of "
                f"{source}: it includes important and unimportant effects."
            )
        else:
            evidence.append(f"The confidence interval crosses neither threshold of {source}.")
        if not _excludes_null(lb, ub):
            evidence.append("It includes the null.")
    else:
        level = 0 if _excludes_null(lb, ub) else 1
        evidence.append(
            "No minimal important difference given; the confidence interval "
            + ("excludes the null." if level == 0 else "includes the null.")
        )
    ois_total = ois.total if isinstance(ois, OptimalInformationSize) else ois
    short = None
    if ois_total:
        if participants is None:
            evidence.append(
                f"Optimal information size {ois_total}; participants unknown, not compared."
            )
        else:
            short = participants < ois_total
            evidence.append(
                f"{participants} participants against an optimal information size of {ois_total}"
                + (f" ({ois.formula})" if isinstance(ois, OptimalInformationSize) else "")
                + (": below it." if short else ": enough.")
            )
            if short:
                level = max(level, 1)
    return _suggest(
        "imprecision",
        level,
        evidence,
        RULE_IMPRECISION,
        thresholds=list(thresholds[:2]) if thresholds else None,
        below_ois=short,
    )


# ----- publication bias (5.2.5) ---------------------------------------------------------------

MIN_STUDIES_FOR_FUNNEL_TESTS = 10


def publication_bias(result: dict) -> DomainSuggestion:
    """Egger's test and trim-and-fill, only with at least ten studies."""
    main = _main(result)
    k = main.get("k") or 0
    if k < MIN_STUDIES_FOR_FUNNEL_TESTS:
        return _suggest(
            "publication_bias",
            None,
            [f"{k} studies: too few studies to judge (tests need at least 10); the team judges."],
            RULE_PUBLICATION_BIAS,
            k=k,
        )
    pb = result.get("publication_bias") or {}
    egger, tf = pb.get("egger"), pb.get("trimfill")
    if not egger and not tf:
        return _suggest(
            "publication_bias",
            None,
            [f"{k} studies, but the publication-bias analyses were not run."],
            RULE_PUBLICATION_BIAS,
            k=k,
        )
    evidence = []
    egger_low = False
    if egger and egger.get("pval") is not None:
        egger_low = egger["pval"] < 0.10
        evidence.append(f"Egger's regression test: p = {egger['pval']:.3g}.")
    changed = None
    if tf:
        changed = _conclusion_change(main, tf)
        evidence.append(
            f"Trim-and-fill adds {tf.get('k0', 0)} studies"
            + (f" on the {tf['side']} side" if tf.get("side") else "")
            + (
                f"; adjusted estimate {_describe(tf, result)}, against {_describe(main, result)}"
                if changed is not None
                else ""
            )
            + (": the conclusion changes." if changed else ": the conclusion does not change.")
        )
    level = 1 if egger_low or changed else 0
    return _suggest(
        "publication_bias",
        level,
        evidence,
        RULE_PUBLICATION_BIAS,
        k=k,
        egger_p=egger.get("pval") if egger else None,
        trimfill_changes=changed,
    )


# ----- rating up (5.3) ---------------------------------------------------------------------


def upgrades(
    result: dict, *, randomised: bool, dose_response: bool = False
) -> list[DomainSuggestion]:
    """Large effect and dose-response suggestions; randomised evidence is never rated up."""
    if randomised:
        note = "Randomised evidence starts high and is not rated up."
        return [
            DomainSuggestion("large_effect", UPGRADE_WORDS[0], 0, note, RULE_LARGE_EFFECT),
            DomainSuggestion("dose_response", UPGRADE_WORDS[0], 0, note, RULE_DOSE_RESPONSE),
        ]
    main = _main(result)
    if _is_ratio(result):
        ratio = math.exp(main["estimate"])
        level = 2 if ratio > 5 or ratio < 0.2 else 1 if ratio > 2 or ratio < 0.5 else 0
        large = DomainSuggestion(
            "large_effect",
            UPGRADE_WORDS[level],
            level,
            f"Pooled ratio {ratio:.2f}"
            + (" (large effect)." if level == 1 else " (very large effect)." if level else ".")
            + " Check that no plausible confounding explains it.",
            RULE_LARGE_EFFECT,
            {"ratio": ratio},
        )
    else:
        large = DomainSuggestion(
            "large_effect",
            None,
            0,
            "The thresholds apply to risk ratios; for this measure the team judges.",
            RULE_LARGE_EFFECT,
        )
    dose = DomainSuggestion(
        "dose_response",
        UPGRADE_WORDS[1] if dose_response else UPGRADE_WORDS[0],
        1 if dose_response else 0,
        "The team reports a dose-response gradient."
        if dose_response
        else "No dose-response gradient reported by the team.",
        RULE_DOSE_RESPONSE,
    )
    return [large, dose]


# ----- certainty ---------------------------------------------------------------------------


def _levels(value: int | Iterable) -> int:
    if isinstance(value, int):
        n = value
    else:
        n = 0
        for item in value:
            if isinstance(item, DomainSuggestion):
                n += item.levels
            elif isinstance(item, int):
                n += item
            elif item is None:
                continue
            elif item in SUGGESTION_LEVELS:
                n += SUGGESTION_LEVELS[item]
            else:
                raise GradeInputError(f"Unknown judgement {item!r}.")
    if n < 0:
        raise GradeInputError("Levels to rate down or up cannot be negative.")
    return n


def certainty(start: str, downgrades: int | Iterable = 0, upgrades: int | Iterable = 0) -> str:
    """'high' | 'moderate' | 'low' | 'very low' from the starting level ('high' for randomised,
    'low' for non-randomised evidence, GRADE handbook 5.1) and the levels rated down and up.

    ``downgrades`` and ``upgrades`` are a number of levels or a list of judgements ("serious",
    "very serious", ints or ``DomainSuggestion``). The result never leaves the four levels.
    """
    if start not in ("high", "low"):
        raise GradeInputError(f"Evidence starts 'high' (randomised) or 'low', not {start!r}.")
    down, up = _levels(downgrades), _levels(upgrades)
    if up and start == "high":
        raise GradeInputError("GRADE rates up only non-randomised evidence (handbook 5.3).")
    index = CERTAINTIES.index(start) - down + up
    return CERTAINTIES[min(max(index, 0), len(CERTAINTIES) - 1)]


def suggestions(
    result: dict,
    *,
    randomised: bool = True,
    mid: float | None = None,
    ois: int | OptimalInformationSize | None = None,
    participants: int | None = None,
    dose_response: bool = False,
) -> list[DomainSuggestion]:
    """Every domain's suggestion for one analysis, in the order of a GRADE evidence profile."""
    return [
        risk_of_bias(result),
        inconsistency(result),
        indirectness(result),
        imprecision(result, mid=mid, ois=ois, participants=participants),
        publication_bias(result),
        *upgrades(result, randomised=randomised, dose_response=dose_response),
    ]
