"""QuerySets of identification, with the record's named filters defined once."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def primary_q(prefix: str = "") -> Q:
    """A filter keeping only primary records; ``prefix`` reaches Record (e.g. ``"record__"``).

    Deduplication links a record merged into another to that record through
    ``Record.duplicate_of``; a record that is nobody's duplicate (a cluster's primary or a unique
    record) is primary. Primary records are the ones screened and counted after duplicates are
    removed. This is the one definition; querysets of other models reach it with ``prefix``.
    """
    return Q(**{f"{prefix}duplicate_of__isnull": True})


class RecordQuerySet(models.QuerySet):
    def of_review(self, review) -> RecordQuerySet:
        return self.filter(review=review)

    def primary(self) -> RecordQuerySet:
        """Records that are not a duplicate merged into another (see :func:`primary_q`)."""
        return self.filter(primary_q())

    def duplicates(self) -> RecordQuerySet:
        """Records merged into another as its duplicate."""
        return self.exclude(primary_q())
