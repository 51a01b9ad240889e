"""Predicted effects with confidence and prediction intervals (metafor's ``predict.rma``).

The prediction interval is pred ± crit·√(se² + τ²) (Riley RD, Higgins JPT, Deeks JJ (2011).
Interpretation of random effects meta-analyses. BMJ 342:d549; Higgins JPT, Thompson SG,
Spiegelhalter DJ (2009). A re-evaluation of random-effects meta-analysis. JRSS A 172:137-159).

``pi_type`` chooses crit as metafor 3.8 does:

* ``"default"``: the normal quantile under ``test="z"``, t(k-p) under ``knha``;
* ``"t"``: t(k-p) whatever the test;
* ``"riley"``: t(k-p-1), at least 1 df (for one pooled effect the Higgins et al. k-2 interval).

Common-effect (FE) models have no prediction interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import _dist
from ._inputs import frozen
from .errors import StatsInputError
from .metareg import MetaRegFit
from .models import MetaFit

PI_TYPES = ("default", "t", "riley")


@dataclass(frozen=True, eq=False)
class Prediction:
    """Predicted values with CI and (random-effects models only) prediction interval.

    ``pi_lb``/``pi_ub`` are ``None`` for FE models; ``pi_df`` is ``None`` for a normal
    critical value.
    """

    pred: np.ndarray
    se: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    pi_lb: np.ndarray | None
    pi_ub: np.ndarray | None
    pi_type: str
    pi_dist: str | None
    pi_df: int | None
    tau2: float


def _predict(
    X_new: np.ndarray,
    b: np.ndarray,
    vb: np.ndarray,
    *,
    k: int,
    p: int,
    tau2: float,
    test: str,
    alpha: float,
    random: bool,
    pi_type: str,
) -> Prediction:
    if pi_type not in PI_TYPES:
        raise StatsInputError(f"Unknown pi_type {pi_type!r}; choose one of {', '.join(PI_TYPES)}.")
    pred = X_new @ b
    vpred = np.einsum("ij,jk,ik->i", X_new, vb, X_new)
    vpred = np.where(vpred < 0, np.nan, vpred)
    se = np.sqrt(vpred)
    ddf = k - p
    if test == "knha":
        crit = float(_dist.crit_t(alpha, ddf)) if ddf > 0 else np.nan
    else:
        crit = _dist.crit_norm(alpha)
    ci_lb, ci_ub = pred - crit * se, pred + crit * se
    if not random:
        return Prediction(
            frozen(pred),
            frozen(se),
            frozen(ci_lb),
            frozen(ci_ub),
            None,
            None,
            pi_type,
            None,
            None,
            0.0,
        )
    if pi_type == "default":
        pi_crit = crit
        pi_df = ddf if test == "knha" else None
    else:
        pi_df = ddf if pi_type == "t" else ddf - 1
        pi_df = max(1, pi_df)
        pi_crit = float(_dist.crit_t(alpha, pi_df))
    half = pi_crit * np.sqrt(vpred + tau2)
    return Prediction(
        pred=frozen(pred),
        se=frozen(se),
        ci_lb=frozen(ci_lb),
        ci_ub=frozen(ci_ub),
        pi_lb=frozen(pred - half),
        pi_ub=frozen(pred + half),
        pi_type=pi_type,
        pi_dist="t" if pi_df is not None else "norm",
        pi_df=pi_df,
        tau2=tau2,
    )


def predict_pooled(fit: MetaFit, *, pi_type: str = "default") -> Prediction:
    """The pooled effect with its CI and prediction interval (arrays of length 1)."""
    return _predict(
        np.ones((1, 1)),
        np.array([fit.estimate]),
        np.array([[fit.se**2]]),
        k=fit.k,
        p=1,
        tau2=fit.tau2,
        test=fit.test,
        alpha=fit.alpha,
        random=fit.is_random,
        pi_type=pi_type,
    )


def predict_metareg(
    fit: MetaRegFit,
    newmods: np.ndarray | Sequence[Sequence[float]] | Mapping[str, Sequence[object]],
    *,
    pi_type: str = "default",
) -> Prediction:
    """Predictions at new moderator values (rows of ``newmods``, without the intercept column).

    ``newmods`` may be a mapping of raw moderator values when the fit was built from a
    :class:`~synthesis.stats.metareg.ModeratorDesign`; factors are then encoded the same way.
    """
    if isinstance(newmods, Mapping):
        if fit.design is None:
            raise StatsInputError("Named new moderator values need a fit built from a design.")
        Xm = fit.design.encode(newmods)
    else:
        Xm = np.asarray(newmods, dtype=float)
        if Xm.ndim == 1:
            Xm = Xm[:, None] if fit.p - int(fit.intercept) == 1 else Xm[None, :]
    X_new = np.column_stack([np.ones(Xm.shape[0]), Xm]) if fit.intercept else Xm
    if X_new.shape[1] != fit.p:
        raise StatsInputError(
            f"New moderator values need {fit.p - int(fit.intercept)} columns; got {Xm.shape[1]}."
        )
    return _predict(
        X_new,
        np.asarray(fit.b),
        np.asarray(fit.vb),
        k=fit.k,
        p=fit.p,
        tau2=fit.tau2,
        test=fit.test,
        alpha=fit.alpha,
        random=fit.is_random,
        pi_type=pi_type,
    )
