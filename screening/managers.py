"""QuerySets of screening: the named filters of an item (and a vote) defined once.

``ScreeningItem.objects.of_review(review).at(stage).settled()`` reads as what it counts; the
meaning of "settled", "open" and "primary" lives here and nowhere else in screening.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from identification.managers import primary_q
from identification.models import Record
from screening.constants import OPEN_STATUSES, SETTLED_STATUSES

if TYPE_CHECKING:
    from reviews.models import Review


def merged_records_screened(review: Review) -> bool:
    """Whether any record merged into another as a duplicate has screening items.

    Usually none does (deduplication runs on import, before screening), and then the join to
    the records in every count can be left out: at 100,000 records it is most of their cost.
    A short index scan over the review's duplicates answers it; kept for the request.
    """
    cached = getattr(review, "_screening_merged_items", None)
    if cached is None:
        merged = Record.objects.of_review(review).duplicates()
        cached = merged.filter(screening_items__isnull=False).exists()
        review._screening_merged_items = cached  # type: ignore[attr-defined]
    return cached


_primary_sql: dict[str, str] = {}


def primary_record_sql(connection) -> str:
    """:func:`identification.managers.primary_q` as SQL on the record table, for the queue's
    hand-written query (``JOIN <record table> ON ... AND <this>``).

    Compiled from ``primary_q`` itself, so the raw SQL and the ORM can never disagree about
    what a primary record is; compiled once per database vendor, since the queue runs it on
    every vote and compiling is the cost the hand-written SQL exists to avoid.
    """
    vendor = connection.vendor
    if vendor not in _primary_sql:
        query = Record.objects.filter(primary_q()).query
        sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
        if params:  # a condition with values would need them passed along; today it has none
            raise NotImplementedError("primary_q compiled to SQL with parameters")
        _primary_sql[vendor] = sql
    return _primary_sql[vendor]


class _OfRecordQuerySet(models.QuerySet):
    """Filters shared by the querysets of models that belong to one record at one stage."""

    def of_review(self, review: Review):
        return self.filter(review=review)

    def at(self, stage: str):
        return self.filter(stage=stage)

    def primary(self, review: Review | None = None):
        """Only rows whose record is a primary record (see ``primary_q``); given ``review``,
        only that review's rows (a caller that forgot ``of_review`` read every review's: the
        ranking model once trained on all reviews' votes).

        Given ``review``, the filter, a join to the records, is left out when it cannot change
        the answer: no record of the review merged into another has screening items (see
        :func:`merged_records_screened`).
        """
        if review is not None:
            mine = self.filter(review=review)
            return (
                mine if not merged_records_screened(review) else mine.filter(primary_q("record__"))
            )
        return self.filter(primary_q("record__"))


class ScreeningItemQuerySet(_OfRecordQuerySet):
    def settled(self) -> ScreeningItemQuerySet:
        """Items decided: included or excluded (a report not retrieved is neither)."""
        return self.filter(status__in=SETTLED_STATUSES)

    def open(self) -> ScreeningItemQuerySet:
        """Items whose votes may still change: awaiting votes or in conflict."""
        return self.filter(status__in=OPEN_STATUSES)


class VoteQuerySet(_OfRecordQuerySet):
    def on_settled(self) -> VoteQuerySet:
        """Votes on settled items (see :meth:`ScreeningItemQuerySet.settled`)."""
        return self.filter(item__status__in=SETTLED_STATUSES)
