"""The screening boxes of the PRISMA 2020 diagram, counted once: the diagram and the full-text
stage page show the same numbers, those of ``selectors.screening_boxes``."""

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


def test_the_boxes_count_what_entered_each_stage_with_reasons_in_list_order(screened):
    boxes = selectors.screening_boxes(screened)
    first, second = reason(screened, TA, 0).label, reason(screened, TA, 1).label
    assert (boxes.records_screened, boxes.records_excluded) == (9, 3)
    # In the order of the stage's list of reasons, not by how often each was used.
    assert boxes.records_excluded_reasons == ((first, 1), (second, 2))
    assert (boxes.reports_sought, boxes.reports_not_retrieved, boxes.reports_assessed) == (4, 1, 3)
    assert boxes.reports_excluded == 1
    assert boxes.reports_excluded_reasons == ((reason(screened, FT, 3).label, 1),)
    assert boxes.reports_included == 1
    assert boxes.open_at(TA) == selectors.OpenDecisions(pending=1, conflicts=1)
    assert boxes.open_at(FT) == selectors.OpenDecisions(pending=1, conflicts=0)


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
        "1 title/abstract decisions are still open.",
        "1 title/abstract conflicts await resolution.",
        "1 full-text decisions are still open.",
    ]


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
