"""Subgroup analysis with separate or common τ² and the test for subgroup differences.

Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009). Introduction to Meta-Analysis,
chapter 19 (separate versus pooled τ²); Deeks JJ, Higgins JPT, Altman DG (2022). Analysing data
and undertaking meta-analyses, Cochrane Handbook section 10.11.3 (test for subgroup differences).

metafor has no subgroup function; the usual recipe is followed:

* separate τ²: one model per subgroup (same method and test), then Q-between is the
  heterogeneity Q of an FE model of the subgroup estimates with their standard errors, on G - 1
  df;
* common τ²: one meta-regression on the treatment-coded subgroup factor, whose omnibus QM (χ² or,
  under ``knha``, F) is the between-group test; the group means come from the cell-means
  parametrisation (no intercept) of the same model;
* for FE models, also the partition Q_total = Σ Q_within + Q_between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _batch, _dist
from ._inputs import ArrayLike, check_level, check_method, check_test, effects_and_variances
from .errors import StatsConvergenceError, StatsInputError
from .metareg import MetaRegFit, metareg_fit
from .models import meta_fit


@dataclass(frozen=True)
class SubgroupFit:
    """A model fitted within one subgroup (a group of one study gets metafor's k = 1 fit)."""

    group: str
    k: int
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    i2: float
    h2: float
    qe: float
    qep: float


@dataclass(frozen=True)
class BetweenTest:
    """A test of subgroup differences: statistic, its distribution and df, p-value."""

    statistic: float
    dist: str
    df: tuple[int, ...]
    pval: float


@dataclass(frozen=True, eq=False)
class SubgroupAnalysis:
    """Subgroup analysis result; ``groups`` are sorted as R's ``factor()`` sorts levels."""

    method: str
    test: str
    groups: tuple[str, ...]
    separate: tuple[SubgroupFit, ...]
    between_separate: BetweenTest
    pooled_of_subgroups: float
    common: MetaRegFit
    common_between: BetweenTest
    group_means: MetaRegFit
    fe_q_total: float | None = None
    fe_q_within: tuple[float, ...] | None = None
    fe_between: BetweenTest | None = None


def subgroup_analyse(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    groups: Sequence[object] | None = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
) -> SubgroupAnalysis:
    """Compare subgroups with separate τ² per subgroup and with one common τ².

    Raises
    ------
    StatsInputError
        Fewer than two subgroups, missing labels, or a common-τ² model that cannot be fitted
        (too few studies for the number of subgroups).
    """
    method = check_method(method)
    test = check_test(test)
    alpha = check_level(level)
    y, v = effects_and_variances(yi, vi, sei=sei, min_k=2)
    if groups is None or len(groups) != y.size:
        raise StatsInputError("Give one subgroup label per study.")
    labels = [str(g).strip() if g is not None else "" for g in groups]
    if any(lab == "" for lab in labels):
        raise StatsInputError("Every study needs a subgroup label.")
    levels = tuple(sorted(set(labels)))
    if len(levels) < 2:
        raise StatsInputError("A subgroup analysis needs at least two subgroups.")
    lab = np.array(labels)
    separate = []
    for g in levels:
        sel = lab == g
        b = _batch.Batch(y[sel][None, :], v[sel][None, :], np.ones((1, int(sel.sum()))))
        bf = _batch.fit_batch(b, method, test, alpha)
        if not bf.converged[0]:
            raise StatsConvergenceError(f"The {method} fit in subgroup {g!r} did not converge.")
        separate.append(
            SubgroupFit(
                group=g,
                k=int(bf.k[0]),
                estimate=float(bf.estimate[0]),
                se=float(bf.se[0]),
                zval=float(bf.zval[0]),
                pval=float(bf.pval[0]),
                ci_lb=float(bf.ci_lb[0]),
                ci_ub=float(bf.ci_ub[0]),
                tau2=float(bf.tau2[0]),
                i2=float(bf.i2[0]),
                h2=float(bf.h2[0]),
                qe=float(bf.qe[0]),
                qep=float(bf.qep[0]),
            )
        )
    est = np.array([s.estimate for s in separate])
    se = np.array([s.se for s in separate])
    if np.any(~np.isfinite(se) | (se <= 0)):
        raise StatsInputError(
            "A subgroup estimate has a zero or undefined standard error; the test of subgroup "
            "differences with separate tau^2 is undefined."
        )
    between = meta_fit(est, se * se, method="FE")
    dfb = len(levels) - 1
    between_separate = BetweenTest(between.qe, "chisq", (dfb,), between.qep)
    dummies = np.array([[lab_i == g for g in levels[1:]] for lab_i in labels], dtype=float)
    names = tuple(f"group[{g}]" for g in levels[1:])
    common = metareg_fit(y, v, dummies, names=names, method=method, test=test, level=level)
    cells = np.array([[lab_i == g for g in levels] for lab_i in labels], dtype=float)
    means = metareg_fit(
        y, v, cells, names=tuple(levels), intercept=False, method=method, test=test, level=level
    )
    common_between = BetweenTest(
        common.qm, common.qm_dist, tuple(d for d in common.qm_df if d is not None), common.qmp
    )
    fe_q_total = fe_q_within = fe_between = None
    if method == "FE":
        total = meta_fit(y, v, method="FE").qe
        within = tuple(s.qe for s in separate)
        qb = total - sum(within)
        fe_q_total, fe_q_within = total, within
        fe_between = BetweenTest(qb, "chisq", (dfb,), float(_dist.chi2_sf(qb, dfb)))
    return SubgroupAnalysis(
        method=method,
        test=test,
        groups=levels,
        separate=tuple(separate),
        between_separate=between_separate,
        pooled_of_subgroups=between.estimate,
        common=common,
        common_between=common_between,
        group_means=means,
        fe_q_total=fe_q_total,
        fe_q_within=fe_q_within,
        fe_between=fe_between,
    )
