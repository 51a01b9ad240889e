"""Risk of bias in the browser (issue 17): an assessor answers domain 1's signalling questions,
each change is posted by htmx and the algorithm's proposed judgement appears at once; an
override without a justification is refused on the page and nothing changes."""

from __future__ import annotations

import pytest

from extraction.models import Study
from extraction.rob.models import RobAssessment
from reviews import services as review_services
from reviews.constants import Role
from tests.browser.test_extraction_browser import signed_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    lead = make_user("lead")
    review = review_services.review_create(user=lead, title="BCG", slug="bcg")
    make_user("rob_a")
    review_services.membership_add(
        actor=lead, review=review, identifier="rob_a", roles=[Role.EXTRACTOR]
    )
    return Study.objects.create(review=review, label="Stein & Aronson 1953")


def _change(page, selector: str, value: str) -> None:
    """Choose ``value`` and wait for the form's htmx exchange to finish (the form swaps itself
    with the server's answer), as a person waits for the page before the next answer. Choosing
    the next answer while the old form is still on the page raced the swap (the answer landed
    in the form being replaced) and failed the test now and then."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/assess/" in r.url):
        page.locator(selector).select_option(value)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_answering_domain_1_shows_the_proposed_judgement(browser, live_server, world):
    context, page = signed_in(browser, live_server, "rob_a")
    page.goto(f"/reviews/bcg/extraction/rob/studies/{world.pk}/assess/")
    proposed = page.locator('[data-proposed="D1"]')
    assert "answer the questions" in proposed.inner_text()
    _change(page, "#a-D1-1\\.1", "N")
    _change(page, "#a-D1-1\\.2", "N")
    _change(page, "#a-D1-1\\.3", "NI")
    page.locator('[data-judgement="D1"]').get_by_text("High").wait_for()
    assert "High" in page.locator('[data-proposed="D1"]').inner_text()
    # An override without a justification: refused, the judgement stays.
    _change(page, "#j-D1", "Low")
    page.locator("[data-error]").get_by_text("needs a written justification").wait_for()
    assert RobAssessment.objects.get().domains["D1"]["judgement"] == "High"
    page.locator("#jj-D1").fill("Sealed envelopes, says the report.")
    page.locator("#j-D1").select_option("Low")
    page.locator("[data-override]").first.wait_for()
    saved = RobAssessment.objects.get()
    assert saved.domains["D1"]["judgement"] == "Low"
    assert saved.domains["D1"]["justification"] == "Sealed envelopes, says the report."
    context.close()
