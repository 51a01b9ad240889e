"""Evident's meta-analysis engine: pure numpy/scipy functions that return typed records.

It reproduces R's metafor 3.8-1 (``rma.uni``, ``confint``, ``predict``, ``leave1out``,
``cumul``, ``regtest``, ``ranktest``, ``trimfill``, ``escalc``) to about 1e-9 relative, checked
against the reference cases in ``tests/fixtures/metafor``. Nothing here imports Django; the web
app reaches the engine through ``synthesis`` services and the ``meta`` management command.
"""

from ._inputs import METHODS, TESTS
from .analysis import MetaAnalysis, meta_analyse
from .errors import StatsConvergenceError, StatsError, StatsInputError
from .escalc import EffectSizes, escalc, hedges_correction, r_from_t, t_from_f, t_from_p
from .heterogeneity import HeterogeneityInterval, heterogeneity_confint
from .metareg import MetaRegFit, ModeratorDesign, metareg_fit, moderator_design
from .models import MetaFit, meta_fit
from .plots import ForestPlotData, FunnelPlotData, forest_data, funnel_data
from .predict import Prediction, predict_metareg, predict_pooled
from .pubbias import EggerTest, RankTest, TrimAndFill, egger_test, rank_test, trim_and_fill
from .report import summary_dict, summary_text
from .sensitivity import SensitivityResult, cumulative, leave_one_out
from .subgroup import SubgroupAnalysis, subgroup_analyse

__all__ = [
    "METHODS",
    "TESTS",
    "EffectSizes",
    "EggerTest",
    "ForestPlotData",
    "FunnelPlotData",
    "HeterogeneityInterval",
    "MetaAnalysis",
    "MetaFit",
    "MetaRegFit",
    "ModeratorDesign",
    "Prediction",
    "RankTest",
    "SensitivityResult",
    "StatsConvergenceError",
    "StatsError",
    "StatsInputError",
    "SubgroupAnalysis",
    "TrimAndFill",
    "cumulative",
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
    "predict_metareg",
    "predict_pooled",
    "r_from_t",
    "rank_test",
    "subgroup_analyse",
    "summary_dict",
    "summary_text",
    "t_from_f",
    "t_from_p",
    "trim_and_fill",
]
