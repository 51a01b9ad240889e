"""The ordered list of exclusion reasons of each stage, edited by a lead.

A reason that votes or decisions use is retired rather than deleted, so that they keep their
wording (see ``ExclusionReason``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from core.audit import audit_record
from core.text import clean_input_text
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review
from reviews.protocol.selectors import eligibility_criteria
from screening.constants import MAX_REASON_LABEL, MAX_REASONS
from screening.models import ExclusionReason, Resolution, ScreeningItem, Vote
from screening.services._common import clean_stage


def reason_add(*, actor, review: Review, stage: str, label: Any) -> ExclusionReason:
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    stage = clean_stage(stage)
    label = clean_input_text(label, field="label", max_length=MAX_REASON_LABEL, required=True)
    label = " ".join(label.split())
    with transaction.atomic():
        existing = ExclusionReason.objects.select_for_update().filter(review=review, stage=stage)
        if len(existing) >= MAX_REASONS:
            raise ValidationError({"label": f"At most {MAX_REASONS} reasons per stage."})
        if any(r.label.lower() == label.lower() for r in existing):
            raise ValidationError({"label": f"“{label}” is already on the list."})
        position = (existing.aggregate(m=Max("position"))["m"] or 0) + 1
        reason = ExclusionReason.objects.create(
            review=review, stage=stage, label=label, position=position
        )
        audit_record(
            actor=actor, review=review, verb="added exclusion reason", obj=reason,
            changes={"stage": stage, "label": label},
        )  # fmt: skip
    return reason


def reason_update(
    *, actor, review: Review, reason: ExclusionReason, label: Any = None, active: bool | None = None
) -> ExclusionReason:
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    if reason.review_id != review.pk:
        raise ValidationError("That reason belongs to another review.")
    changes: dict[str, list[Any]] = {}
    with transaction.atomic():
        reason = ExclusionReason.objects.select_for_update().get(pk=reason.pk)
        if label is not None:
            label = " ".join(
                clean_input_text(
                    label, field="label", max_length=MAX_REASON_LABEL, required=True
                ).split()
            )
            clash = (
                ExclusionReason.objects.filter(
                    review=review, stage=reason.stage, label__iexact=label
                )
                .exclude(pk=reason.pk)
                .exists()
            )
            if clash:
                raise ValidationError({"label": f"“{label}” is already on the list."})
            if label != reason.label:
                changes["label"] = [reason.label, label]
                reason.label = label
        if active is not None:
            if not isinstance(active, bool):
                raise ValidationError({"active": "Must be true or false."})
            if active != reason.active:
                changes["active"] = [reason.active, active]
                reason.active = active
        if changes:
            reason.save()
            audit_record(
                actor=actor, review=review, verb="changed exclusion reason", obj=reason,
                changes=changes,
            )  # fmt: skip
    return reason


def reason_move(*, actor, review: Review, reason: ExclusionReason, offset: int) -> None:
    """Move a reason up (``offset=-1``) or down (``+1``) its stage's list."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    if reason.review_id != review.pk:
        raise ValidationError("That reason belongs to another review.")
    if offset not in (-1, 1):
        raise ValidationError("Move a reason one place up or down.")
    with transaction.atomic():
        siblings = list(
            ExclusionReason.objects.select_for_update()
            .filter(review=review, stage=reason.stage)
            .order_by("position", "pk")
        )
        index = next(i for i, r in enumerate(siblings) if r.pk == reason.pk)
        target = index + offset
        if not 0 <= target < len(siblings):
            return
        siblings[index], siblings[target] = siblings[target], siblings[index]
        for position, r in enumerate(siblings):
            if r.position != position:
                r.position = position
                r.save(update_fields=["position"])
        audit_record(
            actor=actor, review=review, verb="reordered exclusion reasons", obj=reason,
            changes={"stage": reason.stage, "order": [r.label for r in siblings]},
        )  # fmt: skip


def reason_delete(*, actor, review: Review, reason: ExclusionReason) -> None:
    """Delete an unused reason; a reason that votes or decisions use can only be retired."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    if reason.review_id != review.pk:
        raise ValidationError("That reason belongs to another review.")
    used = (
        Vote.objects.filter(reason=reason).count()
        + ScreeningItem.objects.filter(final_reason=reason).count()
        + Resolution.objects.filter(reason=reason).count()
    )
    if used:
        raise ValidationError(
            f"“{reason.label}” is used by {used} vote(s) or decision(s); retire it instead, "
            "so that they keep their reason."
        )
    with transaction.atomic():
        audit_record(
            actor=actor, review=review, verb="deleted exclusion reason", obj=reason,
            changes={"stage": reason.stage, "label": reason.label},
        )  # fmt: skip
        reason.delete()


def reasons_from_protocol(*, actor, review: Review, stage: str) -> list[ExclusionReason]:
    """One exclusion reason of ``stage`` per exclusion criterion of the current protocol that the
    list lacks (compared ignoring case), added at its end in the protocol's order; audited as
    one event. Returns the reasons added (none when every criterion is on the list already)."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    stage = clean_stage(stage)
    criteria = eligibility_criteria(review)
    if not criteria or not criteria["exclusion"]:
        raise ValidationError("The protocol lists no exclusion criteria to add.")
    added: list[ExclusionReason] = []
    with transaction.atomic():
        existing = list(
            ExclusionReason.objects.select_for_update().filter(review=review, stage=stage)
        )
        labels = {r.label.casefold() for r in existing}
        position = max((r.position for r in existing), default=0) + 1
        for criterion in criteria["exclusion"]:
            label = " ".join(criterion.split())[:MAX_REASON_LABEL]
            if not label or label.casefold() in labels:
                continue
            if len(existing) + len(added) >= MAX_REASONS:
                raise ValidationError(
                    f"At most {MAX_REASONS} reasons per stage; retire or delete some first."
                )
            added.append(
                ExclusionReason.objects.create(
                    review=review, stage=stage, label=label, position=position
                )
            )
            labels.add(label.casefold())
            position += 1
        if added:
            audit_record(
                actor=actor, review=review, verb="added exclusion reasons from the protocol",
                object_type="screening.exclusionreason", object_repr=f"{len(added)} reasons",
                changes={"stage": stage, "labels": [r.label for r in added],
                         "protocol_version": criteria["version"]},
            )  # fmt: skip
    return added
