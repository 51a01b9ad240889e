"""Screening's reads: blinding, the vote export, progress counts, agreement, and primary records
only."""

from __future__ import annotations

import pytest

from reporting import exports
from screening import selectors, services
from screening.constants import Stage

from .factories import ta_items, vote

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


def test_the_vote_export_is_blinded_row_by_row(review, lead, reviewer_a, reviewer_b, records):
    first, second = ta_items(review)[:2]
    vote(reviewer_a, review, first, "include", note="a-note-1")
    vote(reviewer_b, review, first, "exclude", note="b-note-1")  # conflict
    vote(reviewer_b, review, second, "exclude", note="b-note-2")  # pending
    text_a = "".join(exports.votes_csv_rows(user=reviewer_a, review=review, stage="title_abstract"))
    assert "a-note-1" in text_a and "b-note" not in text_a
    text_lead = "".join(exports.votes_csv_rows(user=lead, review=review, stage="title_abstract"))
    assert "b-note-1" in text_lead  # in conflict: the lead resolves
    assert "b-note-2" not in text_lead  # pending: blinded even for the lead


# --- Counts ------------------------------------------------------------------------------------


def test_progress_and_the_prisma_boxes_are_queries(review, reviewer_a, reviewer_b, records):
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
    # The diagram counts the records that entered a stage; the dashboard, those settled.
    boxes = selectors.screening_boxes(review)
    assert boxes.records_screened == 6 and boxes.records_excluded == 1
    assert boxes.reports_sought == 1
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
    csv_text = "".join(exports.agreement_csv_rows(review))
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
