"""Dual extraction in the browser (issue 16: "A Playwright test: build a small form, two
extractors fill it differently, consensus resolves").

The lead builds a two-field form and publishes it; two extractors fill it in their own
browsers, blinded from each other, with different answers; the lead compares (the differing
field highlighted, the agreeing one not) and settles the difference; the study ends in
consensus with the chosen value.
"""

from __future__ import annotations

import pytest

from extraction import selectors
from extraction.constants import StudyStatus
from extraction.models import Study
from reviews import services as review_services
from reviews.constants import Role
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASE = "/reviews/exercise/extraction"


@pytest.fixture
def world():
    lead = make_user("lead")
    review = review_services.review_create(user=lead, title="Exercise", slug="exercise")
    for name in ("ext_a", "ext_b"):
        make_user(name)
        review_services.membership_add(
            actor=lead, review=review, identifier=name, roles=[Role.EXTRACTOR]
        )
    study = Study.objects.create(review=review, label="Smith 2020")
    return review, study


def signed_in(browser, live_server, username):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My reviews").wait_for()
    return context, page


def add_field(page, *, section, label, type_):
    page.get_by_label("Section", exact=False).first.fill(section)
    page.get_by_label("Label", exact=True).fill(label)
    page.get_by_label("Type", exact=True).select_option(type_)
    page.get_by_role("button", name="Add to the draft").click()
    page.get_by_text("Field added to the draft.").wait_for()


def extract(browser, live_server, username, study, setting, n):
    context, page = signed_in(browser, live_server, username)
    page.goto(f"{BASE}/studies/{study.pk}/extract/")
    page.get_by_label("Setting").fill(setting)
    page.get_by_label("Participants").fill(str(n))
    page.get_by_label("Participants").blur()
    page.get_by_role("button", name="Save all").click()
    page.get_by_role("button", name="Mark my extraction done").click()
    page.get_by_role("button", name="Reopen my extraction").wait_for()
    return context, page


def test_two_extractors_disagree_and_the_lead_settles_it(browser, live_server, world):
    _review, study = world
    lead_context, lead = signed_in(browser, live_server, "lead")
    lead.goto(f"{BASE}/form/")
    add_field(lead, section="Methods", label="Setting", type_="text")
    add_field(lead, section="Participants", label="Participants", type_="integer")
    lead.get_by_role("button", name="Publish the draft").click()
    lead.locator("[data-version]").get_by_text("version 1").wait_for()

    a_context, a_page = extract(browser, live_server, "ext_a", study, "Hospital", 120)
    # Blinded: while B has not finished, A's comparison shows nothing of B.
    a_page.goto(f"{BASE}/studies/{study.pk}/compare/")
    assert a_page.locator("[data-blinded]").count() == 1
    b_context, _ = extract(browser, live_server, "ext_b", study, "Primary care", 120)
    assert selectors.study_status(study) == StudyStatus.DONE

    lead.goto(f"{BASE}/studies/{study.pk}/compare/")
    differing = lead.locator("tr[data-differs]")
    assert differing.count() == 1
    row = differing.first
    assert "Hospital" in row.inner_text() and "Primary care" in row.inner_text()
    assert "120" in lead.locator("[data-comparison]").inner_text()
    row.get_by_role("radio", name="A", exact=True).check()
    lead.get_by_label("Finish the consensus", exact=False).check()
    lead.get_by_role("button", name="Save the consensus").click()
    lead.locator("[data-status]").get_by_text(StudyStatus.CONSENSUS).wait_for()

    consensus = selectors.consensus_of(study)
    assert consensus.done
    values = {k: v for k, v in consensus.values.items() if v not in ("", None, [])}
    assert "Hospital" in values.values() and "Primary care" not in values.values()
    for context in (lead_context, a_context, b_context):
        context.close()
