"""Screening: per-review settings, exclusion reasons, the record at each stage, claims, votes
(with their history) and conflict resolutions. Full-text reports have a package of their own,
``screening/fulltext/`` (its model is imported at the end of this module).

Models hold invariants; the workflow (who may vote, when a record settles, assignment) lives in
``screening/services/``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from identification.models import Record
from reviews.models import Review
from screening.constants import (
    MAX_REVIEWERS,
    MIN_REVIEWERS,
    OPEN_STATUSES,
    SETTLED_STATUSES,
    Decision,
    ItemStatus,
    MaybePolicy,
    ReasonPolicy,
    ResolverPolicy,
    Stage,
    VoteAction,
)
from screening.managers import ScreeningItemQuerySet, VoteQuerySet


class ScreeningSettings(models.Model):
    """How a review screens. A review without a row screens with the defaults below."""

    review = models.OneToOneField(
        Review, on_delete=models.CASCADE, related_name="screening_settings"
    )
    reviewers_per_record = models.PositiveSmallIntegerField(default=2)
    blinded = models.BooleanField(default=True)
    maybe_policy = models.CharField(
        max_length=10, choices=MaybePolicy.choices, default=MaybePolicy.CONFLICT
    )
    reasons_title_abstract = models.CharField(
        max_length=10, choices=ReasonPolicy.choices, default=ReasonPolicy.OPTIONAL
    )
    # PRISMA 2020 reports full-text exclusions with their reasons, so they are required there.
    reasons_full_text = models.CharField(
        max_length=10, choices=ReasonPolicy.choices, default=ReasonPolicy.REQUIRED
    )
    include_keywords = models.TextField(blank=True)
    exclude_keywords = models.TextField(blank=True)
    resolvers = models.CharField(
        max_length=10, choices=ResolverPolicy.choices, default=ResolverPolicy.THIRD
    )
    # Set once the default exclusion reasons have been written, so deleting them all sticks.
    reasons_seeded = models.BooleanField(default=False)
    # The highest record id given a title/abstract item: records imported later have higher
    # ids, so finding them is a short index range scan instead of a pass over every record.
    synced_record_id = models.BigIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_name = models.CharField(max_length=150, blank=True)  # see Vote.reviewer_name
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "screening settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    reviewers_per_record__gte=MIN_REVIEWERS,
                    reviewers_per_record__lte=MAX_REVIEWERS,
                ),
                name="screening_reviewers_per_record_range",
            )
        ]

    def __str__(self) -> str:
        return f"Screening settings of {self.review}"

    def reasons_required(self, stage: str) -> bool:
        policy = (
            self.reasons_title_abstract if stage == Stage.TITLE_ABSTRACT else self.reasons_full_text
        )
        return policy == ReasonPolicy.REQUIRED

    def keywords(self, kind: str) -> list[str]:
        text = self.include_keywords if kind == "include" else self.exclude_keywords
        return [line.strip() for line in text.splitlines() if line.strip()]


class ExclusionReason(models.Model):
    """One entry of a stage's ordered list of exclusion reasons.

    A reason that votes use is retired (``active=False``) rather than deleted, so the votes and
    the PRISMA counts keep their wording.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="exclusion_reasons")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    label = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "stage", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "stage", "label"], name="exclusion_reason_unique_label"
            )
        ]

    def __str__(self) -> str:
        return self.label


class ScreeningItem(models.Model):
    """One record at one stage: its status and how many reviewer slots are claimed.

    Title/abstract items exist for every screenable record; a full-text item appears when the
    record is included at title/abstract. ``claims`` counts ``Assignment`` rows (voted or not);
    assignment never lets it exceed the reviewers a record needs.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="screening_items")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="screening_items")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    status = models.CharField(max_length=20, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    claims = models.PositiveSmallIntegerField(default=0)
    # Higher first: the queue hands out records by priority, then oldest first (see
    # ``screening.services.queue.queue_order``). Every item is 0 until prioritisation sets it.
    priority = models.FloatField(default=0)
    final_reason = models.ForeignKey(
        ExclusionReason, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScreeningItemQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="screening_item_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=ItemStatus.values), name="screening_item_status"
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=Stage.values), name="screening_item_stage"
            ),
        ]
        indexes = [
            # The assignment query: the first pending item of a stage with a free slot, in the
            # queue's order (``screening.services.queue.queue_order``).
            models.Index(
                fields=["review", "stage", "status", "-priority", "id"],
                name="screening_item_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.record}"

    @property
    def is_settled(self) -> bool:
        return self.status in SETTLED_STATUSES

    @property
    def is_open(self) -> bool:
        """Whether votes on the item may still be cast, changed or withdrawn."""
        return self.status in OPEN_STATUSES


class Assignment(models.Model):
    """A reviewer's claim on one slot of an item; kept after the vote, so that the reviewer's
    queue never shows the record again. The unique constraints make a double claim impossible.

    A claim of a person known only by name (``reviewer_name``, from an imported archive; see
    ``Vote``) is kept only with their vote: one they never voted on is dropped on import, since
    nobody can come back to it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ScreeningItem, on_delete=models.CASCADE, related_name="assignments")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # A default in the database too: the queue claims slots with hand-written SQL.
    reviewer_name = models.CharField(max_length=150, blank=True, default="", db_default="")
    claimed_at = models.DateTimeField(auto_now_add=True)
    voted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["claimed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="assignment_unique"),
            models.UniqueConstraint(
                fields=["item", "reviewer_name"],
                condition=models.Q(reviewer__isnull=True),
                name="assignment_unique_name",
            ),
            models.CheckConstraint(
                condition=models.Q(reviewer__isnull=False, reviewer_name="")
                | (models.Q(reviewer__isnull=True) & ~models.Q(reviewer_name="")),
                name="assignment_account_or_name",
            ),
        ]
        indexes = [
            models.Index(
                fields=["review", "stage", "reviewer", "voted_at"], name="assignment_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer or self.reviewer_name} on {self.item_id}"


class Vote(models.Model):
    """One reviewer's current decision on one record at one stage.

    The reviewer is an account, or, for a vote imported from an archive whose voter the
    importer did not map to an account here, a name (``reviewer_name``): such a voter counts
    as a voter of their own (two names are two voters) and is never anyone signed in. Every
    reference to a person in the review's data has such a name beside it (``<field>_name``;
    ``AuditEvent.actor_username``), blank where the account is set.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="screening_votes")
    item = models.ForeignKey(ScreeningItem, on_delete=models.CASCADE, related_name="votes")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="screening_votes")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="screening_votes",
    )
    reviewer_name = models.CharField(max_length=150, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.ForeignKey(
        ExclusionReason, null=True, blank=True, on_delete=models.RESTRICT, related_name="votes"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VoteQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer"], name="vote_one_per_reviewer"
            ),
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer_name"],
                condition=models.Q(reviewer__isnull=True),
                name="vote_one_per_named_reviewer",
            ),
            models.CheckConstraint(
                condition=models.Q(reviewer__isnull=False, reviewer_name="")
                | (models.Q(reviewer__isnull=True) & ~models.Q(reviewer_name="")),
                name="vote_account_or_name",
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=Decision.values), name="vote_decision_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(reason__isnull=True) | models.Q(decision=Decision.EXCLUDE),
                name="vote_reason_only_with_exclude",
            ),
        ]
        indexes = [models.Index(fields=["review", "stage", "reviewer", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.reviewer_label}: {self.decision} on {self.record_id}"

    @property
    def reviewer_label(self) -> str:
        """Who voted, as pages and files show it: the username, or the name kept."""
        return self.reviewer.get_username() if self.reviewer_id else self.reviewer_name


class VoteEvent(models.Model):
    """History of votes: every cast, change and withdrawal, never edited."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ScreeningItem, on_delete=models.CASCADE, related_name="vote_events")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField(max_length=150, blank=True)  # see Vote.reviewer_name
    action = models.CharField(max_length=10, choices=VoteAction.choices)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        who = self.reviewer_id or self.reviewer_name
        return f"{who} {self.action} {self.decision} on item {self.item_id}"


class Resolution(models.Model):
    """How a conflict was settled, by whom and when."""

    item = models.OneToOneField(ScreeningItem, on_delete=models.CASCADE, related_name="resolution")
    decision = models.CharField(
        max_length=10, choices=[(Decision.INCLUDE, "Include"), (Decision.EXCLUDE, "Exclude")]
    )
    reason = models.ForeignKey(
        ExclusionReason, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by_name = models.CharField(max_length=150, blank=True)  # see Vote.reviewer_name
    resolved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__in=[Decision.INCLUDE, Decision.EXCLUDE]),
                name="resolution_decision_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.resolved_by_id or self.resolved_by_name}"


# Django finds an app's models through this module, so the full-text model is imported here,
# last; it lives with the rest of full-text assessment in ``screening/fulltext/``.
from screening.fulltext.models import FullTextReport  # noqa: E402, F401
from screening.prioritisation.models import (  # noqa: E402, F401
    RankingFeatures,
    RankingFeaturesPart,
    RankingModel,
    StopDecision,
)
