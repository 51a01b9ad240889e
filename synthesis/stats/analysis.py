"""One call for the analyses a review reports: the model and everything computed from it.

:func:`meta_analyse` fits the model and adds the heterogeneity CIs, the prediction interval,
Egger's and Begg's tests, trim-and-fill, leave-one-out (optional), meta-regression (when
moderators are given) and a subgroup analysis (when groups are given). Analyses that are
undefined for the data (e.g. Egger's test with k < 3) are skipped with a note in ``notes``
instead of failing the whole bundle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._inputs import ArrayLike
from .errors import StatsError
from .heterogeneity import HeterogeneityInterval, heterogeneity_confint
from .metareg import MetaRegFit, metareg_fit, moderator_design
from .models import MetaFit, meta_fit
from .plots import ForestPlotData, FunnelPlotData, forest_data, funnel_data
from .predict import Prediction, predict_pooled
from .pubbias import EggerTest, RankTest, TrimAndFill, egger_test, rank_test, trim_and_fill
from .sensitivity import SensitivityResult, cumulative, leave_one_out
from .subgroup import SubgroupAnalysis, subgroup_analyse

# metafor warns when max(v)/min(v) >= 1/evtol with evtol = 1e-7.
VARIANCE_RATIO_WARNING = 1e7


@dataclass(frozen=True, eq=False)
class MetaAnalysis:
    """The bundle returned by :func:`meta_analyse`; absent parts are ``None``."""

    fit: MetaFit
    labels: tuple[str, ...]
    heterogeneity: HeterogeneityInterval | None
    prediction: Prediction
    egger: EggerTest | None
    egger_lm: EggerTest | None
    rank: RankTest | None
    trimfill: TrimAndFill | None
    leave1out: SensitivityResult | None
    cumul: SensitivityResult | None
    metareg: MetaRegFit | None
    subgroups: SubgroupAnalysis | None
    forest: ForestPlotData
    funnel: FunnelPlotData
    notes: tuple[str, ...]


def meta_analyse(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    labels: Sequence[str] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    moderators: Mapping[str, Sequence[object]] | None = None,
    categorical: Iterable[str] = (),
    groups: Sequence[object] | None = None,
    with_leave1out: bool = True,
    with_cumulative: bool = False,
    with_publication_bias: bool = True,
) -> MetaAnalysis:
    """Fit the model and compute the standard set of follow-up analyses.

    Raises
    ------
    StatsInputError
        When the main model cannot be fitted (the follow-up analyses only add notes).
    """
    fit = meta_fit(yi, vi, sei=sei, method=method, test=test, level=level)
    notes: list[str] = []
    v = np.asarray(fit.vi)
    if v.max() / v.min() >= VARIANCE_RATIO_WARNING:
        notes.append(
            "The ratio of the largest to the smallest sampling variance is extremely large; "
            "results may be unstable (metafor warns too)."
        )
    if fit.method == "FE" and fit.test == "knha":
        notes.append("The Knapp-Hartung method is not meant for common-effect (FE) models.")
    heterogeneity = heterogeneity_confint(fit) if fit.is_random else None
    if heterogeneity is not None and heterogeneity.ub_sign == ">":
        notes.append(
            f"The upper bound of the tau^2 CI is capped at tau2_max = {heterogeneity.tau2_max:g}."
        )

    def attempt(name: str, func):
        try:
            return func()
        except StatsError as exc:
            notes.append(f"{name} not computed: {exc}")
            return None

    egger = egger_lm = rank = tf = None
    if with_publication_bias:
        if fit.k < 3:
            notes.append("Egger's test not computed: it needs at least 3 studies.")
        else:
            egger = attempt("Egger's test", lambda: egger_test(fit, model="rma"))
            egger_lm = attempt("Egger's test (lm)", lambda: egger_test(fit, model="lm"))
        rank = attempt("Begg's rank test", lambda: rank_test(fit))
        tf = attempt("Trim-and-fill", lambda: trim_and_fill(fit))
    l1o = leave_one_out(fit) if with_leave1out else None
    cum = cumulative(fit) if with_cumulative else None
    reg = None
    if moderators:
        design = moderator_design(moderators, categorical=categorical)
        reg = metareg_fit(fit.yi, fit.vi, design, method=fit.method, test=fit.test, level=level)
    sub = None
    if groups is not None:
        sub = subgroup_analyse(
            fit.yi, fit.vi, groups, method=fit.method, test=fit.test, level=level
        )
    forest = forest_data(fit, labels=labels)
    return MetaAnalysis(
        fit=fit,
        labels=forest.labels,
        heterogeneity=heterogeneity,
        prediction=predict_pooled(fit),
        egger=egger,
        egger_lm=egger_lm,
        rank=rank,
        trimfill=tf,
        leave1out=l1o,
        cumul=cum,
        metareg=reg,
        subgroups=sub,
        forest=forest,
        funnel=funnel_data(fit, trimfill=tf),
        notes=tuple(notes),
    )
