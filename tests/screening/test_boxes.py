"""The screening boxes of the PRISMA 2020 diagram, counted once: the diagram, the full-text stage
page, the dashboard and the progress counts show the same numbers, those of
``selectors.screening_boxes``. A box counts the records (reports) whose decision is made; what is
still open is said beside the diagram."""

from __future__ import annotations

import re

import pytest

from identification.models import Record
from reporting.selectors import prisma_report
from reviews.models import Review
from screening import selectors, services
from screening.constants import Stage
from screening.fulltext import services as fulltext
from screening.models import ScreeningItem
from tests.conftest import client_for

from .factories import make_records, reason, ta_items, vote

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


@pytest.fixture
def screened(review, lead, reviewer_a, records) -> Review:
    """Ten records, one of them merged into another after it was screened.

    Title/abstract (one reviewer): three excluded (the second reason twice, the first once),
    four included, one Maybe in conflict, one not voted on. Full text: one report not
    retrieved, one excluded, one included and one attached but not yet assessed.
    """
    make_records(review, 4, prefix="More: ")
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    items = ta_items(review)
    first, second = reason(review, TA, 0), reason(review, TA, 1)
    plan = [
        ("exclude", second),
        ("exclude", first),
        ("exclude", second),
        ("include", None),
        ("include", None),
        ("include", None),
        ("include", None),
        ("maybe", None),
        (None, None),
        ("exclude", first),  # merged into the first record below: a duplicate removed
    ]
    for item, (decision, why) in zip(items, plan, strict=True):
        if decision:
            vote(reviewer_a, review, item, decision, reason=why.pk if why else None)
    Record.objects.filter(pk=items[9].record_id).update(duplicate_of=items[0].record_id)
    ft = list(ScreeningItem.objects.filter(review=review, stage=FT).order_by("pk"))
    fulltext.report_not_retrieved(user=lead, review=review, item=ft[0], reason="Not in print.")
    for item in ft[1:]:
        fulltext.report_attach(user=lead, review=review, item=item, url="https://example.org/p")
    vote(reviewer_a, review, ft[1], "exclude", reason=reason(review, FT, 3).pk)
    vote(reviewer_a, review, ft[2], "include")
    return Review.objects.get(pk=review.pk)


def test_the_boxes_count_the_decided_records_with_reasons_in_list_order(screened):
    boxes = selectors.screening_boxes(screened)
    first, second = reason(screened, TA, 0).label, reason(screened, TA, 1).label
    # Decided: three excluded and four included; the Maybe in conflict and the record not voted
    # on are still open, in no box.
    assert (boxes.records_screened, boxes.records_excluded) == (7, 3)
    # In the order of the stage's list of reasons, not by how often each was used.
    assert boxes.records_excluded_reasons == ((first, 1), (second, 2))
    # Four reports sought, one not retrieved, two decided; the fourth is not assessed yet.
    assert (boxes.reports_sought, boxes.reports_not_retrieved, boxes.reports_assessed) == (4, 1, 2)
    assert boxes.reports_excluded == 1
    assert boxes.reports_excluded_reasons == ((reason(screened, FT, 3).label, 1),)
    assert boxes.reports_included == 1
    assert boxes.open_at(TA) == selectors.OpenDecisions(pending=1, conflicts=1, entered=9)
    assert boxes.open_at(FT) == selectors.OpenDecisions(pending=1, conflicts=0, entered=4)
    assert (boxes.open_at(TA).open, boxes.open_at(FT).open) == (2, 1)


def test_the_prisma_diagram_shows_the_boxes_screening_counts(screened):
    boxes = selectors.screening_boxes(screened)
    report = prisma_report(review=screened)
    c = report.counts
    assert (
        c.records_screened,
        c.records_excluded,
        c.records_excluded_reasons,
        c.reports_sought,
        c.reports_not_retrieved,
        c.reports_assessed,
        c.reports_excluded,
        c.new_reports,
    ) == (
        boxes.records_screened,
        boxes.records_excluded,
        boxes.records_excluded_reasons,
        boxes.reports_sought,
        boxes.reports_not_retrieved,
        boxes.reports_assessed,
        boxes.reports_excluded_reasons,
        boxes.reports_included,
    )
    assert report.warnings == [
        "title/abstract screening: 2 of 9 records still open.",
        "1 title/abstract conflict awaits resolution.",
        "full-text assessment: 1 of 4 reports still open.",
    ]
    # The open records explain the boxes: no arithmetic error, and no blame on reports per
    # record (S1).
    assert [i.message for i in report.issues if i.code != "caller"] == []


def test_the_full_text_stage_page_shows_the_same_boxes(screened, lead):
    boxes = selectors.screening_boxes(screened)
    page = client_for(lead).get("/reviews/exercise/screening/full-text/").content.decode()
    shown = {k: int(v) for k, v in re.findall(r'data-box="(\w+)">(\d+)<', page)}
    assert shown == {
        "records_screened": boxes.records_screened,
        "records_excluded": boxes.records_excluded,
        "reports_sought": boxes.reports_sought,
        "reports_not_retrieved": boxes.reports_not_retrieved,
        "reports_assessed": boxes.reports_assessed,
        "reports_excluded": boxes.reports_excluded,
        "reports_included": boxes.reports_included,
    }
    assert f"{reason(screened, FT, 3).label} (n = 1)" in page
    # The title/abstract page has no boxes: they belong to the stage where the diagram ends.
    ta_page = client_for(lead).get("/reviews/exercise/screening/title-abstract/").content.decode()
    assert "data-box=" not in ta_page


def test_an_empty_review_has_empty_boxes(review):
    boxes = selectors.screening_boxes(review)
    assert boxes.records_screened == boxes.reports_sought == boxes.reports_assessed == 0
    assert boxes.records_excluded_reasons == boxes.reports_excluded_reasons == ()


# --- One definition per box, everywhere, and an unfinished stage said plainly (issue 12) -------


def test_before_any_vote_no_record_is_screened_and_the_page_says_what_is_open(
    review, lead, records
):
    ta_items(review)  # the records are imported and queued: nobody has voted
    report = prisma_report(review=review)
    assert report.counts.records_screened == 0
    assert report.counts.records_excluded == report.counts.reports_sought == 0
    assert report.warnings == ["title/abstract screening: 6 of 6 records still open."]
    assert [i for i in report.issues if i.severity == "error"] == []
    page = client_for(lead).get("/reviews/exercise/prisma/").content.decode()
    assert "title/abstract screening: 6 of 6 records still open." in page
    assert "Records screened (n = 6)" not in page


def test_a_full_text_stage_without_a_vote_has_no_report_assessed(review, lead, reviewer_a, records):
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    items = ta_items(review)
    for item in items[:3]:
        vote(reviewer_a, review, item, "include")
    for item in items[3:]:
        vote(reviewer_a, review, item, "exclude")
    report = prisma_report(review=review)
    c = report.counts
    assert (c.records_screened, c.records_excluded, c.reports_sought) == (6, 3, 3)
    assert (c.reports_assessed, c.reports_excluded, c.new_reports) == (0, (), 0)
    # The stage is unfinished, and that is what the page says: no arithmetic error between
    # the boxes (H5), no warning that records led to more or fewer reports (S1).
    assert report.warnings == ["full-text assessment: 3 of 3 reports still open."]
    assert [i.code for i in report.issues] == ["caller"]


def test_the_dashboard_the_progress_and_the_diagram_count_records_screened_alike(
    review, lead, reviewer_a, reviewer_b, records
):
    items = ta_items(review)
    for item in items[:2]:
        vote(reviewer_a, review, item, "include")
        vote(reviewer_b, review, item, "include")
    vote(reviewer_a, review, items[2], "exclude")
    vote(reviewer_b, review, items[2], "exclude")
    vote(reviewer_a, review, items[3], "include")
    vote(reviewer_b, review, items[3], "exclude")  # an open conflict: not screened yet
    vote(reviewer_a, review, items[4], "include")  # awaiting the second vote
    boxes = selectors.screening_boxes(review)
    assert boxes.records_screened == 3
    assert prisma_report(review=review).counts.records_screened == 3
    assert selectors.stage_progress(review, TA).settled == 3
    assert selectors.records_screened(review) == 3
    dashboard = client_for(lead).get("/reviews/exercise/").content.decode()
    assert re.search(r'data-stage="title_abstract">\s*<div class="stage-count"[^>]*>3<', dashboard)
    # Full text: two reports sought, none decided yet.
    assert (boxes.reports_sought, boxes.reports_assessed) == (2, 0)
    assert selectors.reports_assessed(review) == 0
    assert selectors.stage_progress(review, FT).settled == 0
    assert re.search(r'data-stage="full_text">\s*<div class="stage-count"[^>]*>0<', dashboard)
