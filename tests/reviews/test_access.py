"""Personas against every review-scoped URL: outsiders get 404 everywhere, roles guard writes.

The URL list is not written by hand: it is read from the URL resolver, so a new page or API
route under a review is covered the moment it exists. A route with an object id needs a sample
object below; the test fails and says so until one is given.
"""

from __future__ import annotations

import io
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from core.models import Job
from deduplication.models import DuplicatePair
from identification import services as imports
from identification.models import ImportBatch, Record, Search
from reviews import services
from reviews.models import Membership
from tests.conftest import client_for, make_user

SAMPLE_OBJECTS = {
    # url name -> how to find an object of the review for the route's ``pk``
    "reviews:team_remove": lambda review: Membership.objects.filter(review=review).first().pk,
    "reviews:job": lambda review: Job.objects.filter(review=review).first().pk,
    "api-membership-detail": lambda review: Membership.objects.filter(review=review).first().pk,
    "api-job-detail": lambda review: Job.objects.filter(review=review).first().pk,
    "identification:search": lambda review: Search.objects.filter(review=review).first().pk,
    "identification:batch_mapping": lambda review: (
        ImportBatch.objects.filter(review=review).first().pk
    ),
    "identification:record": lambda review: Record.objects.filter(review=review).first().pk,
    "api-search-detail": lambda review: Search.objects.filter(review=review).first().pk,
    "api-search-files": lambda review: Search.objects.filter(review=review).first().pk,
    "api-record-detail": lambda review: Record.objects.filter(review=review).first().pk,
    "deduplication:dedup_decide": lambda review: (
        DuplicatePair.objects.filter(review=review).first().pk
    ),
    "deduplication:dedup_unmerge": lambda review: Record.objects.filter(review=review).first().pk,
    "deduplication:dedup_primary": lambda review: Record.objects.filter(review=review).first().pk,
    "screening:reason_edit": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "reason"),
    "screening:reason_move": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "reason"),
    "screening:reason_delete": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "reason"),
    "screening:ft_report": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ft_item"),
    "screening:ft_report_file": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ft_item"),
    "screening:ft_not_retrieved": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ft_item"),
    "screening:ta_resolve": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ta_item"),
    "screening:ft_resolve": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ft_item"),
    "api-screening-ta-vote-detail": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "vote"),
    "api-screening-ta-item": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ta_item"),
    "api-screening-ta-resolve": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ta_item"),
    "api-screening-ft-vote-detail": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "vote"),
    "api-screening-ft-item": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ft_item"),
    "api-screening-ft-resolve": lambda r: __import__(
        "tests.screening.factories"
    ).screening.factories.sample_pk(r, "ft_item"),
}


TINY_RIS = (
    b"TY  - JOUR\nTI  - Gambling and debt\nAU  - Smith, J\nPY  - 2020\nDO  - 10.1/abc\nER  - \n\n"
    b"TY  - JOUR\nTI  - Lottery play\nAU  - Jones, K\nPY  - 2019\nER  - \n"
)


# Route parameters other than the review and an object id, with a value that exists.
OTHER_KWARGS = {"<str:fmt>": "svg", "<str:name>": "included-csv"}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}{p.namespace}:"
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (namespace + p.name) if p.name else None


def review_scoped_routes() -> list[tuple[str, str]]:
    routes = []
    for route, name in _walk(get_resolver().url_patterns):
        if "<slug:slug>" in route or "(?P<slug>" in route:
            routes.append((route, name))
    return routes


def build_path(route: str, name: str | None, review) -> str:
    path = route.replace("<slug:slug>", review.slug)
    path = re.sub(r"\(\?P<slug>[^)]*\)", review.slug, path)
    if "<int:pk>" in path or "(?P<pk>" in path:
        assert name in SAMPLE_OBJECTS, (
            f"add a sample object for the review-scoped route {name}: {route}"
        )
        pk = str(SAMPLE_OBJECTS[name](review))
        path = path.replace("<int:pk>", pk)
        path = re.sub(r"\(\?P<pk>[^)]*\)", pk, path)
    for pattern, value in OTHER_KWARGS.items():
        path = path.replace(pattern, value)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".")
    path = re.sub(r"\(\?P<format>[^)]*\)", "", path)
    assert "<" not in path and "(?" not in path, f"unfilled parameter in {route}"
    return "/" + path


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
