"""The records API takes the record list's filters as query parameters, documented in the
schema: the query language, duplicate status (primary records by default), screening stage and
decision under blinding; a filter it does not understand is a 400 that names it."""

from __future__ import annotations

from django.test import Client

from identification.models import Record
from tests.conftest import client_for
from tests.identification.test_records_list import five_copies, screened  # noqa: F401

URL = "/api/reviews/exercise/records/"


def _ids(client, **params) -> list[int]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


def test_the_api_searches_with_the_query_language(lead, review, five_copies):  # noqa: F811
    client = client_for(lead)
    assert _ids(client, q='"wildfire smoke"') == [five_copies.pk]
    assert _ids(client, q="wildfire*") == [five_copies.pk]
    assert _ids(client, q="title:asthma AND year:2021") == [five_copies.pk]
    found = _ids(client, q='"found only" NOT (database OR asthma)')
    assert found == []
    assert len(_ids(client, q="database AND (found OR nothing)")) == 5


def test_the_api_lists_primary_records_unless_asked(lead, review, five_copies):  # noqa: F811
    client = client_for(lead)
    listed = client.get(URL).json()
    assert listed["count"] == 6
    assert all(r["duplicate_of"] is None for r in listed["results"])
    assert client.get(URL, {"duplicates": "all"}).json()["count"] == 10
    copies = client.get(URL, {"duplicates": "duplicates"}).json()["results"]
    assert {r["duplicate_of"] for r in copies} == {five_copies.pk} and len(copies) == 4
    assert _ids(client, duplicates="with_duplicates") == [five_copies.pk]


def test_the_api_filters_by_stage_and_decision_under_blinding(
    lead,
    reviewer_a,
    review,
    screened,  # noqa: F811
):
    records = list(Record.objects.filter(review=review).order_by("pk").values_list("pk", flat=True))
    assert _ids(client_for(lead), decision="conflict") == [records[0]]
    assert _ids(client_for(lead), stage="full_text") == [records[1]]
    a = client_for(reviewer_a)
    assert _ids(a, decision="conflict") == []
    assert _ids(a, stage="title_abstract", decision="pending") == [
        records[0],
        records[3],
        records[4],
    ]
    assert _ids(a, decision="excluded") == [records[2]]


def test_a_filter_the_api_does_not_understand_is_a_400_naming_it(lead, review, screened):  # noqa: F811
    client = client_for(lead)
    response = client.get(URL, {"q": "x" * 10_000})
    assert response.status_code == 400
    assert "at most 500 characters" in response.json()["q"][0]
    response = client.get(URL, {"decision": "maybe", "duplicates": "some"})
    assert response.status_code == 400 and {"decision", "duplicates"} <= set(response.json())
    response = client.get(URL, {"q": "year:soon"})
    assert response.status_code == 400 and "year" in response.json()["q"][0]
    # Odd but searchable queries are searched, not refused.
    assert client.get(URL, {"q": '"unclosed (phrase'}).status_code == 200


def test_the_schema_documents_the_filters(db):
    schema = Client().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/reviews/{slug}/records/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"q", "search", "year_from", "year_to", "has_doi", "has_abstract"} <= set(parameters)
    assert set(parameters["duplicates"]["schema"]["enum"]) == {
        "primary",
        "with_duplicates",
        "duplicates",
        "all",
    }
    assert set(parameters["stage"]["schema"]["enum"]) == {"title_abstract", "full_text"}
    assert set(parameters["decision"]["schema"]["enum"]) == {
        "pending",
        "conflict",
        "included",
        "excluded",
        "not_retrieved",
    }
    assert "phrases" in parameters["q"]["description"] or "quoted" in parameters["q"]["description"]
    assert "400" in operation["responses"]
