"""The screening boxes of the PRISMA 2020 flow diagram, counted once.

The diagram (``reporting``) and the full-text stage page both read these numbers from here.
A box counts the records (reports) that *entered* its stage, decided or not: records screened
are the primary records with a title/abstract item, reports assessed are the full-text items
not marked not retrieved. What is still undecided is counted beside them (``open_at``), so an
unfinished stage shows as unfinished rather than as numbers that do not add up. The dashboard's
counts of records settled are another measure (``progress.py``).

Only primary records count: a record merged into another after it was screened (a later
search brought a more complete copy) is a duplicate removed, not a record screened.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count

from reviews.models import Review
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem

#: (reason, number of records) in the order of the stage's list of reasons.
Reasons = tuple[tuple[str, int], ...]

#: The label of exclusions decided without a reason (optional at title and abstract).
NO_REASON = "No reason recorded"


@dataclass(frozen=True)
class OpenDecisions:
    """Items of a stage still undecided."""

    pending: int
    conflicts: int


@dataclass(frozen=True)
class ScreeningBoxes:
    records_screened: int
    records_excluded: int
    records_excluded_reasons: Reasons
    reports_sought: int
    reports_not_retrieved: int
    reports_assessed: int
    reports_excluded: int
    reports_excluded_reasons: Reasons
    reports_included: int
    title_abstract_open: OpenDecisions
    full_text_open: OpenDecisions

    def open_at(self, stage: str) -> OpenDecisions:
        return self.title_abstract_open if stage == Stage.TITLE_ABSTRACT else self.full_text_open


def _reasons(rows: list[tuple[str | None, int | None, int]]) -> Reasons:
    """Counts per reason, in the order of the reasons' positions (no reason last)."""
    counts: Counter[str] = Counter()
    rank: dict[str, tuple[int, str]] = {}
    for label, position, n in rows:
        label = label or NO_REASON
        counts[label] += n
        key = (position if position is not None else 10**6, label)
        rank[label] = min(rank.get(label, key), key)
    return tuple((label, counts[label]) for label in sorted(rank, key=rank.__getitem__))


def screening_boxes(review: Review) -> ScreeningBoxes:
    """The screening boxes of ``review``'s PRISMA diagram and what is still open, in two queries."""
    items = ScreeningItem.objects.of_review(review).primary(review)
    by_status: Counter[tuple[str, str]] = Counter()
    for stage, status, n in items.values_list("stage", "status").annotate(n=Count("pk")).order_by():
        by_status[(stage, status)] = n
    reasons: dict[str, list[tuple[str | None, int | None, int]]] = {s: [] for s in Stage.values}
    excluded = (
        items.filter(status=ItemStatus.EXCLUDED)
        .values_list("stage", "final_reason__label", "final_reason__position")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for stage, label, position, n in excluded:
        reasons[stage].append((label, position, n))

    def at(stage: str, *statuses: str) -> int:
        wanted = statuses or ItemStatus.values
        return sum(by_status[(stage, s)] for s in wanted)

    ta, ft = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
    return ScreeningBoxes(
        records_screened=at(ta),
        records_excluded=at(ta, ItemStatus.EXCLUDED),
        records_excluded_reasons=_reasons(reasons[ta]),
        reports_sought=at(ft),
        reports_not_retrieved=at(ft, ItemStatus.NOT_RETRIEVED),
        reports_assessed=at(ft) - at(ft, ItemStatus.NOT_RETRIEVED),
        reports_excluded=at(ft, ItemStatus.EXCLUDED),
        reports_excluded_reasons=_reasons(reasons[ft]),
        reports_included=at(ft, ItemStatus.INCLUDED),
        title_abstract_open=OpenDecisions(at(ta, ItemStatus.PENDING), at(ta, ItemStatus.CONFLICT)),
        full_text_open=OpenDecisions(at(ft, ItemStatus.PENDING), at(ft, ItemStatus.CONFLICT)),
    )
