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


def prisma_report(*, review: Review, user=None) -> PrismaReport:
    """Count every box, check the arithmetic, and say what is still unfinished.

    ``user``, when given, is the reader of the warnings: screening's blinding decides whether
    they may see how many records are in conflict.
    """
    from screening.selectors import screening_boxes

    databases, registers = _identified(review)
    duplicates = Record.objects.filter(review=review, duplicate_of__isnull=False).count()
    unique = Record.objects.filter(review=review, duplicate_of__isnull=True).count()

    # The screening boxes are screening's one count of them (screening/selectors/boxes.py): a
    # box counts the primary records (reports) that entered its stage; those still undecided
    # are named in the warnings beside the diagram, so an unfinished stage shows as unfinished
    # rather than as numbers that do not add up.
    boxes = screening_boxes(review)

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
        new_studies=new_studies,
        new_reports=new_reports,
        update=update,
        other_methods=other,
        hand_entered=frozenset(hand),
    )
    warnings = []
    not_in_screening = unique - boxes.records_screened
    if not_in_screening > 0:
        warnings.append(
            f"{not_in_screening} records have not entered title/abstract screening yet."
        )
    # A reader to whom blinding hides conflicts (a voter above all) is told how many decisions
    # are open, never how many are conflicts: that count moves when the other vote disagrees.
    conflicts_shown = user is None or conflicts_hidden_from(user=user, review=review) is None
    for label, still_open in (
        ("title/abstract", boxes.title_abstract_open),
        ("full-text", boxes.full_text_open),
    ):
        pending = still_open.pending + (0 if conflicts_shown else still_open.conflicts)
        if pending:
            warnings.append(f"{pending} {label} decisions are still open.")
        if conflicts_shown and still_open.conflicts:
            warnings.append(f"{still_open.conflicts} {label} conflicts await resolution.")
    issues = prisma.check_consistency(counts, warnings=warnings)
    return PrismaReport(counts=counts, issues=issues, warnings=warnings)


def studies_included(review: Review) -> int:
    """The dashboard's count: studies included (one per included report until extraction)."""
    return included_records(review=review).count()
