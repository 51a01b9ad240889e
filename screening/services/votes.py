"""Votes: cast, change, withdraw and undo, each settling the record or making a conflict when
it has all the votes it needs (the rules in ``screening/rules.py``, applied by ``_status``).

A vote on a record in conflict may still be changed or withdrawn (and cast again): refusing
would tell a blinded voter that the other vote disagrees. The record stays in conflict
whatever the votes become, and only a resolution settles it (see ``_status.evaluate``).

Only primary records are screened: a vote on a record merged into another as its duplicate is
refused (a withdrawal is not, so a reviewer can still take such a vote back).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit_record
from core.text import clean_input_text
from reviews.access import require_role, scoped_get
from reviews.constants import ReviewStatus
from reviews.models import Review
from reviews.services import review_status_advance
from screening.constants import MAX_NOTE, Decision, ItemStatus, Stage, VoteAction
from screening.fulltext.models import FullTextReport
from screening.models import Assignment, ScreeningItem, Vote, VoteEvent
from screening.prioritisation.services import schedule_retrain
from screening.selectors import settings_for
from screening.services._common import (
    SCREEN_ROLES,
    check_item,
    clean_decision,
    clean_reason,
    clean_stage,
    item_repr,
)
from screening.services._status import evaluate
from screening.services.queue import _claim

#: What a reviewer is told when the vote they mean to take back is gone already (another
#: request, a second tab or a double click, withdrew it first).
NOTHING_TO_UNDO = "Nothing to undo: that vote was already withdrawn (by another request)."


def _locked_open_item(
    review: Review, item: ScreeningItem | int, stage: str | None = None
) -> ScreeningItem:
    """The item, locked, if it belongs to ``review`` (404 otherwise) and is still open.

    Only the item's row is locked (``of``); ``merged_into`` is its record's ``duplicate_of``,
    read in the same query (see :func:`_refuse_merged`).
    """
    pk = item.pk if isinstance(item, ScreeningItem) else item
    items = ScreeningItem.objects.select_for_update(of=("self",)).annotate(
        merged_into=F("record__duplicate_of")
    )
    locked = scoped_get(items, review=review, pk=pk)
    check_item(review, locked, stage)
    if locked.status == ItemStatus.NOT_RETRIEVED:
        raise ValidationError(
            "This report is marked not retrieved; attach the full text first to assess it."
        )
    if not locked.is_open:
        raise ValidationError("This record is already settled; its votes can no longer change.")
    return locked


def _refuse_merged(locked: ScreeningItem) -> None:
    """A record merged into another as its duplicate is not screened: no vote on it."""
    if locked.merged_into is not None:
        raise ValidationError(
            f"This record was merged into record {locked.merged_into} as a duplicate, so it is "
            f"no longer screened; screen record {locked.merged_into} instead."
        )


def vote_cast(
    *,
    user,
    review: Review,
    item: ScreeningItem | int,
    decision: Any,
    reason: Any = None,
    note: Any = "",
    stage: str | None = None,
) -> Vote:
    """Cast or change ``user``'s vote on ``item``; settles the record or makes a conflict when
    it has all the votes it needs.

    ``item`` may be an id (with ``stage``): it is then fetched, scoped to the review, with the
    row lock the vote needs anyway, which saves a query on the busiest path of the app.
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    if isinstance(item, ScreeningItem):
        check_item(review, item, stage)
        item_stage = item.stage
    elif stage is None:
        raise TypeError("vote_cast needs the stage when given an item id")
    else:
        item_stage = clean_stage(stage)
    decision = clean_decision(decision)
    note = clean_input_text(note, field="note", max_length=MAX_NOTE)
    settings_obj = settings_for(review)
    # A reason only goes with Exclude; one sent along with another decision is dropped.
    reason_obj = clean_reason(review, item_stage, reason) if decision == Decision.EXCLUDE else None
    if (
        decision == Decision.EXCLUDE
        and reason_obj is None
        and settings_obj.reasons_required(item_stage)
    ):
        raise ValidationError(
            {"reason": "Choose a reason for excluding: this review requires one at this stage."}
        )
    try:
        return _vote_write(user, review, item, stage, decision, reason_obj, note, settings_obj)
    except IntegrityError:
        # Only a second request of the same reviewer on the same record at the same moment
        # gets here; the first one won and this one changed nothing.
        raise ValidationError(
            "This record changed while your vote was being saved; nothing was saved. Try again."
        ) from None


def _vote_write(user, review, item, stage, decision, reason_obj, note, settings_obj) -> Vote:
    with transaction.atomic():
        locked = _locked_open_item(review, item, stage)
        _refuse_merged(locked)
        if locked.stage == Stage.FULL_TEXT:
            report = FullTextReport.objects.filter(record_id=locked.record_id).first()
            if report is None or not report.is_available:
                raise ValidationError(
                    "Attach the full text (a PDF or a link) before assessing this report, "
                    "or mark it not retrieved."
                )
        # Mark the reviewer's claim voted; with no claim yet (a vote through the API on a
        # record never fetched), take a slot first if one is free.
        now = timezone.now()
        marked = Assignment.objects.filter(
            item=locked, reviewer=user, voted_at__isnull=True
        ).update(voted_at=now)
        if not marked and not Assignment.objects.filter(item=locked, reviewer=user).exists():
            required = settings_obj.reviewers_per_record
            assignment = _claim(review, locked.pk, user, locked.stage, required)
            if assignment is None:
                raise ValidationError(
                    "This record already has all the reviewers it needs; "
                    "it was passed to someone else."
                )
            Assignment.objects.filter(pk=assignment.pk).update(voted_at=now)
        # All the record's votes at once: this reviewer's (to change) and the rest (to decide).
        votes = list(locked.votes.order_by("created_at", "pk"))
        vote = next((v for v in votes if v.reviewer_id == user.pk), None)
        if vote is not None and (vote.decision, vote.reason_id, vote.note) == (
            decision,
            reason_obj.pk if reason_obj else None,
            note,
        ):
            return vote
        action = VoteAction.CHANGED if vote is not None else VoteAction.CAST
        if vote is None:
            vote = Vote(
                review=review,
                item=locked,
                record_id=locked.record_id,
                stage=locked.stage,
                reviewer=user,
            )
            votes.append(vote)
        vote.decision, vote.reason, vote.note = decision, reason_obj, note
        vote.save()
        VoteEvent.objects.create(
            review=review,
            item=locked,
            stage=locked.stage,
            reviewer=user,
            action=action,
            decision=decision,
            reason_label=reason_obj.label if reason_obj else "",
            note=note,
        )
        evaluate(locked, settings_obj, [(v.decision, v.reason_id) for v in votes])
        audit_record(
            actor=user,
            review=review,
            verb="voted" if action == VoteAction.CAST else "changed vote",
            obj=locked,
            object_repr=item_repr(locked),
            # No decision here: the audit log is not blinded (see ``screening.services``).
            changes={"stage": locked.stage, "record": locked.record_id},
        )
        # The review's status follows the work: a first vote means screening has begun.
        review_status_advance(
            review=review, status=ReviewStatus.SCREENING, actor=user, because="first vote cast"
        )
        if locked.stage == Stage.TITLE_ABSTRACT and locked.is_settled:
            schedule_retrain(review=review, actor=user)  # a job after commit, never waited for
    if isinstance(item, ScreeningItem):
        item.status = locked.status
    return vote


def vote_withdraw(*, user, review: Review, vote: Vote) -> ScreeningItem:
    """Take back ``user``'s own vote on a record that is not settled; the record returns to the
    front of their queue.

    Race-safe: the vote is read again under the item's lock, so of two requests withdrawing the
    same vote one does and the other is refused with :data:`NOTHING_TO_UNDO` (a
    ``ValidationError``: a 400, never a 500).
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    if vote.review_id != review.pk or vote.reviewer_id != user.pk:
        raise PermissionDenied("You can only withdraw your own votes.")
    with transaction.atomic():
        locked = _locked_open_item(review, vote.item_id)
        current = _own_vote(locked, user, pk=vote.pk)
        if current is None:
            raise ValidationError(NOTHING_TO_UNDO, code="nothing_to_undo")
        _withdraw(user, review, locked, current)
    return ScreeningItem.objects.select_related("record").get(pk=locked.pk)


def _own_vote(locked: ScreeningItem, user, *, pk: int) -> Vote | None:
    """``user``'s vote ``pk`` on the locked item, if it is still there."""
    return Vote.objects.select_related("reason").filter(pk=pk, item=locked, reviewer=user).first()


def _withdraw(user, review: Review, locked: ScreeningItem, vote: Vote) -> None:
    """Delete ``vote`` (read under ``locked``'s lock) with its history, audit and status."""
    VoteEvent.objects.create(
        review=review,
        item=locked,
        stage=locked.stage,
        reviewer=user,
        action=VoteAction.WITHDRAWN,
        decision=vote.decision,
        reason_label=vote.reason.label if vote.reason else "",
        note=vote.note,
    )
    vote.delete()
    # The claim stays (the slot is still theirs) and is open again; a fresh claim time
    # keeps it from being handed to someone else as stale.
    Assignment.objects.filter(item=locked, reviewer=user).update(
        voted_at=None, claimed_at=timezone.now()
    )
    evaluate(locked, settings_for(review))
    audit_record(
        actor=user,
        review=review,
        verb="withdrew vote",
        obj=locked,
        object_repr=item_repr(locked),
        changes={"stage": locked.stage, "record": locked.record_id},
    )


def _last_vote(review: Review, stage: str, user) -> Vote | None:
    """``user``'s most recent vote at ``stage`` (the one an undo takes back)."""
    return (
        Vote.objects.of_review(review)
        .at(stage)
        .filter(reviewer=user)
        .select_related("item")
        .order_by("-updated_at", "-pk")
        .first()
    )


def vote_undo(*, user, review: Review, stage: str) -> ScreeningItem:
    """Withdraw ``user``'s most recent vote at ``stage`` and return its record.

    Race-safe: the last vote is found, its item locked, and the vote read again under the
    lock. If another request (a double click, a second tab) withdrew or replaced it meanwhile,
    this one changes nothing and says so (``ValidationError``, "Nothing to undo"): one undo
    request never takes back more than the one vote its reviewer saw as their last.
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    stage = clean_stage(stage)
    last = _last_vote(review, stage, user)
    if last is None:
        raise ValidationError("You have no vote to undo at this stage.", code="nothing_to_undo")
    if not last.item.is_open:
        raise ValidationError(
            "Your last vote has already settled its record, so it can no longer be undone."
        )
    with transaction.atomic():
        locked = _locked_open_item(review, last.item_id)
        current = _own_vote(locked, user, pk=last.pk)
        if current is None:
            raise ValidationError(NOTHING_TO_UNDO, code="nothing_to_undo")
        newest = _last_vote(review, stage, user)
        if newest is None or newest.pk != current.pk:
            raise ValidationError(
                "Nothing to undo: your votes changed while undoing (another request). "
                "Nothing was withdrawn; look at your latest votes and try again.",
                code="nothing_to_undo",
            )
        _withdraw(user, review, locked, current)
    return ScreeningItem.objects.select_related("record").get(pk=locked.pk)
