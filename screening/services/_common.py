"""What every screening service shares: who may screen, and the cleaning of the input they all
take (a stage, a decision, an exclusion reason, an item of this review)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

from reviews.constants import Role
from reviews.models import Review
from screening.constants import Decision, Stage
from screening.models import ExclusionReason, ScreeningItem

SCREEN_ROLES = [Role.REVIEWER]


def clean_stage(stage: Any) -> str:
    if stage not in Stage.values:
        raise ValidationError({"stage": f"Unknown stage {str(stage)[:40]!r}."})
    return stage


def clean_decision(decision: Any, *, allowed: Iterable[str] = Decision.values) -> str:
    allowed = list(allowed)
    if not isinstance(decision, str) or decision not in allowed:
        raise ValidationError(
            {"decision": f"Choose one of {', '.join(allowed)} (got {str(decision)[:40]!r})."}
        )
    return decision


def clean_reason(review: Review, stage: str, reason: Any) -> ExclusionReason | None:
    """An active exclusion reason of this review and stage, from an id or an object."""
    if reason in (None, ""):
        return None
    if isinstance(reason, ExclusionReason):
        reason = reason.pk
    try:
        pk = int(reason)
    except (TypeError, ValueError):
        raise ValidationError({"reason": "Choose a reason from the list."}) from None
    found = ExclusionReason.objects.filter(pk=pk, review=review, stage=stage, active=True).first()
    if found is None:
        raise ValidationError({"reason": "That reason is not on this stage's list."})
    return found


def check_item(review: Review, item: ScreeningItem, stage: str | None) -> None:
    if item.review_id != review.pk:
        raise ValidationError("That record belongs to another review.")
    if stage is not None and item.stage != stage:
        raise ValidationError(
            f"That record is at the {Stage(item.stage).label.lower()} stage, not this one."
        )


def item_repr(item: ScreeningItem) -> str:
    """How an audit event names an item (never with a decision: see ``services/__init__``)."""
    return f"{Stage(item.stage).label}: record {item.record_id}"
