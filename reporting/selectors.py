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

from identification import rounds
from identification.constants import SourceKind
from identification.models import Record, Search
from reporting import prisma
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


def _identified(
    review: Review, round_number: int | None = None
) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """Records identified per database and per register, by name, in the order searched
    (of one update round's searches when ``round_number`` is given)."""
    per: dict[str, OrderedDict[str, int]] = {
        SourceKind.DATABASE: OrderedDict(),
        SourceKind.REGISTER: OrderedDict(),
    }
    searches = Search.objects.filter(review=review)
    if round_number is not None:
        searches = searches.filter(rounds.round_q(round_number, prefix=""))
    rows = (
        searches.annotate(n=Count("records"))
        .order_by("created_at", "pk")
        .values_list("kind", "database", "n")
    )
    for kind, name, n in rows:
        bucket = per[kind]
        bucket[name] = bucket.get(name, 0) + n
    return _named(per[SourceKind.DATABASE].items()), _named(per[SourceKind.REGISTER].items())


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def prisma_report(*, review: Review, user=None, round_number: int | None = None) -> PrismaReport:
    """Count every box, check the arithmetic, and say what is still unfinished.

    ``user``, when given, is the reader of the warnings: screening's blinding decides whether
    they may see how many records are in conflict. How many records a stage still has open is
    for everyone: a record awaiting votes and one in conflict are alike there.

    A review with update rounds (``identification.rounds``) gets the updated-review template
    for ``round_number`` (by default its latest round), counted from live data: the boxes of
    the round's own records, the studies and reports included from earlier rounds (the
    previous version), and the totals. Round 1 of such a review is a new review's diagram of
    the first searches. A ValueError names a round the review does not have.
    """
    from screening.selectors import screening_boxes, studies_included

    latest = rounds.current_round_number(review)
    number = latest if round_number is None else round_number
    if not 1 <= number <= latest:
        raise ValueError(f"This review has no round {number}.")
    records = Record.objects.filter(review=review)
    if latest > 1:
        records = records.filter(rounds.round_q(number))
    databases, registers = _identified(review, number if latest > 1 else None)
    duplicates = records.filter(duplicate_of__isnull=False).count()
    unique = records.filter(duplicate_of__isnull=True).count()

    # The screening boxes are screening's one count of them (screening/selectors/boxes.py): a
    # box counts the primary records (reports) whose decision is made (PRISMA 2020's meaning);
    # those still undecided are in no box and are named in the warnings beside the diagram, so
    # an unfinished stage shows as unfinished rather than as numbers that do not add up.
    boxes = screening_boxes(review, records=records if latest > 1 else None)
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
    # Studies and reports are counted apart (PRISMA 2020): the reports included at full text
    # are linked to their studies in data extraction (``screening.hooks.studies_included``);
    # a report nobody linked yet is a study of its own.
    new_studies = studies_included(review) + other_included
    new_reports = boxes.reports_included + other_included
    update = None
    if latest > 1:
        # Update rounds, counted live: a round's reports are its own; the previous version's
        # studies and reports are those the earlier rounds included (one study a report: which
        # reports are one study is known only for the review as a whole, whose total is
        # ``studies_included``).
        new_reports = boxes.reports_included + other_included
        earlier = Record.objects.filter(review=review).filter(rounds.earlier_q(number))
        previous = screening_boxes(review, records=earlier).reports_included if number > 1 else 0
        if number == latest:
            new_studies = max(studies_included(review) + other_included - previous, 0)
        else:
            new_studies = new_reports
        if number > 1:
            update = prisma.ReviewUpdate(
                previous_studies=previous,
                previous_reports=previous,
                total_studies=previous + new_studies,
                total_reports=previous + new_reports,
            )
    elif entry and entry.is_update:
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
    """The dashboard's count: studies included, as the diagram counts them (reports linked to
    their studies in data extraction; a report not linked yet is a study of its own)."""
    from screening.selectors import studies_included as counted

    return counted(review)
