"""Reporting: the PRISMA 2020 numbers that no query can count."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviews.models import Review


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
    updated_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The model's app label stays "reviews" (its table and migrations live there); moving
        # it to a new app would cost migrations that buy nothing.
        app_label = "reviews"

    def __str__(self) -> str:
        return f"PRISMA entries of {self.review}"

    @property
    def has_other_methods(self) -> bool:
        return any(
            v is not None for v in (self.websites, self.organisations, self.citation_searching)
        )
