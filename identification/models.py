"""Identification: searches, the files they returned and their records.

Models hold invariants; workflows live in ``identification/services.py`` (searches and uploads)
and ``identification/import_job.py`` (reading a file into records).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.fields import TextJSONField
from core.models import Job
from identification.constants import BatchStatus, SourceKind
from identification.managers import RecordQuerySet
from reviews.models import Review


class Round(models.Model):
    """An update round of a review: its searches rerun on a later date (issue 21).

    The review's first searches are round 1 and have no row (``Search.round`` is null); a lead
    opens round 2, 3, ... with a date and a reason. Records of a later round are deduplicated
    against every earlier record, and a copy of an earlier record stays a duplicate of it.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    date = models.DateField()
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Like Search, the table lives under the app label "reviews".
        app_label = "reviews"
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="round_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Round {self.number} ({self.date:%Y-%m-%d})"


class Search(models.Model):
    """One search of one database (or register) on one day, as the PRISMA-S item asks."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="searches")
    database = models.CharField(max_length=200)
    # PRISMA 2020 counts databases and registers in separate lines of its first box.
    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.DATABASE)
    platform = models.CharField(max_length=200, blank=True)
    date_searched = models.DateField(null=True, blank=True)
    query = models.TextField(blank=True)
    reported_hits = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # The update round the search belongs to; null: the review's first searches (round 1).
    # No service deletes a round; the review's deletion takes both.
    round = models.ForeignKey(
        Round, null=True, blank=True, on_delete=models.CASCADE, related_name="searches"
    )
    # The search of an earlier round this one reruns (set when a round copies its searches).
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The model's app label stays "reviews" (its table and migrations live there); moving
        # it to a new app would cost migrations that buy nothing.
        app_label = "reviews"
        ordering = ["review", "created_at", "pk"]
        verbose_name_plural = "searches"

    def __str__(self) -> str:
        when = f" {self.date_searched:%Y-%m-%d}" if self.date_searched else ""
        via = f" via {self.platform}" if self.platform else ""
        return f"{self.database}{via}{when}"

    @property
    def round_number(self) -> int:
        return self.round.number if self.round_id else 1


def _upload_path(instance: ImportBatch, filename: str) -> str:
    # The stored name never uses the uploaded name (which may be hostile); that is kept apart.
    return f"imports/review-{instance.review_id}/{instance.sha256[:2]}/{instance.sha256}"


class ImportBatch(models.Model):
    """One uploaded file of a search and what importing it did."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="import_batches")
    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="batches")
    file = models.FileField(upload_to=_upload_path, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=20, choices=BatchStatus.choices)
    format = models.CharField(max_length=40, blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    encoding_fell_back = models.BooleanField(default=False)
    column_mapping = models.JSONField(default=dict, blank=True)
    parsed = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True)
    skipped_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The model's app label stays "reviews" (its table and migrations live there); moving
        # it to a new app would cost migrations that buy nothing.
        app_label = "reviews"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Record(models.Model):
    """One bibliographic record exactly as one search returned it, normalised.

    A record belongs to exactly one search, so per-database counts are always derivable;
    duplicates across searches are linked by clusters, never deleted.
    """

    # No index of its own: every index of the table starts with the review.
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="records", db_index=False
    )
    search = models.ForeignKey(Search, on_delete=models.CASCADE, related_name="records")
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="records")
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.TextField(blank=True)
    volume = models.CharField(max_length=100, blank=True)
    issue = models.CharField(max_length=100, blank=True)
    pages = models.CharField(max_length=100, blank=True)
    doi = models.CharField(max_length=300, blank=True)
    pmid = models.CharField(max_length=20, blank=True)
    issn = models.CharField(max_length=100, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=100, blank=True)
    publication_type = models.CharField(max_length=20, blank=True)
    url = models.TextField(blank=True)
    accession_number = models.CharField(max_length=200, blank=True)
    raw = TextJSONField(default=dict, blank=True)
    source_line = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Deduplication. A record merged into another keeps its row (PRISMA counts it as
    # identified, then as a duplicate removed); ``duplicate_of`` points at the cluster's
    # primary record, which is null for primaries and unique records.
    cluster = models.ForeignKey(
        "reviews.DuplicateCluster",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    dedup_checked = models.BooleanField(default=False)
    # Fields a primary took from another member: {field: {"from": id, "was": old value}}.
    filled = models.JSONField(default=dict, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        # The model's app label stays "reviews" (its table and migrations live there); moving
        # it to a new app would cost migrations that buy nothing.
        app_label = "reviews"
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["review", "duplicate_of"]),
            models.Index(fields=["review", "dedup_checked"]),
            models.Index(fields=["review", "doi"]),
            models.Index(fields=["review", "pmid"]),
            models.Index(fields=["review", "year"]),
        ]

    def __str__(self) -> str:
        return (self.title or self.doi or f"record {self.pk}")[:120]

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else ""

    @property
    def authors_short(self) -> str:
        if not self.authors:
            return ""
        if len(self.authors) <= 3:
            return "; ".join(self.authors)
        return f"{self.authors[0]}; {self.authors[1]}; … ({len(self.authors)} authors)"
