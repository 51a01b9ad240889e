"""Review, team membership, audit events and background jobs.

Models hold invariants (constraints, choices); workflows live in ``reviews/services.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from .constants import BatchStatus, JobStatus, PairStatus, ReviewStatus, Role, SourceKind
from .fields import TextJSONField
from .managers import MembershipQuerySet, ReviewQuerySet

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lower-case letters, digits and single hyphens, e.g. 'gambling-harms-2026'.",
)


class Review(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    research_question = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PLANNING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "pk"]

    def __str__(self) -> str:
        return self.title


class Membership(models.Model):
    """One role held by one user in one review; a user holding several roles has several rows."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["review", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "user", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.review}"


class AuditEvent(models.Model):
    """Who changed what, when, on which object. Written only by services; never edited."""

    review = models.ForeignKey(
        Review, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the log still says who acted after an account is deleted.
    actor_username = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["review", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_username or 'system'} {self.verb} {self.object_type} {self.object_id}"


class Job(models.Model):
    """A background job (import, dedup, analysis...) and its visible progress.

    The Celery task only carries the job id; everything a person wants to see lives here.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=60)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_max")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "created_at", "pk"]
        verbose_name_plural = "searches"

    def __str__(self) -> str:
        when = f" {self.date_searched:%Y-%m-%d}" if self.date_searched else ""
        via = f" via {self.platform}" if self.platform else ""
        return f"{self.database}{via}{when}"


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        "DuplicateCluster",
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

    class Meta:
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


class DuplicateCluster(models.Model):
    """Records that are one publication; every member keeps its search."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="clusters")
    primary = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    primary_pinned = models.BooleanField(default=False)  # a person chose the primary
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"cluster {self.pk} of {self.primary}"


class DuplicatePair(models.Model):
    """Two records compared by deduplication, and what was decided about them.

    Queued pairs wait for a person; ``different`` and ``undone`` pairs are never merged again.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="duplicate_pairs")
    left = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    fields = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=PairStatus.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(left__lt=models.F("right")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["review", "status"])]

    def __str__(self) -> str:
        return f"{self.left_id}~{self.right_id} ({self.status})"


class PrismaEntry(models.Model):
    """The PRISMA 2020 numbers that no query can count, typed in by a lead and marked as such.

    The "other methods" column (websites, organisations, citation searching) and, for an
    updated review, the studies and reports of the previous version.
    """

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="prisma_entry")
    is_update = models.BooleanField(default=False)
    previous_studies = models.PositiveIntegerField(default=0)
    previous_reports = models.PositiveIntegerField(default=0)
    websites = models.PositiveIntegerField(null=True, blank=True)
    organisations = models.PositiveIntegerField(null=True, blank=True)
    citation_searching = models.PositiveIntegerField(null=True, blank=True)
    other_sought = models.PositiveIntegerField(default=0)
    other_not_retrieved = models.PositiveIntegerField(default=0)
    other_assessed = models.PositiveIntegerField(default=0)
    other_excluded = models.JSONField(default=list, blank=True)  # [[reason, n], ...]
    other_included = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"PRISMA entries of {self.review}"

    @property
    def has_other_methods(self) -> bool:
        return any(
            v is not None for v in (self.websites, self.organisations, self.citation_searching)
        )
