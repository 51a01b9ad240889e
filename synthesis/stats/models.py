"""Common-effect and random-effects models for one pooled effect (metafor's intercept-only ``rma``).

References
----------
* DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177-188.
* Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press (HE).
* Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res NBS 87:377-385 (PM).
* Morris CN (1983). Parametric empirical Bayes inference. JASA 78:47-55 (EB).
* Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for meta-analysis.
  JRSS C 54:367-384 (SJ).
* Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
  random-effects model. J Educ Behav Stat 30:261-293 (ML, REML; Fisher scoring).
* Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single
  covariate. Stat Med 22:2693-2710 (``test="knha"``).
* Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med
  21:1539-1558 (I², H²; metafor's τ²-based definitions are used, see :class:`MetaFit`).
* Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw
  36(3):1-48.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _batch
from ._inputs import (
    ArrayLike,
    check_level,
    check_method,
    check_test,
    effects_and_variances,
    frozen,
)
from .errors import StatsConvergenceError


@dataclass(frozen=True, eq=False)
class MetaFit:
    """A fitted intercept-only model (metafor ``rma(yi, vi, method=..., test=...)``).

    Attributes
    ----------
    k, method, test, level
        Number of studies, τ² estimator (``"FE"`` for the common-effect model), ``"z"`` or
        ``"knha"``, and the confidence level in percent.
    estimate, se, zval, pval, ci_lb, ci_ub
        Pooled effect, its standard error (Knapp-Hartung scaled under ``knha``), the test
        statistic (a *t* statistic under ``knha``, named ``zval`` as in metafor), its two-sided
        p-value and confidence interval.
    dist, df
        ``"norm"`` with ``df = None``, or ``"t"`` with ``df = k - 1``.
    tau2, tau, se_tau2
        Between-study variance (0 for FE), its square root and metafor's standard error
        (``None`` for FE).
    i2, h2, vt
        I² (percent) and H². For FE they are Q-based, ``max(0, 100(Q-df)/Q)`` and ``Q/df``; for
        all other methods τ²-based, ``100τ²/(τ² + vt)`` and ``τ²/vt + 1`` with the typical
        within-study variance ``vt = (k-1)/tr(P₀)`` (metafor's default ``i2def="1"``).
    qe, qe_df, qep
        Cochran's Q with fixed-effect weights 1/vᵢ whatever the method, df and p-value.
    s2w
        Knapp-Hartung scale factor (1 under ``z``; not truncated at 1, and 0 when the weighted
        RSS is at most machine epsilon).
    weights, weights_pct
        Model weights 1/(vᵢ + τ²) and their percentages.
    ll_ml, ll_reml
        Log-likelihoods as in metafor's ``fit.stats``.
    converged, yi, vi
        Convergence of the τ² iteration, and the (read-only) data the model was fitted to.
    """

    k: int
    method: str
    test: str
    level: float
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    dist: str
    df: int | None
    tau2: float
    tau: float
    se_tau2: float | None
    i2: float
    h2: float
    vt: float
    qe: float
    qe_df: int
    qep: float
    s2w: float
    weights: np.ndarray
    weights_pct: np.ndarray
    ll_ml: float
    ll_reml: float
    converged: bool
    yi: np.ndarray
    vi: np.ndarray

    @property
    def is_random(self) -> bool:
        return self.method != "FE"

    @property
    def alpha(self) -> float:
        return 1.0 - self.level / 100.0


def _sum_mm(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """Σᵢⱼ aᵢbⱼMᵢⱼ² with M = I − √w√w'/Σw (the intercept-only projection)."""
    sw = w.sum()
    return float((a * b * (1 - 2 * w / sw)).sum() + (a * w).sum() * (b * w).sum() / sw**2)


def _se_tau2(y: np.ndarray, v: np.ndarray, method: str, tau2: float) -> float | None:
    """metafor's standard error of τ² (``se.tau2``) for the intercept-only model."""
    k = y.size
    t = max(tau2, 0.0)
    if method == "FE":
        return None
    if method == "DL":
        w = 1 / v
        trp = w.sum() - (w * w).sum() / w.sum()
        trpp = _sum_mm(w, w, w)
        return float(np.sqrt((2 * (k - 1) + 4 * t * trp + 2 * t * t * trpp) / trp**2))
    if method == "HE":
        one = np.ones(k)
        trpv = float(v.sum() * (k - 1) / k)
        trpvpv = _sum_mm(v, v, one)
        return float(np.sqrt((2 * trpvpv + 4 * t * trpv + 2 * t * t * (k - 1)) / (k - 1) ** 2))
    if method == "SJ":
        t0 = float(((y - y.mean()) ** 2).mean())
        w = 1 / (v + t0)
        s_pvpv = _sum_mm(w * v, w * v, w)
        s_pvp = _sum_mm(w, w * v, w)
        s_pp = _sum_mm(w, w, w)
        return float(
            np.sqrt(t0**2 / (k - 1) ** 2 * (2 * s_pvpv + 4 * t * s_pvp + 2 * t * t * s_pp))
        )
    w = 1 / (v + tau2)
    if method == "ML":
        return float(np.sqrt(2 / (w * w).sum()))
    if method == "REML":
        return float(np.sqrt(2 / _sum_mm(w, w, w)))
    # PM and EB
    return float(np.sqrt(2 * k**2 / (k - 1) / w.sum() ** 2))


def meta_fit(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
) -> MetaFit:
    """Fit the common-effect (``method="FE"``) or a random-effects model.

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances (or ``sei``, standard errors).
    method
        ``FE``, ``DL``, ``REML``, ``PM``, ``ML``, ``HE``, ``SJ`` or ``EB`` (see the module
        references). τ² is truncated at 0. Iterative estimators are converged to near machine
        precision (metafor's defaults stop earlier; see tests/fixtures/metafor/ORACLE.md,
        section 2). EB is computed as the root of its fixed-point equation, which is the PM
        equation y'P(τ²)y = k - 1. Unlike metafor, PM and EB find that root however large it
        is (metafor stops with "Value of 'tau2.max' too low" beyond max(100, 10·mad(y)²)).
    test
        ``"z"`` or ``"knha"`` (Knapp & Hartung 2003, not truncated, t with k-1 df).
    level
        Confidence level in percent.

    Returns
    -------
    MetaFit

    Raises
    ------
    StatsInputError
        Fewer than 2 studies, NaN/infinite values, non-positive variances, unknown options.
    StatsConvergenceError
        The ML/REML Fisher scoring did not converge.
    """
    method = check_method(method)
    test = check_test(test)
    alpha = check_level(level)
    y, v = effects_and_variances(yi, vi, sei=sei, min_k=2)
    batch = _batch.Batch(y[None, :], v[None, :], np.ones((1, y.size)))
    bf = _batch.fit_batch(batch, method, test, alpha)
    if not bf.converged[0]:
        raise StatsConvergenceError(
            f"The {method} estimator of tau^2 did not converge in {_batch.MAXITER} iterations."
        )
    return _record(y, v, bf, batch, method, test, float(level))


def _record(
    y: np.ndarray,
    v: np.ndarray,
    bf: _batch.BatchFit,
    batch: _batch.Batch,
    method: str,
    test: str,
    level: float,
) -> MetaFit:
    tau2 = float(bf.tau2[0])
    w = bf.weights[0]
    ll_ml, ll_reml = _batch.logliks(batch, bf.tau2)
    return MetaFit(
        k=int(y.size),
        method=method,
        test=test,
        level=level,
        estimate=float(bf.estimate[0]),
        se=float(bf.se[0]),
        zval=float(bf.zval[0]),
        pval=float(bf.pval[0]),
        ci_lb=float(bf.ci_lb[0]),
        ci_ub=float(bf.ci_ub[0]),
        dist="t" if test == "knha" else "norm",
        df=int(y.size - 1) if test == "knha" else None,
        tau2=tau2,
        tau=float(np.sqrt(tau2)),
        se_tau2=_se_tau2(y, v, method, tau2),
        i2=float(bf.i2[0]),
        h2=float(bf.h2[0]),
        vt=float(bf.vt[0]),
        qe=float(bf.qe[0]),
        qe_df=int(y.size - 1),
        qep=float(bf.qep[0]),
        s2w=float(bf.s2w[0]),
        weights=frozen(w),
        weights_pct=frozen(100 * w / w.sum()),
        ll_ml=float(ll_ml[0]),
        ll_reml=float(ll_reml[0]) + 0.5 * float(np.log(y.size)),
        converged=bool(bf.converged[0]),
        yi=frozen(y),
        vi=frozen(v),
    )
