"""Who may do what in screening, and what blinding lets each person see.

Every page, API answer and export asks here, so that blinding is applied in one place.
"""

from __future__ import annotations

from reviews.access import has_role, roles_of
from reviews.constants import Role
from reviews.models import Review
from screening.constants import ItemStatus, ResolverPolicy
from screening.models import ScreeningItem, Vote
from screening.selectors.settings import settings_for


def can_screen(*, user, review: Review) -> bool:
    return has_role(user=user, review=review, roles=[Role.REVIEWER])


def may_resolve_some(*, user, review: Review) -> bool:
    """Whether the user may resolve any conflict at all (to show the conflict queue)."""
    held = roles_of(user=user, review=review)
    if Role.LEAD in held:
        return True
    policy = settings_for(review).resolvers
    return policy != ResolverPolicy.LEADS and Role.REVIEWER in held


def may_resolve(
    *, user, review: Review, item: ScreeningItem, voters: set[int] | None = None
) -> bool:
    """Whether ``user`` may resolve ``item``'s conflict under the review's policy."""
    held = roles_of(user=user, review=review)
    if Role.LEAD in held:
        return True
    if Role.REVIEWER not in held:
        return False
    policy = settings_for(review).resolvers
    if policy == ResolverPolicy.ANY:
        return True
    if policy == ResolverPolicy.THIRD:
        if voters is None:
            voters = set(item.votes.values_list("reviewer_id", flat=True))
        return user.pk not in voters
    return False


def votes_visible(*, user, review: Review, item: ScreeningItem) -> bool:
    """Whether ``user`` may see other reviewers' votes and notes on ``item``.

    While the review is blinded, nobody sees another reviewer's vote until the record is
    settled, except a person allowed to resolve it while it is in conflict. The record's status
    is not shown to its voters either (with two reviewers, "in conflict" would give the other
    vote away).
    """
    if not settings_for(review).blinded:
        return True
    if item.is_settled or item.status == ItemStatus.NOT_RETRIEVED:
        return True
    if item.status == ItemStatus.CONFLICT:
        return may_resolve(user=user, review=review, item=item)
    return False


def visible_votes(*, user, review: Review, item: ScreeningItem) -> list[Vote]:
    """The votes on ``item`` that ``user`` may see: their own, or all when not blinded to them."""
    votes = item.votes.select_related("reviewer", "reason").order_by("created_at", "pk")
    if votes_visible(user=user, review=review, item=item):
        return list(votes)
    return [v for v in votes if v.reviewer_id == user.pk]


def status_visible(*, user, review: Review, item: ScreeningItem) -> str:
    """The item's status as ``user`` may see it (pending and conflict look alike to voters)."""
    if item.status == ItemStatus.CONFLICT and not votes_visible(
        user=user, review=review, item=item
    ):
        return ItemStatus.PENDING
    return item.status
