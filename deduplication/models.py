"""Deduplication: clusters of records that are one publication, and the pairs compared."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from deduplication.constants import PairStatus
from identification.models import Record
from reviews.models import Review


class DuplicateCluster(models.Model):
    """Records that are one publication; every member keeps its search."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="clusters")
    primary = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    primary_pinned = models.BooleanField(default=False)  # a person chose the primary
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The model's app label stays "reviews" (its table and migrations live there); moving
        # it to a new app would cost migrations that buy nothing.
        app_label = "reviews"
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
    decided_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The model's app label stays "reviews" (its table and migrations live there); moving
        # it to a new app would cost migrations that buy nothing.
        app_label = "reviews"
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
