"""The conflict queue. (The screening queue is a write, a claim: ``screening.services.queue``.)"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from reviews.access import roles_of
from reviews.constants import Role
from reviews.models import Review
from screening.constants import ItemStatus, ResolverPolicy
from screening.models import ScreeningItem, Vote, VoteEvent
from screening.selectors.policy import may_resolve, may_resolve_some, participants_of
from screening.selectors.settings import settings_for


def conflicts_for(*, user, review: Review, stage: str) -> list[ScreeningItem]:
    """Items in conflict at ``stage`` that ``user`` may resolve, oldest first, with their votes.

    A third person's own conflicts are left out in the query, not after it: fetched and then
    dropped, they would cost the page work (their votes) that a record still waiting does not,
    and so tell a blinded voter by its time that the other vote disagrees
    (tests/screening/test_blinding_timing.py).
    """
    if not may_resolve_some(user=user, review=review):
        return []
    conflicts = (
        ScreeningItem.objects.of_review(review)
        .at(stage)
        .primary(review)
        .filter(status=ItemStatus.CONFLICT)
    )
    if settings_for(review).resolvers == ResolverPolicy.THIRD and Role.LEAD not in roles_of(
        user=user, review=review
    ):
        conflicts = conflicts.exclude(
            Exists(Vote.objects.filter(item=OuterRef("pk"), reviewer=user))
        ).exclude(Exists(VoteEvent.objects.filter(item=OuterRef("pk"), reviewer=user)))
    items = list(
        conflicts.select_related("record")
        .prefetch_related("votes__reviewer", "votes__reason")
        .order_by("pk")[:500]
    )
    result = []
    voters = participants_of(items)
    for item in items:
        if may_resolve(user=user, review=review, item=item, voters=voters[item.pk]):
            result.append(item)
    return result
