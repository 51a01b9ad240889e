"""A review's screening settings and exclusion reasons, as screening reads them."""

from __future__ import annotations

from reviews.models import Review
from screening.keywords import Highlighter, build_highlighter
from screening.models import ExclusionReason, ScreeningSettings


def settings_for(review: Review) -> ScreeningSettings:
    """The review's screening settings; the defaults (unsaved) if none were saved yet."""
    cached = getattr(review, "_screening_settings_cache", None)
    if cached is not None:
        return cached
    found = ScreeningSettings.objects.filter(review=review).first()
    result = found or ScreeningSettings(review=review)
    review._screening_settings_cache = result  # type: ignore[attr-defined]
    return result


def reasons_for(review: Review, stage: str, *, active_only: bool = True) -> list[ExclusionReason]:
    qs = ExclusionReason.objects.filter(review=review, stage=stage)
    if active_only:
        qs = qs.filter(active=True)
    return list(qs.order_by("position", "pk"))


def highlighter_for(review: Review) -> Highlighter:
    s = settings_for(review)
    return build_highlighter(s.keywords("include"), s.keywords("exclude"))
