"""Mixed-effects meta-regression y = Xβ + u + e, u ~ N(0, τ²), e ~ N(0, vᵢ), in O(k·p²).

No k-by-k matrix is formed.

metafor computes (X'WX)⁻¹ from a QR decomposition of √W·X (``.invcalc``); so does this module.
With √W·X = QR (thin, Q is k-by-p), hᵢ = ‖Qᵢ‖² and M = I − QQ', the matrix
P = W − WX(X'WX)⁻¹X'W equals √W M √W, and every trace metafor needs reduces to O(k·p²) work:

* tr P = Σw(1 − h),  y'Py = ‖e‖²  with e = M√W y,  y'PPy = Σw e²,
* Σᵢⱼ aᵢ bⱼ Mᵢⱼ² = Σab(1 − 2h) + ⟨Q'AQ, Q'BQ⟩  (gives tr PP, tr PVPV, Σ P²v).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._batch import KNHA_EPS, LL0_TOL, MAXITER, solve_q_1, solve_score_1
from .errors import StatsInputError


@dataclass
class Projection:
    """Weighted least squares of y on X with weights w, via QR of √W·X."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray

    def __post_init__(self) -> None:
        sw = np.sqrt(self.w)
        q, r = np.linalg.qr(self.X * sw[:, None], mode="reduced")
        self.Q, self.R = q, r
        self.h = (q * q).sum(axis=1)
        z = sw * self.y
        qz = q.T @ z
        self.e = z - q @ qz  # √W (y − Xb)
        # p is small: numpy's solver beats scipy's triangular wrapper on call overhead.
        self.b = np.linalg.solve(r, qz)

    @property
    def rss(self) -> float:
        return float(self.e @ self.e)

    def vb(self) -> np.ndarray:
        rinv = np.linalg.inv(self.R)
        return rinv @ rinv.T

    def sum_mm(self, a: np.ndarray, b: np.ndarray) -> float:
        """Σᵢⱼ aᵢ bⱼ Mᵢⱼ² for M = I − QQ'."""
        qa = (self.Q.T * a) @ self.Q
        qb = (self.Q.T * b) @ self.Q
        return float((a * b * (1 - 2 * self.h)).sum() + (qa * qb).sum())

    def logdet_xwx(self) -> float:
        return float(2 * np.log(np.abs(np.diag(self.R))).sum())


def q_general(X: np.ndarray, y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """Q(τ²) = y'P(τ²)y and its derivative −y'PPy."""
    pr = Projection(X, y, 1.0 / (v + tau2))
    return pr.rss, -float((pr.w * pr.e * pr.e).sum())


def solve_q_general(
    X: np.ndarray, y: np.ndarray, v: np.ndarray, target: float, start: float = 0.0
) -> tuple[float, bool]:
    """Root of Q(τ²) = target with Q(0) >= target (Newton on a convex decreasing function)."""
    vscale = v.size / float((1.0 / v).sum())
    return solve_q_1(lambda t: q_general(X, y, v, t), target, start, vscale)


def design_check(X: np.ndarray, k: int, method: str) -> None:
    p = X.shape[1]
    if method == "FE":
        if p > k:
            raise StatsInputError(
                "Number of parameters to be estimated is larger than the number of observations."
            )
    elif p + 1 > k:
        raise StatsInputError(
            "Number of parameters to be estimated is larger than the number of observations "
            f"(k = {k}, {p} coefficients and τ²)."
        )
    if np.linalg.matrix_rank(X) < p:
        raise StatsInputError(
            "The model matrix is not of full rank (a moderator is constant or a linear "
            "combination of others)."
        )


def tau2_he_raw(X: np.ndarray, y: np.ndarray, v: np.ndarray) -> float:
    k, p = X.shape
    ols = Projection(X, y, np.ones(k))
    trpv = float((v * (1 - ols.h)).sum())
    return (ols.rss - trpv) / (k - p)


@dataclass
class Tau2Result:
    tau2: float
    se_tau2: float | None
    converged: bool
    iterations: int


def _fisher(X: np.ndarray, y: np.ndarray, v: np.ndarray, reml: bool) -> tuple[float, bool, int]:
    """ML/REML τ² with moderators; the same solver as the intercept-only model."""
    k = X.shape[0]
    vscale = k / float((1.0 / v).sum())

    def terms(tau2: float) -> tuple[float, float, float]:
        pr = Projection(X, y, 1.0 / (v + tau2))
        w = pr.w
        z = w * pr.e
        ypp = float(z @ pr.e)
        mz = z - pr.Q @ (pr.Q.T @ z)
        yppp = float(mz @ mz)
        if reml:
            trp = float((w * (1 - pr.h)).sum())
            trpp = pr.sum_mm(w, w)
            return ypp - trp, trpp, trpp - 2 * yppp
        sw2 = float(w @ w)
        return ypp - float(w.sum()), sw2, sw2 - 2 * yppp

    t, converged, iterations = solve_score_1(terms, max(0.0, tau2_he_raw(X, y, v)), vscale)
    if 0 < t < 1e-9 * vscale and terms(0.0)[0] <= 0:
        t = 0.0
    if converged and t > 0:
        ll0 = loglik(X, y, v, 0.0, reml, with_xx=False)
        ll1 = loglik(X, y, v, t, reml, with_xx=False)
        if ll0 - ll1 > LL0_TOL:
            t = 0.0
    return t, converged, iterations


def loglik(
    X: np.ndarray, y: np.ndarray, v: np.ndarray, tau2: float, reml: bool, *, with_xx: bool
) -> float:
    k, p = X.shape
    pr = Projection(X, y, 1.0 / (v + tau2))
    logdet = float(np.log(v + tau2).sum())
    if not reml:
        return -0.5 * k * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * pr.rss
    out = -0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * pr.logdet_xwx() - 0.5 * pr.rss
    if with_xx:
        rx = np.linalg.qr(X, mode="r")
        out += 0.5 * float(2 * np.log(np.abs(np.diag(rx))).sum())
    return out


def estimate_tau2(X: np.ndarray, y: np.ndarray, v: np.ndarray, method: str) -> Tau2Result:
    """τ² for the model with design X by ``method``, with metafor's standard error."""
    k, p = X.shape
    if method == "FE":
        return Tau2Result(0.0, None, True, 0)
    iterations = 0
    converged = True
    if method == "DL":
        pr0 = Projection(X, y, 1.0 / v)
        trp0 = float((pr0.w * (1 - pr0.h)).sum())
        t = max(0.0, (pr0.rss - (k - p)) / trp0)
        trpp0 = pr0.sum_mm(pr0.w, pr0.w)
        se = np.sqrt((2 * (k - p) + 4 * t * trp0 + 2 * t * t * trpp0) / trp0**2)
        return Tau2Result(t, float(se), True, 0)
    if method == "HE":
        ols = Projection(X, y, np.ones(k))
        trpv = float((v * (1 - ols.h)).sum())
        t = max(0.0, (ols.rss - trpv) / (k - p))
        trpvpv = ols.sum_mm(v, v)
        se = np.sqrt((2 * trpvpv + 4 * t * trpv + 2 * t * t * (k - p)) / (k - p) ** 2)
        return Tau2Result(t, float(se), True, 0)
    if method == "SJ":
        # metafor 3.8 starts from the variance of y around its *unweighted mean*, even with
        # moderators.
        t0 = float(((y - y.mean()) ** 2).mean())
        pr = Projection(X, y, 1.0 / (v + t0))
        t = max(0.0, t0 * pr.rss / (k - p))
        w = pr.w
        s_pvpv = pr.sum_mm(w * v, w * v)
        s_pvp = pr.sum_mm(w, w * v)
        s_pp = pr.sum_mm(w, w)
        se = np.sqrt(t0**2 / (k - p) ** 2 * (2 * s_pvpv + 4 * t * s_pvp + 2 * t * t * s_pp))
        return Tau2Result(t, float(se), True, 0)
    if method in ("PM", "EB"):
        q0, _ = q_general(X, y, v, 0.0)
        if q0 < k - p:
            t = 0.0
        else:
            t, converged = solve_q_general(X, y, v, float(k - p))
    elif method in ("REML", "ML"):
        t, converged, iterations = _fisher(X, y, v, reml=method == "REML")
    else:  # pragma: no cover
        raise ValueError(method)
    w = 1.0 / (v + t)
    if method == "ML":
        se = np.sqrt(2 / float((w * w).sum()))
    elif method == "REML":
        pr = Projection(X, y, w)
        se = np.sqrt(2 / pr.sum_mm(w, w))
    else:
        se = np.sqrt(2 * k**2 / (k - p) / float(w.sum()) ** 2)
    return Tau2Result(t, float(se), converged, iterations)


@dataclass
class LinearFit:
    """Everything :func:`fit_linear` computes; the public records are built from it."""

    k: int
    p: int
    tau2: float
    se_tau2: float | None
    b: np.ndarray
    vb: np.ndarray
    se: np.ndarray
    s2w: float
    df: int | None
    weights: np.ndarray
    qe: float
    qe_df: int
    vt: float
    i2: float
    h2: float
    ll_ml: float
    ll_reml: float
    converged: bool
    iterations: int


def fit_linear(X: np.ndarray, y: np.ndarray, v: np.ndarray, method: str, test: str) -> LinearFit:
    k, p = X.shape
    tr = estimate_tau2(X, y, v, method)
    if not tr.converged:
        from .errors import StatsConvergenceError

        raise StatsConvergenceError(
            f"The {method} estimator of tau^2 did not converge in {MAXITER} iterations."
        )
    t = tr.tau2
    pr = Projection(X, y, 1.0 / (v + t))
    vb = pr.vb()
    s2w = 1.0
    df = None
    if test == "knha":
        df = k - p
        rss = pr.rss
        with np.errstate(divide="ignore", invalid="ignore"):
            s2w = 0.0 if rss <= KNHA_EPS else rss / (k - p)
        vb = vb * s2w
    se = np.sqrt(np.diag(vb))
    if k > p:
        pr0 = Projection(X, y, 1.0 / v)
        qe = max(0.0, pr0.rss)
        vt = (k - p) / float((pr0.w * (1 - pr0.h)).sum())
        if method == "FE":
            with np.errstate(divide="ignore", invalid="ignore"):
                i2 = max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0
            h2 = qe / (k - p)
        else:
            i2 = 100 * t / (vt + t)
            h2 = t / vt + 1
    else:
        qe, vt, i2, h2 = 0.0, 0.0, 0.0, 1.0
    return LinearFit(
        k=k,
        p=p,
        tau2=t,
        se_tau2=tr.se_tau2,
        b=pr.b,
        vb=vb,
        se=se,
        s2w=s2w,
        df=df,
        weights=pr.w,
        qe=qe,
        qe_df=k - p,
        vt=vt,
        i2=i2,
        h2=h2,
        ll_ml=loglik(X, y, v, t, False, with_xx=False),
        ll_reml=loglik(X, y, v, t, True, with_xx=True),
        converged=tr.converged,
        iterations=tr.iterations,
    )


def btt_indices(btt, p: int, intercept: bool) -> tuple[int, ...]:
    """The coefficients an omnibus (QM) test covers: metafor's ``btt``, by default every
    coefficient but the intercept (all of them without one)."""
    if btt is None:
        return tuple(range(1, p)) if intercept and p > 1 else tuple(range(p))
    idx = tuple(int(j) for j in btt)
    if not idx or any(j < 0 or j >= p for j in idx):
        raise StatsInputError(f"btt must index coefficients 0..{p - 1}.")
    return idx


def wald_statistic(b: np.ndarray, vb: np.ndarray, sel: np.ndarray) -> float:
    """b[sel]' vb[sel, sel]^-1 b[sel] through a Cholesky factor; NaN when that block of ``vb``
    is not positive definite."""
    try:
        chol = np.linalg.cholesky(vb[np.ix_(sel, sel)])
        z = np.linalg.solve(chol, b[sel])
    except np.linalg.LinAlgError:
        return float("nan")
    return float(z @ z)
