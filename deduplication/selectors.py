"""Reads of deduplication that pages, the API, the dashboard and reporting share."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from deduplication.constants import PairStatus
from deduplication.models import DuplicateCluster, DuplicatePair
from identification.managers import primary_q
from identification.models import Record, Search
from reviews.models import Review

DECIDED_BY_PEOPLE = (PairStatus.SAME, PairStatus.DIFFERENT, PairStatus.UNDONE)


def dedup_summary(*, review: Review) -> dict[str, Any]:
    """``records``, ``clusters``, ``merged`` (records merged into another), ``unique`` (the
    primary records: those that go on to screening) and ``queued``."""
    queued = list(
        DuplicatePair.objects.filter(review=review, status=PairStatus.QUEUED)
        .order_by("-score", "pk")
        .values_list("left_id", "right_id")
    )
    return {
        "records": Record.objects.filter(review=review).count(),
        "clusters": DuplicateCluster.objects.filter(review=review).count(),
        "merged": Record.objects.of_review(review).duplicates().count(),
        "unique": Record.objects.of_review(review).primary().count(),
        "queued": [list(p) for p in queued],
    }


def duplicates_removed(review: Review) -> int:
    return Record.objects.of_review(review).duplicates().count()


def removed_per_search(review: Review) -> QuerySet[Search]:
    """The review's searches with ``identified`` records and ``removed`` duplicates each."""
    return (
        Search.objects.filter(review=review)
        .annotate(
            identified=Count("records"),
            removed=Count("records", filter=~primary_q("records__")),
        )
        .order_by("pk")
    )


def clusters_of(review: Review) -> QuerySet[DuplicateCluster]:
    return (
        DuplicateCluster.objects.filter(review=review)
        .select_related("primary")
        .prefetch_related("members__search")
        .order_by("pk")
    )


def pairs_decided(review: Review) -> int:
    """Pairs a person judged (same, different) or a merge a person undid."""
    return DuplicatePair.objects.filter(review=review, status__in=DECIDED_BY_PEOPLE).count()


def queued_pairs(review: Review) -> QuerySet[DuplicatePair]:
    """Pairs waiting for a person, the likeliest duplicates first."""
    return DuplicatePair.objects.filter(review=review, status=PairStatus.QUEUED).order_by(
        "-score", "pk"
    )


def next_pair(review: Review) -> DuplicatePair | None:
    return queued_pairs(review).select_related("left__search", "right__search").first()
