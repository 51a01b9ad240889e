"""The numbers behind forest and funnel plots; drawing them is the caller's business.

Conventions follow metafor's ``forest.rma`` and ``funnel.rma``: study confidence intervals use
the normal quantile, the funnel's pseudo-confidence region is estimate ± z·SE for SE from 0 to
the largest standard error (Sterne JAC, Egger M (2001). Funnel plots for detecting bias in
meta-analysis. J Clin Epidemiol 54:1046-1055; Lewis S, Clarke M (2001). Forest plots: trying to
see the wood and the trees. BMJ 322:1479-1480).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _dist
from ._inputs import frozen
from .errors import StatsInputError
from .models import MetaFit
from .predict import predict_pooled
from .pubbias import TrimAndFill


@dataclass(frozen=True, eq=False)
class ForestPlotData:
    """Per-study rows and the pooled summary of a forest plot.

    ``weight_pct`` are the model's weights in percent. ``pi_lb``/``pi_ub`` are the prediction
    interval of a random-effects model (``None`` for FE). ``x_min``/``x_max`` span every interval.
    """

    labels: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    sei: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    weight_pct: np.ndarray
    model_label: str
    estimate: float
    ci_lb_pooled: float
    ci_ub_pooled: float
    pi_lb: float | None
    pi_ub: float | None
    level: float
    x_min: float
    x_max: float


def _labels(labels: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    if len(labels) != k:
        raise StatsInputError(f"Give one label per study ({k}); got {len(labels)}.")
    return tuple(str(x) for x in labels)


def forest_data(fit: MetaFit, *, labels: Sequence[str] | None = None) -> ForestPlotData:
    """Rows of a forest plot for ``fit`` (study order as given)."""
    y = np.asarray(fit.yi)
    v = np.asarray(fit.vi)
    sei = np.sqrt(v)
    z = _dist.crit_norm(fit.alpha)
    lb, ub = y - z * sei, y + z * sei
    pred = predict_pooled(fit)
    pi_lb = float(pred.pi_lb[0]) if pred.pi_lb is not None else None
    pi_ub = float(pred.pi_ub[0]) if pred.pi_ub is not None else None
    lows = [float(lb.min()), fit.ci_lb] + ([pi_lb] if pi_lb is not None else [])
    highs = [float(ub.max()), fit.ci_ub] + ([pi_ub] if pi_ub is not None else [])
    finite_lows = [x for x in lows if np.isfinite(x)]
    finite_highs = [x for x in highs if np.isfinite(x)]
    return ForestPlotData(
        labels=_labels(labels, fit.k),
        yi=frozen(y),
        vi=frozen(v),
        sei=frozen(sei),
        ci_lb=frozen(lb),
        ci_ub=frozen(ub),
        weight_pct=fit.weights_pct,
        model_label="FE Model" if fit.method == "FE" else "RE Model",
        estimate=fit.estimate,
        ci_lb_pooled=fit.ci_lb,
        ci_ub_pooled=fit.ci_ub,
        pi_lb=pi_lb,
        pi_ub=pi_ub,
        level=fit.level,
        x_min=min(finite_lows),
        x_max=max(finite_highs),
    )


@dataclass(frozen=True, eq=False)
class FunnelPlotData:
    """Points and pseudo-confidence lines of a funnel plot (effect on x, SE on y, 0 at top).

    ``se_grid`` runs from 0 to the largest standard error; ``line_lb``/``line_ub`` are
    ``center ∓ z·se_grid``. ``filled_yi``/``filled_sei`` are trim-and-fill's imputed studies
    (empty without trim-and-fill); ``center`` is then the filled model's estimate, as metafor's
    funnel of a trimfill object.
    """

    yi: np.ndarray
    sei: np.ndarray
    center: float
    level: float
    se_grid: np.ndarray
    line_lb: np.ndarray
    line_ub: np.ndarray
    filled_yi: np.ndarray
    filled_sei: np.ndarray


def funnel_data(
    fit: MetaFit,
    *,
    trimfill: TrimAndFill | None = None,
    level: float | None = None,
    points: int = 2,
) -> FunnelPlotData:
    """Funnel plot data; the pseudo-CI lines are straight, so two grid points suffice."""
    level = fit.level if level is None else float(level)
    if points < 2:
        raise StatsInputError("A funnel line needs at least two points.")
    y = np.asarray(fit.yi)
    sei = np.sqrt(np.asarray(fit.vi))
    filled_y = np.empty(0) if trimfill is None else np.asarray(trimfill.filled_yi)
    filled_se = np.empty(0) if trimfill is None else np.sqrt(np.asarray(trimfill.filled_vi))
    center = fit.estimate if trimfill is None else trimfill.fit.estimate
    se_max = float(max(sei.max(), filled_se.max() if filled_se.size else 0.0))
    grid = np.linspace(0.0, se_max, points)
    z = _dist.crit_norm(1 - level / 100)
    return FunnelPlotData(
        yi=frozen(y),
        sei=frozen(sei),
        center=center,
        level=level,
        se_grid=frozen(grid),
        line_lb=frozen(center - z * grid),
        line_ub=frozen(center + z * grid),
        filled_yi=frozen(filled_y),
        filled_sei=frozen(filled_se),
    )
