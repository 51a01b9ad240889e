"""Studies and the reports they are known by (issue 16).

A study (a trial, a cohort) may be published several times: a protocol paper, the main results,
a secondary analysis. PRISMA 2020 counts the studies included and the reports of them apart.
The reports are the records included at full-text assessment; a person links each to its study
(``StudyReport``), helped by suggestions (``extraction.selectors.suggestions``). A report that
nobody linked yet still counts as one study of its own, so the counts never drop a report.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from identification.models import Record
from reviews.models import Review


class Study(models.Model):
    """One study of the review, known by one or more of its included reports."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="studies")
    label = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "pk"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.label


class StudyReport(models.Model):
    """A report (an included record) linked by a person to its study; one study per report."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="study_reports")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="links")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="study_link")
    #: How the link was proposed ("" when a person chose it unprompted; else the suggestion's
    #: reason: "registry NCT01234567", "first author and year", "similar title").
    basis = models.CharField(max_length=200, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "record__year", "record_id"]

    def __str__(self) -> str:
        return f"{self.study} ← record {self.record_id}"


class ExtractionForm(models.Model):
    """The review's data-extraction form: a draft a lead edits, published as numbered versions
    (``FormVersion``); extractions fill a version, never the draft."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="extraction_form")
    draft = models.JSONField(default=dict)  # see extraction.schema
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Extraction form of {self.review}"


class FormVersion(models.Model):
    """A published, unchangeable version of the form; publishing a changed draft makes the
    next number."""

    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="versions")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    schema = models.JSONField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by_name = models.CharField(max_length=150, blank=True)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["form", "number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="uniq_form_version_number")
        ]

    def __str__(self) -> str:
        return f"form version {self.number}"


class Extraction(models.Model):
    """One person's extraction of one study (``kind`` extractor), or the study's consensus.

    ``values`` holds the flat keys of ``extraction.schema``; ``form_version`` is the version
    the values were last saved with. Two extractors work blinded (``extraction.selectors.
    visible_extractions``) until both marked theirs done.
    """

    class Kind(models.TextChoices):
        EXTRACTOR = "extractor", "Extractor"
        CONSENSUS = "consensus", "Consensus"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="extractions")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="extractions")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.EXTRACTOR)
    extractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    extractor_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    form_version = models.ForeignKey(FormVersion, on_delete=models.RESTRICT, related_name="+")
    values = models.JSONField(default=dict)
    done = models.BooleanField(default=False)
    #: consensus only: the differing keys someone resolved (picked A, B or typed a value)
    resolved = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "extractor"],
                condition=models.Q(kind="extractor"),
                name="uniq_extraction_per_extractor",
            ),
            models.UniqueConstraint(
                fields=["study"], condition=models.Q(kind="consensus"), name="uniq_consensus"
            ),
        ]

    def __str__(self) -> str:
        who = "consensus" if self.kind == self.Kind.CONSENSUS else "extraction"
        return f"{who} of {self.study}"


class SnapshotFrozenError(ValidationError):
    """A finalised snapshot was about to change."""


class ExtractionSnapshot(models.Model):
    """The consensus extraction frozen by a lead (issue 16, part 6): analyses run on it.

    ``content`` holds every study with a finished consensus: its values, the form version they
    were saved with and the effect sizes computed from them; ``sha256`` is the SHA-256 of the
    content's canonical JSON (as the protocol's frozen versions). A snapshot never changes:
    :meth:`save` refuses once it is stored. It is stale when a newer snapshot exists or the
    consensus changed since (``extraction.selectors.snapshot_is_stale``).
    """

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="extraction_snapshots"
    )
    number = models.PositiveIntegerField()
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    studies = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "number"], name="uniq_extraction_snapshot_number"
            )
        ]

    def __str__(self) -> str:
        return f"extraction snapshot {self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None and type(self)._base_manager.filter(pk=self.pk).exists():
            raise SnapshotFrozenError(
                f"Snapshot {self.number} is final; finalise again to make a new one."
            )
        super().save(*args, **kwargs)

    @property
    def stale(self) -> bool:
        """A newer snapshot exists, or the consensus changed since this one was made."""
        from extraction.selectors import snapshot_is_stale

        return snapshot_is_stale(self)


# Django finds an app's models through this module, so the risk-of-bias models are imported
# here, last; they live with the rest of risk of bias in ``extraction/rob/``.
from extraction.rob.models import RobAssessment, RobSettings  # noqa: E402, F401
