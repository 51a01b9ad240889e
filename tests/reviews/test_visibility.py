"""What members see of each other (issue 13, item 8): e-mail addresses and job parameters are
for the review's leads, not for every member. A job's parameters (and its error, which repeats
them) are also shown to the person who started the job."""

from __future__ import annotations

import json

import pytest

from core import jobs
from reviews import services
from reviews.constants import Role
from tests.conftest import client_for, make_user

GHOST = "ghost.person@elsewhere.example"


@pytest.fixture
def viewer(review, lead):
    user = make_user("vera")
    services.membership_add(actor=lead, review=review, identifier="vera", roles=[Role.VIEWER])
    return user


@pytest.fixture
def failed_job(review, lead, django_capture_on_commit_callbacks):
    """A lead's bulk add that failed on an address nobody has: the address is in the job's
    parameters and in its error."""
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_submit(
            actor=lead,
            review=review,
            kind="team_bulk_add",
            params={"identifiers": ["reviewer_a", GHOST], "roles": ["viewer"]},
        )
    job.refresh_from_db()
    assert job.status == "failed" and GHOST in job.error
    return job


def emails_in(text: str) -> set[str]:
    return {a for a in ("lead@", "reviewer_a@", "reviewer_b@", "vera@") if a in text}


@pytest.mark.parametrize("who", ["viewer", "reviewer_a"])
def test_members_who_are_not_leads_see_no_email_on_the_team_page(review, who, request):
    text = client_for(request.getfixturevalue(who)).get("/reviews/exercise/team/").content.decode()
    assert "lead" in text and "reviewer_b" in text  # the team is there, by username
    assert emails_in(text) == set()


def test_a_lead_sees_every_members_email_on_the_team_page(review, lead, viewer):
    text = client_for(lead).get("/reviews/exercise/team/").content.decode()
    assert emails_in(text) == {"lead@", "reviewer_a@", "reviewer_b@", "vera@"}


def test_the_memberships_api_shows_emails_to_leads_only(review, lead, viewer):
    rows = client_for(viewer).get("/api/reviews/exercise/memberships/").json()["results"]
    assert rows and all(row["email"] is None for row in rows)
    assert emails_in(json.dumps(rows)) == set()
    one = client_for(viewer).get(f"/api/reviews/exercise/memberships/{rows[0]['id']}/").json()
    assert one["email"] is None

    rows = client_for(lead).get("/api/reviews/exercise/memberships/").json()["results"]
    assert {row["username"]: row["email"] for row in rows}["vera"] == "vera@example.org"
    added = client_for(lead).post(
        "/api/reviews/exercise/memberships/",
        {"user": "reviewer_a", "roles": ["extractor"]},
        content_type="application/json",
    )
    assert added.status_code == 201 and added.json()[0]["email"] == "reviewer_a@example.org"


@pytest.mark.parametrize("who", ["viewer", "reviewer_a"])
def test_the_jobs_api_hides_a_leads_job_parameters_and_error_from_others(
    review, failed_job, who, request
):
    client = client_for(request.getfixturevalue(who))
    listed = client.get("/api/reviews/exercise/jobs/").json()["results"]
    one = client.get(f"/api/reviews/exercise/jobs/{failed_job.pk}/").json()
    for row in (*listed, one):
        assert row["params"] is None and row["error"] is None
        assert row["status"] == "failed" and row["kind"] == "team_bulk_add"  # the rest is there
    assert GHOST not in json.dumps(listed) + json.dumps(one)


def test_a_lead_sees_job_parameters_and_errors(review, lead, failed_job):
    one = client_for(lead).get(f"/api/reviews/exercise/jobs/{failed_job.pk}/").json()
    assert one["params"]["identifiers"] == ["reviewer_a", GHOST] and GHOST in one["error"]
    page = client_for(lead).get(f"/reviews/exercise/jobs/{failed_job.pk}/").content.decode()
    assert GHOST in page and "Parameters" in page


@pytest.mark.parametrize("who", ["viewer", "reviewer_a"])
def test_the_job_page_hides_a_leads_job_parameters_and_error_from_others(
    review, failed_job, who, request
):
    client = client_for(request.getfixturevalue(who))
    for path in (
        f"/reviews/exercise/jobs/{failed_job.pk}/",
        "/reviews/exercise/jobs/",
        "/reviews/exercise/",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert GHOST not in response.content.decode(), path
    page = client.get(f"/reviews/exercise/jobs/{failed_job.pk}/").content.decode()
    assert "The job failed and changed nothing." in page  # what happened, without the details
    htmx = client.get(f"/reviews/exercise/jobs/{failed_job.pk}/", headers={"HX-Request": "true"})
    assert GHOST not in htmx.content.decode()


def test_whoever_started_a_job_sees_its_parameters(
    review, reviewer_a, reviewer_b, monkeypatch, django_capture_on_commit_callbacks
):
    def echo(job, progress):
        raise jobs.JobError(f"No luck with {job.params['word']}")

    kind = jobs.JobKind("echo", "echo", (Role.REVIEWER,), echo)
    monkeypatch.setitem(jobs._REGISTRY, "echo", kind)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(reviewer_a).post(
            "/api/reviews/exercise/jobs/",
            {"kind": "echo", "params": {"word": "sesame"}},
            content_type="application/json",
        )
    assert response.status_code == 202 and response.json()["params"] == {"word": "sesame"}
    pk = response.json()["id"]
    mine = client_for(reviewer_a).get(f"/api/reviews/exercise/jobs/{pk}/").json()
    assert mine["params"] == {"word": "sesame"} and "sesame" in mine["error"]
    theirs = client_for(reviewer_b).get(f"/api/reviews/exercise/jobs/{pk}/").json()
    assert theirs["params"] is None and theirs["error"] is None


def test_the_schema_says_which_fields_may_be_null(lead):
    schema = client_for(lead).get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["Membership"]["properties"]["email"].get("nullable") is True
    assert schema["Membership"]["properties"]["added_by"].get("nullable") is True
    for field in ("params", "error", "created_by"):
        assert schema["Job"]["properties"][field].get("nullable") is True, field
