"""Screening services: votes, the settle/conflict rules end to end, blinding, assignment,
resolution, reasons, full texts and bad input."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from core.models import AuditEvent
from screening import selectors, services
from screening.constants import ItemStatus, Stage, VoteAction
from screening.models import (
    Assignment,
    ExclusionReason,
    FullTextReport,
    ScreeningItem,
    Vote,
    VoteEvent,
)

from .factories import make_records, ta_items

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def vote(user, review, item, decision, **kw):
    return services.vote_cast(user=user, review=review, item=item, decision=decision, **kw)


def status(item) -> str:
    item.refresh_from_db()
    return item.status


def reason(review, stage=Stage.TITLE_ABSTRACT, n=0):
    return selectors.reasons_for(review, stage)[n]


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
    item = _full_text_item(review, lead, reviewer_a, reviewer_b)
    vote(reviewer_a, review, item, "exclude", reason=reason(review, Stage.FULL_TEXT, 0).pk)
    vote(reviewer_b, review, item, "exclude", reason=reason(review, Stage.FULL_TEXT, 1).pk)
    assert status(item) == "conflict"


def test_full_text_exclusion_with_the_same_reason_settles_with_it(
    review, lead, reviewer_a, reviewer_b, records
):
    item = _full_text_item(review, lead, reviewer_a, reviewer_b)
    why = reason(review, Stage.FULL_TEXT, 2)
    vote(reviewer_a, review, item, "exclude", reason=why.pk)
    vote(reviewer_b, review, item, "exclude", reason=why.pk, note="No comparator at all.")
    item.refresh_from_db()
    assert (item.status, item.final_reason) == ("excluded", why)
    assert selectors.prisma_counts(review)["reports_excluded"] == [(why.label, 1)]


def _full_text_item(review, lead, reviewer_a, reviewer_b) -> ScreeningItem:
    ta = ta_items(review)[0]
    vote(reviewer_a, review, ta, "include")
    vote(reviewer_b, review, ta, "include")
    ft = ScreeningItem.objects.get(record=ta.record, stage=Stage.FULL_TEXT)
    services.report_attach(user=lead, review=review, item=ft, url="https://example.org/paper.pdf")
    return ft


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


def test_changing_a_vote_in_conflict_can_settle_it(review, reviewer_a, reviewer_b, records):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude")
    assert status(item) == "conflict"
    vote(reviewer_b, review, item, "include")
    assert status(item) == "included"


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


def test_undo_of_a_vote_in_conflict_returns_the_record_to_pending(
    review, reviewer_a, reviewer_b, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude")
    services.vote_undo(user=reviewer_b, review=review, stage=Stage.TITLE_ABSTRACT)
    assert status(item) == "pending"


# --- Blinding ----------------------------------------------------------------------------------


def test_blinded_reviewers_see_only_their_own_vote_until_settled(
    review, lead, reviewer_a, reviewer_b, reviewer_c, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include", note="A's note")
    vote(reviewer_b, review, item, "exclude", note="B's note")
    item.refresh_from_db()
    seen_by_a = selectors.visible_votes(user=reviewer_a, review=review, item=item)
    assert [v.reviewer for v in seen_by_a] == [reviewer_a]
    # A voter does not even learn that the record is in conflict.
    assert selectors.status_visible(user=reviewer_a, review=review, item=item) == "pending"
    # The lead and a reviewer who did not vote may resolve, so they see every vote.
    assert len(selectors.visible_votes(user=lead, review=review, item=item)) == 2
    assert len(selectors.visible_votes(user=reviewer_c, review=review, item=item)) == 2
    assert selectors.conflicts_for(user=reviewer_a, review=review, stage="title_abstract") == []
    services.conflict_resolve(user=reviewer_c, review=review, item=item, decision="include")
    item.refresh_from_db()
    assert len(selectors.visible_votes(user=reviewer_a, review=review, item=item)) == 2


def test_without_blinding_reviewers_see_each_other(review, lead, reviewer_a, reviewer_b, records):
    services.settings_update(actor=lead, review=review, blinded=False)
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    item.refresh_from_db()
    assert len(selectors.visible_votes(user=reviewer_b, review=review, item=item)) == 1


def test_the_audit_log_never_holds_a_blinded_decision(review, reviewer_a, records):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "exclude", note="secret")
    event = AuditEvent.objects.filter(verb="voted").get()
    assert "exclude" not in str(event.changes) and "secret" not in str(event.changes)
    assert "exclude" not in event.object_repr


def test_the_vote_export_is_blinded_row_by_row(review, lead, reviewer_a, reviewer_b, records):
    first, second = ta_items(review)[:2]
    vote(reviewer_a, review, first, "include", note="a-note-1")
    vote(reviewer_b, review, first, "exclude", note="b-note-1")  # conflict
    vote(reviewer_b, review, second, "exclude", note="b-note-2")  # pending
    text_a = "".join(
        selectors.votes_csv_rows(user=reviewer_a, review=review, stage="title_abstract")
    )
    assert "a-note-1" in text_a and "b-note" not in text_a
    text_lead = "".join(selectors.votes_csv_rows(user=lead, review=review, stage="title_abstract"))
    assert "b-note-1" in text_lead  # in conflict: the lead resolves
    assert "b-note-2" not in text_lead  # pending: blinded even for the lead


# --- Resolution --------------------------------------------------------------------------------


def test_a_resolution_records_who_and_when_and_moves_an_include_on(
    review, lead, reviewer_a, reviewer_b, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "maybe")
    resolution = services.conflict_resolve(
        user=lead, review=review, item=item, decision="include", note="Worth a look"
    )
    item.refresh_from_db()
    assert item.status == "included" and item.settled_at is not None
    assert resolution.resolved_by == lead and resolution.resolved_at is not None
    assert ScreeningItem.objects.filter(record=item.record, stage=Stage.FULL_TEXT).exists()
    with pytest.raises(ValidationError, match="not in conflict"):
        services.conflict_resolve(user=lead, review=review, item=item, decision="exclude")


def test_voters_may_not_resolve_their_own_conflict_by_default(
    review, lead, reviewer_a, reviewer_b, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude")
    with pytest.raises(PermissionDenied):
        services.conflict_resolve(user=reviewer_a, review=review, item=item, decision="include")
    services.settings_update(actor=lead, review=review, resolvers="leads")
    assert not selectors.may_resolve_some(user=reviewer_a, review=review)
    services.settings_update(actor=lead, review=review, resolvers="any")
    services.conflict_resolve(user=reviewer_a, review=review, item=item, decision="include")
    assert status(item) == "included"


def test_a_resolution_to_exclude_needs_a_reason_where_required(
    review, lead, reviewer_a, reviewer_b, records
):
    item = _full_text_item(review, lead, reviewer_a, reviewer_b)
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude", reason=reason(review, Stage.FULL_TEXT).pk)
    with pytest.raises(ValidationError, match="reason"):
        services.conflict_resolve(user=lead, review=review, item=item, decision="exclude")
    with pytest.raises(ValidationError):
        services.conflict_resolve(user=lead, review=review, item=item, decision="maybe")
    assert status(item) == "conflict"


# --- Assignment --------------------------------------------------------------------------------


def test_assignment_never_shows_a_record_twice_and_fills_each_record(
    review, reviewer_a, reviewer_b, reviewer_c, records
):
    ta_items(review)
    seen: dict[str, list[int]] = {}
    for _ in range(len(records)):
        for user in (reviewer_a, reviewer_b, reviewer_c):
            item = services.assignment_next(user=user, review=review, stage="title_abstract")
            if item is None:
                continue
            seen.setdefault(user.username, []).append(item.pk)
            vote(user, review, item, "include")
    for pks in seen.values():
        assert len(pks) == len(set(pks))
    assert sum(len(p) for p in seen.values()) == 2 * len(records)
    for item in ScreeningItem.objects.filter(stage="title_abstract"):
        assert item.claims == 2 and item.votes.count() == 2
    for user in (reviewer_a, reviewer_b, reviewer_c):
        assert services.assignment_next(user=user, review=review, stage="title_abstract") is None


def test_a_reload_gives_the_same_record_and_a_preload_the_next(review, reviewer_a, records):
    ta_items(review)
    first = services.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    again = services.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    following = services.assignment_next(
        user=reviewer_a, review=review, stage="title_abstract", exclude=[first.pk]
    )
    assert again.pk == first.pk and following.pk != first.pk
    assert Assignment.objects.filter(reviewer=reviewer_a, voted_at__isnull=True).count() == 2


def test_the_last_slot_goes_to_one_reviewer_only(
    review, lead, reviewer_a, reviewer_b, reviewer_c, records
):
    """Two reviewers who both saw the last free slot: the conditional claim lets one through."""
    services.settings_update(actor=lead, review=review, reviewers_per_record=2)
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")  # one slot of two left
    # Both reviewers found the item with one free slot, as if they asked at once; the claim,
    # a conditional UPDATE under the row lock, lets only the first through.
    assert services._claim(review, item.pk, reviewer_b, "title_abstract", 2) is not None
    assert services._claim(review, item.pk, reviewer_c, "title_abstract", 2) is None
    item.refresh_from_db()
    assert item.claims == 2
    assert set(
        Assignment.objects.filter(item=item).values_list("reviewer__username", flat=True)
    ) == {
        "reviewer_a",
        "reviewer_b",
    }


def test_stale_claims_are_handed_on(review, lead, reviewer_a, reviewer_b, reviewer_c, records):
    from datetime import timedelta

    from django.utils import timezone

    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    items = ta_items(review)
    for _ in items:
        services.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    Assignment.objects.update(claimed_at=timezone.now() - timedelta(days=1))
    # Reviewer A holds at most a few claims; B gets the rest, then A's stale ones.
    got = []
    while nxt := services.assignment_next(user=reviewer_b, review=review, stage="title_abstract"):
        got.append(nxt.pk)
        vote(reviewer_b, review, nxt, "exclude")
    assert sorted(got) == [i.pk for i in items]


def test_a_viewer_cannot_screen(review, viewer, records):
    item = ta_items(review)[0]
    with pytest.raises(PermissionDenied):
        services.assignment_next(user=viewer, review=review, stage="title_abstract")
    with pytest.raises(PermissionDenied):
        vote(viewer, review, item, "include")
    assert not Vote.objects.exists()


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
    item = _full_text_item(review, lead, reviewer_a, reviewer_b)
    with pytest.raises(ValidationError, match="reason"):
        vote(reviewer_a, review, item, "exclude")
    assert not Vote.objects.filter(item=item).exists()


def test_a_reason_is_optional_at_title_abstract_unless_required(review, lead, reviewer_a, records):
    first, second = ta_items(review)[:2]
    vote(reviewer_a, review, first, "exclude")
    services.settings_update(actor=lead, review=review, reasons_title_abstract="required")
    with pytest.raises(ValidationError, match="reason"):
        vote(reviewer_a, review, second, "exclude")


@pytest.mark.parametrize(
    "values",
    [
        {"reviewers_per_record": 4},
        {"reviewers_per_record": 0},
        {"reviewers_per_record": "two"},
        {"reviewers_per_record": True},
        {"blinded": "yes"},
        {"maybe_policy": "ignore"},
        {"resolvers": "anyone"},
        {"include_keywords": "<img src=x onerror=alert(1)>"},
        {"exclude_keywords": "\n".join(f"word{i}" for i in range(201))},
        {"colour": "red"},
    ],
)
def test_bad_settings_are_refused(review, lead, values):
    with pytest.raises(ValidationError):
        services.settings_update(actor=lead, review=review, **values)
    s = selectors.settings_for(review)
    assert (s.reviewers_per_record, s.blinded, s.include_keywords) == (2, True, "")


def test_only_a_lead_changes_settings(review, reviewer_a):
    with pytest.raises(PermissionDenied):
        services.settings_update(actor=reviewer_a, review=review, blinded=False)


def test_lowering_the_reviewers_needed_settles_waiting_records(review, lead, reviewer_a, records):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    assert status(item) == "pending"
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    assert status(item) == "included"


# --- Reasons -----------------------------------------------------------------------------------


def test_reasons_are_seeded_ordered_and_editable(review, lead, reviewer_a, records):
    ta_items(review)
    labels = [r.label for r in selectors.reasons_for(review, Stage.FULL_TEXT)]
    assert labels[0] == "Wrong population" and len(labels) >= 5
    added = services.reason_add(
        actor=lead, review=review, stage="title_abstract", label=" Animal  study "
    )
    assert added.label == "Animal study"
    with pytest.raises(ValidationError, match="already"):
        services.reason_add(actor=lead, review=review, stage="title_abstract", label="animal study")
    services.reason_move(actor=lead, review=review, reason=added, offset=-1)
    order = [r.label for r in selectors.reasons_for(review, Stage.TITLE_ABSTRACT)]
    assert order[-2] == "Animal study"
    services.reason_update(actor=lead, review=review, reason=added, label="Animals only")
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "exclude", reason=added.pk)
    with pytest.raises(ValidationError, match="retire"):
        services.reason_delete(actor=lead, review=review, reason=added)
    services.reason_update(actor=lead, review=review, reason=added, active=False)
    assert added not in selectors.reasons_for(review, Stage.TITLE_ABSTRACT)
    assert Vote.objects.get(item=item).reason.label == "Animals only"
    with pytest.raises(PermissionDenied):
        services.reason_add(actor=reviewer_a, review=review, stage="title_abstract", label="X")


# --- Full texts --------------------------------------------------------------------------------


def _ft(review, lead, reviewer_a, reviewer_b):
    ta = ta_items(review)[0]
    vote(reviewer_a, review, ta, "include")
    vote(reviewer_b, review, ta, "include")
    return ScreeningItem.objects.get(record=ta.record, stage=Stage.FULL_TEXT)


def test_a_pdf_is_checked_and_stored_through_storage(review, lead, reviewer_a, reviewer_b, records):
    item = _ft(review, lead, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("../../etc/passwd.pdf", PDF, content_type="application/pdf")
    report = services.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert report.file.name.startswith(f"fulltext/review-{review.pk}/")
    assert ".." not in report.file.name
    assert report.file.read() == PDF and report.size == len(PDF)
    vote(reviewer_a, review, item, "include")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "not a PDF"),
        (b"MZ\x90\x00" + b"\x00" * 100, "not a PDF"),
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused(
    review, lead, reviewer_a, reviewer_b, records, content, message
):
    item = _ft(review, lead, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("paper.pdf", content, content_type="application/pdf")
    with pytest.raises(ValidationError, match=message):
        services.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert not FullTextReport.objects.exists()


def test_an_oversized_pdf_is_refused(review, lead, reviewer_a, reviewer_b, records, monkeypatch):
    monkeypatch.setattr(services, "MAX_PDF_BYTES", 1000)
    item = _ft(review, lead, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 2000)
    with pytest.raises(ValidationError, match="limit"):
        services.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert not FullTextReport.objects.exists()


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://x.org/a.pdf", "not a url", "x" * 3000]
)
def test_a_bad_link_is_refused(review, lead, reviewer_a, reviewer_b, records, url):
    item = _ft(review, lead, reviewer_a, reviewer_b)
    with pytest.raises(ValidationError):
        services.report_attach(user=reviewer_a, review=review, item=item, url=url)
    assert not FullTextReport.objects.exists()


def test_a_full_text_vote_needs_the_report_and_not_retrieved_is_its_own_box(
    review, lead, reviewer_a, reviewer_b, records
):
    item = _ft(review, lead, reviewer_a, reviewer_b)
    with pytest.raises(ValidationError, match="Attach the full text"):
        vote(reviewer_a, review, item, "include")
    with pytest.raises(ValidationError):
        services.report_not_retrieved(user=reviewer_a, review=review, item=item, reason="  ")
    services.report_not_retrieved(
        user=reviewer_a, review=review, item=item, reason="Library could not obtain it"
    )
    assert status(item) == ItemStatus.NOT_RETRIEVED
    assert selectors.prisma_counts(review)["reports_not_retrieved"] == 1
    with pytest.raises(ValidationError, match="not retrieved"):
        vote(reviewer_a, review, item, "include")
    assert services.assignment_next(user=reviewer_a, review=review, stage="full_text") is None
    upload = SimpleUploadedFile("p.pdf", PDF)
    services.report_attach(user=reviewer_b, review=review, item=item, upload=upload)
    assert status(item) == ItemStatus.PENDING


def test_attachments_belong_to_full_text_items_only(review, lead, records):
    item = ta_items(review)[0]
    with pytest.raises(ValidationError, match="full-text"):
        services.report_attach(user=lead, review=review, item=item, url="https://example.org")


# --- Counts ------------------------------------------------------------------------------------


def test_progress_and_prisma_counts_are_queries(review, reviewer_a, reviewer_b, records):
    items = ta_items(review)
    vote(reviewer_a, review, items[0], "include")
    vote(reviewer_b, review, items[0], "include")
    vote(reviewer_a, review, items[1], "exclude")
    vote(reviewer_b, review, items[1], "exclude")
    vote(reviewer_a, review, items[2], "exclude")
    vote(reviewer_b, review, items[2], "include")
    progress = selectors.stage_progress(review, Stage.TITLE_ABSTRACT)
    assert (progress.total, progress.included, progress.excluded, progress.conflicts) == (
        6,
        1,
        1,
        1,
    )
    assert progress.pending == 3 and progress.untouched == 3
    assert {r.username: r.votes for r in progress.reviewers} == {"reviewer_a": 3, "reviewer_b": 3}
    counts = selectors.prisma_counts(review)
    assert counts["records_screened"] == 2 and counts["records_excluded"] == 1
    assert counts["reports_sought"] == 1
    assert selectors.records_screened(review) == 2


def test_agreement_uses_settled_records_only(review, lead, reviewer_a, reviewer_b, records):
    items = ta_items(review)
    plan = [
        ("include", "include"),
        ("exclude", "exclude"),
        ("include", "exclude"),
        ("exclude", "exclude"),
    ]
    for item, (a, b) in zip(items, plan, strict=False):
        vote(reviewer_a, review, item, a)
        vote(reviewer_b, review, item, b)
    report = selectors.stage_agreement(review, Stage.TITLE_ABSTRACT)
    assert report.records == 3  # the conflict is left out until resolved
    services.conflict_resolve(user=lead, review=review, item=items[2], decision="exclude")
    report = selectors.stage_agreement(review, Stage.TITLE_ABSTRACT)
    # both yes 1, A yes/B no 1, both no 2: p_o = 3/4; A yes 2/4, B yes 1/4;
    # p_e = 0.5*0.25 + 0.5*0.75 = 0.5; kappa = (0.75 - 0.5)/0.5 = 0.5.
    (pair,) = report.pairs
    assert (pair.reviewer_a, pair.reviewer_b) == ("reviewer_a", "reviewer_b")
    assert pair.table.n == 4 and pair.kappa.kappa == pytest.approx(0.5)
    assert report.pooled.kappa == pytest.approx(0.5)
    assert report.fleiss is None
    csv_text = "".join(selectors.agreement_csv_rows(review))
    assert "reviewer_a,reviewer_b,4,1,1,0,2,75.00,0.5000" in csv_text


def test_fleiss_kappa_appears_when_more_than_two_screen(
    review, lead, reviewer_a, reviewer_b, reviewer_c, records
):
    services.settings_update(actor=lead, review=review, reviewers_per_record=3)
    items = ta_items(review)[:3]
    plan = [("include",) * 3, ("exclude",) * 3, ("include", "include", "exclude")]
    for item, decisions in zip(items, plan, strict=True):
        for user, d in zip((reviewer_a, reviewer_b, reviewer_c), decisions, strict=True):
            vote(user, review, item, d)
    services.conflict_resolve(user=lead, review=review, item=items[2], decision="include")
    report = selectors.stage_agreement(review, Stage.TITLE_ABSTRACT)
    # The matrix is [3,0], [0,3], [2,1]: kappa 0.55 (worked in test_stats).
    assert report.fleiss.kappa == pytest.approx(0.55)
    assert len(report.pairs) == 3


# --- Primary records (deduplication) ------------------------------------------------------------


def test_only_primary_records_are_screened(review, reviewer_a, records):
    from identification.models import Record

    first, second, third = records[:3]
    # Deduplication merges the second record into the first before screening starts...
    Record.objects.filter(pk=second.pk).update(duplicate_of=first)
    items = ta_items(review)
    assert second.pk not in {i.record_id for i in items}
    assert len(items) == len(records) - 1
    # ...and the third after it was given an item: it leaves the queue and the counts.
    Record.objects.filter(pk=third.pk).update(duplicate_of=first)
    review = type(review).objects.get(pk=review.pk)  # a fresh request
    shown = []
    while item := services.assignment_next(user=reviewer_a, review=review, stage="title_abstract"):
        shown.append(item.record_id)
        vote(reviewer_a, review, item, "include")
    assert second.pk not in shown and third.pk not in shown
    assert selectors.stage_progress(review, Stage.TITLE_ABSTRACT).total == len(records) - 2
