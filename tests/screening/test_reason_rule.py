"""Two exclusions with different reasons: one rule per stage, chosen on purpose and shown on the
screening settings page (issue 12). At title and abstract the votes agree whatever their
reasons, and the record keeps both (neither voter's reason silently stands for the other's); at
full text the reasons must match, because PRISMA 2020 reports each excluded report under one
reason."""

from __future__ import annotations

from reporting.selectors import prisma_report
from screening import selectors, services
from screening.constants import Stage
from tests.conftest import client_for

from .factories import full_text_item, reason, status, ta_items, vote

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


def test_title_abstract_exclusions_agree_whatever_their_reasons_and_keep_both(
    review, lead, reviewer_a, reviewer_b, records
):
    items = ta_items(review)
    first, second, third = (reason(review, TA, n) for n in range(3))
    vote(reviewer_a, review, items[0], "exclude", reason=second.pk)
    vote(reviewer_b, review, items[0], "exclude", reason=first.pk)
    vote(reviewer_a, review, items[1], "exclude", reason=third.pk)
    vote(reviewer_b, review, items[1], "exclude", reason=third.pk)
    assert status(items[0]) == status(items[1]) == "excluded"
    items[0].refresh_from_db()
    assert items[0].final_reason is None  # not the first voter's reason, silently
    joined = f"{first.label} / {second.label}"  # in the order of the list of reasons
    assert selectors.screening_boxes(review).records_excluded_reasons == (
        (joined, 1),
        (third.label, 1),
    )
    assert prisma_report(review=review).counts.records_excluded_reasons == (
        (joined, 1),
        (third.label, 1),
    )
    progress = selectors.stage_progress(review, TA)
    assert progress.excluded_by_reason == [(joined, 1), (third.label, 1)]
    page = client_for(lead).get("/reviews/exercise/screening/title-abstract/").content.decode()
    assert f"<td>{joined}</td>" in page
    # The votes export keeps each vote's own reason.
    votes_csv = b"".join(
        client_for(lead).get("/reviews/exercise/screening/title-abstract/votes.csv")
    ).decode()
    assert first.label in votes_csv and second.label in votes_csv


def test_the_title_abstract_rule_holds_when_reasons_are_required_there(
    review, lead, reviewer_a, reviewer_b, records
):
    services.settings_update(actor=lead, review=review, reasons_title_abstract="required")
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "exclude", reason=reason(review, TA, 0).pk)
    vote(reviewer_b, review, item, "exclude", reason=reason(review, TA, 1).pk)
    assert status(item) == "excluded"


def test_full_text_exclusions_need_the_same_reason_even_where_reasons_are_optional(
    review, lead, reviewer_a, reviewer_b, records
):
    services.settings_update(actor=lead, review=review, reasons_full_text="optional")
    item = full_text_item(review, reviewer_a, reviewer_b, attached_by=lead)
    vote(reviewer_a, review, item, "exclude", reason=reason(review, FT, 0).pk)
    vote(reviewer_b, review, item, "exclude", reason=reason(review, FT, 1).pk)
    assert status(item) == "conflict"


def test_an_exclusion_without_a_reason_is_listed_as_no_reason_recorded(
    review, lead, reviewer_a, records
):
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    vote(reviewer_a, review, ta_items(review)[0], "exclude")
    assert selectors.stage_progress(review, TA).excluded_by_reason == [("No reason recorded", 1)]
    page = client_for(lead).get("/reviews/exercise/screening/title-abstract/").content.decode()
    assert "No reason recorded" in page and "No reason given" not in page


def test_the_settings_page_states_the_rule_of_each_stage(review, lead):
    page = client_for(lead).get("/reviews/exercise/screening/settings/").content.decode()
    assert "When two exclusions give different reasons" in page
    assert "The Exclude votes agree whatever their reasons" in page
    assert "The reasons must match. Different reasons make a conflict" in page
