"""Records deleted by identification (a search deleted with its records): the receivers of
``identification.hooks.records_in_use`` and ``records_removed``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from identification.models import Record
from reviews.models import Review
from screening.fulltext.models import FullTextReport
from screening.models import ScreeningItem, VoteEvent


def records_started(
    *, review: Review, records: QuerySet[Record] | None = None, **_: Any
) -> set[int]:
    """Those of ``records`` screening has started on: a vote cast at either stage (even one
    withdrawn since: its history stays), or a full text attached or marked not retrieved."""
    records = records if records is not None else Record.objects.filter(review=review)
    voted = VoteEvent.objects.filter(review=review, item__record__in=records.values("pk"))
    reported = FullTextReport.objects.filter(review=review, record__in=records.values("pk"))
    return set(voted.values_list("item__record_id", flat=True)) | set(
        reported.values_list("record_id", flat=True)
    )


def on_records_removed(*, review: Review, records: QuerySet[Record], **_: Any) -> dict[str, int]:
    """``records`` are about to be deleted: their screening items (none voted on) go first."""
    items = ScreeningItem.objects.filter(review=review, record__in=records.values("pk"))
    removed = items.count()
    items.delete()
    return {"screening_items_removed": removed}
