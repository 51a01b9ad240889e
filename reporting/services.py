"""State changes of reporting: the PRISMA numbers a lead types in."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import audit_record
from reporting.models import PrismaEntry
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review

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
