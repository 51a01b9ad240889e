"""Analyses on a finalised extraction snapshot and their stored results (issue 18).

An ``Analysis`` is a definition a statistician (or a lead) writes: the outcome and comparison,
the model, which studies, subgroups, moderators, sensitivity analyses and publication bias. Each
run stores an ``AnalysisResult``: the snapshot number it read, the engine version, the exact
inputs (spec and rows) and the results dict of ``synthesis.bundle.run``, so it is reproducible.
A result is never changed; a newer snapshot makes it stale. ``AnalysisFigure`` keeps each
figure drawn from a result (rendered once, then served as stored).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviews.models import Review
from synthesis.constants import MAX_NAME, METHOD_CHOICES, TEST_CHOICES


class Analysis(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="analyses")
    name = models.CharField(max_length=MAX_NAME)
    # None: the latest snapshot at the time of each run.
    snapshot = models.ForeignKey(
        "extraction.ExtractionSnapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(max_length=500)
    timepoint = models.CharField(max_length=500, blank=True)
    arm1 = models.CharField(max_length=500, blank=True)
    arm2 = models.CharField(max_length=500, blank=True)
    measure = models.CharField(max_length=10, blank=True)  # blank: the rows' own measure
    method = models.CharField(max_length=10, choices=METHOD_CHOICES, default="REML")
    test = models.CharField(max_length=10, choices=TEST_CHOICES, default="z")
    level = models.FloatField(default=95.0)
    #: Which studies: [{"field", "op", "value"}], all must hold; [] = all studies.
    study_filters = models.JSONField(default=list, blank=True)
    subgroup = models.CharField(max_length=100, blank=True)
    moderators = models.JSONField(default=list, blank=True)
    leave_one_out = models.BooleanField(default=False)
    without_high_rob = models.BooleanField(default=False)
    #: Sensitivity analyses without the studies matching a filter: [{"name","field","op","value"}].
    sensitivity_filters = models.JSONField(default=list, blank=True)
    publication_bias = models.BooleanField(default=False)
    #: Several effect sizes per study (issue 20): None, or {"model": "three-level", "rho": None
    #: or the CHE working correlation, "robust": None, "cr1" or "cr2"}.
    dependent = models.JSONField(null=True, blank=True, default=None)
    #: The protocol version whose plan pre-filled this analysis (None: not from the plan).
    plan_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="uniq_analysis_name")
        ]

    def __str__(self) -> str:
        return self.name


class AnalysisResult(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="analysis_results")
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="results")
    job = models.ForeignKey(
        "reviews.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snapshot_number = models.PositiveIntegerField()
    snapshot_sha256 = models.CharField(max_length=64)
    engine = models.CharField(max_length=200)
    #: The exact inputs: {"spec": ..., "rows": [...]}, as given to synthesis.bundle.run.
    inputs = models.JSONField()
    results = models.JSONField()
    #: SHA-256 of the results' canonical JSON (names the figures drawn from it).
    sha256 = models.CharField(max_length=64)
    seconds = models.FloatField(default=0.0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["analysis", "-pk"]

    def __str__(self) -> str:
        return f"result of {self.analysis} on snapshot {self.snapshot_number}"


class AnalysisFigure(models.Model):
    """A figure drawn from a result, stored so that it is never redrawn per request."""

    result = models.ForeignKey(AnalysisResult, on_delete=models.CASCADE, related_name="figures")
    kind = models.CharField(max_length=20)
    fmt = models.CharField(max_length=4)
    rob = models.BooleanField(default=False)
    body = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["result", "kind", "fmt", "rob"], name="uniq_analysis_figure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}.{self.fmt} of result {self.result_id}"


from synthesis.narrative.models import NarrativeDirection, NarrativeSynthesis  # noqa: E402, F401
from synthesis.sof.models import SofJudgement, SofRow, SofTable  # noqa: E402, F401  (issue 19)
