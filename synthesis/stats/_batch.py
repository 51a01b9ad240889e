"""Intercept-only random-effects fits, many at once.

Every quantity of the intercept-only model is a sum over studies, so no k-by-k matrix is needed:
with wᵢ = 1/(vᵢ + τ²) and rᵢ = yᵢ − μ̂,

* tr P = Σw − Σw²/Σw,  y'Py = Σw r²,  y'PPy = Σw² r²,
* tr PP = Σw² − 2Σw³/Σw + (Σw²/Σw)²,  y'PPPy = Σw³r² − (Σw²r)²/Σw.

A *batch* is an (n, k) array of effects with a 0/1 mask saying which studies enter each of the n
fits. One fit is a batch of one; leave-one-out masks the diagonal, cumulative analysis the upper
triangle. All n fits iterate together in vectorised numpy.

The conventions (truncation, ``vt``, Knapp-Hartung, the ML/REML boundary) follow metafor 3.8-1's
``rma.uni``; see ``tests/fixtures/metafor/ORACLE.md`` section 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import _dist

# Iterative estimators stop when the step is below RTOL·τ² + ATOL·(typical vᵢ). The reference
# values are converged answers, so these are close to machine precision.
RTOL = 1e-14
ATOL = 1e-15
MAXITER = 1000
# metafor's ll0check compares log-likelihoods with control$tol (1e-12 in the reference run).
LL0_TOL = 1e-12
# metafor sets the Knapp-Hartung factor to 0 when the weighted RSS is at most machine epsilon.
KNHA_EPS = np.finfo(float).eps


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of two (n, k) arrays."""
    return np.einsum("ij,ij->i", a, b)


@dataclass
class Batch:
    """Effects ``y``, variances ``v`` and 0/1 mask ``m``, all of shape (n, k)."""

    y: np.ndarray
    v: np.ndarray
    m: np.ndarray

    def __post_init__(self) -> None:
        # A full batch (every study in every fit, e.g. a single fit) skips the mask products.
        self.full = bool(self.m.all())
        self.single = self.full and self.m.shape[0] == 1
        self.kk = self.m.sum(axis=1)
        # Centre each row on its first included effect: identical effects then give exact
        # zeros and an exactly representable mean (matters for trim-and-fill ranks).
        first = np.argmax(self.m > 0, axis=1)
        self.c = self.y[np.arange(self.y.shape[0]), first]
        self.d = (self.y - self.c[:, None]) * self.m
        self.vscale = self.kk / (self.m / self.v).sum(axis=1)

    def moments(self, tau2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Weights, their sum, the offset of μ̂ from the centre, and the residuals y − μ̂."""
        w = (1.0 if self.full else self.m) / (self.v + tau2[:, None])
        sw = w.sum(axis=1)
        off = _rowdot(w, self.d) / sw
        r = self.d - off[:, None]
        if not self.full:
            r *= self.m
        return w, sw, off, r

    def q(self, tau2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Generalised Q(τ²) = y'P(τ²)y and its derivative −y'PPy."""
        w, _, _, r = self.moments(tau2)
        wr = w * r
        return _rowdot(wr, r), -_rowdot(wr, wr)

    def unweighted_rss(self) -> np.ndarray:
        off = self.d.sum(axis=1) / self.kk
        r = (self.d - off[:, None]) * self.m
        return (r * r).sum(axis=1)


def tau2_dl(b: Batch) -> np.ndarray:
    """DerSimonian & Laird (1986) moment estimator, truncated at 0."""
    zero = np.zeros_like(b.kk)
    q0, _ = b.q(zero)
    w = b.m / b.v
    sw = w.sum(axis=1)
    trp = sw - (w * w).sum(axis=1) / sw
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.maximum(0.0, (q0 - (b.kk - 1)) / trp)


def tau2_he_raw(b: Batch) -> np.ndarray:
    """Hedges (1983) / Hedges & Olkin (1985) unweighted moment estimator, before truncation."""
    rss = b.unweighted_rss()
    trpv = (b.kk - 1) / b.kk * (b.m * b.v).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rss - trpv) / (b.kk - 1)


def tau2_sj(b: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Sidik & Jonkman (2005) one-step estimator; returns (τ², the starting value τ₀²)."""
    t0 = b.unweighted_rss() / b.kk
    q, _ = b.q(t0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.maximum(0.0, t0 * q / (b.kk - 1)), t0


def solve_q(
    b: Batch, target: np.ndarray, start: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve Q(τ²) = target for the selected rows, with Q(0) >= target assumed.

    Q is decreasing and convex in τ² (dQ/dτ² = −y'PPy, d²Q/dτ² = 2y'PPPy >= 0), so Newton's
    method from any point left of the root climbs to it monotonically; a start right of the root
    lands left of it after one step. Returns (τ², converged flags).
    """
    t = np.where(rows, np.maximum(start, 0.0), 0.0)
    active = rows.copy()
    converged = ~rows
    for _ in range(MAXITER):
        if not active.any():
            break
        q, dq = b.q(t)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = (q - target) / dq
        new = np.maximum(t - step, 0.0)
        done = active & (np.abs(new - t) <= RTOL * new + ATOL * b.vscale)
        t = np.where(active, new, t)
        converged |= done
        active &= ~done
    return t, converged


def tau2_pm(b: Batch, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paule & Mandel (1982): the root of y'P(τ²)y = k − 1, or 0 when Q(0) < k − 1."""
    q0, _ = b.q(np.zeros_like(b.kk))
    target = b.kk - 1
    positive = rows & (q0 >= target)
    start = tau2_dl(b)
    if b.single:
        if not positive[0]:
            return np.zeros(1), np.ones(1, dtype=bool)
        t1, ok = solve_q_1(_single_q(b.d[0], b.v[0]), float(target[0]), float(start[0]),
                           float(b.vscale[0]))  # fmt: skip
        return np.array([t1]), np.array([ok])
    t, conv = solve_q(b, target, start, positive)
    return np.where(positive, t, 0.0), conv | ~positive


def score_terms(b: Batch, tau2: np.ndarray, reml: bool) -> tuple[np.ndarray, ...]:
    """Score s (twice the derivative of the log-likelihood), Fisher information term and ds/dτ².

    REML: s = y'PPy − tr P, information tr PP, ds/dτ² = tr PP − 2y'PPPy.
    ML:   s = y'PPy − Σw,   information Σw²,  ds/dτ² = Σw² − 2y'PPPy.
    """
    w, sw, _, r = b.moments(tau2)
    w2 = w * w
    sw2 = w2.sum(axis=1)
    w2r = w2 * r
    ypp = _rowdot(w2r, r)
    yppp = _rowdot(w2r * w, r) - w2r.sum(axis=1) ** 2 / sw
    if reml:
        trp = sw - sw2 / sw
        trpp = sw2 - 2 * _rowdot(w2, w) / sw + (sw2 / sw) ** 2
        return ypp - trp, trpp, trpp - 2 * yppp
    return ypp - sw, sw2, sw2 - 2 * yppp


def _fisher_step(b: Batch, tau2: np.ndarray, reml: bool) -> np.ndarray:
    s, info, _ = score_terms(b, tau2, reml)
    return s / info


def solve_score(
    terms: Callable[[np.ndarray], tuple[np.ndarray, ...]],
    t0: np.ndarray,
    rows: np.ndarray,
    vscale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Find the ML/REML τ² from ``t0`` the way metafor's Fisher scoring does, but converged.

    ``terms(t)`` returns (score, Fisher information, score derivative) per row. Steps are Fisher
    scoring steps, halved while they would make τ² negative (metafor's rule, which decides where
    a boundary maximum ends up). Fisher scoring can crawl when the observed information is much
    smaller than the expected one (it oscillated ~300 times on studies 1-7 of
    dat.nielweise2007), so once the step is small or the iterates bracket a root of the score,
    the solver takes Newton steps on the score, falling back to bisection inside the bracket.
    Returns (τ², converged flags, iterations).
    """
    t = np.where(rows, t0, 0.0)
    lo = np.zeros_like(t)
    hi = np.full_like(t, np.inf)
    lo_seen = np.zeros(t.shape, dtype=bool)
    active = rows.copy()
    converged = ~rows
    it = 0
    for it in range(1, MAXITER + 1):  # noqa: B007 - the count is returned
        if not active.any():
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            s, info, ds = terms(t)
            up = active & (s > 0)
            lo = np.where(up, np.maximum(lo, t), lo)
            lo_seen |= up
            hi = np.where(active & (s < 0) & (t > 0), np.minimum(hi, t), hi)
            bracket = lo_seen & np.isfinite(hi)
            delta = s / info
            newton = -s / ds
            cand = t + newton
            # Newton once close (a small Fisher step) or inside a bracket, and only where the
            # log-likelihood is locally concave (ds < 0) and the step stays in the bracket.
            close = np.abs(delta) <= 0.1 * (t + vscale)
            use_newton = (bracket | close) & (ds < 0) & (cand > lo) & (cand < hi)
            delta = np.where(use_newton, newton, delta)
            outside = bracket & ~use_newton & ((t + delta <= lo) | (t + delta >= hi))
            delta = np.where(outside, (lo + hi) / 2 - t, delta)
        delta = np.where(active & np.isfinite(delta), delta, 0.0)
        # At τ² = 0 a negative step halves forever in metafor (until it underflows): stay at 0.
        delta = np.where((t <= 0) & (delta < 0), 0.0, delta)
        below = t + delta < 0
        while below.any():
            delta = np.where(below, delta / 2, delta)
            below = t + delta < 0
        new = t + delta
        tol = RTOL * new + ATOL * vscale
        done = active & ((np.abs(delta) <= tol) | (bracket & (hi - lo <= tol)))
        t = np.where(active, new, t)
        converged |= done
        active &= ~done
    return t, converged, it


def solve_score_1(
    terms: Callable[[float], tuple[float, float, float]], t0: float, vscale: float
) -> tuple[float, bool, int]:
    """:func:`solve_score` for one fit, in Python floats (the same rules, ~5x less overhead)."""
    t, lo, hi, lo_seen = t0, 0.0, math.inf, False
    for it in range(1, MAXITER + 1):
        s, info, ds = terms(t)
        if s > 0:
            lo, lo_seen = max(lo, t), True
        if s < 0 and t > 0:
            hi = min(hi, t)
        bracket = lo_seen and hi < math.inf
        delta = s / info if info != 0 else math.nan
        newton = -s / ds if ds != 0 else math.nan
        close = abs(delta) <= 0.1 * (t + vscale)
        if (bracket or close) and ds < 0 and lo < t + newton < hi:
            delta = newton
        elif bracket and not lo < t + delta < hi:
            delta = (lo + hi) / 2 - t
        if not math.isfinite(delta) or (t <= 0 and delta < 0):
            delta = 0.0
        while t + delta < 0:
            delta /= 2
        t += delta
        tol = RTOL * t + ATOL * vscale
        if abs(delta) <= tol or (bracket and hi - lo <= tol):
            return t, True, it
    return t, False, MAXITER


def solve_q_1(
    q: Callable[[float], tuple[float, float]], target: float, start: float, vscale: float
) -> tuple[float, bool]:
    """:func:`solve_q` for one fit: Newton on the convex decreasing Q(τ²) = target."""
    t = max(start, 0.0)
    for _ in range(MAXITER):
        value, slope = q(t)
        if slope == 0:
            return t, True
        new = max(t - (value - target) / slope, 0.0)
        if abs(new - t) <= RTOL * new + ATOL * vscale:
            return new, True
        t = new
    return t, False


def _single_terms(d: np.ndarray, v: np.ndarray, reml: bool):
    """Score terms of one intercept-only fit as floats (see :func:`score_terms`)."""

    def terms(t: float) -> tuple[float, float, float]:
        w = 1.0 / (v + t)
        sw = float(w.sum())
        r = d - float(w @ d) / sw
        w2 = w * w
        sw2 = float(w2.sum())
        w2r = w2 * r
        ypp = float(w2r @ r)
        yppp = float((w2r * w) @ r) - float(w2r.sum()) ** 2 / sw
        if reml:
            trpp = sw2 - 2 * float(w2 @ w) / sw + (sw2 / sw) ** 2
            return ypp - (sw - sw2 / sw), trpp, trpp - 2 * yppp
        return ypp - sw, sw2, sw2 - 2 * yppp

    return terms


def _single_q(d: np.ndarray, v: np.ndarray):
    def q(t: float) -> tuple[float, float]:
        w = 1.0 / (v + t)
        r = d - float(w @ d) / float(w.sum())
        wr = w * r
        return float(wr @ r), -float(wr @ wr)

    return q


def logliks(b: Batch, tau2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ML and REML log-likelihoods (metafor's ``fit.stats``, REML without ½log|X'X| = ½log k)."""
    w, sw, _, r = b.moments(tau2)
    rss = _rowdot(w * r, r)
    logv = np.log(b.v + tau2[:, None])
    logdet = logv.sum(axis=1) if b.full else _rowdot(b.m, logv)
    ml = -0.5 * b.kk * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * rss
    reml = ml + 0.5 * np.log(2 * np.pi) - 0.5 * np.log(sw)
    return ml, reml


def loglik(b: Batch, tau2: np.ndarray, reml: bool, *, with_xx: bool) -> np.ndarray:
    """ML or REML log-likelihood; ``with_xx`` adds metafor's ½log|X'X| (= ½log k) to REML."""
    ml, rl = logliks(b, tau2)
    if not reml:
        return ml
    return rl + 0.5 * np.log(b.kk) if with_xx else rl


def tau2_fisher(b: Batch, rows: np.ndarray, reml: bool) -> tuple[np.ndarray, np.ndarray]:
    """ML or REML τ² by Fisher scoring from max(0, HE), as metafor's ``rma.uni``.

    Viechtbauer (2005), "Bias and efficiency of meta-analytic variance estimators in the
    random-effects model", J Educ Behav Stat 30:261-293. See :func:`solve_score`. At an ML/REML
    maximum on the boundary the halved steps creep towards 0 and the answer is set to exactly 0
    (metafor with tight control stops at ~1e-13). Afterwards metafor's ``ll0check`` sets
    τ² = 0 if the log-likelihood at 0 is higher.
    """
    he = tau2_he_raw(b)
    t0 = np.where(he > 0, he, 0.0)  # also maps NaN (k = 1 rows) to 0
    if b.single and rows[0]:
        terms = _single_terms(b.d[0], b.v[0], reml)
        t1, ok, _ = solve_score_1(terms, float(t0[0]), float(b.vscale[0]))
        t, converged = np.array([t1]), np.array([ok])
    else:
        t, converged, _ = solve_score(lambda tt: score_terms(b, tt, reml), t0, rows, b.vscale)
    zero = np.zeros_like(t)
    # Iterates that crept to the boundary: the exact maximiser is 0 when the score there is <= 0.
    tiny = rows & (t > 0) & (t < 1e-9 * b.vscale)
    if tiny.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            score0 = _fisher_step(b, zero, reml)
        t = np.where(tiny & (score0 <= 0), 0.0, t)
    check = rows & converged & (t > 0)
    if check.any():
        ll0 = loglik(b, zero, reml, with_xx=False)
        ll1 = loglik(b, t, reml, with_xx=False)
        t = np.where(check & (ll0 - ll1 > LL0_TOL), 0.0, t)
    return t, converged


@dataclass
class BatchFit:
    """Per-row results of :func:`fit_batch` (all arrays of length n)."""

    k: np.ndarray
    tau2: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    df: np.ndarray  # residual df k - 1 used by knha (NaN under z)
    s2w: np.ndarray
    qe: np.ndarray
    qep: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    vt: np.ndarray
    converged: np.ndarray
    weights: np.ndarray  # (n, k) weights 1/(v + τ²), 0 where masked out
    rss: np.ndarray  # y'P(τ²)y at the estimate


def estimate_tau2(b: Batch, method: str) -> tuple[np.ndarray, np.ndarray]:
    """τ² for every row of the batch with ``method``; rows with k = 1 get 0 (metafor's "k1")."""
    rows = b.kk > 1
    conv = np.ones_like(rows)
    if method == "FE":
        t = np.zeros_like(b.kk)
    elif method == "DL":
        t = tau2_dl(b)
    elif method == "HE":
        t = np.maximum(0.0, tau2_he_raw(b))
    elif method == "SJ":
        t, _ = tau2_sj(b)
    elif method in ("PM", "EB"):
        # EB iterates τ² += (Q·k/(k−1) − k)/Σw, whose fixed point is Q(τ²) = k − 1: the PM root
        # (Morris 1983; the metafor cases agree to 1e-12 under tight control).
        t, conv = tau2_pm(b, rows)
    elif method in ("REML", "ML"):
        t, conv = tau2_fisher(b, rows, reml=method == "REML")
    else:  # pragma: no cover - guarded by check_method
        raise ValueError(method)
    t = np.where(rows & np.isfinite(t), t, 0.0)
    return t, conv


def pooled_estimate(b: Batch, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Only the pooled estimates (and convergence flags): what trim-and-fill's loop needs."""
    tau2, conv = estimate_tau2(b, method)
    _, _, off, _ = b.moments(tau2)
    return b.c + off, conv


def fit_batch(b: Batch, method: str, test: str, alpha: float) -> BatchFit:
    """Fit the intercept-only model for every row of ``b``."""
    tau2, conv = estimate_tau2(b, method)
    single = b.kk <= 1
    w, sw, off, r = b.moments(tau2)
    est = b.c + off
    rss = (w * r * r).sum(axis=1)
    vb = 1.0 / sw
    knha = (test == "knha") & ~single
    df = np.where(knha, b.kk - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2w = np.where(knha, np.where(rss <= KNHA_EPS, 0.0, rss / (b.kk - 1)), 1.0)
        se = np.sqrt(vb * s2w)
        zval = est / se
        p_norm = _dist.p_norm_two_sided(zval)
        p_t = _dist.p_t_two_sided(zval, np.where(knha, df, 1.0))
        crit = np.where(knha, _dist.crit_t(alpha, np.where(knha, df, 1.0)), _dist.crit_norm(alpha))
    pval = np.where(knha, p_t, p_norm)
    # Heterogeneity always uses the fixed-effect weights 1/v (metafor: QE, vt).
    zero = np.zeros_like(tau2)
    qe, _ = b.q(zero)
    qe = np.maximum(0.0, qe)
    w0 = b.m / b.v
    sw0 = w0.sum(axis=1)
    trp0 = sw0 - (w0 * w0).sum(axis=1) / sw0
    dfq = b.kk - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        vt = np.where(single, 0.0, dfq / trp0)
        qep = np.where(single, 1.0, _dist.chi2_sf(qe, np.maximum(dfq, 1)))
        if method == "FE":
            i2 = np.maximum(0.0, 100 * (qe - dfq) / qe)
            i2 = np.where(np.isnan(i2), 0.0, i2)
            h2 = qe / dfq
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    i2 = np.where(single, 0.0, i2)
    h2 = np.where(single, 1.0, h2)
    qe = np.where(single, 0.0, qe)
    return BatchFit(
        k=b.kk.astype(int),
        tau2=tau2,
        estimate=est,
        se=se,
        zval=zval,
        pval=pval,
        ci_lb=est - crit * se,
        ci_ub=est + crit * se,
        df=df,
        s2w=s2w,
        qe=qe,
        qep=qep,
        i2=i2,
        h2=h2,
        vt=vt,
        converged=conv,
        weights=w,
        rss=rss,
    )


def chunked_masks(
    k: int, kind: str, max_cells: int = 2_000_000
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (row indices, mask) chunks for leave-one-out or cumulative batches of size k."""
    rows_per = max(1, max_cells // max(k, 1))
    for start in range(0, k, rows_per):
        idx = np.arange(start, min(k, start + rows_per))
        cols = np.arange(k)
        if kind == "leave1out":
            mask = (cols[None, :] != idx[:, None]).astype(float)
        elif kind == "cumul":
            mask = (cols[None, :] <= idx[:, None]).astype(float)
        else:  # pragma: no cover
            raise ValueError(kind)
        yield idx, mask
