"""Conflicts: a record whose votes disagree is settled by a person the review allows."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from core.audit import audit_record
from core.text import clean_input_text
from reviews.access import require_member
from reviews.models import Review
from screening.constants import MAX_NOTE, Decision, ItemStatus, ResolverPolicy, Stage
from screening.models import Resolution, ScreeningItem
from screening.prioritisation.services import schedule_retrain
from screening.selectors import may_resolve, settings_for
from screening.services._common import check_item, clean_decision, clean_reason, item_repr
from screening.services._status import set_status


def conflict_resolve(
    *,
    user,
    review: Review,
    item: ScreeningItem,
    decision: Any,
    reason: Any = None,
    note: Any = "",
    stage: str | None = None,
) -> Resolution:
    """Settle a record in conflict (by a lead, or a reviewer the review's policy allows)."""
    require_member(user=user, review=review)
    check_item(review, item, stage)
    decision = clean_decision(decision, allowed=[Decision.INCLUDE, Decision.EXCLUDE])
    note = clean_input_text(note, field="note", max_length=MAX_NOTE)
    settings_obj = settings_for(review)
    reason_obj = clean_reason(review, item.stage, reason) if decision == Decision.EXCLUDE else None
    if not may_resolve(user=user, review=review, item=item):
        policy = ResolverPolicy(settings_obj.resolvers).label.lower()
        raise PermissionDenied(f"In this review conflicts are resolved by: {policy}.")
    if (
        decision == Decision.EXCLUDE
        and reason_obj is None
        and settings_obj.reasons_required(item.stage)
    ):
        raise ValidationError({"reason": "Choose a reason for excluding this record."})
    with transaction.atomic():
        locked = (
            ScreeningItem.objects.select_for_update(of=("self",))
            .annotate(merged_into=F("record__duplicate_of"))
            .get(pk=item.pk)
        )
        if locked.status != ItemStatus.CONFLICT:
            raise ValidationError("This record is not in conflict (any more); nothing changed.")
        if locked.merged_into is not None:
            raise ValidationError(
                f"This record was merged into record {locked.merged_into} as a duplicate, so "
                "it is no longer screened; nothing changed."
            )
        resolution = Resolution.objects.create(
            item=locked, decision=decision, reason=reason_obj, note=note, resolved_by=user
        )
        status = ItemStatus.INCLUDED if decision == Decision.INCLUDE else ItemStatus.EXCLUDED
        set_status(locked, status, reason_id=reason_obj.pk if reason_obj else None)
        audit_record(
            actor=user,
            review=review,
            verb="resolved conflict",
            obj=locked,
            object_repr=item_repr(locked),
            changes={
                "stage": locked.stage,
                "record": locked.record_id,
                "decision": decision,
                "reason": reason_obj.label if reason_obj else "",
            },
        )
        if locked.stage == Stage.TITLE_ABSTRACT:
            schedule_retrain(review=review, actor=user)  # a job after commit, never waited for
    item.status = locked.status
    return resolution
