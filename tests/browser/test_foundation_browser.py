import pytest

from reviews.models import Membership, Review
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_logs_in_creates_a_review_adds_a_member_and_sees_the_dashboard(page):
    make_user("lena")
    make_user("ana", "ana@example.org")

    page.goto("/")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My reviews").wait_for()

    page.get_by_role("link", name="New review").click()
    page.get_by_label("Title").fill("Mindfulness for anxiety")
    page.get_by_label("Research question").fill("Does mindfulness reduce anxiety in adults?")
    page.get_by_role("button", name="Create review").click()
    page.get_by_role("heading", name="Mindfulness for anxiety").wait_for()
    assert page.url.endswith("/reviews/mindfulness-for-anxiety/")

    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_label("Username or e-mail").fill("ana@example.org")
    page.get_by_label("Reviewer").check()
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("ana added as reviewer").wait_for()

    page.get_by_role("link", name="Dashboard").click()
    stages = page.locator("ol.stages > li")
    assert stages.count() == 9
    assert stages.filter(has_text="Title and abstract screening").count() == 1
    assert "ana" in page.locator("#team-h + ul").inner_text()
    # htmx is served from our own static files, not a CDN.
    assert page.evaluate("typeof window.htmx") == "object"

    review = Review.objects.get(slug="mindfulness-for-anxiety")
    assert Membership.objects.filter(review=review, user__username="ana", role="reviewer").exists()


def test_a_job_page_updates_itself_until_the_job_ends(page, live_server):
    from core.models import Job
    from reviews import services

    lead = make_user("lena")
    review = services.review_create(user=lead, title="Polling", slug="polling")
    job = Job.objects.create(
        review=review, kind="team_bulk_add", status="running", progress=30, message="Working"
    )
    page.context.add_cookies([])
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My reviews").wait_for()
    page.goto(f"/reviews/polling/jobs/{job.pk}/")
    assert page.locator("progress").get_attribute("value") == "30"
    Job.objects.filter(pk=job.pk).update(progress=80, message="Almost")
    page.wait_for_function("document.querySelector('progress').value == 80")
    Job.objects.filter(pk=job.pk).update(progress=100, status="succeeded", message="Done")
    page.locator('section.job[data-status="succeeded"]').wait_for()
