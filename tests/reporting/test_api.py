"""The reporting API: the PRISMA page's numbers as JSON (typed-in entries included), its files,
and every export the pages offer, with the pages' permissions and blinding."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from reporting import exports
from reporting import selectors as reporting_selectors
from reporting.models import PrismaEntry
from screening import selectors as screening_selectors
from screening.constants import Stage
from tests.conftest import client_for
from tests.screening.factories import make_records, ta_items, vote

API = "/api/reviews/exercise"
PAGES = "/reviews/exercise"
B_NOTE = "B-ONLY-NOTE-51c2"


@pytest.fixture
def screened(review, lead, reviewer_a, reviewer_b):
    """Blinded dual screening under way: a conflict (A include, B exclude with a note), a record
    both included and one both excluded, with a reason."""
    make_records(review, 6)
    items = ta_items(review)
    why = screening_selectors.reasons_for(review, Stage.TITLE_ABSTRACT)[0]
    vote(reviewer_a, review, items[0], "include")
    vote(reviewer_b, review, items[0], "exclude", reason=why.pk, note=B_NOTE)
    for user in (reviewer_a, reviewer_b):
        vote(user, review, items[1], "include")
        vote(user, review, items[2], "exclude", reason=why.pk)
    return review


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_the_prisma_numbers_are_the_pages_typed_in_entries_included(screened, lead):
    client = client_for(lead)
    typed = {
        "is_update": True,
        "previous_studies": 5,
        "previous_reports": 6,
        "citation_searching": 4,
        "other_sought": 3,
        "other_not_retrieved": 0,
        "other_assessed": 3,
        "other_excluded": [{"reason": "Wrong design", "count": 1}],
        "other_included": 2,
    }
    saved = client.patch(
        f"{API}/prisma/entries/", json.dumps(typed), content_type="application/json"
    )
    assert saved.status_code == 200, saved.content
    assert {k: saved.json()[k] for k in typed} == typed
    assert client.get(f"{API}/prisma/entries/").json() == saved.json()

    body = client.get(f"{API}/prisma/").json()
    counts = body["counts"]
    page = reporting_selectors.prisma_report(review=screened, user=lead)
    assert counts["template"] == "D"
    assert counts["databases"] == [{"name": "Scopus", "count": 6}] and counts["registers"] == []
    assert counts["identified"] == 6 and counts["duplicates_removed"] == 0
    for box in (
        "records_screened",
        "records_excluded",
        "reports_sought",
        "reports_not_retrieved",
        "reports_assessed",
        "new_studies",
        "new_reports",
    ):
        assert counts[box] == getattr(page.counts, box), box
    assert counts["records_excluded_reasons"] == [
        {"name": name, "count": n} for name, n in page.counts.records_excluded_reasons
    ]
    assert counts["records_excluded"] >= 1
    # The typed-in numbers, marked as such, and what they add to the counted ones.
    assert counts["other_methods"]["identified"] == 4
    assert counts["other_methods"]["reports_excluded"] == [{"name": "Wrong design", "count": 1}]
    assert counts["new_studies"] == page.counts.new_studies == 0 + 2
    assert counts["update"] == {
        "previous_studies": 5,
        "previous_reports": 6,
        "total_studies": 7,
        "total_reports": 8,
    }
    assert set(counts["hand_entered"]) == {
        "previous",
        "other_identified",
        "other_sought",
        "other_not_retrieved",
        "other_assessed",
        "other_reports_excluded",
    }
    # The page's warnings and check, for the lead.
    assert body["warnings"] == page.warnings and body["warnings"]
    assert [i["code"] for i in body["issues"]] == [i.code for i in page.issues]
    assert all(i["severity"] in ("error", "warning") for i in body["issues"])
    # The same figure as the page's download.
    assert client.get(f"{API}/prisma.svg").content == client.get(f"{PAGES}/prisma.svg").content


def test_a_blinded_voter_learns_nothing_of_the_conflict_from_the_numbers(
    screened, lead, reviewer_a
):
    body = client_for(reviewer_a).get(f"{API}/prisma/").json()
    page = reporting_selectors.prisma_report(review=screened, user=reviewer_a)
    assert body["warnings"] == page.warnings and body["warnings"]
    assert not any("conflict" in w for w in body["warnings"])
    assert _json_names_no_conflict(body)
    leads = client_for(lead).get(f"{API}/prisma/").json()
    assert (
        leads["warnings"] == reporting_selectors.prisma_report(review=screened, user=lead).warnings
    )


def _json_names_no_conflict(data) -> bool:
    if isinstance(data, dict):
        return all(k != "status" or v != "conflict" for k, v in data.items()) and all(
            _json_names_no_conflict(v) for v in data.values()
        )
    if isinstance(data, list):
        return all(_json_names_no_conflict(v) for v in data)
    return True


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
        ("pdf", "application/pdf"),
        ("csv", "text/csv; charset=utf-8"),
    ],
)
def test_the_prisma_files_are_the_pages_downloads(screened, reviewer_a, fmt, content_type):
    client = client_for(reviewer_a)
    response = client.get(f"{API}/prisma.{fmt}", HTTP_ACCEPT=content_type)
    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert response.content == client.get(f"{PAGES}/prisma.{fmt}").content
    assert f'filename="exercise-prisma.{fmt}"' in response["Content-Disposition"]


def test_every_export_of_the_prisma_page_is_the_pages_file(screened, reviewer_a):
    client = client_for(reviewer_a)
    for name, (_label, suffix, content_type) in exports.EXPORTS.items():
        response = client.get(f"{API}/exports/{name}/")
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith(content_type)
        assert response.content == client.get(f"{PAGES}/exports/{name}/").content, name
        assert suffix in response["Content-Disposition"]
    missing = client.get(f"{API}/exports/everything/")
    assert missing.status_code == 404 and missing.json()["detail"]
    assert client.get(f"{API}/prisma.exe").status_code == 404


def test_the_records_export_takes_the_record_lists_filters(screened, reviewer_a):
    client = client_for(reviewer_a)
    for fmt in ("csv", "ris"):
        query = "?q=lottery"
        response = client.get(f"{API}/records.{fmt}{query}")
        assert response.status_code == 200
        got = _body(response)
        assert got == _body(client.get(f"{PAGES}/records/export/{query}&format={fmt}"))
        assert b"Lottery spending" in got and b"Loot boxes" not in got
    everything = _body(client.get(f"{API}/records.ris"))
    assert everything.count(b"ER  -") == 6
    refused = client.get(f"{API}/records.csv?year_from=2020&year_to=1990")
    assert refused.status_code == 400 and "year_to" in refused.json()


def test_the_audit_log_is_for_leads_only(screened, lead, reviewer_a):
    response = client_for(lead).get(f"{API}/audit.csv")
    assert response.status_code == 200
    got = _body(response)
    assert got == _body(client_for(lead).get(f"{PAGES}/audit.csv"))
    assert got.startswith(b"id,when,who,verb") and b"added member" in got
    refused = client_for(reviewer_a).get(f"{API}/audit.csv")
    assert refused.status_code == 403 and refused.json()["detail"]


def test_the_votes_file_is_blinded_row_by_row(screened, lead, reviewer_a):
    mine = _body(client_for(reviewer_a).get(f"{API}/screening/title-abstract/votes.csv")).decode()
    assert B_NOTE not in mine and "conflict" not in mine
    rows = [line for line in mine.splitlines()[1:] if line]
    # A's own three votes and B's two votes on settled records; B's vote in conflict is hidden.
    assert sum("reviewer_a" in r for r in rows) == 3 and sum("reviewer_b" in r for r in rows) == 2
    assert (
        mine
        == _body(client_for(reviewer_a).get(f"{PAGES}/screening/title-abstract/votes.csv")).decode()
    )
    leads = _body(client_for(lead).get(f"{API}/screening/title-abstract/votes.csv")).decode()
    assert B_NOTE in leads
    agreement = client_for(reviewer_a).get(f"{API}/screening/agreement.csv")
    assert agreement.status_code == 200
    assert (
        agreement.content == client_for(reviewer_a).get(f"{PAGES}/screening/agreement.csv").content
    )


def test_a_lead_alone_types_the_prisma_entries_and_bad_numbers_change_nothing(
    screened, lead, reviewer_a
):
    reviewer = client_for(reviewer_a)
    assert reviewer.get(f"{API}/prisma/entries/").status_code == 200
    for body in ({"websites": 3}, {"websites": -1}):
        response = reviewer.patch(
            f"{API}/prisma/entries/", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 403
    client = client_for(lead)
    for body in (
        {"websites": -1},
        {"previous_studies": None},
        {"other_excluded": [{"reason": "", "count": 1}]},
        {"other_excluded": "Wrong design, 2"},
        {"is_update": "maybe"},
    ):
        response = client.patch(
            f"{API}/prisma/entries/", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 400, body
        assert set(response.json()) == set(body), response.json()
    assert not PrismaEntry.objects.filter(review=screened).exists()


def test_outsiders_get_404_and_anonymous_callers_401(screened, outsider):
    client = client_for(outsider)
    paths = [
        f"{API}/prisma/",
        f"{API}/prisma/entries/",
        f"{API}/prisma.svg",
        f"{API}/exports/included-csv/",
        f"{API}/records.csv",
        f"{API}/records.ris",
        f"{API}/audit.csv",
        f"{API}/screening/agreement.csv",
        f"{API}/screening/title-abstract/votes.csv",
        f"{API}/screening/full-text/votes.csv",
    ]
    for path in paths:
        assert client.get(path).status_code == 404, path
        assert Client().get(path).status_code == 401, path
    assert (
        client.patch(f"{API}/prisma/entries/", "{}", content_type="application/json").status_code
        == 404
    )
