"""Cluster-robust inference for three-level fits (metafor ``robust``; clubSandwich CR2).

Both estimators are sandwiches around the fit's coefficients, clustered by the fit's outer
level (the study or sample: the random effects are nested in it, as clubSandwich requires).
With W_j = M_j⁻¹ (the fitted marginal covariance of cluster j), e_j = y_j − X_jβ̂ and
B = (X'WX)⁻¹ (the model-based covariance ``vb``):

* **CR1** (metafor's ``robust(fit, cluster)``, ``adjust = TRUE``):
  V = m/(m − p) · B (Σ_j X_j'W_j e_j e_j'W_j X_j) B with m clusters; t tests and intervals with
  m − p degrees of freedom; the omnibus test of the moderators is QM/q against F(q, m − p).
* **CR2** (``robust(fit, cluster, clubSandwich = TRUE)``: clubSandwich's ``vcovCR(type = "CR2")``
  with ``coef_test(test = "Satterthwaite")``): for an ``rma.mv`` fit clubSandwich takes the
  fitted M_j as the working ("target") covariance Θ_j and its inverse as the weights, so the
  bias-reduction adjustment is A_j = L_j G_j^(-½) L_j' with Θ_j = L_jL_j' and
  G_j = L_j'(Θ_j − X_jBX_j')L_j (eigenvalues below 1e-12 dropped from the inverse square root,
  as clubSandwich's ``matrix_power``; see ``EIGEN_TOL`` for data on tiny scales), and
  V = B (Σ_j X_j'W_jA_j e_j e_j'A_j W_jX_j) B.
  Each coefficient's degrees of freedom are Satterthwaite's, 2E²/Var of the quadratic form
  the variance estimator is, computed as clubSandwich's ``get_GH``/``get_P_array`` do but
  without the J-by-J matrices: E = Σ_j g_j − Σ_j‖h_j‖², with g_j the coefficient's diagonal
  entry of B E_j Θ_j E_j'B (E_j = X_j'W_jA_j) and h_j its row of B E_j X_j L_B (B = L_BL_B'),
  and ‖diag(g) − H'H‖²_F expanded into p-by-p products. The omnibus test of the moderators is
  clubSandwich's ``Wald_test(test = "HTZ")`` (Hotelling's T² with Tipton & Pustejovsky's
  degrees of freedom), as metafor reports it.

Only the per-cluster blocks of M are built, grouped by cluster size into stacked arrays.

References
----------
* Hedges LV, Tipton E, Johnson MC (2010). Robust variance estimation in meta-regression with
  dependent effect size estimates. Res Synth Methods 1:39-65.
* Bell RM, McCaffrey DF (2002). Bias reduction in standard errors for linear regression with
  multi-stage samples. Surv Methodol 28:169-181 (CR2).
* Tipton E, Pustejovsky JE (2015). Small-sample adjustments for tests of moderators and model
  fit using robust variance estimation in meta-regression. J Educ Behav Stat 40:604-634 (HTZ).
* Pustejovsky JE, Tipton E (2018). Small-sample methods for cluster-robust variance estimation
  and hypothesis testing in fixed effects models. J Bus Econ Stat 36:672-683.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _dist
from ._inputs import frozen
from ._linear import wald_statistic
from .errors import StatsInputError
from .multilevel import MultilevelFit

ROBUST_TYPES = ("CR1", "CR2")
#: clubSandwich's matrix_power drops eigenvalues at or below 10^-12 (absolute). The matrices it
#: takes powers of scale with the variances (G_j as Θ², Ω as Var β): on the usual scales
#: (typical Θ >= 0.01, largest Var β >= 0.01) the cut-off is clubSandwich's; below, it shrinks
#: in proportion, where clubSandwich's absolute cut-off would drop every eigenvalue and give
#: NaN (e.g. sampling variances around 1e-6).
EIGEN_TOL = 1e-12


@dataclass(frozen=True, eq=False)
class RobustResult:
    """Cluster-robust tests of a :class:`~synthesis.stats.multilevel.MultilevelFit`.

    ``vcov_type`` is ``"CR1"`` or ``"CR2"``; ``se``, ``tval``, ``df`` (per coefficient: m − p
    for CR1, Satterthwaite for CR2), ``pval``, ``ci_lb``, ``ci_ub`` and the robust covariance
    ``vb``. ``qm`` is the omnibus F statistic of the coefficients ``btt`` with ``qm_df``
    (numerator, denominator) and ``qmp``; for an intercept-only model it is t² with the
    coefficient's own df, as metafor reports it.
    """

    vcov_type: str
    n_clusters: int
    level: float
    coef_names: tuple[str, ...]
    b: np.ndarray
    se: np.ndarray
    tval: np.ndarray
    df: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    btt: tuple[int, ...]
    qm: float
    qm_df: tuple[float, float]
    qmp: float


def robust(fit: MultilevelFit, *, vcov_type: str = "CR1") -> RobustResult:
    """Cluster-robust inference for ``fit``, clustered by its outer level.

    ``vcov_type="CR1"`` is metafor's ``robust(fit, cluster)``; ``"CR2"`` is
    ``robust(fit, cluster, clubSandwich=TRUE)`` (CR2 with Satterthwaite degrees of freedom).

    Raises
    ------
    StatsInputError
        Unknown type, or no more clusters than coefficients.
    """
    kind = str(vcov_type).upper()
    if kind not in ROBUST_TYPES:
        raise StatsInputError(f"Unknown robust estimator {vcov_type!r}; choose CR1 or CR2.")
    model = fit._model
    if model is None:  # pragma: no cover - records are always built by multilevel_fit
        raise StatsInputError("This fit carries no model.")
    m = model.blocks.n
    p = fit.p
    if m <= p:
        raise StatsInputError(
            f"Cluster-robust inference needs more clusters ({m}) than coefficients ({p})."
        )
    marginal = model.marginal(fit.sigma2)
    X = model.X
    B = np.asarray(fit.vb)
    beta = np.asarray(fit.b)
    e = model.y - X @ beta
    alpha = fit.alpha
    if kind == "CR1":
        Z = marginal.solve(X)
        c = model.blocks.sums(Z * e[:, None])
        vb = m / (m - p) * (B @ (c.T @ c) @ B)
        se = np.sqrt(np.diag(vb))
        df = np.full(p, float(m - p))
    else:
        try:
            vb, df, gram, hmat = _cr2(model, marginal, X, B, e)
        except np.linalg.LinAlgError:
            raise StatsInputError(
                "CR2 needs each cluster's covariance matrix to be positive definite, and at "
                "these estimates one is not (numerically singular)."
            ) from None
        se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = beta / se
        pval = _dist.p_t_two_sided(tval, df)
        crit = _dist.crit_t(alpha, df)
    btt = fit.btt
    sel = np.array(btt)
    q = len(btt)
    if fit.intercept and fit.p == 1:
        qm = float(max(0.0, tval[0] ** 2))
        qm_df: tuple[float, float] = (1.0, float(df[0]))
        qmp = float(pval[0])
    else:
        wald = wald_statistic(beta, vb, sel)
        if kind == "CR1":
            qm = wald / q
            qm_df = (float(q), float(m - p))
            qmp = float(_dist.f_sf(qm, q, m - p))
        else:
            qm, qm_df, qmp = _htz(wald, sel, gram, hmat)
    return RobustResult(
        vcov_type=kind,
        n_clusters=m,
        level=fit.level,
        coef_names=fit.coef_names,
        b=frozen(beta),
        se=frozen(se),
        tval=frozen(tval),
        df=frozen(df),
        pval=frozen(pval),
        ci_lb=frozen(beta - crit * se),
        ci_ub=frozen(beta + crit * se),
        vb=frozen(vb),
        btt=btt,
        qm=qm,
        qm_df=qm_df,
        qmp=qmp,
    )


def _cutoff(scale: float, reference: float) -> float:
    """clubSandwich's 1e-12 at or above the reference scale, proportionally less below it."""
    return EIGEN_TOL * min(1.0, scale / reference)


def _sym_power(a: np.ndarray, power: float, tol: float = EIGEN_TOL) -> np.ndarray:
    """a^power for a stack of symmetric matrices, eigenvalues <= ``tol`` set to 0 (clubSandwich)."""
    vals, vecs = np.linalg.eigh(a)
    keep = vals > tol
    powered = np.where(keep, np.where(keep, vals, 1.0) ** power, 0.0)
    return (vecs * powered[..., None, :]) @ np.swapaxes(vecs, -1, -2)


def _cr2(model, marginal, X, B, e):
    """CR2 covariance, Satterthwaite df and the per-cluster pieces the HTZ test needs.

    Returns (vb, df, gram, hmat) with gram[j] = B E_j Θ_j E_j' B (p-by-p) and
    hmat[j] = B E_j X_j L_B (p-by-p), E_j = X_j'W_jA_j.
    """
    p = X.shape[1]
    J = model.blocks.n
    comps = np.empty((J, p))
    gram = np.empty((J, p, p))
    hmat = np.empty((J, p, p))
    lb = np.linalg.cholesky(B)
    # G_j scales as Θ²: clubSandwich's cut-off for typical variances of 0.01 and more.
    theta_scale = float(np.mean(model.v)) + marginal.sigma2[0] + marginal.sigma2[1]
    g_tol = _cutoff(theta_scale**2, 1e-4)
    for _, ids, rows in model.blocks.by_size():
        theta = marginal.dense(rows)  # (n, m, m)
        L = np.linalg.cholesky(theta)
        Xj = X[rows]  # (n, m, p)
        ej = e[rows]  # (n, m)
        Lt = np.swapaxes(L, -1, -2)
        G = Lt @ (theta - Xj @ B @ np.swapaxes(Xj, -1, -2)) @ L
        A = L @ _sym_power(0.5 * (G + np.swapaxes(G, -1, -2)), -0.5, g_tol) @ Lt
        # W_j X_j by solving with the Cholesky factor (Θ = LL').
        WX = np.linalg.solve(Lt, np.linalg.solve(L, Xj))
        E = np.swapaxes(WX, -1, -2) @ A  # (n, p, m)
        comps[ids] = (E @ ej[..., None])[..., 0]
        ME = B @ E
        gram[ids] = ME @ theta @ np.swapaxes(ME, -1, -2)
        hmat[ids] = ME @ Xj @ lb
    vb = B @ (comps.T @ comps) @ B
    df = np.empty(p)
    for i in range(p):
        g = gram[:, i, i]
        h = hmat[:, i, :]  # (J, p): the coefficient's row of each H_j
        hh = np.einsum("ja,ja->j", h, h)
        mean = g.sum() - hh.sum()
        outer = h.T @ h
        frob = float(g @ g) - 2 * float(g @ hh) + float(np.sum(outer * outer))
        df[i] = mean * mean / frob if frob > 0 else float("nan")
    return vb, df, gram, hmat


def _htz(
    wald: float, sel: np.ndarray, gram: np.ndarray, hmat: np.ndarray
) -> tuple[float, tuple[float, float], float]:
    """clubSandwich's HTZ Wald test of β[sel] = 0 from the per-cluster G and H pieces."""
    q = sel.size
    g = gram[:, sel][:, :, sel]  # (J, q, q): Σ_b G_j[a,b]G_j[c,b] for the constrained rows
    h = hmat[:, sel, :]  # (J, q, u)
    omega = g.sum(axis=0) - np.einsum("jau,jbu->ab", h, h)
    # Ω scales as Var β: clubSandwich's cut-off for variances of 0.01 and more.
    root = _sym_power(0.5 * (omega + omega.T), -0.5, _cutoff(float(np.max(np.diag(omega))), 1e-2))
    g = root @ g @ root
    h = np.einsum("ab,jbu->jau", root, h)

    def inner(a: int, b: int, c: int, d: int) -> float:
        """Σ P_ab ∘ P_cd for the J-by-J matrices P_ab = diag(g_ab) − h_a'h_b."""
        gab, gcd = g[:, a, b], g[:, c, d]
        hab = np.einsum("ju,ju->j", h[:, a, :], h[:, b, :])
        hcd = np.einsum("ju,ju->j", h[:, c, :], h[:, d, :])
        ac = h[:, a, :].T @ h[:, c, :]
        bd = h[:, b, :].T @ h[:, d, :]
        return float(gab @ gcd - gab @ hcd - gcd @ hab + np.sum(ac * bd))

    total = 0.0
    for s in range(q):
        for t in range(q):
            # sum(B[s,t] * B[t,s]) + sum(B[s,s] * B[t,t]); B[t,s] = B[s,t]'.
            total += inner(s, t, t, s) + inner(s, s, t, t)
    if not total > 0:
        return float("nan"), (float(q), float("nan")), float("nan")
    nu = q * (q + 1) / total
    delta = max((nu - q + 1) / nu, 0.0)
    df2 = nu - q + 1
    fstat = delta * wald / q
    pval = float(_dist.f_sf(fstat, q, df2)) if df2 > 0 else float("nan")
    return fstat, (float(q), float(df2)), pval
