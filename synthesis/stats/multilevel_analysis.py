"""One call for a three-level analysis: the pooled model, its variance-component CIs, the
moderator model when moderators are given, and cluster-robust inference for both on request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ._inputs import ArrayLike
from .metareg import moderator_design
from .multilevel import MultilevelFit, ProfileInterval, multilevel_confint, multilevel_fit
from .robust import RobustResult, robust
from .vcalc import WorkingCovariance, vcalc


@dataclass(frozen=True, eq=False)
class MultilevelAnalysis:
    """The bundle returned by :func:`multilevel_analyse`; absent parts are ``None``."""

    fit: MultilevelFit
    profile: tuple[ProfileInterval, ProfileInterval] | None
    robust: RobustResult | None
    metareg: MultilevelFit | None
    metareg_robust: RobustResult | None
    cluster_name: str
    es_id_name: str | None
    notes: tuple[str, ...]


def multilevel_analyse(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    cluster: Sequence[object],
    es_id: Sequence[object] | None = None,
    sei: ArrayLike | None = None,
    rho: float | None = None,
    moderators: Mapping[str, Sequence[object]] | None = None,
    categorical: Iterable[str] = (),
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    robust_type: str | None = None,
    profile: bool = True,
    cluster_name: str = "cluster",
    es_id_name: str | None = None,
) -> MultilevelAnalysis:
    """Fit the three-level model (and the moderator model) and run the analyses asked for.

    ``robust_type`` is ``None``, ``"CR1"`` or ``"CR2"`` (see :func:`~synthesis.stats.robust`);
    ``profile`` adds profile-likelihood CIs of σ²₁ and σ²₂. Raises what the fits raise.
    """
    common = dict(
        cluster=cluster, es_id=es_id, sei=sei, rho=rho, method=method, test=test, level=level
    )
    fit = multilevel_fit(yi, vi, **common)
    notes: list[str] = []
    if rho is not None:
        v = fit.vi
        working: WorkingCovariance = vcalc(v, fit.cluster, rho)
        bad = working.not_positive_definite()
        if bad:
            notes.append(
                f"With rho = {rho:g} the working covariance matrix is not positive definite in "
                f"{len(bad)} cluster(s) ({', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''})"
                + ("; there is no Q test." if fit.qe is None else ".")
            )
    for name, value in zip(("outer", "inner"), fit.sigma2, strict=True):
        if value == 0:
            notes.append(f"The {name} variance component is estimated at 0 (the boundary).")
    rob = robust(fit, vcov_type=robust_type) if robust_type else None
    reg = reg_rob = None
    if moderators:
        design = moderator_design(moderators, categorical=categorical)
        reg = multilevel_fit(yi, vi, mods=design, **common)
        reg_rob = robust(reg, vcov_type=robust_type) if robust_type else None
    return MultilevelAnalysis(
        fit=fit,
        profile=multilevel_confint(fit) if profile else None,
        robust=rob,
        metareg=reg,
        metareg_robust=reg_rob,
        cluster_name=cluster_name,
        es_id_name=es_id_name,
        notes=tuple(notes),
    )
