"""Absolute effects per 1,000 for binary outcomes, from a pooled OR, RR or RD.

A summary-of-findings table applies the pooled relative effect to an assumed control risk (ACR)
and shows the corresponding intervention risk per 1,000 and the difference per 1,000, each with
the interval obtained by applying the same formula to the confidence limits of the pooled effect:

- RR: corresponding risk = ACR x RR
- OR: corresponding risk = OR x ACR / (1 - ACR + OR x ACR)
- RD: corresponding risk = ACR + RD

(Cochrane Handbook 5.1, section 11.5.5 "Statistical considerations in 'Summary of findings'
tables"; Handbook version 6, chapter 14, Schünemann et al. 2019; GRADE guidelines 12, Guyatt et
al., J Clin Epidemiol 2013;66:158, which recommends applying the relative effect to the control
group risk.) A risk outside [0, 1] (possible for RR and RD) is clipped to [0, 1000] per 1,000
and a note says so. The assumed control risk defaults to the median risk of the control arms of
the pooled studies (``control_risk``); a team may enter another.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import GradeInputError

BINARY_MEASURES = ("OR", "RR", "RD")


@dataclass(frozen=True)
class AbsoluteEffect:
    """Risks and differences per 1,000 (floats, unrounded; ``per_1000_text`` formats them)."""

    measure: str
    acr: float  # assumed control risk, a proportion
    control_per_1000: float
    risk_per_1000: float  # corresponding risk with the intervention
    risk_lb_per_1000: float
    risk_ub_per_1000: float
    difference_per_1000: float  # corresponding minus assumed
    difference_lb_per_1000: float
    difference_ub_per_1000: float
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """'120 per 1,000 (95 to 150)' and '30 fewer per 1,000 (from 55 fewer to 0 fewer)'."""
        return (
            f"{_round(self.risk_per_1000)} per 1,000 "
            f"({_round(self.risk_lb_per_1000)} to {_round(self.risk_ub_per_1000)}); "
            f"{_difference_text(self.difference_per_1000)} per 1,000 "
            f"(from {_difference_text(self.difference_lb_per_1000)} "
            f"to {_difference_text(self.difference_ub_per_1000)})"
        )


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def _difference_text(d: float) -> str:
    n = _round(abs(d))
    return f"{n} more" if d > 0 and n else f"{n} fewer" if d < 0 and n else "0 fewer"


def control_risk(events: Sequence[float], totals: Sequence[float]) -> float:
    """The median risk (events/total) of the control arms: the default assumed control risk."""
    if len(events) != len(totals):
        raise GradeInputError("Control arms need as many event counts as totals.")
    if not events:
        raise GradeInputError("No control arms: enter the assumed control risk instead.")
    risks = []
    for e, n in zip(events, totals, strict=True):
        if e is None or n is None:
            raise GradeInputError("A control arm lacks its events or its total.")
        if n <= 0 or e < 0 or e > n:
            raise GradeInputError(f"A control arm has {e} events out of {n}: not a risk.")
        risks.append(e / n)
    return float(statistics.median(risks))


def _corresponding(measure: str, effect: float, acr: float) -> float:
    if measure == "RR":
        return acr * effect
    if measure == "OR":
        return effect * acr / (1 - acr + effect * acr)
    return acr + effect  # RD


def absolute_effect(
    measure: str,
    estimate: float,
    ci_lb: float,
    ci_ub: float,
    acr: float,
    *,
    log_scale: bool = True,
) -> AbsoluteEffect:
    """Corresponding risk and risk difference per 1,000 for an assumed control risk ``acr``.

    ``estimate``, ``ci_lb`` and ``ci_ub`` are the pooled effect on the analysis scale: for OR and
    RR the log ratio (as the results dict stores it, ``transform == "exp"``) unless
    ``log_scale=False``; for RD the difference in proportions.
    """
    measure = (measure or "").upper()
    if measure not in BINARY_MEASURES:
        raise GradeInputError(
            f"Absolute effects per 1,000 need a binary measure ({', '.join(BINARY_MEASURES)}), "
            f"not {measure or 'none'}."
        )
    values = (estimate, ci_lb, ci_ub)
    if any(v is None or not math.isfinite(v) for v in values):
        raise GradeInputError("The pooled effect or its confidence interval is missing.")
    if acr is None or not 0 <= acr <= 1:
        raise GradeInputError(f"The assumed control risk must be a proportion, not {acr}.")
    if measure in ("OR", "RR"):
        if log_scale:
            values = tuple(math.exp(v) for v in values)
        elif any(v <= 0 for v in values):
            raise GradeInputError(f"A {measure} must be positive.")
    notes: list[str] = []
    risks = []
    for label, v in zip(("estimate", "lower limit", "upper limit"), values, strict=True):
        r = _corresponding(measure, v, acr)
        if r < 0 or r > 1:
            clipped = min(max(r, 0.0), 1.0)
            notes.append(
                f"The {label} gives a risk of {r * 1000:.0f} per 1,000 with the intervention, "
                f"outside 0 to 1,000; shown as {clipped * 1000:.0f}."
            )
            r = clipped
        risks.append(r * 1000)
    risk, lb, ub = risks
    lb, ub = min(lb, ub), max(lb, ub)
    control = acr * 1000
    return AbsoluteEffect(
        measure=measure,
        acr=acr,
        control_per_1000=control,
        risk_per_1000=risk,
        risk_lb_per_1000=lb,
        risk_ub_per_1000=ub,
        difference_per_1000=risk - control,
        difference_lb_per_1000=lb - control,
        difference_ub_per_1000=ub - control,
        notes=notes,
    )


def absolute_effect_of(result: dict, acr: float) -> AbsoluteEffect:
    """``absolute_effect`` for the main model of a synthesis results dict."""
    main = result.get("main") or {}
    measure = (result.get("spec") or {}).get("measure", "")
    return absolute_effect(
        measure,
        main.get("estimate"),
        main.get("ci_lb"),
        main.get("ci_ub"),
        acr,
    )
