"""``?limit=`` and ``?offset=`` can be anything a client types, and no list answers with a 500.

Issue 13, item 4: a limit or an offset of 2**63 or more was a 500 on every list endpoint (the
database cannot take the number), under production settings too. The API's pagination
(``core.pagination.LimitOffsetPagination``) caps the limit at ``max_limit`` and answers any
offset past the end with an empty page; values that are not whole numbers >= 0 are ignored, as
DRF does (the default limit, the first page).
"""

from __future__ import annotations

import pytest
from django.test import Client

from core.pagination import LimitOffsetPagination
from screening import services as screening
from screening.constants import Stage
from tests.reviews.test_access import build_path, populated_review, review_scoped_routes  # noqa: F401
from tests.screening.factories import make_records, ta_items

HUGE = [
    f"limit={2**63}",
    f"limit={2**64}",
    f"limit={2**63 - 1}&offset=1",
    f"offset={2**63}",
    f"offset={2**63 - 1}&limit=5",
    f"offset={2**64}&limit={2**64}",
    f"limit={'9' * 5000}",
    f"offset={'9' * 5000}",
]
MAX_LIMIT = 1000
ODD = ["limit=abc&offset=xyz", "limit=-1&offset=-5", "limit=0", "limit=1.5&offset=1e3", "limit="]


@pytest.fixture
def lists(populated_review, lead, reviewer_a):  # noqa: F811 - the fixture imported above
    """Every API list of the populated review (with a few votes), and the review list."""
    make_records(populated_review, 3)
    item = ta_items(populated_review)[0]
    screening.vote_cast(user=reviewer_a, review=populated_review, item=item, decision="include")
    paths = ["/api/reviews/"]
    for route, name in review_scoped_routes():
        if name and name.startswith("api-") and (name.endswith("-list") or "votes" in name):
            paths.append(build_path(route, name, populated_review))
    paths.append(
        build_path(
            "api/reviews/<slug:slug>/searches/<int:pk>/files/", "api-search-files", populated_review
        )
    )
    return paths


def get(user, path: str):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client.get(path)


def test_the_lists_under_test_include_records_jobs_and_screening(lists):
    joined = " ".join(lists)
    for part in ("/records/", "/jobs/", "/memberships/", "/audit/", "/searches/", "/votes/"):
        assert part in joined, part


@pytest.mark.parametrize("query", HUGE + ODD)
def test_no_paginated_list_answers_a_huge_or_odd_limit_or_offset_with_a_500(lists, lead, query):
    failures = []
    for path in lists:
        if "/screening/" in path:
            continue  # screening's votes page itself: see the test below
        response = get(lead, f"{path}?{query}")
        if response.status_code >= 500:
            failures.append(f"{path}?{query[:40]} -> {response.status_code}")
            continue
        assert response.status_code == 200, (path, query, response.status_code)
        body = response.json()
        assert len(body["results"]) <= MAX_LIMIT
    assert not failures, "\n".join(failures)


def test_a_huge_limit_is_capped_and_a_huge_offset_is_an_empty_page(populated_review, lead):  # noqa: F811
    records = get(lead, f"/api/reviews/{populated_review.slug}/records/?limit={2**63}").json()
    assert records["count"] == 2 and len(records["results"]) == 2 and records["next"] is None
    page = get(lead, f"/api/reviews/{populated_review.slug}/records/?offset={2**63}").json()
    assert page["count"] == 2 and page["results"] == [] and page["next"] is None
    capped = LimitOffsetPagination().get_limit(
        type("R", (), {"query_params": {"limit": str(2**63)}})()
    )
    assert capped == MAX_LIMIT


@pytest.mark.parametrize("stage", [Stage.TITLE_ABSTRACT, Stage.FULL_TEXT])
def test_screenings_votes_answer_a_huge_offset_without_a_500(lists, reviewer_a, stage):
    path = next(p for p in lists if p.endswith(f"/{stage_segment(stage)}/votes/"))
    for query in HUGE + ODD:
        assert get(reviewer_a, f"{path}?{query}").status_code < 500, query


def stage_segment(stage) -> str:
    from screening.constants import STAGE_SEGMENTS

    return STAGE_SEGMENTS[stage]
