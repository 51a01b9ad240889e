import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from core.models import Job
from reviews.models import Membership, Review
from tests.conftest import PASSWORD, client_for, make_user


def test_it_requires_authentication(db):
    assert Client().get("/api/reviews/").status_code in (401, 403)


def test_it_issues_a_token_and_accepts_it(lead, review):
    client = Client()
    response = client.post("/api/auth/token/", {"username": "lead", "password": PASSWORD})
    token = response.json()["token"]
    assert Token.objects.get(user=lead).key == token
    listed = Client().get("/api/reviews/", headers={"Authorization": f"Token {token}"}).json()
    assert [r["slug"] for r in listed["results"]] == ["exercise"]
    assert listed["results"][0]["my_roles"] == ["lead"]


def test_it_refuses_a_wrong_token_or_password(lead):
    assert (
        Client().post("/api/auth/token/", {"username": "lead", "password": "no"}).status_code == 400
    )
    assert (
        Client().get("/api/reviews/", headers={"Authorization": "Token forged"}).status_code == 401
    )


def test_it_creates_and_updates_a_review(lead):
    client = client_for(lead)
    response = client.post(
        "/api/reviews/",
        {"title": "Tai chi", "research_question": "?"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "tai-chi"
    response = client.patch(
        "/api/reviews/tai-chi/", {"status": "screening"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "screening"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": ""},
        {"title": "x", "slug": "Bad Slug"},
        {"title": "x", "status": "nonsense"},
        {"title": ["list"]},
        {"title": "x" * 400},
    ],
)
def test_it_answers_bad_review_payloads_with_400(lead, payload):
    response = client_for(lead).post("/api/reviews/", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()
    assert not Review.objects.exists()


def test_it_answers_malformed_json_with_400(lead):
    response = client_for(lead).post("/api/reviews/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_it_refuses_to_change_a_slug(lead, review):
    response = client_for(lead).patch(
        "/api/reviews/exercise/", {"slug": "moved"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert Review.objects.filter(slug="exercise").exists()


def test_it_lists_adds_and_removes_memberships(lead, review):
    make_user("carol")
    client = client_for(lead)
    response = client.post(
        "/api/reviews/exercise/memberships/",
        {"user": "carol", "roles": ["extractor", "statistician"]},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert sorted(m["role"] for m in response.json()) == ["extractor", "statistician"]
    listed = client.get("/api/reviews/exercise/memberships/").json()["results"]
    assert {(m["username"], m["role"]) for m in listed} >= {
        ("carol", "extractor"),
        ("lead", "lead"),
    }
    pk = next(m["id"] for m in listed if m["username"] == "carol" and m["role"] == "statistician")
    assert client.delete(f"/api/reviews/exercise/memberships/{pk}/").status_code == 204
    assert not Membership.objects.filter(pk=pk).exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"user": "nobody", "roles": ["reviewer"]},
        {"user": "reviewer_a", "roles": []},
        {"user": "reviewer_a", "roles": ["pope"]},
        {"user": "reviewer_a", "roles": "reviewer"},
    ],
)
def test_it_answers_bad_membership_payloads_with_400(lead, review, payload):
    before = Membership.objects.count()
    response = client_for(lead).post(
        "/api/reviews/exercise/memberships/", payload, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert Membership.objects.count() == before


def test_it_refuses_to_remove_the_last_lead_through_the_api(lead, review):
    m = Membership.objects.get(review=review, role="lead")
    response = client_for(lead).delete(f"/api/reviews/exercise/memberships/{m.pk}/")
    assert response.status_code == 400 and "lead" in str(response.json())


def test_it_submits_and_reports_a_job(lead, review, django_capture_on_commit_callbacks):
    make_user("erin")
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/reviews/exercise/jobs/",
            {"kind": "team_bulk_add", "params": {"identifiers": ["erin"], "roles": ["viewer"]}},
            content_type="application/json",
        )
    assert response.status_code == 202
    job = client.get(f"/api/reviews/exercise/jobs/{response.json()['id']}/").json()
    assert job["status"] == "succeeded" and job["progress"] == 100 and job["finished_at"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"kind": "nope"},
        {"kind": "team_bulk_add", "params": "x"},
        {"kind": "team_bulk_add", "params": {}},
    ],
)
def test_it_answers_bad_job_payloads_with_400(lead, review, payload):
    response = client_for(lead).post(
        "/api/reviews/exercise/jobs/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_a_lead_reads_the_audit_log(lead, review):
    events = client_for(lead).get("/api/reviews/exercise/audit/").json()["results"]
    assert [e["verb"] for e in events][-1] == "created"
    assert all(e["actor"] == "lead" for e in events)


def test_forged_ids_in_the_api_give_404(lead, review):
    client = client_for(lead)
    assert client.get("/api/reviews/exercise/jobs/987654/").status_code == 404
    assert client.delete("/api/reviews/exercise/memberships/987654/").status_code == 404
    assert client.get("/api/reviews/nothing-here/").status_code == 404


def test_the_openapi_schema_and_docs_are_served(lead):
    client = client_for(lead)
    schema = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/reviews/{slug}/memberships/" in text and "/api/reviews/{slug}/jobs/" in text
    docs = client.get("/api/docs/").content.decode()
    assert "swagger" in docs.lower() and "cdn" not in docs.lower()
