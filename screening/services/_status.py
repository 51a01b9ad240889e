"""Writing an item's status: the one place that applies the settle/conflict rules to an item and
moves a record included at title and abstract on to full text.

Votes, resolutions, settings changes and full-text reports all change a status; each calls in
here, inside its own transaction with the item locked.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from screening import rules
from screening.constants import SETTLED_STATUSES, ItemStatus, MaybePolicy, Stage
from screening.models import ScreeningItem, ScreeningSettings

#: Whether two Exclude votes must give the same reason to agree, per stage: one rule per stage,
#: chosen on purpose and shown on the screening settings page. Full text: yes, because PRISMA
#: 2020 reports each excluded report under one reason, so different reasons make a conflict.
#: Title and abstract: no, the votes agree to exclude; the record keeps no single reason and
#: each vote keeps its own (``screening.selectors.boxes`` shows them together).
REASONS_MUST_AGREE = {Stage.TITLE_ABSTRACT: False, Stage.FULL_TEXT: True}

_STATUS_OF_OUTCOME = {
    rules.PENDING: ItemStatus.PENDING,
    rules.CONFLICT: ItemStatus.CONFLICT,
    rules.INCLUDED: ItemStatus.INCLUDED,
    rules.EXCLUDED: ItemStatus.EXCLUDED,
}


def evaluate(
    item: ScreeningItem,
    settings_obj: ScreeningSettings,
    votes: list[tuple[str, Any]] | None = None,
) -> rules.Outcome:
    """Apply the settle/conflict rules to a locked item and save what they say.

    ``votes`` are the item's (decision, reason id) pairs in the order cast, when the caller
    has them already.

    A record in conflict stays in conflict, whatever its votes become: only a resolution
    (``conflicts.conflict_resolve``) settles it. Were a changed or withdrawn vote able to
    settle it (or send it back to pending), a blinded voter could try the other decision
    and learn the other vote from the record settling, or end a disagreement by giving in
    to a vote they were not meant to see; and a refusal to change the vote would tell them
    of the conflict just the same. So the change is saved (the resolver sees it) and the
    record waits for its resolver.
    """
    # The votes are read and the status written whatever the item's state, a conflict
    # included: a blinded voter whose vote meets a disagreement must not be able to tell it
    # by the time the answer takes (tests/screening/test_blinding_timing.py).
    if votes is None:
        votes = list(item.votes.order_by("created_at", "pk").values_list("decision", "reason_id"))
    if item.status == ItemStatus.CONFLICT:
        set_status(item, ItemStatus.CONFLICT)
        return rules.Outcome(rules.CONFLICT, why="in conflict until resolved")
    outcome = rules.decide(
        [d for d, _ in votes],
        required=settings_obj.reviewers_per_record,
        maybe_is_include=settings_obj.maybe_policy == MaybePolicy.INCLUDE,
        reasons=[r for _, r in votes],
        reasons_must_agree=REASONS_MUST_AGREE[Stage(item.stage)],
    )
    set_status(item, _STATUS_OF_OUTCOME[outcome.status], reason_id=outcome.reason)
    return outcome


def set_status(item: ScreeningItem, status: str, *, reason_id: Any = None) -> None:
    # Written even when nothing changes (a first vote of several): skipping the write would
    # make a vote that opens a conflict measurably slower than one that leaves the record
    # waiting, and so tell a blinded voter that the other vote disagrees.
    item.status = status
    item.final_reason_id = reason_id if status == ItemStatus.EXCLUDED else None
    item.settled_at = timezone.now() if status in SETTLED_STATUSES else None
    item.save(update_fields=["status", "final_reason", "settled_at"])
    if status == ItemStatus.INCLUDED and item.stage == Stage.TITLE_ABSTRACT:
        # Included on title and abstract: the record moves on to full-text assessment.
        ScreeningItem.objects.get_or_create(
            record_id=item.record_id,
            stage=Stage.FULL_TEXT,
            defaults={"review_id": item.review_id},
        )
