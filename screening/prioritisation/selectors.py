"""Reads of prioritised screening for the pages and the API."""

from __future__ import annotations

from reviews.models import Review
from screening.models import ScreeningItem
from screening.prioritisation.models import RankingMode, RankingModel


def why_ranked(review: Review, item: ScreeningItem) -> list[str]:
    """The terms that put ``item`` high in the queue, as of the last training (none when
    ranking is off or the item is not among the first records ranked)."""
    state = RankingModel.objects.filter(review=review).only("mode", "why").first()
    if state is None or state.mode != RankingMode.MODEL:
        return []
    return list(state.why.get(str(item.pk), []))
