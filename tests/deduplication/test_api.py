"""The deduplication API: the page's numbers, clusters and queue, decisions and undo, with the
pages' permissions (any member reads; those who judge duplicates decide; leads run)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from core.models import AuditEvent, Job
from deduplication import selectors
from deduplication.constants import PairStatus
from deduplication.models import DuplicateCluster, DuplicatePair
from identification.models import Record
from reviews import services
from reviews.constants import Role
from tests.conftest import client_for, make_user
from tests.screening.factories import make_records

API = "/api/reviews/exercise/duplicates"


@pytest.fixture
def viewer(review):
    user = make_user("viewer")
    services.membership_add(
        actor=review.created_by, review=review, identifier="viewer", roles=[Role.VIEWER]
    )
    return user


@pytest.fixture
def pair(review):
    a, b, *_ = make_records(review, 4)
    return DuplicatePair.objects.create(
        review=review,
        left=a,
        right=b,
        score=2.5,
        status=PairStatus.QUEUED,
        fields=[
            {"field": "title", "left": a.title, "right": b.title, "status": "similar",
             "similarity": 0.93},
        ],
    )  # fmt: skip


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def test_the_summary_gives_the_pages_numbers_to_every_member(pair, review, viewer):
    body = client_for(viewer).get(f"{API}/").json()
    summary = selectors.dedup_summary(review=review)
    assert body["records"] == summary["records"] == 4
    assert body["queued"] == len(summary["queued"]) == 1
    assert body["merged"] == 0 and body["clusters"] == 0 and body["decided"] == 0
    assert body["per_search"] == [
        {"id": pair.left.search_id, "database": "Scopus", "identified": 4, "removed": 0}
    ]


def test_a_reviewer_judges_the_queue_and_undoes_the_merge(pair, review, reviewer_a):
    client = client_for(reviewer_a)
    queue = client.get(f"{API}/pairs/").json()
    assert queue["count"] == 1
    shown = queue["results"][0]
    assert shown["id"] == pair.pk and shown["status"] == "queued"
    assert shown["left"]["id"] == pair.left_id and shown["right"]["id"] == pair.right_id
    assert shown["comparison"][0]["status"] == "similar"

    decided = post(
        client, f"{API}/pairs/{pair.pk}/decide/", {"decision": "same", "primary": "right"}
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "same" and decided.json()["decided_by"] == "reviewer_a"
    cluster = DuplicateCluster.objects.get(review=review)
    assert cluster.primary_id == pair.right_id and cluster.primary_pinned
    assert Record.objects.get(pk=pair.left_id).duplicate_of_id == pair.right_id
    assert client.get(f"{API}/pairs/").json()["count"] == 0
    clusters = client.get(f"{API}/clusters/").json()["results"]
    assert [m["id"] for m in clusters[0]["members"]] == [pair.left_id, pair.right_id]

    again = post(client, f"{API}/pairs/{pair.pk}/decide/", {"decision": "different"})
    assert again.status_code == 400 and "already decided" in again.json()["detail"][0]

    undone = post(client, f"{API}/records/{pair.left_id}/unmerge/")
    assert undone.status_code == 200, undone.content
    assert undone.json()["cluster"] is None and undone.json()["duplicate_of"] is None
    assert not DuplicateCluster.objects.filter(review=review).exists()
    assert DuplicatePair.objects.get(pk=pair.pk).status == PairStatus.UNDONE
    verbs = set(AuditEvent.objects.filter(actor=reviewer_a).values_list("verb", flat=True))
    assert {"judged duplicates", "undid merge"} <= verbs


def test_a_pair_judged_different_stays_apart(pair, review, lead):
    response = post(client_for(lead), f"{API}/pairs/{pair.pk}/decide/", {"decision": "different"})
    assert response.status_code == 200 and response.json()["status"] == "different"
    assert not DuplicateCluster.objects.filter(review=review).exists()


def test_choosing_the_primary_pins_it(pair, review, lead):
    client = client_for(lead)
    post(client, f"{API}/pairs/{pair.pk}/decide/", {"decision": "same", "primary": "left"})
    response = post(client, f"{API}/records/{pair.right_id}/primary/")
    assert response.status_code == 200, response.content
    assert response.json()["primary"] == pair.right_id and response.json()["primary_pinned"]
    assert DuplicateCluster.objects.get(review=review).primary_id == pair.right_id


def test_a_viewer_reads_but_may_not_judge_and_nothing_changes(pair, review, viewer):
    client = client_for(viewer)
    assert client.get(f"{API}/").status_code == 200
    assert client.get(f"{API}/clusters/").status_code == 200
    assert client.get(f"{API}/pairs/").status_code == 403
    assert client.get(f"{API}/pairs/{pair.pk}/").status_code == 403
    # Refused before the input is read: a bad body gives the same 403.
    for body in ({"decision": "same"}, {"decision": "perhaps"}):
        assert post(client, f"{API}/pairs/{pair.pk}/decide/", body).status_code == 403
    assert post(client, f"{API}/records/{pair.left_id}/unmerge/").status_code == 403
    assert post(client, f"{API}/run/", {"full": True}).status_code == 403
    assert DuplicatePair.objects.get(pk=pair.pk).status == PairStatus.QUEUED
    assert not Job.objects.filter(review=review, kind="dedup").exists()


def test_only_a_lead_runs_deduplication_and_gets_the_job(pair, review, lead, reviewer_a):
    assert post(client_for(reviewer_a), f"{API}/run/").status_code == 403
    response = post(client_for(lead), f"{API}/run/", {"full": True})
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.params, job.created_by) == ("dedup", {"full": True}, lead)


def test_bad_input_is_a_400_that_changes_nothing(pair, lead):
    client = client_for(lead)
    for body in ({}, {"decision": "perhaps"}, {"decision": "same", "primary": "middle"}):
        response = post(client, f"{API}/pairs/{pair.pk}/decide/", body)
        assert response.status_code == 400, body
        assert "decision" in response.json() or "primary" in response.json()
    assert post(client, f"{API}/run/", {"full": "sometimes"}).status_code == 400
    assert DuplicatePair.objects.get(pk=pair.pk).status == PairStatus.QUEUED


def test_outsiders_get_404_and_anonymous_callers_401(pair, review, outsider):
    client = client_for(outsider)
    for path in (f"{API}/", f"{API}/clusters/", f"{API}/pairs/", f"{API}/pairs/{pair.pk}/"):
        assert client.get(path).status_code == 404, path
    assert post(client, f"{API}/pairs/{pair.pk}/decide/", {"decision": "same"}).status_code == 404
    assert post(client, f"{API}/run/").status_code == 404
    assert Client().get(f"{API}/").status_code == 401
    token = Token.objects.create(user=outsider).key
    assert Client().get(f"{API}/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 404
    assert DuplicatePair.objects.get(pk=pair.pk).status == PairStatus.QUEUED


def test_a_pair_of_another_review_is_404_even_to_a_lead(pair, review, outsider):
    theirs = review.__class__.objects.get(slug="elsewhere")
    a, b = make_records(theirs, 2, prefix="Elsewhere: ")
    foreign = DuplicatePair.objects.create(
        review=theirs, left=a, right=b, score=3.0, status=PairStatus.QUEUED
    )
    client = client_for(review.created_by)
    assert client.get(f"{API}/pairs/{pair.pk}/").status_code == 200  # the review's own
    assert client.get(f"{API}/pairs/{foreign.pk}/").status_code == 404
    response = post(client, f"{API}/pairs/{foreign.pk}/decide/", {"decision": "same"})
    assert response.status_code == 404
    assert post(client, f"{API}/records/{a.pk}/unmerge/").status_code == 404
    assert DuplicatePair.objects.get(pk=foreign.pk).status == PairStatus.QUEUED
