"""One analysis of a review, computed and exported: the synthesis app's pure core.

* :func:`run` -- ``run(spec, rows)``: the results dict of one analysis (main model with its
  heterogeneity CIs and prediction interval, subgroups and the test of subgroup differences,
  sensitivity analyses, leave-one-out, meta-regression, publication bias), every number from
  :mod:`synthesis.stats`; :class:`synthesis.stats.StatsInputError` for unusable input.
* :func:`data_csv`, :func:`r_script`, :func:`results_json` -- the export files ``data.csv``,
  ``analysis.R`` (metafor, reproducing every number) and ``results.json``.

No Django here: the app (models, jobs, pages) calls these functions.
"""

from .compute import ENGINE, LOG_MEASURES, WITHOUT_HIGH_ROB, run
from .export import data_csv, results_json
from .rscript import r_script

__all__ = [
    "ENGINE",
    "LOG_MEASURES",
    "WITHOUT_HIGH_ROB",
    "data_csv",
    "r_script",
    "results_json",
    "run",
]
