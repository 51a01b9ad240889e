"""Synthesis in the browser (issue 18: "A Playwright test that runs an analysis from the
browser, waits for the progress bar, and sees the forest plot").

A statistician defines an analysis on the finalised BCG extraction, runs it: the run's page
shows its progress bar, polled by htmx, until the job is done (here the job runs after the
response, in the web process's runner, as without a broker); then the results page shows the
pooled estimate and the forest plot as SVG.
"""

from __future__ import annotations

import pytest

from reviews import services as review_services
from synthesis.models import AnalysisResult
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_extraction_browser import signed_in
from tests.conftest import make_user
from tests.synthesis.app_world import bcg_studies, snapshot_of, statistician_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    lead = make_user("lead")
    review = review_services.review_create(user=lead, title="BCG", slug="exercise")
    snapshot_of(review, bcg_studies(), user=lead)
    statistician_of(review, lead)
    return review


def test_a_statistician_runs_an_analysis_and_sees_the_forest_plot(
    browser, live_server, world, settings
):
    settings.EVIDENT_JOBS_IN_REQUEST = False  # the job runs after the response, as in use
    context, page = signed_in(browser, live_server, "stats")
    page.goto("/reviews/exercise/synthesis/")
    page.get_by_role("link", name="New analysis").click()
    page.locator("#id_name").fill("Main analysis")
    page.locator("#id_outcome").fill("Tuberculosis")
    page.get_by_label("Leave-one-out").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Main analysis").wait_for()
    page.get_by_role("button", name="Run the analysis").click()
    page.wait_for_url("**/synthesis/runs/*/")
    assert page.locator("progress").count() == 1
    page.locator("[data-run-done]").wait_for(timeout=30_000)
    assert page.locator("progress").get_attribute("value") == "100"
    page.get_by_role("link", name="See the results").click()
    page.get_by_role("heading", name="Main analysis: results").wait_for()
    result = AnalysisResult.objects.get()
    assert page.locator("[data-k]").inner_text() == "13"
    assert (
        page.locator("[data-estimate]")
        .inner_text()
        .startswith(f"{result.results['main']['estimate']:.4f}")
    )
    forest = page.locator("[data-forest-img]")
    forest.wait_for()
    page.wait_for_function(
        "document.querySelector('[data-forest-img]').complete && "
        "document.querySelector('[data-forest-img]').naturalWidth > 0"
    )
    answer = page.request.get(forest.get_attribute("src"))
    assert answer.ok and answer.headers["content-type"] == "image/svg+xml"
    assert "Aronson 1948" in answer.text()
    # axe-core: no serious or critical violation on the step's pages.
    for url in (
        page.url,
        "/reviews/exercise/synthesis/",
        "/reviews/exercise/synthesis/new/",
        f"/reviews/exercise/synthesis/{result.analysis_id}/",
    ):
        page.goto(url)
        assert axe_violations(page) == [], url
    context.close()
