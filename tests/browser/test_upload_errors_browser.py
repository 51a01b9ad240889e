"""A refused upload's error goes away once a later upload works (htmx pages).

The full-text form posts its file with htmx. A refused file showed its message and the site's
error banner; a good file after it replaced the record but left both on screen, as if the good
file had been refused too."""

from __future__ import annotations

import pytest

from reviews import services as review_services
from reviews.constants import Role
from screening import services
from screening.models import FullTextReport
from tests.conftest import PASSWORD, make_user
from tests.screening.factories import PDF, full_text_item, make_records

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = "/reviews/exercise/screening/full-text/screen/"


@pytest.fixture
def full_text():
    lead = make_user("lead")
    reviewer_a, reviewer_b = make_user("reviewer_a"), make_user("reviewer_b")
    review = review_services.review_create(user=lead, title="Exercise", slug="exercise")
    for name in ("reviewer_a", "reviewer_b"):
        review_services.membership_add(
            actor=lead, review=review, identifier=name, roles=[Role.REVIEWER]
        )
    make_records(review, 2)
    services.screening_prepare(review=review)
    return full_text_item(review, reviewer_a, reviewer_b)


def test_a_good_upload_after_a_refused_one_clears_the_error(browser, live_server, full_text):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("reviewer_a")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.get_by_role("heading", name="My reviews").wait_for()
    page.goto(SCREEN)
    file_input = page.locator(f"#pdf-{full_text.pk}")
    file_input.wait_for(state="attached")

    file_input.set_input_files(
        files=[{"name": "paper.pdf", "mimeType": "application/pdf", "buffer": b"<html>no</html>"}]
    )
    page.get_by_role("button", name="Upload PDF").click()
    page.locator("#screen-error", has_text="not a PDF").wait_for()
    page.locator("#htmx-error").wait_for()
    assert not FullTextReport.objects.exists()

    file_input = page.locator(f"#pdf-{full_text.pk}")
    file_input.set_input_files(
        files=[{"name": "paper.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Upload PDF").click()
    page.get_by_role("link", name="Download the PDF").wait_for()
    assert FullTextReport.objects.filter(record=full_text.record).exclude(file="").exists()
    assert page.locator("#screen-error").inner_text().strip() == ""
    assert page.locator("#htmx-error").count() == 0
    context.close()
