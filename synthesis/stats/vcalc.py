"""A working variance-covariance matrix for effect sizes that share a sample (the CHE model).

Effect sizes computed on the same sample have correlated sampling errors, whose correlations
are rarely reported. The correlated-and-hierarchical-effects (CHE) working model assumes one
correlation ρ for every pair of effect sizes in a cluster:

    Vᵢᵢ = vᵢ,   Vᵢⱼ = ρ·√(vᵢvⱼ) for i ≠ j in the same cluster,   0 across clusters,

which is metafor's ``vcalc(vi, cluster, obs = es_id, rho = ρ)`` and clubSandwich's
``impute_covariance_matrix(vi, cluster, r = ρ)``. The matrix is block-diagonal; the fitting
code never builds it (see :mod:`synthesis.stats._blocks`), :class:`WorkingCovariance` does only
for display and checks on small data.

ρ may be any value in [-1, 1], as vcalc allows; a cluster's block is positive definite only for
-1/(n − 1) < ρ < 1 (n effect sizes; ρ = 1 makes it singular, as metafor warns). The three-level
model can still be fitted when V is singular, as long as the model's covariance V + σ²₁·11' +
σ²₂·I is positive definite at the estimates (metafor then has no Q test, nor has this engine).

Reference: Pustejovsky JE, Tipton E (2022). Meta-analysis with robust variance estimation:
expanding the range of working models. Prev Sci 23:425-438.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._inputs import ArrayLike, as_vector, frozen
from .errors import StatsInputError


def check_rho(rho: object) -> float:
    """Return ρ as a float, or raise :class:`StatsInputError` unless it is a number in [-1, 1]."""
    try:
        value = float(rho)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StatsInputError(f"rho must be a number between -1 and 1, not {rho!r}.") from None
    if not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise StatsInputError(f"rho must be a correlation between -1 and 1, not {rho!r}.")
    return value


def _labels(values: Sequence[object], k: int, what: str) -> list[str]:
    values = list(values)
    if len(values) != k:
        raise StatsInputError(f"{what} has {len(values)} values but there are {k} effect sizes.")
    out = []
    blank = []
    for i, x in enumerate(values):
        text = "" if x is None else str(x).strip()
        if text == "" or text.lower() == "nan":
            blank.append(i + 1)
        out.append(text)
    if blank:
        rows = ", ".join(str(i) for i in blank[:10])
        raise StatsInputError(f"{what} is missing for effect size (1-based) {rows}.")
    return out


def cluster_codes(
    cluster: Sequence[object], k: int, es_id: Sequence[object] | None = None
) -> tuple[tuple[str, ...], np.ndarray, int]:
    """Cluster labels as text, their 0-based codes (in sorted label order) and their number.

    Raises :class:`StatsInputError` for a missing label, a length mismatch, or an ``es_id``
    repeated within a cluster.
    """
    arr = np.asarray(cluster)
    if arr.ndim == 1 and arr.dtype.kind in "iu":
        # Integer codes (a fast path for large data): nothing can be blank.
        if arr.size != k:
            raise StatsInputError(
                f"The cluster has {arr.size} values but there are {k} effect sizes."
            )
        uniq, codes = np.unique(arr, return_inverse=True)
        labels = arr.astype(str).tolist()
    else:
        labels = _labels(cluster, k, "The cluster")
        uniq, codes = np.unique(np.array(labels, dtype=str), return_inverse=True)
    if es_id is not None:
        ids = _labels(es_id, k, "The effect-size id")
        seen: dict[tuple[str, str], int] = {}
        for i, key in enumerate(zip(labels, ids, strict=True)):
            if key in seen:
                raise StatsInputError(
                    f"Effect sizes {seen[key] + 1} and {i + 1} (1-based) have the same id "
                    f"{key[1]!r} in cluster {key[0]!r}; ids must be unique within a cluster."
                )
            seen[key] = i
    return tuple(labels), codes.astype(np.intp), int(uniq.size)


@dataclass(frozen=True, eq=False)
class WorkingCovariance:
    """The CHE working matrix V for ``vi`` grouped by ``cluster`` with correlation ``rho``."""

    vi: np.ndarray
    cluster: tuple[str, ...]
    rho: float
    n_clusters: int

    def block(self, label: str) -> np.ndarray:
        """The n-by-n block of one cluster, its rows in data order."""
        rows = [i for i, c in enumerate(self.cluster) if c == str(label)]
        if not rows:
            raise StatsInputError(f"No cluster {label!r}.")
        s = np.sqrt(self.vi[rows])
        out = self.rho * np.outer(s, s)
        np.fill_diagonal(out, self.vi[rows])
        return out

    def dense(self) -> np.ndarray:
        """The k-by-k matrix (for small data: the fits never need it)."""
        same = np.equal.outer(np.array(self.cluster, dtype=object), np.array(self.cluster))
        s = np.sqrt(self.vi)
        out = np.where(same, self.rho * np.outer(s, s), 0.0)
        np.fill_diagonal(out, self.vi)
        return out

    def not_positive_definite(self) -> tuple[str, ...]:
        """Labels of the clusters whose block is not positive definite (singular included).

        A block (1 − ρ)·diag(v) + ρ·ss' is positive definite iff ρ < 1 and 1 + (n − 1)ρ > 0
        (n rows; a single row always is), whatever the variances.
        """
        sizes: dict[str, int] = {}
        for label in self.cluster:
            sizes[label] = sizes.get(label, 0) + 1
        rho = self.rho
        return tuple(
            label
            for label in sorted(sizes)
            if sizes[label] > 1 and not (rho < 1 and 1 + (sizes[label] - 1) * rho > 0)
        )


def vcalc(
    vi: ArrayLike,
    cluster: Sequence[object],
    rho: float,
    *,
    obs: Sequence[object] | None = None,
) -> WorkingCovariance:
    """The CHE working covariance of ``vi`` (metafor ``vcalc(vi, cluster, obs=obs, rho=rho)``).

    ``obs`` (optional) identifies the effect sizes within a cluster; as in the three-level
    model, an id may not repeat within a cluster.
    """
    v = as_vector(vi, "vi")
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise StatsInputError("Sampling variances must be positive finite numbers.")
    labels, _, n = cluster_codes(cluster, v.size, obs)
    return WorkingCovariance(vi=frozen(v), cluster=labels, rho=check_rho(rho), n_clusters=n)
