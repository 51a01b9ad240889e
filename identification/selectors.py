"""Reads over searches and records: filtered lists, per-database counts."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from identification.models import ImportBatch, Record, Search
from reviews.models import Review


def searches_of(*, review: Review) -> QuerySet[Search]:
    return (
        Search.objects.filter(review=review)
        .annotate(record_count=Count("records", distinct=True))
        .order_by("created_at", "pk")
    )


def batches_of(*, search: Search) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(search=search).select_related("job").order_by("pk")


def records_filtered(*, review: Review, filters: dict[str, Any]) -> QuerySet[Record]:
    """Records of ``review`` narrowed by the record-list filters (already validated)."""
    qs = Record.objects.filter(review=review).select_related("search")
    q = (filters.get("q") or "").strip()
    if q:
        for term in q.split()[:10]:
            qs = qs.filter(
                Q(title__icontains=term)
                | Q(abstract__icontains=term)
                | Q(journal__icontains=term)
                | Q(doi__icontains=term)
                | Q(authors__icontains=term)
            )
    if filters.get("search"):
        qs = qs.filter(search_id=filters["search"])
    if filters.get("year_from") is not None:
        qs = qs.filter(year__gte=filters["year_from"])
    if filters.get("year_to") is not None:
        qs = qs.filter(year__lte=filters["year_to"])
    if filters.get("has_doi") == "yes":
        qs = qs.exclude(doi="")
    elif filters.get("has_doi") == "no":
        qs = qs.filter(doi="")
    if filters.get("has_abstract") == "yes":
        qs = qs.exclude(abstract="")
    elif filters.get("has_abstract") == "no":
        qs = qs.filter(abstract="")
    return qs.order_by("pk")


def records_identified(review: Review) -> int:
    return Record.objects.filter(review=review).count()
