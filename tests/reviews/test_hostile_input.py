"""Hostile and malformed input to every review-scoped page and API route never gives a 500.

Routes are read from the URL resolver (as in test_access.py), so new pages are covered at once.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import client_for
from tests.reviews.test_access import build_path, populated_review, review_scoped_routes  # noqa: F401

FORM_BODIES = [
    {},
    {
        "title": "x" * 20_000,
        "slug": "../../etc",
        "identifier": "<script>alert(1)</script>",
        "roles": ["lead", "emperor"],
        "decision": "\x00",
        "reason": "999999999999999999999",
        "note": "\u202e\ufeff" * 100,
        "status": "complete'; DROP TABLE reviews_review; --",
        "q": "%00",
        "year_from": "1e309",
        "primary": "sideways",
        "file": "not-a-file",
        "files": "not-a-file",
        "archive": "not-a-file",
        "identifiers": "\n" * 500,
        "url": "javascript:alert(1)",
        "position": "-5",
        "next": "https://evil.example/",
    },
]
JSON_BODIES = [
    "[]",
    "null",
    '"a string"',
    "{not json",
    json.dumps({"title": None, "roles": "lead", "decision": 5, "params": [], "user": {"x": 1}}),
    json.dumps(
        {"database": ["a"], "kind": {"$gt": ""}, "date_searched": "31/02/2024", "reported_hits": -1}
    ),
]
QUERIES = ["?page=-1&q=%00&year_from=abc&search=99999999999999999999999&format=exe&has_doi=maybe"]


@pytest.fixture
def routes(populated_review):  # noqa: F811 - the fixture imported above
    return [
        (build_path(route, name, populated_review), name) for route, name in review_scoped_routes()
    ]


@pytest.mark.parametrize("persona", ["lead", "reviewer_a"])
def test_no_route_answers_hostile_input_with_a_server_error(routes, persona, request):
    client = client_for(request.getfixturevalue(persona))
    failures = []
    for path, name in routes:
        for query in QUERIES:
            response = client.get(path + query)
            if response.status_code >= 500:
                failures.append(f"GET {path}{query} ({name}) -> {response.status_code}")
        for body in FORM_BODIES:
            response = client.post(path, body)
            if response.status_code >= 500:
                failures.append(f"POST form {path} ({name}) -> {response.status_code}")
        if path.startswith("/api/"):
            for body in JSON_BODIES:
                for method in ("post", "put", "patch"):
                    response = getattr(client, method)(path, body, content_type="application/json")
                    if response.status_code >= 500:
                        failures.append(
                            f"{method.upper()} json {path} ({name}) {body[:30]} -> {response.status_code}"
                        )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "path",
    [
        "/reviews/new/",
        "/reviews/import/",
        "/accounts/signup/",
        "/accounts/password/",
        "/api/reviews/",
    ],
)
def test_site_wide_forms_take_hostile_input_without_a_server_error(lead, path):
    client = client_for(lead)
    for body in FORM_BODIES:
        assert client.post(path, body).status_code < 500
    for body in JSON_BODIES:
        assert client.post(path, body, content_type="application/json").status_code < 500
