"""Reads that more than one caller needs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from core.models import AuditEvent, Job
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


def jobs_of(*, review: Review) -> QuerySet[Job]:
    return Job.objects.filter(review=review).select_related("created_by")
