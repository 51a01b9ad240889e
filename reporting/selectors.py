"""PRISMA 2020 numbers counted from the review's data at the moment of asking.

Nothing here is a stored total: every box is a query over searches, records, duplicate clusters
and screening decisions. Only what no query can know (the "other methods" column and the
previous version of an updated review) comes from ``PrismaEntry``, typed in by a lead, and the
diagram marks those boxes as entered by hand.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Count

from identification.constants import SourceKind
from identification.models import Record, Search
from reporting import prisma
from reporting.exports import included_records
from reporting.models import PrismaEntry
from reviews.models import Review
from screening.selectors.policy import conflicts_hidden_from


@dataclass(frozen=True)
class PrismaReport:
    counts: prisma.PrismaCounts
    issues: list[prisma.Issue]
    warnings: list[str]


def _named(rows) -> tuple[tuple[str, int], ...]:
    return tuple((name, n) for name, n in rows)


def _identified(review: Review) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """Records identified per database and per register, by name, in the order searched."""
    per: dict[str, OrderedDict[str, int]] = {
        SourceKind.DATABASE: OrderedDict(),
        SourceKind.REGISTER: OrderedDict(),
    }
    rows = (
        Search.objects.filter(review=review)
        .annotate(n=Count("records"))
        .order_by("created_at", "pk")
        .values_list("kind", "database", "n")
    )
    for kind, name, n in rows:
        bucket = per[kind]
        bucket[name] = bucket.get(name, 0) + n
    return _named(per[SourceKind.DATABASE].items()), _named(per[SourceKind.REGISTER].items())


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def prisma_report(*, review: Review, user=None) -> PrismaReport:
    """Count every box, check the arithmetic, and say what is still unfinished.

    ``user``, when given, is the reader of the warnings: screening's blinding decides whether
    they may see how many records are in conflict. How many records a stage still has open is
    for everyone: a record awaiting votes and one in conflict are alike there.
    """
    from screening.selectors import screening_boxes

    databases, registers = _identified(review)
    duplicates = Record.objects.filter(review=review, duplicate_of__isnull=False).count()
    unique = Record.objects.filter(review=review, duplicate_of__isnull=True).count()

    # The screening boxes are screening's one count of them (screening/selectors/boxes.py): a
    # box counts the primary records (reports) whose decision is made (PRISMA 2020's meaning);
    # those still undecided are in no box and are named in the warnings beside the diagram, so
    # an unfinished stage shows as unfinished rather than as numbers that do not add up.
    boxes = screening_boxes(review)
    ta_open, ft_open = boxes.title_abstract_open, boxes.full_text_open
    not_in_screening = max(unique - ta_open.entered, 0)

    entry = PrismaEntry.objects.filter(review=review).first()
    hand: set[prisma.Box] = set()
    other = None
    other_included = 0
    if entry and entry.has_other_methods:
        other = prisma.OtherMethods(
            websites=entry.websites,
            organisations=entry.organisations,
            citation_searching=entry.citation_searching,
            reports_sought=entry.other_sought,
            reports_not_retrieved=entry.other_not_retrieved,
            reports_assessed=entry.other_assessed,
            reports_excluded=tuple((str(r), int(n)) for r, n in entry.other_excluded),
        )
        other_included = entry.other_included
        hand |= set(prisma.OTHER_METHODS_BOXES)
    # Until studies are grouped from their reports (data extraction), each included report is
    # one study.
    new_studies = boxes.reports_included + other_included
    new_reports = boxes.reports_included + other_included
    update = None
    if entry and entry.is_update:
        update = prisma.ReviewUpdate(
            previous_studies=entry.previous_studies,
            previous_reports=entry.previous_reports,
            total_studies=entry.previous_studies + new_studies,
            total_reports=entry.previous_reports + new_reports,
        )
        hand.add(prisma.Box.PREVIOUS)
    counts = prisma.PrismaCounts(
        databases=databases,
        registers=registers,
        duplicates_removed=duplicates,
        records_screened=boxes.records_screened,
        records_excluded=boxes.records_excluded,
        records_excluded_reasons=boxes.records_excluded_reasons,
        reports_sought=boxes.reports_sought,
        reports_not_retrieved=boxes.reports_not_retrieved,
        reports_assessed=boxes.reports_assessed,
        reports_excluded=boxes.reports_excluded_reasons,
        records_open=not_in_screening + ta_open.open,
        reports_open=ft_open.open,
        new_studies=new_studies,
        new_reports=new_reports,
        update=update,
        other_methods=other,
        hand_entered=frozenset(hand),
    )
    warnings = []
    if not_in_screening > 0:
        warnings.append(
            f"{not_in_screening:,} {_plural(not_in_screening, 'record has', 'records have')} "
            "not entered title/abstract screening yet."
        )
    # A reader to whom blinding hides conflicts (a voter above all) is told how many records
    # are still open, never how many are conflicts: that count moves when the other vote
    # disagrees, while "still open" counts a conflict as it counts a record awaiting votes.
    conflicts_shown = user is None or conflicts_hidden_from(user=user, review=review) is None
    for stage, label, unit, still_open in (
        ("title/abstract screening", "title/abstract", ("record", "records"), ta_open),
        ("full-text assessment", "full-text", ("report", "reports"), ft_open),
    ):
        if still_open.open:
            warnings.append(
                f"{stage}: {still_open.open:,} of {still_open.entered:,} "
                f"{_plural(still_open.entered, *unit)} still open."
            )
        if conflicts_shown and still_open.conflicts:
            n = still_open.conflicts
            warnings.append(
                f"{n:,} {label} {_plural(n, 'conflict awaits', 'conflicts await')} resolution."
            )
    issues = prisma.check_consistency(counts, warnings=warnings)
    return PrismaReport(counts=counts, issues=issues, warnings=warnings)


def studies_included(review: Review) -> int:
    """The dashboard's count: studies included (one per included report until extraction)."""
    return included_records(review=review).count()
