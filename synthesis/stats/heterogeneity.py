"""Q-profile confidence intervals for τ², τ, I² and H² (metafor's ``confint.rma.uni``, type "QP").

Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in meta-analysis.
Stat Med 26:37-52.

The bounds solve Q(τ²) = y'P(τ²)y = χ²-quantile with k - p df: the lower bound against the upper
α/2 quantile, the upper bound against the lower one. Q is convex and decreasing in τ², so
Newton's method from τ² = 0 converges monotonically to each root; the answer is the exact root
(metafor's ``uniroot`` stops within ``tol`` of it). As in metafor, the search is confined to
[0, tau2_max] with ``tau2_max = max(100, 10·τ̂²)`` by default:

* Q(0) below the lower quantile: both bounds 0, ``ci_null`` is true, both signs ``"<"``;
* Q(0) below the upper quantile: the lower bound is 0;
* Q(tau2_max) above a quantile: that bound is capped at ``tau2_max`` with sign ``">"`` (k = 2
  often does this; pass a larger ``tau2_max`` for the real root).

The I² and H² bounds are the τ² bounds mapped with the model's typical within-study variance
``vt``: I² = 100τ²/(τ² + vt), H² = τ²/vt + 1. The ``*_estimate`` fields are the model's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _batch, _dist
from ._linear import q_general, solve_q_general
from .errors import StatsInputError
from .metareg import MetaRegFit
from .models import MetaFit


@dataclass(frozen=True)
class HeterogeneityInterval:
    """Estimates and Q-profile CIs of τ², τ, I² (percent) and H²."""

    level: float
    tau2: float
    tau2_lb: float
    tau2_ub: float
    tau: float
    tau_lb: float
    tau_ub: float
    i2: float
    i2_lb: float
    i2_ub: float
    h2: float
    h2_lb: float
    h2_ub: float
    lb_sign: str
    ub_sign: str
    ci_null: bool
    tau2_max: float
    converged: bool


def heterogeneity_confint(
    fit: MetaFit | MetaRegFit,
    *,
    level: float | None = None,
    tau2_max: float | None = None,
) -> HeterogeneityInterval:
    """Q-profile confidence intervals for the heterogeneity of a random-effects fit.

    Parameters
    ----------
    fit
        A random-effects :class:`MetaFit` or :class:`MetaRegFit` (FE models have no τ²).
    level
        Confidence level in percent; defaults to the fit's.
    tau2_max
        Upper end of the search interval; default ``max(100, 10·τ̂²)`` as metafor.

    Raises
    ------
    StatsInputError
        For a common-effect (FE) model.
    """
    if not fit.is_random:
        raise StatsInputError("A common-effect (FE) model has no tau^2 to put an interval on.")
    level = fit.level if level is None else float(level)
    alpha = 1 - level / 100
    if tau2_max is None:
        tau2_max = max(100.0, 10 * fit.tau2)
    y = np.asarray(fit.yi)
    v = np.asarray(fit.vi)
    if isinstance(fit, MetaRegFit):
        X = np.asarray(fit.X)
        df = fit.k - fit.p

        def q_at(t: float) -> float:
            return q_general(X, y, v, t)[0]

        def root(target: float) -> tuple[float, bool]:
            return solve_q_general(X, y, v, target)

    else:
        # Centred on the first study, as the fits are (see _batch.Batch).
        q_one = _batch._single_q(y - y[0], v)
        vscale = y.size / float((1.0 / v).sum())
        df = fit.k - 1

        def q_at(t: float) -> float:
            return q_one(t)[0]

        def root(target: float) -> tuple[float, bool]:
            return _batch.solve_q_1(q_one, target, 0.0, vscale)

    crit_u = float(_dist.chi2_upper_quantile(alpha / 2, df))  # for the lower bound
    crit_l = float(_dist.chi2_upper_quantile(1 - alpha / 2, df))  # for the upper bound
    q_min = q_at(0.0)
    q_max = q_at(tau2_max)
    lb_sign = ub_sign = ""
    ci_null = False
    converged = True
    if q_min < crit_l:
        lb = ub = 0.0
        lb_sign = ub_sign = "<"
        ci_null = True
    else:
        if q_max > crit_l:
            ub, ub_sign = tau2_max, ">"
        else:
            ub, ok = root(crit_l)
            converged &= ok
        if q_max > crit_u:
            lb, lb_sign = tau2_max, ">"
            ub, ub_sign = tau2_max, ">"
        elif q_min < crit_u:
            lb = 0.0
        else:
            lb, ok = root(crit_u)
            converged &= ok
    vt = fit.vt
    with np.errstate(divide="ignore", invalid="ignore"):
        i2_lb, i2_ub = 100 * lb / (vt + lb), 100 * ub / (vt + ub)
    return HeterogeneityInterval(
        level=level,
        tau2=fit.tau2,
        tau2_lb=lb,
        tau2_ub=ub,
        tau=float(np.sqrt(fit.tau2)),
        tau_lb=float(np.sqrt(lb)),
        tau_ub=float(np.sqrt(ub)),
        i2=fit.i2,
        i2_lb=float(i2_lb),
        i2_ub=float(i2_ub),
        h2=fit.h2,
        h2_lb=lb / vt + 1,
        h2_ub=ub / vt + 1,
        lb_sign=lb_sign,
        ub_sign=ub_sign,
        ci_null=ci_null,
        tau2_max=float(tau2_max),
        converged=converged,
    )
