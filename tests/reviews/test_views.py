import csv
import io

import pytest
from django.test import Client, override_settings

from core.models import AuditEvent, Job
from reviews import services
from reviews.models import Membership, Review
from tests.conftest import PASSWORD, client_for, make_user


def test_it_sends_visitors_to_log_in(db):
    assert Client().get("/").url == "/accounts/login/"
    assert Client().get("/reviews/").url.startswith("/accounts/login/")


def test_it_logs_in_and_out(lead):
    client = Client()
    response = client.post("/accounts/login/", {"username": "lead", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/reviews/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/reviews/").status_code == 302


def test_it_explains_a_failed_login(lead):
    response = Client().post("/accounts/login/", {"username": "lead", "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_it_signs_up_a_new_user_and_logs_them_in(db):
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "email": "new@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert client.get("/reviews/").status_code == 200
    assert AuditEvent.objects.filter(verb="signed up", actor__username="newbie").exists()


def test_it_explains_bad_sign_up_input(lead):
    response = Client().post(
        "/accounts/signup/",
        {
            "username": "x" * 200,
            "email": "lead@example.org",
            "password1": "123",
            "password2": "456",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    # The e-mail is registered, but sign-up never says so (tests/core/test_signup_privacy.py).
    assert "didn’t match" in text and "e-mail exists" not in text


@override_settings(EVIDENT_SIGNUP_OPEN=False)
def test_it_closes_sign_up_when_the_site_says_so(db):
    client = Client()
    assert client.get("/accounts/signup/").status_code == 403
    response = client.post(
        "/accounts/signup/",
        {
            "username": "sneaky",
            "email": "s@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 403
    assert "Sign up" not in client.get("/accounts/login/").content.decode()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="sneaky").exists()


def test_it_changes_a_password(lead):
    client = client_for(lead)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "an-even-longer-passphrase",
            "new_password2": "an-even-longer-passphrase",
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.check_password("an-even-longer-passphrase")


def test_it_creates_a_review_from_the_form(lead):
    client = client_for(lead)
    response = client.post(
        "/reviews/new/", {"title": "Yoga for back pain", "slug": "", "research_question": "?"}
    )
    assert response.status_code == 302 and response.url == "/reviews/yoga-for-back-pain/"
    page = client.get(response.url).content.decode()
    assert "Yoga for back pain" in page and "PRISMA 2020 flow" in page


@pytest.mark.parametrize(
    "data",
    [
        {"title": ""},
        {"title": "ok", "slug": "NOT A SLUG"},
        {"title": "<script>alert(1)</script>" * 20},
        {"title": "ok", "slug": "../../x"},
    ],
)
def test_it_answers_bad_review_forms_with_messages_not_errors(lead, data):
    response = client_for(lead).post("/reviews/new/", data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not Review.objects.exists()


def test_it_escapes_hostile_titles(lead):
    services.review_create(user=lead, title="<script>alert('x')</script>", slug="hostile")
    page = client_for(lead).get("/reviews/hostile/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_the_dashboard_shows_every_prisma_stage_with_a_count(review, lead):
    page = client_for(lead).get("/reviews/exercise/").content.decode()
    for label in [
        "Protocol",
        "Identification",
        "Update rounds",
        "Duplicates",
        "Title and abstract screening",
        "Full-text assessment",
        "Included studies",
        "Extraction and risk of bias",
        "Meta-analysis",
    ]:
        assert label in page
    assert page.count('class="stage-count"') == 9


def test_the_dashboard_counts_say_one_record_in_the_singular(review, lead):
    from screening import services as screening
    from tests.screening.factories import make_records, ta_items

    make_records(review, 2)
    screening.settings_update(actor=lead, review=review, reviewers_per_record=1)
    screening.vote_cast(user=lead, review=review, item=ta_items(review)[0], decision="exclude")
    page = client_for(lead).get("/reviews/exercise/").content.decode()
    assert 'aria-label="1 record screened"' in page
    assert '<div class="muted">record screened</div>' in page
    assert 'aria-label="2 records identified"' in page
    assert 'aria-label="0 reports assessed"' in page
    assert "1 records" not in page


def test_a_lead_adds_and_removes_members_in_the_browser(review, lead):
    make_user("carol")
    client = client_for(lead)
    response = client.post(
        "/reviews/exercise/team/", {"identifier": "carol", "roles": ["extractor", "viewer"]}
    )
    assert response.status_code == 302
    assert set(
        Membership.objects.filter(user__username="carol").values_list("role", flat=True)
    ) == {"extractor", "viewer"}
    m = Membership.objects.get(user__username="carol", role="viewer")
    client.post(f"/reviews/exercise/team/{m.pk}/remove/")
    assert not Membership.objects.filter(pk=m.pk).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"identifier": "nobody", "roles": ["reviewer"]},
        {"identifier": "", "roles": ["reviewer"]},
        {"identifier": "reviewer_a", "roles": ["emperor"]},
        {"identifier": "reviewer_a"},
        {"identifier": "x" * 1000, "roles": ["reviewer"]},
    ],
)
def test_it_answers_bad_member_forms_with_messages(review, lead, data):
    before = Membership.objects.count()
    response = client_for(lead).post("/reviews/exercise/team/", data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert Membership.objects.count() == before


def test_it_refuses_to_remove_the_last_lead_with_a_message(review, lead):
    m = Membership.objects.get(review=review, role="lead")
    response = client_for(lead).post(f"/reviews/exercise/team/{m.pk}/remove/", follow=True)
    assert "at least one lead" in response.content.decode()
    assert Membership.objects.filter(pk=m.pk).exists()


def test_forged_ids_give_404(review, lead):
    client = client_for(lead)
    assert client.post("/reviews/exercise/team/999999/remove/").status_code == 404
    assert client.get("/reviews/exercise/jobs/999999/").status_code == 404
    assert client.get("/reviews/no-such-review/").status_code == 404


def test_bulk_add_runs_as_a_job_and_shows_its_progress(
    review, lead, django_capture_on_commit_callbacks
):
    make_user("erin")
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reviews/exercise/team/bulk/", {"identifiers": "erin\nghost\n", "roles": ["viewer"]}
        )
    job = Job.objects.get()
    assert response.url == f"/reviews/exercise/jobs/{job.pk}/"
    page = client.get(response.url).content.decode()
    assert "<progress" in page and "ghost" in page and "changed nothing" in page
    fragment = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'data-status="failed"' in fragment
    # A finished job stops polling; a running one polls itself.
    assert "hx-trigger" not in fragment
    Job.objects.filter(pk=job.pk).update(status="running", progress=40, message="Checked 2 of 5")
    fragment = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and 'value="40"' in fragment


def test_the_bulk_form_explains_empty_input(review, lead):
    response = client_for(lead).post(
        "/reviews/exercise/team/bulk/", {"identifiers": "", "roles": ["viewer"]}
    )
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_a_lead_reads_and_exports_the_audit_log(review, lead):
    client = client_for(lead)
    page = client.get("/reviews/exercise/audit/").content.decode()
    assert "added member" in page and "created" in page
    response = client.get("/reviews/exercise/audit.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "when", "who", "verb", "object_type", "object_id", "object", "changes"]
    assert [r[3] for r in rows[1:]] == [
        "created",
        "set up screening",
        "added member",
        "added member",
    ]
    assert {r[2] for r in rows[1:]} == {"lead"}


def test_the_audit_csv_defuses_spreadsheet_formulas(lead):
    services.review_create(user=lead, title='=HYPERLINK("http://evil")', slug="formula")
    response = client_for(lead).get("/reviews/formula/audit.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][6].startswith("'=")


def test_settings_form_updates_and_validates(review, lead):
    client = client_for(lead)
    assert (
        client.post("/reviews/exercise/settings/", {"title": "", "status": "screening"}).status_code
        == 400
    )
    assert (
        client.post("/reviews/exercise/settings/", {"title": "T", "status": "bogus"}).status_code
        == 400
    )
    response = client.post(
        "/reviews/exercise/settings/",
        {"title": "Renamed", "research_question": "", "status": "screening"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.title, review.status) == ("Renamed", "screening")
