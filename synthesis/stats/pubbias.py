"""Small-study effects and publication bias: Egger's regression test, Begg's rank correlation
test and trim-and-fill (metafor's ``regtest``, ``ranktest`` and ``trimfill``).

References
----------
* Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected by a
  simple, graphical test. BMJ 315:629-634.
* Sterne JAC, Egger M (2005). Regression methods to detect publication and other bias in
  meta-analysis. In Rothstein, Sutton & Borenstein (eds.), Publication Bias in Meta-Analysis,
  99-110 (the mixed-effects version, metafor's default ``model="rma"``).
* Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for
  publication bias. Biometrics 50:1088-1101.
* Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based method of testing and
  adjusting for publication bias in meta-analysis. Biometrics 56:455-463; and A nonparametric
  "trim and fill" method of accounting for publication bias in meta-analysis. JASA 95:89-98.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import _batch, _dist
from ._inputs import check_test, frozen
from ._linear import Projection
from .errors import StatsConvergenceError, StatsInputError
from .metareg import MetaRegFit, metareg_fit
from .models import MetaFit, meta_fit

# scipy's exact Kendall distribution costs O(k³): 5 ms at k = 150 but 7 s at k = 1000. metafor
# asks R for the exact p-value at any k; above this k the normal approximation is used, whose
# p-value differs from the exact one by less than 1e-3 there.
EXACT_KENDALL_MAX_K = 150


@dataclass(frozen=True, eq=False)
class EggerTest:
    """Egger's regression test (metafor ``regtest``, predictor = standard error).

    ``model="rma"`` fits y ~ 1 + √v by weighted mixed-effects regression with the model's method
    and test, and reports the √v coefficient's z (or t with k - 2 df under ``knha``).
    ``model="lm"`` is the classic Egger test: weighted least squares with weights 1/v and the
    residual scale estimated, a t test on k - 2 df. The intercept is the "limit estimate" (the
    effect as the standard error goes to 0), with its confidence interval.
    """

    model: str
    zval: float
    pval: float
    dist: str
    df: int | None
    slope: float
    limit_estimate: float
    limit_ci_lb: float
    limit_ci_ub: float
    fit: MetaRegFit | None


def egger_test(fit: MetaFit, *, model: str = "rma") -> EggerTest:
    """Egger's regression test for funnel-plot asymmetry.

    Raises
    ------
    StatsInputError
        For k < 3 (the regression has no residual degrees of freedom) or when all sampling
        variances are equal (the standard error is then collinear with the intercept).
    """
    y = np.asarray(fit.yi)
    v = np.asarray(fit.vi)
    if fit.k < 3 and (fit.method != "FE" or model == "lm"):
        # metafor fits an FE regression through two points (p = k), but anything else needs
        # residual degrees of freedom.
        raise StatsInputError(f"Egger's test needs at least 3 studies; got k = {fit.k}.")
    sei = np.sqrt(v)
    if np.ptp(sei) <= 1e-12 * sei.max():
        raise StatsInputError(
            "Egger's test is undefined when all studies have the same standard error."
        )
    X = np.column_stack([np.ones(fit.k), sei])
    # Shifting y does not change the slope; centring on the first study makes identical effects
    # give an exactly zero slope instead of rounding noise.
    shift = float(y[0])
    yc = y - shift
    if model == "rma":
        reg = metareg_fit(
            yc, v, X, names=("intercept", "sei"), intercept=False,
            method=fit.method, test=fit.test, level=fit.level,
        )  # fmt: skip
        return EggerTest(
            model="rma",
            zval=float(reg.zval[1]),
            pval=float(reg.pval[1]),
            dist=reg.dist,
            df=reg.df,
            slope=float(reg.b[1]),
            limit_estimate=float(reg.b[0]) + shift,
            limit_ci_lb=float(reg.ci_lb[0]) + shift,
            limit_ci_ub=float(reg.ci_ub[0]) + shift,
            fit=reg,
        )
    if model != "lm":
        raise StatsInputError(f"Unknown Egger model {model!r}; choose 'rma' or 'lm'.")
    pr = Projection(X, yc, 1.0 / v)
    df = fit.k - 2
    sigma2 = pr.rss / df
    se = np.sqrt(np.diag(pr.vb()) * sigma2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = pr.b / se
    crit = float(_dist.crit_t(fit.alpha, df))
    return EggerTest(
        model="lm",
        zval=float(t[1]),
        pval=float(_dist.p_t_two_sided(t[1], df)),
        dist="t",
        df=df,
        slope=float(pr.b[1]),
        limit_estimate=float(pr.b[0]) + shift,
        limit_ci_lb=float(pr.b[0] - crit * se[0]) + shift,
        limit_ci_ub=float(pr.b[0] + crit * se[0]) + shift,
        fit=None,
    )


@dataclass(frozen=True)
class RankTest:
    """Begg & Mazumdar's rank correlation test: Kendall's τ_b between standardised effects and
    sampling variances, with the exact p-value when there are no ties (and k <= 150), else the
    normal approximation without continuity correction (R's ``cor.test``). ``tau`` and ``pval``
    are NaN when all standardised effects are equal (metafor returns NA)."""

    tau: float
    pval: float
    exact: bool


def rank_test(fit: MetaFit) -> RankTest:
    """Begg's rank correlation test; always centred on the fixed-effect estimate, as metafor."""
    y = np.asarray(fit.yi)
    v = np.asarray(fit.vi)
    w = 1 / v
    theta = float((w * y).sum() / w.sum())
    vstar = v - 1 / w.sum()
    ystar = (y - theta) / np.sqrt(vstar)
    if np.ptp(ystar) == 0 or np.ptp(v) == 0:
        return RankTest(float("nan"), float("nan"), False)
    ties = len(np.unique(ystar)) < y.size or len(np.unique(v)) < y.size
    exact = not ties and y.size <= EXACT_KENDALL_MAX_K
    res = stats.kendalltau(ystar, v, method="exact" if exact else "asymptotic")
    return RankTest(float(res.statistic), float(res.pvalue), exact)


@dataclass(frozen=True, eq=False)
class TrimAndFill:
    """Trim-and-fill result.

    ``k0`` studies are estimated missing on ``side``; ``filled_yi``/``filled_vi`` are the
    imputed mirror images 2β - y of the k0 most extreme studies. ``fit`` is the model refitted
    to the augmented data (or the original fit when k0 = 0). ``se_k0`` is the estimator's
    standard error and ``p_k0`` (R0 only) the p-value of H0: k0 = 0.
    """

    estimator: str
    side: str
    k0: int
    se_k0: float
    p_k0: float | None
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    fit: MetaFit


def _pooled(y: np.ndarray, v: np.ndarray, method: str) -> float:
    b = _batch.Batch(y[None, :], v[None, :], np.ones((1, y.size)))
    est, conv = _batch.pooled_estimate(b, method)
    if not conv[0]:
        raise StatsConvergenceError("A trim-and-fill refit did not converge.")
    return float(est[0])


def trim_and_fill(
    fit: MetaFit,
    *,
    estimator: str = "L0",
    side: str | None = None,
    refit_test: str | None = None,
    maxiter: int = 100,
) -> TrimAndFill:
    """Duval & Tweedie's trim-and-fill, following metafor 3.8's ``trimfill.rma.uni``.

    Parameters
    ----------
    estimator
        ``"L0"`` or ``"R0"``.
    side
        Side on which studies are missing. By default it is chosen from the sign of the slope of
        y on √v in a meta-regression with the model's method: negative means ``"right"``.
    refit_test
        Test of the model refitted to the filled data. metafor does not forward the original
        ``test``, so the default is ``"z"``; pass ``fit.test`` to keep Knapp-Hartung.

    Raises
    ------
    StatsInputError
        If the side cannot be chosen (k too small for the side regression, or all variances
        equal), or R0 is undefined because no study lies below the trimmed estimate.
    """
    if estimator not in ("L0", "R0"):
        raise StatsInputError(f"Unknown trim-and-fill estimator {estimator!r}; use 'L0' or 'R0'.")
    test = "z" if refit_test is None else check_test(refit_test)
    y0 = np.asarray(fit.yi)
    v0 = np.asarray(fit.vi)
    k = y0.size
    if side is None:
        sei = np.sqrt(v0)
        if np.ptp(sei) <= 1e-12 * sei.max():
            raise StatsInputError(
                "Trim-and-fill cannot choose a side when all studies have the same standard "
                "error; pass side='left' or side='right'."
            )
        # Centred on the first study so that identical effects give a slope of exactly 0.
        reg = metareg_fit(
            y0 - y0[0], v0, sei, names=("sei",), method=fit.method, test="z", compute_r2=False
        )
        side = "right" if reg.b[1] < 0 else "left"
    elif side not in ("left", "right"):
        raise StatsInputError("side must be 'left' or 'right'.")
    flip = -1.0 if side == "right" else 1.0
    yf = flip * y0
    order = np.argsort(yf, kind="stable")
    ys, vs = yf[order], v0[order]
    k0, k0_prev = 0, -1
    se_k0 = float("nan")
    beta = 0.0
    yc = ys
    for iteration in range(maxiter + 1):
        if k0 == k0_prev:
            break
        if iteration == maxiter:
            raise StatsInputError(f"Trim-and-fill did not converge in {maxiter} iterations.")
        k0_prev = k0
        beta = _pooled(ys[: k - k0], vs[: k - k0], fit.method)
        yc = ys - beta
        # R's rank(ties.method = "first"): ties ranked in order of appearance.
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(yc) * ranks
        if estimator == "R0":
            neg = signed[signed < 0]
            if neg.size == 0:
                raise StatsInputError(
                    "The R0 estimator is undefined here: no study lies below the trimmed "
                    "estimate (metafor stops with an error too)."
                )
            k0_raw = (k - np.max(-neg)) - 1
            se_k0 = float(np.sqrt(2 * max(0.0, k0_raw) + 2))
        else:
            sr = float(signed[signed > 0].sum())
            k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * k0_raw**3
                + 27 * k0_raw**2
                + 17 * k0_raw
                - 18 * k * k0_raw**2
                - 18 * k * k0_raw
                + 6 * k**2 * k0_raw
            ) / 24
            se_k0 = float(4 * np.sqrt(var_sr) / (2 * k - 1)) if var_sr >= 0 else float("nan")
        # R's round() rounds half to even, as numpy's does.
        k0 = int(max(0, np.round(k0_raw)))
        if not np.isnan(se_k0):
            se_k0 = max(0.0, se_k0)
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else None
    if k0 > 0:
        # Mirror the k0 most extreme studies around the trimmed estimate, on the original scale.
        filled_y = flip * (2 * beta - ys[k - k0 :])
        filled_v = vs[k - k0 :]
        new_fit = meta_fit(
            np.concatenate([y0, filled_y]),
            np.concatenate([v0, filled_v]),
            method=fit.method,
            test=test,
            level=fit.level,
        )
    else:
        filled_y = np.empty(0)
        filled_v = np.empty(0)
        new_fit = fit
    return TrimAndFill(
        estimator=estimator,
        side=side,
        k0=k0,
        se_k0=se_k0,
        p_k0=p_k0,
        filled_yi=frozen(filled_y),
        filled_vi=frozen(filled_v),
        fit=new_fit,
    )
