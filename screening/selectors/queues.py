"""The conflict queue. (The screening queue is a write, a claim: ``screening.services.queue``.)"""

from __future__ import annotations

from reviews.models import Review
from screening.constants import ItemStatus
from screening.models import ScreeningItem
from screening.selectors.policy import may_resolve, participants_of


def conflicts_for(*, user, review: Review, stage: str) -> list[ScreeningItem]:
    """Items in conflict at ``stage`` that ``user`` may resolve, oldest first, with their votes."""
    items = list(
        ScreeningItem.objects.of_review(review)
        .at(stage)
        .primary(review)
        .filter(status=ItemStatus.CONFLICT)
        .select_related("record")
        .prefetch_related("votes__reviewer", "votes__reason")
        .order_by("pk")[:500]
    )
    result = []
    voters = participants_of(items)
    for item in items:
        if may_resolve(user=user, review=review, item=item, voters=voters[item.pk]):
            result.append(item)
    return result
