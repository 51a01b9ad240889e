"""Reads that more than one caller needs."""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from core.models import AuditEvent, Job
from core.spreadsheet import spreadsheet_safe
from reviews.constants import Role
from reviews.models import Membership, Review


def reviews_for_user(*, user) -> QuerySet[Review]:
    return Review.objects.for_user(user).annotate(
        member_count=Count("memberships__user", distinct=True)
    )


@dataclass(frozen=True)
class TeamMember:
    user_id: int
    username: str
    email: str
    full_name: str
    memberships: list[Membership]

    @property
    def roles(self) -> list[str]:
        return [m.role for m in self.memberships]


def team_of(*, review: Review) -> list[TeamMember]:
    """Members grouped by person, leads first, then by username."""
    grouped: OrderedDict[int, list[Membership]] = OrderedDict()
    rows = (
        Membership.objects.filter(review=review).select_related("user").order_by("user__username")
    )
    for m in rows:
        grouped.setdefault(m.user_id, []).append(m)
    order = {r: i for i, r in enumerate(Role.values)}
    team = []
    for memberships in grouped.values():
        memberships.sort(key=lambda m: order[m.role])
        u = memberships[0].user
        team.append(TeamMember(u.pk, u.get_username(), u.email, u.get_full_name(), memberships))
    team.sort(key=lambda t: (Role.LEAD not in t.roles, t.username.lower()))
    return team


def audit_events_of(*, review: Review) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(review=review).order_by("-created_at", "-pk")


AUDIT_CSV_COLUMNS = ["id", "when", "who", "verb", "object_type", "object_id", "object", "changes"]


def audit_csv_rows(*, review: Review) -> Iterator[str]:
    """The review's audit log as CSV text, streamed row by row, oldest first."""
    import json

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_CSV_COLUMNS)
    yield buffer.getvalue()
    events = audit_events_of(review=review).order_by("created_at", "pk")
    for event in events.iterator(chunk_size=2000):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                event.pk,
                event.created_at.isoformat(),
                spreadsheet_safe(event.actor_username or "system"),
                event.verb,
                event.object_type,
                event.object_id,
                spreadsheet_safe(event.object_repr),
                spreadsheet_safe(json.dumps(event.changes, ensure_ascii=False, sort_keys=True)),
            ]
        )
        yield buffer.getvalue()


def jobs_of(*, review: Review) -> QuerySet[Job]:
    return Job.objects.filter(review=review).select_related("created_by")
