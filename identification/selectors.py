"""Reads over searches and records: filtered lists, per-database counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet

from identification import hooks
from identification import query as record_query
from identification.managers import primary_q
from identification.models import ImportBatch, Record, Search
from reviews.models import Review


def searches_of(*, review: Review) -> QuerySet[Search]:
    return (
        Search.objects.filter(review=review)
        .select_related("round")
        .annotate(record_count=Count("records", distinct=True))
        .order_by("created_at", "pk")
    )


def batches_of(*, search: Search) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(search=search).select_related("job").order_by("pk")


def records_filtered(*, review: Review, filters: dict[str, Any], user=None) -> QuerySet[Record]:
    """Records of ``review`` narrowed by the record-list filters (already validated, see
    ``identification.forms.record_filters``).

    ``duplicates`` chooses by duplicate status (``primary``, ``with_duplicates``,
    ``duplicates``; every record when absent, as the ``export_records`` command wants). The
    filters later steps provide (``hooks.record_filters``) answer for ``user``, who must be
    given when any of them is set.
    """
    qs = Record.objects.filter(review=review).select_related("search")
    text = filters.get("q") or ""
    if text:
        query = record_query.parse(text)
        if query:
            qs = qs.filter(record_query.to_q(query.tree))
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
    duplicates = filters.get("duplicates") or "all"
    if duplicates == "primary":
        qs = qs.filter(primary_q())
    elif duplicates == "with_duplicates":
        copies = Record.objects.filter(duplicate_of=OuterRef("pk"))
        qs = qs.filter(primary_q()).filter(Exists(copies))
    elif duplicates == "duplicates":
        qs = qs.exclude(primary_q())
    for provider in later_filters():
        values = {spec.name: filters.get(spec.name) or "" for spec in provider.fields}
        if not any(values.values()):
            continue
        if user is None:
            raise ValueError("the filters of later steps answer for a user; give one")
        q = provider.q(review=review, user=user, values=values)
        if q is not None:
            qs = qs.filter(q)
    return qs.order_by("pk")


def later_filters() -> list[hooks.RecordFilters]:
    """The record-list filters later steps provide (``hooks.record_filters``)."""
    return [answer for answer in hooks.record_filters.send().values() if answer]


def record_statuses(*, review: Review, user, records) -> dict[int, list[str]]:
    """Where each of ``records`` stands in later steps, as ``user`` may see it (by id)."""
    out: dict[int, list[str]] = {}
    records = list(records)
    if not records:
        return out
    for answer in hooks.record_statuses.send(review=review, user=user, records=records).values():
        for record_id, status in (answer or {}).items():
            out.setdefault(record_id, []).append(status)
    return out


@dataclass(frozen=True)
class RecordCopies:
    """A record's cluster as its page shows it: the primary (when the record is a duplicate)
    and the other records merged with it, each with the search that found it."""

    primary: Record | None
    copies: list[Record]


def record_copies(record: Record) -> RecordCopies:
    if record.duplicate_of_id:
        primary = Record.objects.select_related("search").get(pk=record.duplicate_of_id)
        others = Record.objects.filter(duplicate_of_id=primary.pk).exclude(pk=record.pk)
    else:
        primary = None
        others = Record.objects.filter(duplicate_of_id=record.pk)
    return RecordCopies(primary, list(others.select_related("search").order_by("pk")))


def record_steps(*, review: Review, user, record: Record) -> list[hooks.RecordStep]:
    """What later steps did with ``record``, as ``user`` may see it (``hooks.record_steps``)."""
    steps: list[hooks.RecordStep] = []
    for answer in hooks.record_steps.send(review=review, user=user, record=record).values():
        steps.extend(answer or ())
    return steps


def records_identified(review: Review) -> int:
    return Record.objects.filter(review=review).count()
