"""Choices and limits of the synthesis step (analyses on a finalised extraction snapshot)."""

from __future__ import annotations

from reviews.constants import Role

#: Who defines, edits, deletes and runs analyses (a lead may do everything); every member reads.
#: The same list as reviews.access.PAGE_ROLES["synthesis_define"] (tests check it).
ANALYSIS_ROLES = (Role.STATISTICIAN,)
JOB_KIND = "synthesis.run"

METHOD_CHOICES = [
    ("REML", "REML (restricted maximum likelihood)"),
    ("DL", "DerSimonian-Laird"),
    ("PM", "Paule-Mandel"),
    ("ML", "Maximum likelihood"),
    ("HE", "Hedges"),
    ("SJ", "Sidik-Jonkman"),
    ("EB", "Empirical Bayes"),
    ("FE", "Common effect (fixed)"),
]
TEST_CHOICES = [("z", "z (normal)"), ("knha", "Knapp-Hartung (t)")]
#: Measures on a log scale: the pooled effect is shown back-transformed too.
LOG_MEASURES = {"OR", "RR"}
FILTER_OPS = [
    ("eq", "equals"),
    ("ne", "does not equal"),
    ("in", "is one of (comma-separated)"),
    ("lt", "is less than"),
    ("gt", "is greater than"),
]
OP_CODES = {op for op, _ in FILTER_OPS}
#: The subgroup variable that means the RoB overall judgement.
ROB_VARIABLE = "rob"
MAX_NAME = 200
MAX_FILTERS = 20
MAX_MODERATORS = 10
#: Figures the results page draws and their file formats.
FIGURE_KINDS = ("forest", "funnel", "leave_one_out")
FIGURE_FORMATS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}
EXPORT_FORMATS = ("csv", "xlsx", "json", "data", "r")
PUBLICATION_BIAS_METHODS = ["funnel", "egger", "rank", "trimfill"]
