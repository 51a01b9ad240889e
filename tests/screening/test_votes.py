"""Votes: the settle/conflict rules end to end with one, two and three reviewers, one vote per
reviewer, changes and undo until the record settles, and bad votes refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.models import AuditEvent
from screening import selectors, services
from screening.constants import Stage, VoteAction
from screening.models import ExclusionReason, ScreeningItem, Vote, VoteEvent

from .factories import full_text_item, make_records, reason, status, ta_items, vote

# --- Settle and conflict, one, two and three reviewers ------------------------------------------


def test_with_one_reviewer_a_single_vote_settles(review, lead, reviewer_a, records):
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    first, second, third = ta_items(review)[:3]
    vote(reviewer_a, review, first, "include")
    vote(reviewer_a, review, second, "exclude")
    vote(reviewer_a, review, third, "maybe")
    assert [status(first), status(second), status(third)] == ["included", "excluded", "conflict"]
    # Include at title/abstract moves the record to full text.
    assert ScreeningItem.objects.filter(record=first.record, stage=Stage.FULL_TEXT).exists()
    assert not ScreeningItem.objects.filter(record=second.record, stage=Stage.FULL_TEXT).exists()


def test_with_one_reviewer_a_maybe_can_count_as_include(review, lead, reviewer_a, records):
    services.settings_update(
        actor=lead, review=review, reviewers_per_record=1, maybe_policy="include"
    )
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "maybe")
    assert status(item) == "included"


def test_with_two_reviewers_agreement_settles_and_disagreement_conflicts(
    review, reviewer_a, reviewer_b, records
):
    agree_in, agree_out, disagree, maybe = ta_items(review)[:4]
    for item, (a, b) in [
        (agree_in, ("include", "include")),
        (agree_out, ("exclude", "exclude")),
        (disagree, ("include", "exclude")),
        (maybe, ("maybe", "include")),
    ]:
        vote(reviewer_a, review, item, a)
        assert status(item) == "pending"
        vote(reviewer_b, review, item, b)
    assert [status(i) for i in (agree_in, agree_out, disagree, maybe)] == [
        "included",
        "excluded",
        "conflict",
        "conflict",
    ]


def test_with_three_reviewers_all_three_must_agree(
    review, lead, reviewer_a, reviewer_b, reviewer_c, records
):
    services.settings_update(actor=lead, review=review, reviewers_per_record=3)
    agreed, split = ta_items(review)[:2]
    for user in (reviewer_a, reviewer_b):
        vote(user, review, agreed, "exclude")
        vote(user, review, split, "include")
    assert status(agreed) == status(split) == "pending"
    vote(reviewer_c, review, agreed, "exclude")
    vote(reviewer_c, review, split, "exclude")
    assert (status(agreed), status(split)) == ("excluded", "conflict")


def test_a_fourth_vote_is_refused_when_three_are_needed(
    review, lead, reviewer_a, reviewer_b, reviewer_c, records
):
    services.settings_update(actor=lead, review=review, reviewers_per_record=2)
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude")
    with pytest.raises(ValidationError, match="already"):
        vote(reviewer_c, review, item, "include")
    assert Vote.objects.filter(item=item).count() == 2


def test_full_text_exclusions_with_different_reasons_are_a_conflict(
    review, lead, reviewer_a, reviewer_b, records
):
    item = full_text_item(review, reviewer_a, reviewer_b, attached_by=lead)
    vote(reviewer_a, review, item, "exclude", reason=reason(review, Stage.FULL_TEXT, 0).pk)
    vote(reviewer_b, review, item, "exclude", reason=reason(review, Stage.FULL_TEXT, 1).pk)
    assert status(item) == "conflict"


def test_full_text_exclusion_with_the_same_reason_settles_with_it(
    review, lead, reviewer_a, reviewer_b, records
):
    item = full_text_item(review, reviewer_a, reviewer_b, attached_by=lead)
    why = reason(review, Stage.FULL_TEXT, 2)
    vote(reviewer_a, review, item, "exclude", reason=why.pk)
    vote(reviewer_b, review, item, "exclude", reason=why.pk, note="No comparator at all.")
    item.refresh_from_db()
    assert (item.status, item.final_reason) == ("excluded", why)
    assert selectors.screening_boxes(review).reports_excluded_reasons == ((why.label, 1),)


# --- Votes: one per reviewer, changeable until settled, history kept ---------------------------


def test_the_database_refuses_a_second_vote_of_one_reviewer(review, reviewer_a, records):
    item = ta_items(review)[0]
    first = vote(reviewer_a, review, item, "include")
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(
            review=review,
            item=item,
            record=item.record,
            stage=item.stage,
            reviewer=reviewer_a,
            decision="exclude",
        )
    assert Vote.objects.get(item=item).pk == first.pk


def test_a_vote_changes_until_the_record_settles_and_its_history_is_kept(
    review, reviewer_a, reviewer_b, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_a, review, item, "exclude", note="Animals, not people")
    assert Vote.objects.get(item=item, reviewer=reviewer_a).decision == "exclude"
    vote(reviewer_b, review, item, "exclude")
    assert status(item) == "excluded"
    with pytest.raises(ValidationError, match="settled"):
        vote(reviewer_a, review, item, "include")
    history = list(VoteEvent.objects.filter(item=item).values_list("action", "decision"))
    assert history == [
        (VoteAction.CAST, "include"),
        (VoteAction.CHANGED, "exclude"),
        (VoteAction.CAST, "exclude"),
    ]


def test_changing_a_vote_in_conflict_keeps_it_in_conflict(review, reviewer_a, reviewer_b, records):
    # Only a resolution settles a conflict (issue 13): giving in to a blinded vote does not.
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude")
    assert status(item) == "conflict"
    vote(reviewer_b, review, item, "include")
    assert status(item) == "conflict"
    assert Vote.objects.get(item=item, reviewer=reviewer_b).decision == "include"


def test_undo_withdraws_the_last_vote_and_gives_the_record_back(
    review, reviewer_a, reviewer_b, records
):
    first, second = ta_items(review)[:2]
    vote(reviewer_a, review, first, "include")
    vote(reviewer_a, review, second, "exclude")
    undone = services.vote_undo(user=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    assert undone.pk == second.pk
    assert not Vote.objects.filter(item=second).exists()
    assert VoteEvent.objects.filter(item=second).last().action == VoteAction.WITHDRAWN
    nxt = services.assignment_next(user=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    assert nxt.pk == second.pk
    # A vote that settled its record cannot be undone.
    vote(reviewer_b, review, first, "include")
    with pytest.raises(ValidationError, match="settled"):
        services.vote_undo(user=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    assert status(first) == "included"


def test_undo_of_a_vote_in_conflict_keeps_the_record_in_conflict(
    review, reviewer_a, reviewer_b, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude")
    undone = services.vote_undo(user=reviewer_b, review=review, stage=Stage.TITLE_ABSTRACT)
    assert undone.pk == item.pk and status(item) == "conflict"
    assert not Vote.objects.filter(item=item, reviewer=reviewer_b).exists()
    # The record comes back to B's queue as after any undo.
    nxt = services.assignment_next(user=reviewer_b, review=review, stage=Stage.TITLE_ABSTRACT)
    assert nxt.pk == item.pk


def test_the_audit_log_never_holds_a_blinded_decision(review, reviewer_a, records):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "exclude", note="secret")
    event = AuditEvent.objects.filter(verb="voted").get()
    assert "exclude" not in str(event.changes) and "secret" not in str(event.changes)
    assert "exclude" not in event.object_repr


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decision": "delete"}, "Choose one of"),
        ({"decision": None}, "Choose one of"),
        ({"decision": "exclude", "reason": "'; DROP TABLE"}, "reason"),
        ({"decision": "exclude", "reason": 10**12}, "not on this stage"),
        ({"decision": "include", "note": "x" * 2001}, "At most 2000"),
        ({"decision": "include", "note": ["a list"]}, "Must be text"),
    ],
)
def test_bad_votes_are_refused_with_a_message_and_change_nothing(
    review, reviewer_a, records, kwargs, message
):
    item = ta_items(review)[0]
    with pytest.raises(ValidationError, match=message):
        services.vote_cast(user=reviewer_a, review=review, item=item, **kwargs)
    assert not Vote.objects.exists() and not VoteEvent.objects.exists()
    assert status(item) == "pending"


def test_a_reason_of_another_review_or_stage_is_refused(review, reviewer_a, outsider, records):
    from reviews.models import Review

    item = ta_items(review)[0]
    elsewhere = Review.objects.get(slug="elsewhere")
    make_records(elsewhere, 1)
    services.screening_prepare(review=elsewhere)
    foreign = ExclusionReason.objects.filter(review=elsewhere).first()
    full_text_reason = reason(review, Stage.FULL_TEXT)
    for bad in (foreign.pk, full_text_reason.pk):
        with pytest.raises(ValidationError, match="not on this stage"):
            vote(reviewer_a, review, item, "exclude", reason=bad)
    assert not Vote.objects.exists()


def test_a_vote_on_a_record_of_another_review_is_refused(review, reviewer_a, outsider, records):
    from reviews.models import Review

    elsewhere = Review.objects.get(slug="elsewhere")
    make_records(elsewhere, 1)
    foreign_item = ta_items(elsewhere)[0]
    with pytest.raises(ValidationError, match="another review"):
        vote(reviewer_a, review, foreign_item, "include")
    with pytest.raises(ValidationError, match="stage"):
        vote(reviewer_a, review, ta_items(review)[0], "include", stage="full_text")
    assert not Vote.objects.exists()


def test_full_text_exclusion_needs_a_reason(review, lead, reviewer_a, reviewer_b, records):
    item = full_text_item(review, reviewer_a, reviewer_b, attached_by=lead)
    with pytest.raises(ValidationError, match="reason"):
        vote(reviewer_a, review, item, "exclude")
    assert not Vote.objects.filter(item=item).exists()


def test_a_reason_is_optional_at_title_abstract_unless_required(review, lead, reviewer_a, records):
    first, second = ta_items(review)[:2]
    vote(reviewer_a, review, first, "exclude")
    services.settings_update(actor=lead, review=review, reasons_title_abstract="required")
    with pytest.raises(ValidationError, match="reason"):
        vote(reviewer_a, review, second, "exclude")
