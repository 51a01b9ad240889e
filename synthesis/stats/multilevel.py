"""Three-level meta-analysis: effect sizes nested in clusters (metafor's ``rma.mv``).

The model (metafor ``rma.mv(yi, V, mods, random = ~ 1 | cluster/es_id, method, test)``) is

    y = Xβ + u_cluster + u_es + e,   u_cluster ~ N(0, σ²₁), u_es ~ N(0, σ²₂), e ~ N(0, V),

with V = diag(vᵢ) (the classic three-level model) or, given a within-cluster correlation ρ, the
CHE working matrix of :mod:`synthesis.stats.vcalc` (vᵢ on the diagonal, ρ√(vᵢvⱼ) between two
effect sizes of the same cluster). ``sigma2`` is (σ²₁, σ²₂): outer (cluster) level first, as
metafor orders them.

Estimation. metafor maximises the (restricted) log-likelihood over log σ² with ``nlminb``. This
module maximises the same function over σ² >= 0 by Newton's method with analytic first and
second derivatives (Fisher scoring where the observed information is not positive definite,
step halving, and an active set for components at 0) and stops at about 1e-12 relative change:
the exact optimum, which metafor's answer approaches to within its optimiser's tolerance
(see ``tests/fixtures/metafor/README.md``). Every quantity uses the block structure of the
marginal covariance (:mod:`synthesis.stats._blocks`): no k-by-k matrix is formed, so a fit at
k = 10,000 takes milliseconds where a dense k-by-k computation takes minutes.

Derivatives. With P = M⁻¹ − M⁻¹X(X'M⁻¹X)⁻¹X'M⁻¹, r = Py, D₁ = blockdiag(11') (dM/dσ²₁) and
D₂ = I (dM/dσ²₂): the REML score is −½tr(PDₐ) + ½r'Dₐr, the expected information ½tr(PDₐPD_b)
and the observed information r'DₐPD_br − ½tr(PDₐPD_b); for ML, M⁻¹ replaces P in the traces.
Each trace reduces to per-cluster 2-by-2 algebra and p-column products.

Also here: Cochran's Q with the working V (``QE``, as metafor: the residual sum of squares of
the fixed-effects fit; undefined when V is singular, e.g. ρ = 1), the t test (``test="t"``, df
k − p as metafor's default ``dfs="residual"``), the omnibus test of the moderators, I² per level
by the formula of metafor's FAQ (``100σ²ₗ/(Σσ² + (k−p)/tr P₀)`` with P₀ built from
W = diag(1/vᵢ)), and profile-likelihood confidence intervals for σ²₁ and σ²₂ as metafor's
``confint.rma.mv`` (:func:`multilevel_confint`).

References
----------
* Konstantopoulos S (2011). Fixed effects and variance components estimation in three-level
  meta-analysis. Res Synth Methods 2:61-76.
* Van den Noortgate W, López-López JA, Marín-Martínez F, Sánchez-Meca J (2013). Three-level
  meta-analysis of dependent effect sizes. Behav Res Methods 45:576-594.
* Pustejovsky JE, Tipton E (2022). Meta-analysis with robust variance estimation: expanding the
  range of working models. Prev Sci 23:425-438 (the CHE working model).
* Cheung MW-L (2014). Modeling dependent effect sizes with three-level meta-analyses: a
  structural equation modeling approach. Psychol Methods 19:211-229 (I² per level).
* Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw
  36(3):1-48.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from . import _dist
from ._blocks import Blocks, Marginal, NotPositiveDefinite
from ._inputs import ArrayLike, check_level, effects_and_variances, frozen
from ._linear import Projection, btt_indices, wald_statistic
from .errors import StatsConvergenceError, StatsInputError
from .metareg import ModeratorDesign, _as_design
from .vcalc import check_rho, cluster_codes

MULTILEVEL_METHODS = ("REML", "ML")
MULTILEVEL_TESTS = ("z", "t")
MAXITER = 500
#: Newton stops when a step is below this times (typical vᵢ + largest σ²).
STEP_TOL = 1e-12
LOG_2PI = math.log(2 * math.pi)


def check_multilevel_method(method: str) -> str:
    name = str(method).upper()
    if name not in MULTILEVEL_METHODS:
        raise StatsInputError(
            f"Unknown method {method!r} for a three-level model; choose REML or ML."
        )
    return name


def check_multilevel_test(test: str) -> str:
    name = str(test).lower()
    if name not in MULTILEVEL_TESTS:
        raise StatsInputError(f"Unknown test {test!r} for a three-level model; choose 'z' or 't'.")
    return name


# ------------------------------------------------------------------------- the model


@dataclass
class _State:
    """Everything known at one value of (σ²₁, σ²₂); ``beta``, ``vb`` are for the design Xs."""

    theta: np.ndarray
    marginal: Marginal
    ll: float
    beta: np.ndarray
    vb: np.ndarray
    resid: np.ndarray  # y − Xβ
    grad: np.ndarray | None = None
    expected: np.ndarray | None = None
    observed: np.ndarray | None = None


class _Model:
    """The sorted data of a three-level fit and its (restricted) log-likelihood."""

    def __init__(
        self, y: np.ndarray, v: np.ndarray, X: np.ndarray, codes: np.ndarray, rho: float
    ) -> None:
        order = np.argsort(codes, kind="stable")
        self.order = order
        self.y = y[order]
        self.v = v[order]
        self.s = np.sqrt(self.v)
        self.X = X[order]
        self.blocks = Blocks(codes[order])
        self.rho = rho
        self.k, self.p = self.X.shape
        self.vscale = self.k / float((1.0 / self.v).sum())
        self.A = _standardising(self.X)
        # The likelihood is computed with centred and scaled moderators (Xs = XA; an
        # un-centred publication year would leave X'WX ill-conditioned): σ² and the log-
        # likelihoods are invariant (the log det A terms cancel in REML), β = Aβs.
        self.Xs = self.X @ self.A
        rx = np.linalg.qr(self.Xs, mode="r")
        self.logdet_xx = float(2 * np.log(np.abs(np.diag(rx))).sum())

    def marginal(self, theta: Sequence[float]) -> Marginal:
        return Marginal(self.blocks, self.v, self.s, self.rho, float(theta[0]), float(theta[1]))

    def evaluate(self, theta: np.ndarray, reml: bool, *, derivatives: bool = True) -> _State:
        """(Restricted) log-likelihood, score and information at ``theta``.

        Raises NotPositiveDefinite where the model's covariance is not positive definite.
        """
        m = self.marginal(theta)
        X, y, k, p = self.Xs, self.y, self.k, self.p
        both = m.solve(np.column_stack([X, y]))
        Z, wy = both[:, :p], both[:, p]
        xwx = X.T @ Z
        try:
            chol = np.linalg.cholesky(xwx)
        except np.linalg.LinAlgError:
            raise NotPositiveDefinite from None
        cinv = np.linalg.inv(chol)
        Q = cinv.T @ cinv
        beta = Q @ (X.T @ wy)
        r = wy - Z @ beta
        resid = y - X @ beta
        rss = float(resid @ r)
        if reml:
            logdet_xwx = float(2 * np.log(np.diag(chol)).sum())
            ll = -0.5 * (k - p) * LOG_2PI + 0.5 * self.logdet_xx - 0.5 * m.logdet
            ll += -0.5 * logdet_xwx - 0.5 * rss
        else:
            ll = -0.5 * k * LOG_2PI - 0.5 * m.logdet - 0.5 * rss
        st = _State(np.array(theta, dtype=float), m, ll, beta, Q, resid)
        if not derivatives:
            return st
        b = self.blocks
        zs = b.sums(Z)
        rs = b.sums(r)
        ow1 = m.ones_w_ones()
        w1 = m.w_ones()
        tww = np.array(
            [
                [float(ow1 @ ow1), float(w1 @ w1)],
                [float(w1 @ w1), m.frobenius2()],
            ]
        )
        tr_w = np.array([float(ow1.sum()), m.trace()])
        rdr = np.array([float(rs @ rs), float(r @ r)])
        d1r = b.spread(rs)

        dr = np.column_stack([d1r, r])
        pd = m.solve(dr) - Z @ (Q @ (Z.T @ dr))  # P·D₁r, P·D₂r
        quad = dr.T @ pd
        quad = 0.5 * (quad + quad.T)
        if reml:
            G = (zs.T @ zs, Z.T @ Z)
            QG = (Q @ G[0], Q @ G[1])
            tr_p = tr_w - np.array([np.trace(QG[0]), np.trace(QG[1])])
            w2 = m.solve(np.column_stack([b.spread(zs), Z]))
            wd1z, wz = w2[:, :p], w2[:, p:]
            cross = np.empty((2, 2))
            cross[0, 0] = np.trace(Q @ (zs.T @ b.sums(wd1z)))
            cross[0, 1] = cross[1, 0] = np.trace(Q @ (Z.T @ wd1z))
            cross[1, 1] = np.trace(Q @ (Z.T @ wz))
            tpp = np.empty((2, 2))
            for i in range(2):
                for j in range(2):
                    tpp[i, j] = tww[i, j] - 2 * cross[i, j] + float(np.sum(QG[i] * QG[j].T))
            st.grad = 0.5 * (rdr - tr_p)
            st.expected = 0.5 * tpp
            st.observed = quad - 0.5 * tpp
        else:
            st.grad = 0.5 * (rdr - tr_w)
            st.expected = 0.5 * tww
            st.observed = quad - 0.5 * tww
        return st

    # --------------------------------------------------------------------- optimisation

    def maximise(
        self, theta0: np.ndarray, reml: bool, fixed: tuple[bool, bool] = (False, False)
    ) -> tuple[_State, bool, int]:
        """Maximise over the components not ``fixed``, subject to σ² >= 0."""
        free = ~np.array(fixed)
        theta = np.maximum(np.array(theta0, dtype=float), 0.0)
        st = self.evaluate(theta, reml)
        ll_tol = 1e-13 * max(1.0, abs(st.ll))
        for it in range(1, MAXITER + 1):
            g = st.grad
            move = free & ~((theta <= 0) & (g <= 0))
            if not move.any():
                return st, True, it
            idx = np.flatnonzero(move)
            step = _newton_step(st.observed[np.ix_(idx, idx)], g[idx])
            fisher = step is None or np.any((theta[idx] <= 0) & (step <= 0))
            if fisher:
                step = _newton_step(st.expected[np.ix_(idx, idx)], g[idx])
                if step is None or np.any((theta[idx] <= 0) & (step <= 0)):
                    # Coordinate-wise scoring: a released component always moves up.
                    info = np.diag(st.expected)[idx]
                    size = self.vscale + float(theta.max())
                    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                        step = np.where(info > 0, g[idx] / info, np.sign(g[idx]) * size)
                    step = np.clip(step, -10 * size, 10 * size)
            lam = 1.0
            new_st = None
            while lam > 1e-12:
                new = theta.copy()
                new[idx] = np.maximum(theta[idx] + lam * step, 0.0)
                try:
                    cand = self.evaluate(new, reml)
                except NotPositiveDefinite:
                    cand = None
                if cand is not None and cand.ll >= st.ll - ll_tol:
                    new_st = cand
                    break
                lam /= 2
            if new_st is None:
                # No ascent along the step: the current point is the optimum to machine
                # precision (the step is rounding noise) or the search failed.
                gscale = float(np.abs(g[idx]).max()) * (self.vscale + float(theta.max()))
                return st, gscale <= 1e-8 * max(1.0, abs(st.ll)), it
            delta = float(np.abs(new_st.theta - theta).max())
            theta, st = new_st.theta, new_st
            if delta <= STEP_TOL * (self.vscale + float(theta.max())):
                return st, True, it
        return st, False, MAXITER


def _standardising(X: np.ndarray) -> np.ndarray:
    """A with XA's non-constant columns centred (when X has a constant column) and scaled."""
    p = X.shape[1]
    A = np.eye(p)
    constant = [j for j in range(p) if np.all(X[:, j] == X[0, j]) and X[0, j] != 0]
    for j in range(p):
        if j in constant:
            continue
        col = X[:, j]
        centre = float(col.mean()) if constant else 0.0
        scale = float(np.sqrt(np.mean((col - centre) ** 2))) or 1.0
        A[j, j] = 1.0 / scale
        if constant:
            c = constant[0]
            A[c, j] = -centre / (scale * X[0, c])
    return A


def _newton_step(h: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    try:
        c = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.solve(c.T, np.linalg.solve(c, g))


# ------------------------------------------------------------------------- the record


@dataclass(frozen=True, eq=False)
class MultilevelFit:
    """A fitted three-level model (metafor ``rma.mv(yi, V, random = ~ 1 | cluster/es_id)``).

    Attributes
    ----------
    k, p, n_clusters
        Effect sizes, coefficients, clusters (the outer level's number of levels; the inner
        level has k).
    method, test, level, rho
        ``"REML"``/``"ML"``, ``"z"``/``"t"``, confidence level (percent) and the CHE working
        correlation (``None``: V = diag(vᵢ)).
    coef_names, b, se, zval, pval, ci_lb, ci_ub, vb, dist, df
        Per coefficient (the intercept first when there is one); ``zval`` is the t statistic
        under ``test="t"`` (metafor's name), with ``df = k − p``.
    btt, qm, qm_df, qmp, qm_dist
        Omnibus test of the coefficients ``btt`` (all but the intercept; the intercept alone in
        an intercept-only model): χ²(m), or QM/m against F(m, k − p) under ``t``.
    sigma2, i2, i2_total, vt
        (σ²₁, σ²₂), outer level first; I² per level and in total (percent), with vt the
        typical within-study variance (k − p)/tr P₀.
    qe, qe_df, qep
        Cochran's Q with the working V, its df (k − p) and p-value (``None`` if V is singular).
    ll_ml, ll_reml
        Log-likelihoods at the estimates (metafor's ``fit.stats``).
    yi, vi, X, cluster
        The data in the caller's row order.
    """

    k: int
    p: int
    n_clusters: int
    method: str
    test: str
    level: float
    rho: float | None
    intercept: bool
    coef_names: tuple[str, ...]
    b: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    dist: str
    df: int | None
    btt: tuple[int, ...]
    qm: float
    qm_df: tuple[int, int | None]
    qmp: float
    qm_dist: str
    sigma2: tuple[float, float]
    i2: tuple[float, float]
    i2_total: float
    vt: float
    qe: float | None
    qe_df: int
    qep: float | None
    ll_ml: float
    ll_reml: float
    converged: bool
    iterations: int
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    cluster: tuple[str, ...]
    design: ModeratorDesign | None = None
    _model: _Model | None = field(default=None, repr=False)

    @property
    def alpha(self) -> float:
        return 1.0 - self.level / 100.0

    @property
    def ll(self) -> float:
        """The log-likelihood that was maximised."""
        return self.ll_reml if self.method == "REML" else self.ll_ml


def _initial_total(model: _Model) -> float:
    """metafor's starting value: each σ² starts at total/4 (rma.mv counts four components)."""
    X, y = model.Xs, model.y
    try:
        m0 = model.marginal((0.0, 0.0))
        Z0 = m0.solve(X)
        beta = np.linalg.solve(X.T @ Z0, Z0.T @ y)
        resid = y - X @ beta
        return max(0.004, float(np.var(resid, ddof=1)) - 1.0 / float(np.mean(1.0 / model.v)))
    except (NotPositiveDefinite, np.linalg.LinAlgError):
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ coef
        return float(resid @ resid) / (model.k - model.p)


def _q_test(model: _Model) -> float | None:
    """Cochran's Q with the working V: the fixed-effects fit's weighted RSS (None: V singular)."""
    try:
        m0 = model.marginal((0.0, 0.0))
    except NotPositiveDefinite:
        return None
    X, y = model.Xs, model.y
    Z0 = m0.solve(X)
    beta = np.linalg.solve(X.T @ Z0, Z0.T @ y)
    resid = y - X @ beta
    return max(0.0, float(resid @ m0.solve(resid)))


def _check_structure(codes: np.ndarray, n_clusters: int, k: int, p: int) -> None:
    if n_clusters < 2:
        raise StatsInputError(
            "All effect sizes are in one cluster: a three-level model needs at least 2 clusters."
        )
    if n_clusters == k:
        raise StatsInputError(
            "Every cluster has a single effect size, so the two variance components cannot be "
            "told apart: use the standard random-effects model instead."
        )
    if k - p < 1:
        raise StatsInputError(
            f"Too few effect sizes (k = {k}) for {p} coefficients and two variance components."
        )


def multilevel_fit(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    cluster: Sequence[object],
    es_id: Sequence[object] | None = None,
    sei: ArrayLike | None = None,
    mods: ArrayLike | np.ndarray | ModeratorDesign | None = None,
    names: Sequence[str] | None = None,
    intercept: bool = True,
    rho: float | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    btt: Sequence[int] | None = None,
) -> MultilevelFit:
    """Fit the three-level model ``random = ~ 1 | cluster/es_id`` by REML or ML.

    Parameters
    ----------
    yi, vi (or sei)
        Effect sizes and sampling variances (standard errors).
    cluster
        The outer level (study, sample, district): one label per effect size.
    es_id
        The effect size's id within its cluster (default: row order). Ids must be unique within
        a cluster: each effect size is its own inner level.
    mods, names, intercept, btt
        Moderators as in :func:`~synthesis.stats.metareg.metareg_fit`.
    rho
        ``None`` for independent sampling errors; a correlation in [-1, 1] for the CHE working
        model (sampling errors of one cluster correlated ρ, as ``vcalc(vi, cluster, obs, rho)``).
    method, test, level
        ``"REML"``/``"ML"``; ``"z"``/``"t"`` (t with k − p df for every coefficient); percent.

    Raises
    ------
    StatsInputError
        Degenerate data: fewer than 2 clusters, every cluster a single effect size, repeated
        es ids within a cluster, a rank-deficient model matrix, too few effect sizes, or a
        working covariance that is not positive definite at any variance components.
    StatsConvergenceError
        The optimisation did not converge.
    """
    method = check_multilevel_method(method)
    test = check_multilevel_test(test)
    alpha = check_level(level)
    y, v = effects_and_variances(yi, vi, sei=sei, min_k=3)
    k = y.size
    labels, codes, n_clusters = cluster_codes(cluster, k, es_id)
    rho_value = 0.0 if rho is None else check_rho(rho)
    if mods is None:
        X = np.ones((k, 1))
        coef_names: tuple[str, ...] = ("intercept",)
        design = None
        if not intercept:
            raise StatsInputError("The model has no coefficients.")
    else:
        Xm, mod_names, design = _as_design(mods, names, k)
        if intercept:
            X = np.column_stack([np.ones(k), Xm])
            coef_names = ("intercept", *mod_names)
        else:
            X = Xm
            coef_names = mod_names
        if X.shape[1] == 0:
            raise StatsInputError("The model has no coefficients.")
    p = X.shape[1]
    _check_structure(codes, n_clusters, k, p)
    if np.linalg.matrix_rank(X) < p:
        raise StatsInputError(
            "The model matrix is not of full rank (a moderator is constant or a linear "
            "combination of others)."
        )
    model = _Model(y, v, X, codes, rho_value)
    reml = method == "REML"
    start = np.full(2, _initial_total(model) / 4)
    for _ in range(30):
        try:
            model.evaluate(start, reml, derivatives=False)
            break
        except NotPositiveDefinite:
            start = start * 10
    else:
        raise StatsInputError(
            f"With rho = {rho_value:g} the working covariance matrix is not positive definite "
            "and no variance components make the model's covariance positive definite."
        )
    st, converged, iterations = model.maximise(start, reml)
    if not converged:
        hint = ""
        if _q_test(model) is None:
            hint = (
                f" With rho = {rho_value:g} the working covariance matrix is not positive "
                "definite, and the likelihood may have no maximum: try a rho further from -1 "
                "and 1."
            )
        raise StatsConvergenceError(
            f"The {method} estimation of the variance components did not converge.{hint}"
        )
    A = model.A
    beta, vb = A @ st.beta, A @ st.vb @ A.T
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    if test == "t":
        df: int | None = k - p
        pval = _dist.p_t_two_sided(zval, df)
        crit = float(_dist.crit_t(alpha, df))
    else:
        df = None
        pval = _dist.p_norm_two_sided(zval)
        crit = _dist.crit_norm(alpha)
    btt_idx = btt_indices(btt, p, intercept)
    sel = np.array(btt_idx)
    m = len(btt_idx)
    qm = wald_statistic(beta, vb, sel)
    if test == "t":
        qm /= m
        qm_df: tuple[int, int | None] = (m, k - p)
        qmp = float(_dist.f_sf(qm, m, k - p))
        qm_dist = "F"
    else:
        qm_df = (m, None)
        qmp = float(_dist.chi2_sf(qm, m))
        qm_dist = "chisq"
    qe = _q_test(model)
    qep = None if qe is None else float(_dist.chi2_sf(qe, k - p))
    sigma2 = (float(st.theta[0]), float(st.theta[1]))
    p0 = Projection(X, y, 1.0 / v)
    vt = (k - p) / float((p0.w * (1 - p0.h)).sum())
    total = sigma2[0] + sigma2[1] + vt
    ll_ml = model.evaluate(st.theta, False, derivatives=False).ll if reml else st.ll
    ll_reml = st.ll if reml else model.evaluate(st.theta, True, derivatives=False).ll
    return MultilevelFit(
        k=k,
        p=p,
        n_clusters=n_clusters,
        method=method,
        test=test,
        level=float(level),
        rho=None if rho is None else rho_value,
        intercept=intercept,
        coef_names=coef_names,
        b=frozen(beta),
        se=frozen(se),
        zval=frozen(zval),
        pval=frozen(pval),
        ci_lb=frozen(beta - crit * se),
        ci_ub=frozen(beta + crit * se),
        vb=frozen(vb),
        dist="t" if test == "t" else "norm",
        df=df,
        btt=btt_idx,
        qm=qm,
        qm_df=qm_df,
        qmp=qmp,
        qm_dist=qm_dist,
        sigma2=sigma2,
        i2=(100 * sigma2[0] / total, 100 * sigma2[1] / total),
        i2_total=100 * (sigma2[0] + sigma2[1]) / total,
        vt=vt,
        qe=qe,
        qe_df=k - p,
        qep=qep,
        ll_ml=float(ll_ml),
        ll_reml=float(ll_reml),
        converged=converged,
        iterations=iterations,
        yi=frozen(y),
        vi=frozen(v),
        X=frozen(X),
        cluster=labels,
        design=design,
        _model=model,
    )


# ------------------------------------------------------------------------- profile CIs


def _root(f, a: float, b: float, xtol: float, ok: list[bool]) -> float:
    """Brent's root of f in [a, b]; NaN (and ``ok[0] = False``) if f does not change sign."""
    try:
        return float(optimize.brentq(f, a, b, xtol=xtol, rtol=1e-13))
    except ValueError:
        ok[0] = False
        return float("nan")


@dataclass(frozen=True)
class ProfileInterval:
    """Profile-likelihood CI of one variance component (metafor ``confint(fit, sigma2=j)``).

    ``lb_sign`` is never set (the search starts at 0, as metafor's); ``ub_sign`` is ``">"``
    when the profile is still inside the interval at ``vc_max`` = max(10, 100σ̂²) (10 when σ̂² is
    about 0), which is then reported as the bound. A bound that cannot be found (the profile
    does not cross the cut-off where it should, as with a working V far from positive
    definite) is NaN with ``converged`` false; metafor reports NA with a warning then.
    """

    component: int
    estimate: float
    ci_lb: float
    ci_ub: float
    lb_sign: str
    ub_sign: str
    vc_max: float
    converged: bool


def multilevel_confint(
    fit: MultilevelFit, *, level: float | None = None
) -> tuple[ProfileInterval, ProfileInterval]:
    """Profile-likelihood confidence intervals for σ²₁ and σ²₂.

    The bounds solve −2(ℓ_profile(σ²) − ℓ̂) = χ²₁(level): for each trial value the other
    component is re-estimated (by the fit's method), and the root is found with Brent's method
    to about 1e-12 relative, where metafor's ``uniroot`` stops at ``tol`` (default
    .Machine$double.eps^0.25). The search interval is [0, vc_max] as in metafor.
    """
    model = fit._model
    if model is None:  # pragma: no cover - records are always built by multilevel_fit
        raise StatsInputError("This fit carries no model to profile.")
    level = fit.level if level is None else float(level)
    alpha = check_level(level)
    objective = float(_dist.chi2_upper_quantile(alpha, 1))
    reml = fit.method == "REML"
    ll_hat = fit.ll
    est = np.array(fit.sigma2)
    fallback = _initial_total(model) / 4
    out = []
    for comp in (0, 1):
        other = 1 - comp
        fixed = (comp == 0, comp == 1)
        ok = [True]
        # Warm start: the other component's optimum at the last trial value (Brent's trial
        # values converge, so Newton then needs one or two steps).
        last = [est[other] if est[other] > 0 else fallback]

        def profile(
            val: float, comp: int = comp, other: int = other, fixed=fixed, ok=ok, last=last
        ) -> float:
            theta = np.empty(2)
            theta[comp] = val
            for start in (last[0], est[other], fallback):
                if start <= 0:
                    continue
                theta[other] = start
                try:
                    st, conv, _ = model.maximise(theta, reml, fixed)
                    break
                except NotPositiveDefinite:
                    continue
            else:
                # The model's covariance is not positive definite here (e.g. ρ = 1 with
                # σ²₂ = 0): the likelihood is 0, far outside any interval.
                return 1e10
            ok[0] &= conv
            last[0] = float(st.theta[other])
            return -2 * (st.ll - ll_hat) - objective

        vc = float(est[comp])
        vc_max = 10.0 if vc <= np.finfo(float).eps ** 0.5 else max(10.0, 100 * vc)
        xtol = 1e-14 * max(vc, model.vscale)
        ub_sign = ""
        lb = 0.0 if profile(0.0) < 0 else _root(profile, 0.0, vc, xtol, ok)
        if profile(vc_max) < 0:
            ub, ub_sign = vc_max, ">"
        else:
            ub = _root(profile, vc, vc_max, xtol, ok)
        out.append(
            ProfileInterval(
                component=comp,
                estimate=vc,
                ci_lb=float(lb),
                ci_ub=float(ub),
                lb_sign="",
                ub_sign=ub_sign,
                vc_max=vc_max,
                converged=ok[0],
            )
        )
    return out[0], out[1]
