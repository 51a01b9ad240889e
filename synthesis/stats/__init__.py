"""Evident's meta-analysis engine: pure numpy/scipy functions that return typed records.

It reproduces R's metafor 3.8-1 (``rma.uni``, ``confint``, ``predict``, ``leave1out``,
``cumul``, ``regtest``, ``ranktest``, ``trimfill``, ``escalc``) to about 1e-9 relative, and the
three-level ``rma.mv`` (with ``vcalc``'s CHE working matrix, ``confint`` and ``robust``, and
clubSandwich's CR2) to 1e-6, checked against the reference cases in ``tests/fixtures/metafor``.
The numbers of a synthesis without meta-analysis (effect direction, the sign test, combined
p-values, summaries of effect estimates) are in ``narrative``, checked against base R.
Nothing here imports Django; the web app reaches the engine through ``synthesis`` services and
the ``meta`` management command.
"""

from ._inputs import METHODS, TESTS
from .analysis import MetaAnalysis, meta_analyse
from .errors import StatsConvergenceError, StatsError, StatsInputError
from .escalc import EffectSizes, escalc, hedges_correction, r_from_t, t_from_f, t_from_p
from .heterogeneity import HeterogeneityInterval, heterogeneity_confint
from .metareg import MetaRegFit, ModeratorDesign, metareg_fit, moderator_design
from .models import MetaFit, meta_fit
from .multilevel import MultilevelFit, ProfileInterval, multilevel_confint, multilevel_fit
from .multilevel_analysis import MultilevelAnalysis, multilevel_analyse
from .multilevel_report import multilevel_summary_dict, multilevel_summary_text
from .narrative import (
    CombinedP,
    EffectSummary,
    SignTest,
    combine_p,
    effect_direction,
    sign_test,
    summarise_effects,
)
from .plots import ForestPlotData, FunnelPlotData, forest_data, funnel_data
from .predict import Prediction, predict_metareg, predict_pooled
from .pubbias import EggerTest, RankTest, TrimAndFill, egger_test, rank_test, trim_and_fill
from .report import summary_dict, summary_text
from .robust import RobustResult, robust
from .sensitivity import SensitivityResult, cumulative, leave_one_out
from .subgroup import SubgroupAnalysis, subgroup_analyse
from .vcalc import WorkingCovariance, vcalc

__all__ = [
    "METHODS",
    "TESTS",
    "CombinedP",
    "EffectSizes",
    "EffectSummary",
    "EggerTest",
    "ForestPlotData",
    "FunnelPlotData",
    "HeterogeneityInterval",
    "MetaAnalysis",
    "MetaFit",
    "MetaRegFit",
    "ModeratorDesign",
    "MultilevelAnalysis",
    "MultilevelFit",
    "Prediction",
    "ProfileInterval",
    "RankTest",
    "RobustResult",
    "SensitivityResult",
    "SignTest",
    "StatsConvergenceError",
    "StatsError",
    "StatsInputError",
    "SubgroupAnalysis",
    "TrimAndFill",
    "WorkingCovariance",
    "combine_p",
    "cumulative",
    "effect_direction",
    "egger_test",
    "escalc",
    "forest_data",
    "funnel_data",
    "hedges_correction",
    "heterogeneity_confint",
    "leave_one_out",
    "meta_analyse",
    "meta_fit",
    "metareg_fit",
    "moderator_design",
    "multilevel_analyse",
    "multilevel_confint",
    "multilevel_fit",
    "multilevel_summary_dict",
    "multilevel_summary_text",
    "predict_metareg",
    "predict_pooled",
    "r_from_t",
    "rank_test",
    "robust",
    "sign_test",
    "subgroup_analyse",
    "summarise_effects",
    "summary_dict",
    "summary_text",
    "t_from_f",
    "t_from_p",
    "trim_and_fill",
    "vcalc",
]
