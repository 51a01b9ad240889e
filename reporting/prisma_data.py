"""PRISMA 2020 numbers counted from the review's data at the moment of asking.

Nothing here is a stored total: every box is a query over searches, records, duplicate clusters
and screening decisions. Only what no query can know (the "other methods" column and the
previous version of an updated review) comes from ``PrismaEntry``, typed in by a lead, and the
diagram marks those boxes as entered by hand.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from core.audit import audit_record
from identification.constants import SourceKind
from identification.models import Record, Search
from reporting import prisma
from reporting.models import PrismaEntry
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review


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


def _reasons(items) -> tuple[tuple[str, int], ...]:
    counter: Counter[str] = Counter()
    order: list[str] = []
    for label, position in items.values_list("final_reason__label", "final_reason__position"):
        label = label or "No reason recorded"
        if label not in counter:
            order.append((position if position is not None else 10**6, label))
        counter[label] += 1
    return tuple((label, counter[label]) for _, label in sorted(order))


def prisma_report(*, review: Review) -> PrismaReport:
    """Count every box, check the arithmetic, and say what is still unfinished."""
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
    for label, still_open in (
        ("title/abstract", boxes.title_abstract_open),
        ("full-text", boxes.full_text_open),
    ):
        if still_open.pending:
            warnings.append(f"{still_open.pending} {label} decisions are still open.")
        if still_open.conflicts:
            warnings.append(f"{still_open.conflicts} {label} conflicts await resolution.")
    issues = prisma.check_consistency(counts, warnings=warnings)
    return PrismaReport(counts=counts, issues=issues, warnings=warnings)


ENTRY_FIELDS = (
    "is_update",
    "previous_studies",
    "previous_reports",
    "websites",
    "organisations",
    "citation_searching",
    "other_sought",
    "other_not_retrieved",
    "other_assessed",
    "other_excluded",
    "other_included",
)


def prisma_entry_update(*, actor, review: Review, **values: Any) -> PrismaEntry:
    """Save the hand-entered PRISMA numbers (lead only)."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit the PRISMA entries")
    unknown = set(values) - set(ENTRY_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        if name == "is_update":
            if not isinstance(value, bool):
                raise ValidationError({name: "Must be true or false."})
        elif name == "other_excluded":
            if not isinstance(value, list) or not all(
                isinstance(r, list | tuple)
                and len(r) == 2
                and isinstance(r[0], str)
                and r[0].strip()
                and isinstance(r[1], int)
                and r[1] >= 0
                for r in value
            ):
                raise ValidationError({name: "Give one 'reason, number' per line."})
        elif value is not None and (not isinstance(value, int) or value < 0 or value > 10**9):
            raise ValidationError({name: "Must be a whole number, 0 or more."})
        elif value is None and name not in ("websites", "organisations", "citation_searching"):
            raise ValidationError({name: "This number is required."})
    with transaction.atomic():
        entry, _ = PrismaEntry.objects.select_for_update().get_or_create(review=review)
        changes = {}
        for name, value in values.items():
            if getattr(entry, name) != value:
                changes[name] = [getattr(entry, name), value]
                setattr(entry, name, value)
        entry.updated_by = actor
        entry.save()
        if changes:
            audit_record(
                actor=actor, review=review, verb="edited PRISMA entries", obj=entry, changes=changes
            )
    return entry


def studies_included(review: Review) -> int:
    """The dashboard's count: studies included (one per included report until extraction)."""
    from reporting.exports import included_records

    return included_records(review=review).count()
