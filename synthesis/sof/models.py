"""Summary-of-findings tables: one per review, one row per outcome (an analysis), and the
lead's judgement of each GRADE domain for that row.

A row is drafted from one stored ``AnalysisResult`` (``result``): every number shown comes
from it and names it (analysis, result, snapshot). When the analysis has a newer result, or
the result itself is stale (a newer snapshot), the row is marked stale until a lead re-drafts
it from the latest result. A judgement keeps the suggestion and evidence it was made against,
the judgement, and the reason (required when it differs from the suggestion or there is no
suggestion); user references have a ``<field>_name`` companion (see screening.models.Vote).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviews.models import Review

DOMAINS = (
    ("risk_of_bias", "Risk of bias"),
    ("inconsistency", "Inconsistency"),
    ("indirectness", "Indirectness"),
    ("imprecision", "Imprecision"),
    ("publication_bias", "Publication bias"),
    ("large_effect", "Large effect"),
    ("dose_response", "Dose-response gradient"),
)
DOWNGRADE_DOMAINS = (
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
)
UPGRADE_DOMAINS = ("large_effect", "dose_response")
DOWN_CHOICES = (
    ("no concern", "no concern"),
    ("serious", "serious"),
    ("very serious", "very serious"),
)
UP_CHOICES = (
    ("no upgrade", "no upgrade"),
    ("upgrade one level", "upgrade one level"),
    ("upgrade two levels", "upgrade two levels"),
)
JUDGEMENT_LEVELS = {
    "no concern": 0,
    "serious": 1,
    "very serious": 2,
    "no upgrade": 0,
    "upgrade one level": 1,
    "upgrade two levels": 2,
}


def _user_fk():
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class SofTable(models.Model):
    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="sof_table")
    title = models.CharField(max_length=500, blank=True)
    #: Intervention and comparison as the plain-language statements name them.
    intervention = models.CharField(max_length=200)
    comparison = models.CharField(max_length=200, blank=True)
    population = models.CharField(max_length=500, blank=True)
    setting = models.CharField(max_length=500, blank=True)
    created_by = _user_fk()
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title or f"Summary of findings: {self.intervention}"


class SofRow(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="sof_rows")
    table = models.ForeignKey(SofTable, on_delete=models.CASCADE, related_name="rows")
    analysis = models.ForeignKey(
        "synthesis.Analysis", on_delete=models.CASCADE, related_name="sof_rows"
    )
    #: The result the row was drafted from (None only if it was deleted).
    result = models.ForeignKey(
        "synthesis.AnalysisResult", null=True, on_delete=models.SET_NULL, related_name="sof_rows"
    )
    snapshot_number = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    outcome_label = models.CharField(max_length=500)
    randomised = models.BooleanField(default=True)
    #: The team's minimal important difference in the measure's units (ratio for OR/RR).
    mid = models.FloatField(null=True, blank=True)
    #: The optimal information size (participants), or blank.
    ois = models.PositiveIntegerField(null=True, blank=True)
    #: Entered when the snapshot's rows have no arm sizes.
    participants_entered = models.PositiveIntegerField(null=True, blank=True)
    #: Entered assumed control risk (a proportion); blank: the median of the control arms.
    acr_entered = models.FloatField(null=True, blank=True)
    dose_response = models.BooleanField(default=False)
    statement = models.TextField(blank=True)
    statement_edited = models.BooleanField(default=False)
    statement_by = _user_fk()
    statement_by_name = models.CharField(max_length=150, blank=True)
    created_by = _user_fk()
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["table", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["table", "analysis"], name="uniq_sof_row_analysis")
        ]

    def __str__(self) -> str:
        return self.outcome_label


class SofJudgement(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="sof_judgements")
    row = models.ForeignKey(SofRow, on_delete=models.CASCADE, related_name="judgements")
    domain = models.CharField(max_length=30, choices=DOMAINS)
    #: The suggestion and evidence the judgement was made against (blank suggestion: none).
    suggested = models.CharField(max_length=30, blank=True)
    evidence = models.TextField(blank=True)
    result = models.ForeignKey(
        "synthesis.AnalysisResult", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    judgement = models.CharField(max_length=30)
    levels = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True)
    decided_by = _user_fk()
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["row", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["row", "domain"], name="uniq_sof_judgement_domain")
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.judgement}"

    @property
    def changed(self) -> bool:
        return self.judgement != self.suggested
