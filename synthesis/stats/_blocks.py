"""The marginal covariance of the three-level model, one block per cluster, in O(k) per use.

Rows are sorted by cluster. Within cluster j (n_j rows) the marginal covariance is

    M_j = V_j + σ²₁·11' + σ²₂·I,   V_j = (1 − ρ)·diag(v) + ρ·ss'   (s = √v)

(ρ = 0 is the plain three-level model with independent sampling errors; ρ ≠ 0 the CHE working
model). That is a diagonal plus a rank-2 term, M_j = D_j + U_j C U_j' with D = (1 − ρ)v + σ²₂,
U_i = (s_i, 1) and C = diag(ρ, σ²₁). With S_j = U_j'D_j⁻¹U_j and K_j = I + S_j C (2-by-2),

* M_j⁻¹ = D⁻¹ − D⁻¹U_j T_j U_j'D⁻¹ with T_j = C K_j⁻¹ (symmetric; the push-through form of
  Woodbury's identity, valid when C is singular, as it is for ρ = 0 or σ²₁ = 0),
* log det M_j = Σ log D + log det K_j,
* M_j is positive definite iff D > 0 and both (real) eigenvalues of K_j are positive, i.e.
  det K_j > 0 and tr K_j > 0 (the eigenvalues of S C are those of S^½ C S^½).

Every product with M⁻¹ is then a per-row scaling and a per-cluster sum of 2-vectors, so no
k-by-k (nor n_j-by-n_j) matrix is formed. Dense per-cluster blocks are built only where a
method needs them (clubSandwich's CR2 adjustment), grouped by cluster size and handled as
stacked arrays.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class NotPositiveDefinite(ArithmeticError):
    """The marginal covariance is singular or indefinite at these parameter values."""


class Blocks:
    """Cluster bookkeeping for rows sorted by cluster: ``codes`` are 0..J-1, non-decreasing."""

    def __init__(self, codes: np.ndarray) -> None:
        self.codes = np.asarray(codes, dtype=np.intp)
        self.sizes = np.bincount(self.codes)
        self.n = int(self.sizes.size)
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.intp)

    def sums(self, a: np.ndarray) -> np.ndarray:
        """Per-cluster sums over the first axis: (k, ...) -> (J, ...)."""
        return np.add.reduceat(a, self.starts, axis=0)

    def spread(self, a: np.ndarray) -> np.ndarray:
        """Per-cluster values repeated on each of the cluster's rows: (J, ...) -> (k, ...)."""
        return np.repeat(a, self.sizes, axis=0)

    def by_size(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(m, cluster ids of size m, their row indices as an (n_m, m) array) per size m."""
        for m in np.unique(self.sizes):
            ids = np.flatnonzero(self.sizes == m)
            yield int(m), ids, self.starts[ids][:, None] + np.arange(m)


class Marginal:
    """M = blockdiag(D_j + U_j C U_j') for given σ²₁ (outer), σ²₂ (inner) and ρ.

    The 2-by-2 per-cluster matrices (S_j, T_j and the like) are kept as their three distinct
    entries, arrays of length J, so every operation is a vectorised numpy expression.

    Raises :class:`NotPositiveDefinite` when M is not positive definite.
    """

    def __init__(
        self,
        blocks: Blocks,
        v: np.ndarray,
        s: np.ndarray,
        rho: float,
        sigma2_outer: float,
        sigma2_inner: float,
    ) -> None:
        self.blocks = blocks
        self.rho = rho
        self.sigma2 = (sigma2_outer, sigma2_inner)
        d = (1.0 - rho) * v + sigma2_inner
        if not np.all(d > 0):
            raise NotPositiveDefinite
        e = 1.0 / d
        self.d, self.e, self.v, self.s = d, e, v, s
        # S_j = U_j'D⁻¹U_j = [[Σv/d, Σs/d], [Σs/d, Σ1/d]].
        s00, s01, s11 = self._moments(e)
        self.S = (s00, s01, s11)
        # K = I + S C with C = diag(ρ, σ²₁).
        c0, c1 = rho, sigma2_outer
        k00, k01, k10, k11 = 1 + s00 * c0, s01 * c1, s01 * c0, 1 + s11 * c1
        det = k00 * k11 - k01 * k10
        if not (np.all(det > 0) and np.all(k00 + k11 > 0)):
            raise NotPositiveDefinite
        # T = C K⁻¹ (symmetric).
        self.T = (c0 * k11 / det, -c0 * k01 / det, c1 * k00 / det)
        self.logdet = float(np.log(d).sum() + np.log(det).sum())
        self.plain = rho == 0.0

    def _moments(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-cluster Σv·w, Σs·w, Σw (the entries of U'diag(w)U)."""
        m = self.blocks.sums(np.column_stack([self.v * w, self.s * w, w]))
        return m[:, 0], m[:, 1], m[:, 2]

    @staticmethod
    def _tr_prod(a, b) -> np.ndarray:
        """tr(AB) per cluster for symmetric 2-by-2 A, B given as (a00, a01, a11)."""
        return a[0] * b[0] + 2 * a[1] * b[1] + a[2] * b[2]

    def _apply_t(self, b0: np.ndarray, b1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t00, t01, t11 = self.T
        if b0.ndim == 2:
            t00, t01, t11 = t00[:, None], t01[:, None], t11[:, None]
        return t00 * b0 + t01 * b1, t01 * b0 + t11 * b1

    # ---------------------------------------------------------------- products with M⁻¹

    def solve(self, z: np.ndarray) -> np.ndarray:
        """M⁻¹z for z of shape (k,) or (k, q)."""
        b = self.blocks
        if z.ndim == 1:
            y = z * self.e
            if self.plain:
                r1 = self.T[2] * b.sums(y)
                return y - self.e * b.spread(r1)
            b0, b1 = b.sums(self.s * y), b.sums(y)
            r0, r1 = self._apply_t(b0, b1)
            return y - self.e * (self.s * b.spread(r0) + b.spread(r1))
        y = z * self.e[:, None]
        if self.plain:
            r1 = self.T[2][:, None] * b.sums(y)
            return y - self.e[:, None] * b.spread(r1)
        b0, b1 = b.sums(self.s[:, None] * y), b.sums(y)
        r0, r1 = self._apply_t(b0, b1)
        return y - self.e[:, None] * (self.s[:, None] * b.spread(r0) + b.spread(r1))

    def ones_w_ones(self) -> np.ndarray:
        """1'M_j⁻¹1 per cluster."""
        _, s01, s11 = self.S
        t00, t01, t11 = self.T
        return s11 - (t00 * s01 * s01 + 2 * t01 * s01 * s11 + t11 * s11 * s11)

    def w_ones(self) -> np.ndarray:
        """M_j⁻¹1 on each row (the k-vector M⁻¹A with A the cluster indicators, collapsed)."""
        _, s01, s11 = self.S
        r0, r1 = self._apply_t(s01, s11)
        b = self.blocks
        return self.e - self.e * (self.s * b.spread(r0) + b.spread(r1))

    def trace(self) -> float:
        """tr M⁻¹."""
        s2 = self._moments(self.e * self.e)
        return float(self.e.sum() - self._tr_prod(self.T, s2).sum())

    def frobenius2(self) -> float:
        """Σ_j ‖M_j⁻¹‖²_F = tr(M⁻¹M⁻¹)."""
        e2 = self.e * self.e
        s2 = self._moments(e2)
        s3 = self._moments(e2 * self.e)
        t00, t01, t11 = self.T
        # P = T·S2 (not symmetric); tr(PP) = p00² + 2·p01·p10 + p11².
        p00 = t00 * s2[0] + t01 * s2[1]
        p01 = t00 * s2[1] + t01 * s2[2]
        p10 = t01 * s2[0] + t11 * s2[1]
        p11 = t01 * s2[1] + t11 * s2[2]
        trpp = p00 * p00 + 2 * p01 * p10 + p11 * p11
        return float(e2.sum() - 2 * self._tr_prod(self.T, s3).sum() + trpp.sum())

    # ---------------------------------------------------------------- dense blocks

    def dense(self, rows: np.ndarray) -> np.ndarray:
        """The blocks M_j for clusters whose rows are ``rows`` (n_m, m): shape (n_m, m, m)."""
        rho, s1 = self.rho, self.sigma2[0]
        s = self.s[rows]
        out = rho * s[:, :, None] * s[:, None, :] + s1
        idx = np.arange(rows.shape[1])
        out[:, idx, idx] += self.d[rows]
        return out
