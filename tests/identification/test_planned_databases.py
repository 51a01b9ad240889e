"""The searches page lists the protocol's planned databases not yet imported."""

from __future__ import annotations

from identification import services as imports
from identification.protocol_plan import databases_against_plan
from tests.conftest import client_for
from tests.deduplication.test_services import SCOPUS, import_file
from tests.reviews.protocol_factories import register


def _waiting(page: str) -> str:
    return page.split("data-planned-waiting>")[1].split("</ul>")[0]


def test_planned_databases_not_yet_imported_are_listed(
    review, lead, reviewer_a, django_capture_on_commit_callbacks
):
    client = client_for(reviewer_a)
    assert (
        "data-planned-databases" not in client.get("/reviews/exercise/searches/").content.decode()
    )
    register(review, lead)  # plans MEDLINE, Embase and Scopus
    import_file(lead, review, SCOPUS, "  scopus ", django_capture_on_commit_callbacks)
    imports.search_create(actor=lead, review=review, database="Embase")
    page = client.get("/reviews/exercise/searches/").content.decode()
    assert "Planned, not yet imported" in page
    waiting = _waiting(page)
    assert "<li>MEDLINE</li>" in waiting
    assert "Embase <span" in waiting and "no file imported" in waiting
    assert "Scopus" not in waiting
    plan = databases_against_plan(review)
    assert (plan.searched, plan.not_imported, plan.not_searched, plan.unplanned) == (
        ["Scopus"], ["Embase"], ["MEDLINE"], [],
    )  # fmt: skip


def test_every_planned_database_imported_says_so(review, lead, django_capture_on_commit_callbacks):
    from tests.reviews.protocol_factories import content

    register(review, lead, content(information_sources={"databases": ["Scopus"]}))
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    imports.search_create(actor=lead, review=review, database="PsycINFO")
    page = client_for(lead).get("/reviews/exercise/searches/").content.decode()
    assert "Every database the protocol plans has been searched and imported." in page
    assert "Searched but not in the protocol: PsycINFO." in page
