"""The screening boxes of the PRISMA 2020 flow diagram, counted once.

One definition per box, PRISMA 2020's: a box counts the records (reports) whose decision at its
stage is made. Records screened: the primary records decided at title and abstract (included or
excluded, :meth:`~screening.managers.ScreeningItemQuerySet.settled`); records excluded: those
excluded there. Reports sought for retrieval: the records included at title and abstract (each
has its full-text item from then on); reports not retrieved: those marked so; reports assessed
for eligibility: the reports decided at full text; reports excluded (with reasons) and included.

A record still undecided (awaiting votes or in conflict) is in no box: it is counted beside them
(:meth:`ScreeningBoxes.open_at`), so that the page beside the diagram says plainly that a stage
is unfinished ("title/abstract screening: 484 of 505 records still open") rather than drawing
numbers that do not add up. Every place that shows one of these numbers reads it from here: the
diagram (``reporting``), the full-text stage page, the dashboard's cards
(:func:`records_screened`, :func:`reports_assessed`) and a stage's progress (``progress.py``,
whose count of records settled is the same ``settled()``).

Exclusion reasons: an excluded record counts under its own reason; at title and abstract two
Exclude votes agree whatever their reasons (``screening.services._status.REASONS_MUST_AGREE``),
and a record excluded so keeps no single reason: it counts under both, joined ("Wrong population
/ Wrong outcome"), so that neither voter's reason silently stands for the other's.

Only primary records count: a record merged into another after it was screened (a later
search brought a more complete copy) is a duplicate removed, not a record screened.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count

from reviews.models import Review
from screening import hooks as screening_hooks
from screening.constants import SETTLED_STATUSES, ItemStatus, Stage
from screening.models import ScreeningItem, Vote

#: (reason, number of records) in the order of the stage's list of reasons.
Reasons = tuple[tuple[str, int], ...]

#: The label of exclusions decided without a reason (optional at title and abstract).
NO_REASON = "No reason recorded"
#: Joins the different reasons of votes that agreed to exclude a record at title and abstract.
REASONS_JOINED = " / "


@dataclass(frozen=True)
class OpenDecisions:
    """A stage's records (reports) still undecided, of those that ``entered`` it.

    ``conflicts`` is for readers who may see conflicts (``policy.conflicts_hidden_from``);
    ``open`` (awaiting votes and in conflict alike) is for everyone.
    """

    pending: int
    conflicts: int
    entered: int = 0

    @property
    def open(self) -> int:
        return self.pending + self.conflicts


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


def _excluded_reasons(items) -> dict[str, Reasons]:
    """The excluded items of ``items`` per stage and reason, in the order of the reasons.

    An item counts under its own reason; one excluded by votes that agreed for different
    reasons (title and abstract) has none of its own and counts under its votes' reasons,
    joined. A resolution without a reason, or votes without one, count as :data:`NO_REASON`.
    """
    rows: dict[str, list[tuple[str | None, int | None, int]]] = {s: [] for s in Stage.values}
    excluded = items.filter(status=ItemStatus.EXCLUDED)
    grouped = (
        excluded.values_list("stage", "final_reason__label", "final_reason__position")
        .annotate(n=Count("pk"))
        .order_by()
    )
    unreasoned: Counter[str] = Counter()
    for stage, label, position, n in grouped:
        if label is None:
            unreasoned[stage] += n
        else:
            rows[stage].append((label, position, n))
    if unreasoned:
        by_item: dict[int, tuple[str, set[tuple[int, str]]]] = {}
        votes = (
            Vote.objects.filter(
                item__in=excluded.filter(final_reason__isnull=True, resolution__isnull=True),
                reason__isnull=False,
            )
            .values_list("item_id", "item__stage", "reason__label", "reason__position")
            .order_by()
        )
        for item_id, stage, label, position in votes.iterator(chunk_size=5000):
            by_item.setdefault(item_id, (stage, set()))[1].add((position, label))
        joined: Counter[tuple[str, str, int]] = Counter()
        for stage, given in by_item.values():
            ordered = sorted(given)
            joined[(stage, REASONS_JOINED.join(label for _, label in ordered), ordered[0][0])] += 1
        for (stage, label, position), n in joined.items():
            rows[stage].append((label, position, n))
            unreasoned[stage] -= n
        for stage, n in unreasoned.items():
            if n > 0:
                rows[stage].append((None, None, n))
    return {stage: _reasons(stage_rows) for stage, stage_rows in rows.items()}


def _decided(review: Review, stage: str) -> int:
    return ScreeningItem.objects.of_review(review).at(stage).primary(review).settled().count()


def records_screened(review: Review) -> int:
    """The "Records screened" box alone (the dashboard's card): records decided at title and
    abstract, as :func:`screening_boxes` counts them."""
    return _decided(review, Stage.TITLE_ABSTRACT)


def reports_assessed(review: Review) -> int:
    """The "Reports assessed for eligibility" box alone (the dashboard's card): reports decided
    at full text, as :func:`screening_boxes` counts them."""
    return _decided(review, Stage.FULL_TEXT)


def studies_included(review: Review) -> int:
    """The "Studies included in review" box: the studies the included reports belong to.

    Which reports are one study is data extraction's to say, through the
    ``screening.hooks.studies_included`` hook; until it answers, each report included at full
    text is one study.
    """
    for answer in screening_hooks.studies_included.send(review=review).values():
        if answer is not None:
            return int(answer)
    return _items_included(review)


def _items_included(review: Review) -> int:
    items = ScreeningItem.objects.of_review(review).at(Stage.FULL_TEXT).primary(review)
    return items.filter(status=ItemStatus.INCLUDED).count()


def excluded_reasons(review: Review, stage: str) -> Reasons:
    """The reasons of one stage's exclusions, as the diagram lists them (the stage page's)."""
    items = ScreeningItem.objects.of_review(review).at(stage).primary(review)
    return _excluded_reasons(items)[stage]


def screening_boxes(review: Review, *, records=None) -> ScreeningBoxes:
    """The screening boxes of ``review``'s PRISMA diagram and what is still open.

    ``records`` (a queryset of records) narrows the boxes to them: an update round's diagram
    counts the records of that round. Two queries, and a third when some exclusion has no
    reason of its own.
    """
    items = ScreeningItem.objects.of_review(review).primary(review)
    if records is not None:
        items = items.filter(record__in=records.values("pk"))
    by_status: Counter[tuple[str, str]] = Counter()
    for stage, status, n in items.values_list("stage", "status").annotate(n=Count("pk")).order_by():
        by_status[(stage, status)] = n
    reasons = _excluded_reasons(items)

    def at(stage: str, *statuses: str) -> int:
        wanted = statuses or ItemStatus.values
        return sum(by_status[(stage, s)] for s in wanted)

    def still_open(stage: str) -> OpenDecisions:
        return OpenDecisions(
            pending=at(stage, ItemStatus.PENDING),
            conflicts=at(stage, ItemStatus.CONFLICT),
            entered=at(stage),
        )

    ta, ft = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
    return ScreeningBoxes(
        records_screened=at(ta, *SETTLED_STATUSES),
        records_excluded=at(ta, ItemStatus.EXCLUDED),
        records_excluded_reasons=reasons[ta],
        reports_sought=at(ft),
        reports_not_retrieved=at(ft, ItemStatus.NOT_RETRIEVED),
        reports_assessed=at(ft, *SETTLED_STATUSES),
        reports_excluded=at(ft, ItemStatus.EXCLUDED),
        reports_excluded_reasons=reasons[ft],
        reports_included=at(ft, ItemStatus.INCLUDED),
        title_abstract_open=still_open(ta),
        full_text_open=still_open(ft),
    )
