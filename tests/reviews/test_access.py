"""Personas against every review-scoped URL: outsiders get 404 everywhere, roles guard writes.

The URL list is not written by hand: it is read from the URL resolver (``tests/reviews/routes.py``),
so a new page or API route under a review is covered the moment it exists. A route with an object
id needs a sample object there; the test fails and says so until one is given. Every persona on
every route, with bodies checked for blinded content: ``test_persona_walk.py``.
"""

from __future__ import annotations

import io

import pytest

from core.models import Job
from deduplication.models import DuplicatePair
from identification import services as imports
from identification.models import Record
from reviews import services
from reviews.models import Membership
from tests.conftest import client_for, make_user
from tests.reviews.routes import build_path, review_scoped_routes

TINY_RIS = (
    b"TY  - JOUR\nTI  - Gambling and debt\nAU  - Smith, J\nPY  - 2020\nDO  - 10.1/abc\nER  - \n\n"
    b"TY  - JOUR\nTI  - Lottery play\nAU  - Jones, K\nPY  - 2019\nER  - \n"
)


@pytest.fixture
def populated_review(review, lead, django_capture_on_commit_callbacks):
    make_user("extra")
    with django_capture_on_commit_callbacks(execute=True):
        services.job_submit(
            actor=lead,
            review=review,
            kind="team_bulk_add",
            params={"identifiers": ["extra"], "roles": ["viewer"]},
        )
        search = imports.search_create(actor=lead, review=review, database="Scopus")
        imports.batch_upload(
            actor=lead, search=search, fileobj=io.BytesIO(TINY_RIS), filename="tiny.ris"
        )
    assert Record.objects.filter(review=review).count() == 2
    left, right = Record.objects.filter(review=review).order_by("pk")
    DuplicatePair.objects.create(review=review, left=left, right=right, score=3.0, status="queued")
    return review


def test_the_route_list_covers_pages_and_api():
    names = {name for _, name in review_scoped_routes()}
    assert {
        "reviews:dashboard",
        "reviews:team",
        "reporting:audit_csv",
        "api-review-detail",
        "api-membership-list",
        "api-job-detail",
        "api-audit-list",
    } <= names


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_outsider_gets_404_on_every_review_scoped_route(populated_review, outsider, method):
    client = client_for(outsider)
    routes = review_scoped_routes()
    assert len(routes) >= 15
    failures = []
    for route, name in routes:
        path = build_path(route, name, populated_review)
        response = (
            getattr(client, method)(path, data={}, content_type="application/json")
            if method != "get"
            else client.get(path)
        )
        # 405 would tell the outsider the route exists only for some methods; but Django decides
        # the method before the view runs, so 405 is acceptable only where the route refuses the
        # method for everybody. Everything else must look exactly like a missing review.
        if response.status_code == 405:
            continue
        if response.status_code != 404:
            failures.append(f"{method.upper()} {path} ({name}) -> {response.status_code}")
    assert not failures, "\n".join(failures)
    # and nothing changed
    assert Membership.objects.filter(review=populated_review).count() == 4


def test_an_anonymous_visitor_is_sent_to_log_in_or_refused(populated_review):
    from django.test import Client

    client = Client()
    for route, name in review_scoped_routes():
        path = build_path(route, name, populated_review)
        response = client.get(path)
        assert response.status_code in (302, 401, 403, 404), path
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_sees_no_foreign_review_in_lists(populated_review, outsider):
    client = client_for(outsider)
    assert populated_review.title not in client.get("/reviews/").content.decode()
    slugs = [r["slug"] for r in client.get("/api/reviews/").json()["results"]]
    assert slugs == ["elsewhere"]


def test_an_outsider_cannot_reach_a_foreign_object_through_their_own_review(
    populated_review, outsider
):
    client = client_for(outsider)
    foreign_job = Job.objects.filter(review=populated_review).first()
    foreign_member = Membership.objects.filter(review=populated_review).first()
    assert client.get(f"/reviews/elsewhere/jobs/{foreign_job.pk}/").status_code == 404
    assert client.get(f"/api/reviews/elsewhere/jobs/{foreign_job.pk}/").status_code == 404
    assert (
        client.delete(f"/api/reviews/elsewhere/memberships/{foreign_member.pk}/").status_code == 404
    )
    assert client.post(f"/reviews/elsewhere/team/{foreign_member.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=foreign_member.pk).exists()


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/reviews/exercise/team/", {"identifier": "extra", "roles": ["lead"]}),
        ("post", "/reviews/exercise/team/bulk/", {"identifiers": "extra", "roles": ["lead"]}),
        ("post", "/reviews/exercise/settings/", {"title": "Hijacked", "status": "complete"}),
        ("get", "/reviews/exercise/settings/", None),
        ("get", "/reviews/exercise/audit/", None),
        ("get", "/reviews/exercise/audit.csv", None),
    ],
)
def test_a_reviewer_is_refused_lead_only_pages_and_writes(
    populated_review, reviewer_a, method, path, data
):
    client = client_for(reviewer_a)
    response = client.post(path, data) if method == "post" else client.get(path)
    assert response.status_code == 403
    populated_review.refresh_from_db()
    assert populated_review.title == "Exercise for depression"
    assert not Membership.objects.filter(
        review=populated_review, role="lead", user__username="extra"
    ).exists()


def test_a_reviewer_is_refused_lead_only_api_writes(populated_review, reviewer_a):
    client = client_for(reviewer_a)
    member = Membership.objects.filter(review=populated_review, role="lead").first()
    checks = [
        client.post(
            "/api/reviews/exercise/memberships/",
            {"user": "extra", "roles": ["lead"]},
            content_type="application/json",
        ),
        client.delete(f"/api/reviews/exercise/memberships/{member.pk}/"),
        client.patch(
            "/api/reviews/exercise/", {"title": "Hijacked"}, content_type="application/json"
        ),
        client.post(
            "/api/reviews/exercise/jobs/",
            {"kind": "team_bulk_add", "params": {"identifiers": ["extra"], "roles": ["lead"]}},
            content_type="application/json",
        ),
        client.get("/api/reviews/exercise/audit/"),
    ]
    assert [r.status_code for r in checks] == [403] * 5
    assert Membership.objects.filter(pk=member.pk).exists()


def test_a_reviewer_can_read_the_dashboard_team_and_jobs(populated_review, reviewer_a):
    client = client_for(reviewer_a)
    for path in [
        "/reviews/exercise/",
        "/reviews/exercise/team/",
        "/reviews/exercise/jobs/",
        "/api/reviews/exercise/",
        "/api/reviews/exercise/memberships/",
        "/api/reviews/exercise/jobs/",
    ]:
        assert client.get(path).status_code == 200, path
