"""The optimal information size (OIS): the participants one adequately powered trial would need.

GRADE guidelines 6 (Guyatt et al., J Clin Epidemiol 2011;64:1283-1293; GRADE handbook section
5.2.4, imprecision): when the total number of participants in a meta-analysis is below the
number a single adequately powered trial would need, consider rating down for imprecision.

Binary outcomes: the two-group sample size for comparing two proportions with the normal
approximation and the pooled variance under the null hypothesis, without continuity correction
(Fleiss; the formula R's ``power.prop.test`` solves)::

    p1 = control risk, p2 = p1 x (1 - RRR), pbar = (p1 + p2) / 2
    n per group = [z(1-alpha/2) sqrt(2 pbar (1-pbar)) + z(power) sqrt(p1(1-p1) + p2(1-p2))]^2
                  / (p1 - p2)^2

with the relative risk reduction (RRR) 25 % by default (GRADE guidelines 6 suggests 20-30 %).

Continuous outcomes: the two-group sample size for comparing two means, normal approximation::

    n per group = 2 (z(1-alpha/2) + z(power))^2 / d^2,  d = MID / SD

and, when no MID and SD are known, d = 0.2 (a "small" standardised effect, Cohen's rule of
thumb), which gives 393 per group, 786 in all, at alpha 0.05 and power 0.8.

Both round each group up to a whole participant; the OIS is twice that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from .errors import GradeInputError


@dataclass(frozen=True)
class OptimalInformationSize:
    total: int
    per_group: int
    formula: str  # the formula and the numbers used, for the evidence text


def _check_alpha_power(alpha: float, power: float) -> tuple[float, float]:
    if not 0 < alpha < 1:
        raise GradeInputError(f"alpha must lie between 0 and 1, not {alpha}.")
    if not 0 < power < 1:
        raise GradeInputError(f"power must lie between 0 and 1, not {power}.")
    return float(norm.ppf(1 - alpha / 2)), float(norm.ppf(power))


def ois_binary(
    control_risk: float, rrr: float = 0.25, *, alpha: float = 0.05, power: float = 0.8
) -> OptimalInformationSize:
    """OIS for a binary outcome from the control risk and a relative risk reduction."""
    if control_risk is None or not 0 < control_risk < 1:
        raise GradeInputError(f"The control risk must lie between 0 and 1, not {control_risk}.")
    if rrr is None or not 0 < rrr < 1:
        raise GradeInputError(f"The relative risk reduction must lie between 0 and 1, not {rrr}.")
    za, zb = _check_alpha_power(alpha, power)
    p1 = control_risk
    p2 = p1 * (1 - rrr)
    pbar = (p1 + p2) / 2
    root = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    per_group = math.ceil(root**2 / (p1 - p2) ** 2)
    formula = (
        f"two proportions, normal approximation with pooled variance: control risk {p1:.3g}, "
        f"relative risk reduction {rrr:.0%} (intervention risk {p2:.3g}), alpha {alpha:g} "
        f"two-sided, power {power:g}: {per_group} per group, {2 * per_group} in all"
    )
    return OptimalInformationSize(total=2 * per_group, per_group=per_group, formula=formula)


def ois_continuous(
    mid: float | None = None,
    sd: float | None = None,
    *,
    smd: float = 0.2,
    alpha: float = 0.05,
    power: float = 0.8,
) -> OptimalInformationSize:
    """OIS for a continuous outcome from the MID and SD, or a standardised difference ``smd``."""
    za, zb = _check_alpha_power(alpha, power)
    if mid is not None or sd is not None:
        if mid is None or sd is None:
            raise GradeInputError("Give both the minimal important difference and the SD.")
        if mid == 0 or sd <= 0:
            raise GradeInputError("The MID must not be 0 and the SD must be positive.")
        d = abs(mid) / sd
        source = f"MID {abs(mid):g} / SD {sd:g} = {d:.3g} SD"
    else:
        if smd is None or smd <= 0:
            raise GradeInputError(f"The standardised difference must be positive, not {smd}.")
        d = smd
        source = f"standardised difference {d:g} (rule of thumb: a small effect)"
    per_group = math.ceil(2 * (za + zb) ** 2 / d**2)
    formula = (
        f"two means, normal approximation: {source}, alpha {alpha:g} two-sided, power "
        f"{power:g}: {per_group} per group, {2 * per_group} in all"
    )
    return OptimalInformationSize(total=2 * per_group, per_group=per_group, formula=formula)
