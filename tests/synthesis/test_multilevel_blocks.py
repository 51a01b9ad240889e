"""The block computations equal the dense k-by-k ones on small data.

Everything in ``synthesis.stats._blocks``, the likelihood and its derivatives in
``multilevel.py`` and both robust estimators in ``robust.py`` avoid k-by-k matrices. Here the
same quantities are computed the obvious way, with the full marginal covariance M, its inverse
and plain loops over clusters (clubSandwich's algorithm, J-by-J arrays included), and compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from synthesis.stats._blocks import Blocks, Marginal, NotPositiveDefinite
from synthesis.stats.multilevel import _Model, multilevel_fit
from synthesis.stats.robust import robust
from synthesis.stats.vcalc import vcalc


def make_data(seed: int, n_clusters: int = 7, max_size: int = 5, p: int = 2):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_size + 1, n_clusters)
    sizes[0] = max(sizes[0], 2)
    codes = np.repeat(np.arange(n_clusters), sizes)
    k = codes.size
    v = rng.uniform(0.01, 0.1, k)
    X = np.column_stack([np.ones(k), rng.normal(size=(k, p - 1))])
    y = 0.3 + 0.1 * X[:, -1] + rng.normal(0, 0.3, n_clusters)[codes] + rng.normal(0, 0.2, k)
    y += rng.normal(0, np.sqrt(v))
    return y, v, X, codes


def dense_m(v, codes, rho, s1, s2):
    same = np.equal.outer(codes, codes)
    s = np.sqrt(v)
    V = np.where(same, rho * np.outer(s, s), 0.0)
    np.fill_diagonal(V, v)
    return V + s1 * same + s2 * np.eye(v.size)


GRID = [(0.0, 0.1, 0.05), (0.5, 0.1, 0.05), (-0.2, 0.03, 0.2), (1.0, 0.05, 0.02), (0.3, 0.0, 0.1),
        (0.0, 0.2, 0.0), (0.8, 0.0, 0.0)]  # fmt: skip


@pytest.mark.parametrize("rho, s1, s2", GRID)
def test_marginal_products_equal_the_dense_matrix(rho, s1, s2):
    y, v, X, codes = make_data(1)
    M = dense_m(v, codes, rho, s1, s2)
    m = Marginal(Blocks(codes), v, np.sqrt(v), rho, s1, s2)
    W = np.linalg.inv(M)
    np.testing.assert_allclose(m.solve(X), W @ X, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(m.solve(y), W @ y, rtol=1e-10, atol=1e-10)
    assert np.isclose(m.logdet, np.linalg.slogdet(M)[1], rtol=1e-12)
    assert np.isclose(m.trace(), np.trace(W), rtol=1e-10)
    assert np.isclose(m.frobenius2(), np.sum(W * W), rtol=1e-10)
    A = np.equal.outer(codes, np.arange(codes.max() + 1)).astype(float)
    np.testing.assert_allclose(m.ones_w_ones(), np.diag(A.T @ W @ A), rtol=1e-10)
    np.testing.assert_allclose(m.w_ones(), (W @ A).sum(axis=1), rtol=1e-10, atol=1e-12)
    for _, _ids, rows in Blocks(codes).by_size():
        np.testing.assert_allclose(m.dense(rows), M[rows[:, :, None], rows[:, None, :]])


def test_positive_definiteness_is_detected_as_the_eigenvalues_say():
    _, v, _, codes = make_data(2)
    for rho in (-0.9, -0.5, -0.3, 0.0, 0.99, 1.0):
        for s2 in (0.0, 0.01):
            M = dense_m(v, codes, rho, 0.0, s2)
            pd = np.linalg.eigvalsh(M).min() > 1e-12
            try:
                Marginal(Blocks(codes), v, np.sqrt(v), rho, 0.0, s2)
                ok = True
            except NotPositiveDefinite:
                ok = False
            assert ok == pd, (rho, s2)
    w = vcalc(v, codes, -0.5)
    sizes = np.bincount(codes)
    assert set(w.not_positive_definite()) == {str(j) for j in np.flatnonzero(sizes >= 3)}
    np.testing.assert_allclose(w.dense(), dense_m(v, codes, -0.5, 0, 0))


def dense_loglik(y, X, M, reml):
    W = np.linalg.inv(M)
    xwx = X.T @ W @ X
    beta = np.linalg.solve(xwx, X.T @ W @ y)
    e = y - X @ beta
    k, p = X.shape
    ll = -0.5 * np.linalg.slogdet(M)[1] - 0.5 * e @ W @ e
    if reml:
        return ll - 0.5 * (k - p) * np.log(2 * np.pi) + 0.5 * np.linalg.slogdet(X.T @ X)[1] \
            - 0.5 * np.linalg.slogdet(xwx)[1]  # fmt: skip
    return ll - 0.5 * k * np.log(2 * np.pi)


def dense_derivatives(y, X, v, codes, rho, theta, reml):
    M = dense_m(v, codes, rho, *theta)
    W = np.linalg.inv(M)
    P = W - W @ X @ np.linalg.solve(X.T @ W @ X, X.T @ W)
    same = np.equal.outer(codes, codes).astype(float)
    D = (same, np.eye(v.size))
    A = P if reml else W
    py = P @ y
    grad = np.array([-0.5 * np.trace(A @ d) + 0.5 * py @ d @ py for d in D])
    expected = np.array([[0.5 * np.trace(A @ a @ A @ b) for b in D] for a in D])
    hess = np.array([[0.5 * np.trace(A @ a @ A @ b) - py @ a @ P @ b @ py for b in D] for a in D])
    return grad, expected, -hess


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("rho, s1, s2", GRID[:4])
def test_likelihood_score_and_information_equal_the_dense_formulas(reml, rho, s1, s2):
    y, v, X, codes = make_data(3)
    model = _Model(y, v, X, codes, rho)
    st = model.evaluate(np.array([s1, s2]), reml)
    o = model.order
    M = dense_m(v[o], codes[o], rho, s1, s2)
    assert np.isclose(st.ll, dense_loglik(y[o], X[o], M, reml), rtol=1e-12)
    grad, expected, observed = dense_derivatives(y[o], X[o], v[o], codes[o], rho, (s1, s2), reml)
    np.testing.assert_allclose(st.grad, grad, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(st.expected, expected, rtol=1e-9)
    np.testing.assert_allclose(st.observed, observed, rtol=1e-9, atol=1e-9)


def test_the_optimum_is_a_stationary_point_of_the_dense_likelihood():
    y, v, X, codes = make_data(4, n_clusters=12)
    fit = multilevel_fit(y, v, cluster=codes, mods=X[:, 1:], rho=0.4)
    s1, s2 = fit.sigma2
    M = dense_m(v, codes, 0.4, s1, s2)
    best = dense_loglik(y, X, M, True)
    assert np.isclose(fit.ll_reml, best, rtol=1e-12)
    for d1, d2 in ((1e-4, 0), (-1e-4, 0), (0, 1e-4), (0, -1e-4)):
        other = dense_m(v, codes, 0.4, max(s1 + d1, 0), max(s2 + d2, 0))
        assert dense_loglik(y, X, other, True) <= best


def dense_robust(y, X, v, codes, rho, fit, kind):
    """CR1 / clubSandwich's CR2 with Satterthwaite df and HTZ, with full matrices and loops."""
    M = dense_m(v, codes, rho, *fit.sigma2)
    W = np.linalg.inv(M)
    B = np.linalg.inv(X.T @ W @ X)
    e = y - X @ np.asarray(fit.b)
    clusters = np.unique(codes)
    J, p = clusters.size, X.shape[1]
    meat = np.zeros((p, p))
    Gs, Es, Xs, Thetas = [], [], [], []
    for c in clusters:
        idx = np.flatnonzero(codes == c)
        Xj, Th = X[idx], M[np.ix_(idx, idx)]
        Wj = np.linalg.inv(Th)
        if kind == "CR1":
            A = np.eye(idx.size)
        else:
            R = np.linalg.cholesky(Th).T  # upper, Θ = R'R as R's chol()
            G = R @ (np.eye(idx.size) - Xj @ B @ Xj.T @ Wj) @ Th @ R.T
            vals, vecs = np.linalg.eigh(G)
            root = vecs @ np.diag(np.where(vals > 1e-12, vals, np.inf) ** -0.5) @ vecs.T
            A = R.T @ root @ R
        Ej = Xj.T @ Wj @ A
        u = Ej @ e[idx]
        meat += np.outer(u, u)
        Es.append(Ej)
        Xs.append(Xj)
        Thetas.append(Th)
        Gs.append(B @ Ej @ np.linalg.cholesky(Th))
    vb = B @ meat @ B
    if kind == "CR1":
        return J / (J - p) * vb, np.full(p, J - p), None
    Lb = np.linalg.cholesky(B)
    H = np.stack([B @ Ej @ Xj @ Lb for Ej, Xj in zip(Es, Xs, strict=True)], axis=-1)  # p, p, J

    def p_matrix(a, b):
        return np.diag([float(G[a] @ G[b]) for G in Gs]) - H[a].T @ H[b]

    df = np.array([np.trace(p_matrix(i, i)) ** 2 / np.sum(p_matrix(i, i) ** 2) for i in range(p)])
    q = list(range(1, p))
    P = {(a, b): p_matrix(a, b) for a in q for b in q}
    omega = np.array([[np.trace(P[a, b]) for b in q] for a in q])
    vals, vecs = np.linalg.eigh(omega)
    root = vecs @ np.diag(vals**-0.5) @ vecs.T
    Bq = {(s, t): sum(root[s, a] * P[q[a], q[b]] * root[b, t] for a in range(len(q))
                      for b in range(len(q))) for s in range(len(q)) for t in range(len(q))}  # fmt: skip
    total = sum(np.sum(Bq[s, t] * Bq[t, s]) + np.sum(Bq[s, s] * Bq[t, t])
                for s in range(len(q)) for t in range(len(q)))  # fmt: skip
    nu = len(q) * (len(q) + 1) / total
    beta = np.asarray(fit.b)[q]
    wald = float(beta @ np.linalg.solve(vb[np.ix_(q, q)], beta))
    fstat = (nu - len(q) + 1) / nu * wald / len(q)
    return vb, df, (fstat, nu - len(q) + 1)


@pytest.mark.parametrize("kind", ["CR1", "CR2"])
@pytest.mark.parametrize("rho", [None, 0.6])
def test_robust_estimators_equal_the_dense_computation(kind, rho):
    y, v, X, codes = make_data(5, n_clusters=9, max_size=6, p=3)
    fit = multilevel_fit(y, v, cluster=codes, mods=X[:, 1:], rho=rho, test="t")
    got = robust(fit, vcov_type=kind)
    vb, df, htz = dense_robust(y, X, v, codes, 0.0 if rho is None else rho, fit, kind)
    np.testing.assert_allclose(got.vb, vb, rtol=1e-9)
    np.testing.assert_allclose(got.df, df, rtol=1e-9)
    if htz is not None:
        assert np.isclose(got.qm, htz[0], rtol=1e-9)
        assert np.isclose(got.qm_df[1], htz[1], rtol=1e-9)
        assert np.isclose(got.qmp, stats.f.sf(htz[0], 2, htz[1]), rtol=1e-9)


def test_row_order_does_not_matter():
    y, v, X, codes = make_data(6, n_clusters=10)
    perm = np.random.default_rng(0).permutation(y.size)
    a = multilevel_fit(y, v, cluster=codes, mods=X[:, 1:], rho=0.5)
    b = multilevel_fit(y[perm], v[perm], cluster=codes[perm], mods=X[perm, 1:], rho=0.5)
    np.testing.assert_allclose(a.sigma2, b.sigma2, rtol=1e-9)
    np.testing.assert_allclose(a.b, b.b, rtol=1e-9)
    np.testing.assert_allclose(robust(a, vcov_type="CR2").se, robust(b, vcov_type="CR2").se,
                               rtol=1e-9)  # fmt: skip
