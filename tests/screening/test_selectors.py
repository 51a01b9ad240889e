"""Screening's reads: blinding, the vote export, progress counts, agreement, and primary records
only."""

from __future__ import annotations

import pytest

from reporting import exports
from screening import selectors, services
from screening.constants import Stage
from tests.conftest import client_for

from .factories import reason, ta_items, vote

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
    # The diagram, the dashboard and the progress count the records decided, alike.
    boxes = selectors.screening_boxes(review)
    assert boxes.records_screened == 2 and boxes.records_excluded == 1
    assert boxes.reports_sought == 1
    assert selectors.records_screened(review) == 2 == progress.settled
    assert boxes.open_at(Stage.TITLE_ABSTRACT).open == 4 == progress.remaining


def test_agreement_counts_every_record_both_reviewers_voted_on(
    review, lead, reviewer_a, reviewer_b, records
):
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
    vote(reviewer_a, review, items[4], "include")  # one vote: no pair yet

    def check(report):
        # both yes 1, A yes/B no 1, both no 2: p_o = 3/4; A yes 2/4, B yes 1/4;
        # p_e = 0.5*0.25 + 0.5*0.75 = 0.5; kappa = (0.75 - 0.5)/0.5 = 0.5.
        assert report.records == 4
        (pair,) = report.pairs
        assert (pair.reviewer_a, pair.reviewer_b) == ("reviewer_a", "reviewer_b")
        assert pair.table.n == 4 and pair.kappa.kappa == pytest.approx(0.5)
        assert report.pooled.kappa == pytest.approx(0.5)
        assert report.pooled.percent_agreement == pytest.approx(75.0)
        assert report.fleiss is None

    # The conflict still open counts: it is a disagreement (kappa was 1.000 without it).
    check(selectors.stage_agreement(review, Stage.TITLE_ABSTRACT, user=lead))
    csv_text = "".join(exports.agreement_csv_rows(review, user=lead))
    assert "reviewer_a,reviewer_b,4,1,1,0,2,75.00,0.5000" in csv_text
    # A resolution changes no vote, so it changes nothing here.
    services.conflict_resolve(user=lead, review=review, item=items[2], decision="exclude")
    check(selectors.stage_agreement(review, Stage.TITLE_ABSTRACT, user=lead))
    check(selectors.stage_agreement(review, Stage.TITLE_ABSTRACT, user=reviewer_a))


def test_a_blinded_voter_s_agreement_does_not_move_when_the_other_vote_disagrees(
    review, lead, reviewer_a, reviewer_b, reviewer_c, records
):
    items = ta_items(review)
    vote(reviewer_a, review, items[0], "include")
    vote(reviewer_b, review, items[0], "include")
    vote(reviewer_a, review, items[1], "exclude")
    vote(reviewer_b, review, items[1], "exclude")
    vote(reviewer_a, review, items[2], "include")
    page = "/reviews/exercise/screening/agreement/"

    def seen_by(user):
        report = selectors.stage_agreement(review, Stage.TITLE_ABSTRACT, user=user)
        text = client_for(user).get(page).content.decode()
        return report, text[text.index("<h1") :]

    before, before_page = seen_by(reviewer_a)
    vote(reviewer_b, review, items[2], "exclude")  # a conflict A must not learn of
    after, after_page = seen_by(reviewer_a)
    assert after == before and after_page == before_page
    assert after.records == 2 and after.blinded
    assert "Screening is blinded" in after_page
    # The lead and a third reviewer, who may resolve it, count the conflict.
    for resolver in (lead, reviewer_c):
        assert selectors.stage_agreement(review, Stage.TITLE_ABSTRACT, user=resolver).records == 3
    # B's own agreement leaves it out too, and the API and CSV answer as the page does.
    assert selectors.stage_agreement(review, Stage.TITLE_ABSTRACT, user=reviewer_b).records == 2
    api = client_for(reviewer_a).get("/api/reviews/exercise/screening/title-abstract/agreement/")
    assert api.json()["records"] == 2
    csv_a = client_for(reviewer_a).get("/reviews/exercise/screening/agreement.csv")
    assert "reviewer_a,reviewer_b,2," in csv_a.content.decode()


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
    report = selectors.stage_agreement(review, Stage.TITLE_ABSTRACT, user=lead)
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


# --- Progress while people screen (issue 12) ----------------------------------------------------


def test_the_screening_counter_is_live(review, lead, reviewer_a, records):
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    items = ta_items(review)
    stage = Stage.TITLE_ABSTRACT
    assert selectors.my_progress(user=reviewer_a, review=review, stage=stage) == (
        selectors.MyProgress(voted=0, total=6, settled=0)
    )
    vote(reviewer_a, review, items[0], "include")
    vote(reviewer_a, review, items[1], "exclude")
    # At once, not some seconds later: the counter is shown with every record.
    assert selectors.my_progress(user=reviewer_a, review=review, stage=stage) == (
        selectors.MyProgress(voted=2, total=6, settled=2)
    )


def test_the_nothing_left_card_counts_the_reports_settled(review, lead, reviewer_a, records):
    from screening.fulltext import services as fulltext

    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    client = client_for(reviewer_a)
    page = "/reviews/exercise/screening/full-text/screen/"
    for item in ta_items(review):
        vote(reviewer_a, review, item, "include")
    assert "0 of 6 reports settled" in client.get(page).content.decode()
    ft = list(selectors_items(review, Stage.FULL_TEXT))
    fulltext.report_not_retrieved(user=lead, review=review, item=ft[0], reason="Out of print.")
    for n, item in enumerate(ft[1:]):
        fulltext.report_attach(user=lead, review=review, item=item, url="https://example.org/p")
        if n % 2:
            vote(reviewer_a, review, item, "exclude", reason=reason(review, Stage.FULL_TEXT).pk)
        else:
            vote(reviewer_a, review, item, "include")
    text = client.get(page).content.decode()
    assert "Nothing left for you to screen here" in text
    assert "5 of 6 reports settled" in text


def selectors_items(review, stage):
    from screening.models import ScreeningItem

    return ScreeningItem.objects.filter(review=review, stage=stage).order_by("pk")


def test_a_claim_on_a_report_marked_not_retrieved_holds_nothing(
    review, lead, reviewer_a, reviewer_b, records
):
    from screening.fulltext import services as fulltext

    items = ta_items(review)
    vote(reviewer_a, review, items[0], "include")
    vote(reviewer_b, review, items[0], "include")
    held = services.assignment_next(user=reviewer_a, review=review, stage=Stage.FULL_TEXT)
    ft = selectors_items(review, Stage.FULL_TEXT).get()
    assert held.pk == ft.pk
    progress = selectors.stage_progress(review, Stage.FULL_TEXT)
    assert progress.remaining == 1
    assert {r.username: r.open_claims for r in progress.reviewers}["reviewer_a"] == 1
    fulltext.report_not_retrieved(user=lead, review=review, item=ft, reason="Out of print.")
    progress = selectors.stage_progress(review, Stage.FULL_TEXT)
    # Nothing remains, and so nobody holds anything: the queue will not hand it back.
    assert progress.remaining == 0
    assert {r.username: r.open_claims for r in progress.reviewers}["reviewer_a"] == 0
    assert services.assignment_next(user=reviewer_a, review=review, stage=Stage.FULL_TEXT) is None
    page = client_for(lead).get("/reviews/exercise/screening/full-text/").content.decode()
    assert 'data-count="remaining">0<' in page
    assert '<td>reviewer_a</td><td class="num">0</td><td class="num">0</td>' in page


def test_a_stage_larger_than_the_live_limit_keeps_its_counter_totals_a_few_seconds(
    review, lead, reviewer_a, records, monkeypatch
):
    from django.core.cache import cache

    from screening.selectors import progress

    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    items = ta_items(review)
    stage = Stage.TITLE_ABSTRACT
    monkeypatch.setattr(progress, "COUNTER_LIVE_MAX", 5)  # six records: a large stage
    assert selectors.my_progress(user=reviewer_a, review=review, stage=stage).settled == 0
    vote(reviewer_a, review, items[0], "include")
    kept = selectors.my_progress(user=reviewer_a, review=review, stage=stage)
    assert (kept.voted, kept.settled) == (1, 0)  # the reviewer's own count is live
    cache.delete(f"screening:totals:{review.pk}:{stage}")  # COUNTER_TTL seconds later
    assert selectors.my_progress(user=reviewer_a, review=review, stage=stage).settled == 1


def test_the_stage_page_says_one_record_in_the_singular(review, lead, reviewer_a):
    from .factories import make_records

    make_records(review, 1)
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    vote(reviewer_a, review, ta_items(review)[0], "include")
    client = client_for(lead)
    ta = client.get("/reviews/exercise/screening/title-abstract/").content.decode()
    assert 'data-count="total">1</strong> record at this stage' in ta
    assert 'data-count="settled">1</strong> record screened (decided)' in ta
    ft = client.get("/reviews/exercise/screening/full-text/").content.decode()
    assert 'data-count="total">1</strong> report at this stage' in ft
    assert 'data-count="settled">0</strong> reports assessed (decided)' in ft
