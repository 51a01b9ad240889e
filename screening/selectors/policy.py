"""Who may do what in screening, and what blinding lets each person see.

Every page, API answer and export asks here, so that blinding is applied in one place.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from reviews.access import has_role, roles_of
from reviews.constants import Role
from reviews.models import Review
from screening.constants import ItemStatus, ResolverPolicy
from screening.models import ScreeningItem, Vote, VoteEvent
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


def participants(item: ScreeningItem) -> set[int]:
    """Everyone who has voted on ``item``: its voters now, and those who withdrew a vote.

    A reviewer who voted and then withdrew is no "third person": they may have seen the record
    go to conflict and must not be able to open it (and the other vote) as a resolver.
    """
    now = set(item.votes.values_list("reviewer_id", flat=True))
    past = item.vote_events.filter(reviewer__isnull=False).values_list("reviewer_id", flat=True)
    return now | set(past)


def participants_of(items: list[ScreeningItem]) -> dict[int, set[int]]:
    """:func:`participants` of many items in one query (their votes are prefetched)."""
    found: dict[int, set[int]] = {i.pk: {v.reviewer_id for v in i.votes.all()} for i in items}
    events = VoteEvent.objects.filter(item__in=[i.pk for i in items], reviewer__isnull=False)
    for item_id, reviewer_id in events.values_list("item_id", "reviewer_id").distinct():
        found[item_id].add(reviewer_id)
    return found


def may_resolve(
    *, user, review: Review, item: ScreeningItem, voters: set[int] | None = None
) -> bool:
    """Whether ``user`` may resolve ``item``'s conflict under the review's policy.

    ``voters``: the item's :func:`participants`, when the caller has them already.
    """
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
            voters = participants(item)
        return user.pk not in voters
    return False


def conflicts_hidden_from(*, user, review: Review) -> Q | None:
    """Which records in conflict ``user`` must be shown as still awaiting votes, as a filter
    on items; ``None`` when the user sees every conflict as one.

    :func:`status_visible` for counts: a conflict is shown as a conflict only to whom its votes
    are visible (a lead, or a reviewer allowed to resolve it). To everyone else, a voter above
    all, it is a record still waiting, so that no count moves when the other vote comes in and
    disagrees (with two reviewers, "one more conflict" would give that vote away).
    """
    if not settings_for(review).blinded:
        return None
    held = roles_of(user=user, review=review)
    if Role.LEAD in held:
        return None
    policy = settings_for(review).resolvers
    if Role.REVIEWER in held and policy == ResolverPolicy.ANY:
        return None
    if Role.REVIEWER in held and policy == ResolverPolicy.THIRD:
        # A third person sees the conflicts of others; their own look like waiting records.
        voted = Vote.objects.filter(item=OuterRef("pk"), reviewer=user)
        withdrew = VoteEvent.objects.filter(item=OuterRef("pk"), reviewer=user)
        return Q(Exists(voted)) | Q(Exists(withdrew))
    return Q()  # may resolve none: every conflict looks like a record still waiting


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
    # Asked whatever the status, so that answering takes the same work for a record in
    # conflict as for one still waiting (tests/screening/test_blinding_timing.py).
    resolver = may_resolve(user=user, review=review, item=item)
    return item.status == ItemStatus.CONFLICT and resolver


def visible_votes(*, user, review: Review, item: ScreeningItem) -> list[Vote]:
    """The votes on ``item`` that ``user`` may see: their own, or all when not blinded to them."""
    votes = item.votes.select_related("reviewer", "reason").order_by("created_at", "pk")
    if votes_visible(user=user, review=review, item=item):
        return list(votes)
    return [v for v in votes if v.reviewer_id == user.pk]


def status_visible(*, user, review: Review, item: ScreeningItem) -> str:
    """The item's status as ``user`` may see it (pending and conflict look alike to voters)."""
    visible = votes_visible(user=user, review=review, item=item)  # asked in every state
    if item.status == ItemStatus.CONFLICT and not visible:
        return ItemStatus.PENDING
    return item.status
