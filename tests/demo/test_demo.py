from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from core.constants import JobStatus
from core.models import Job
from demo.build import DEMO_PASSWORD
from identification.models import Record
from reviews.models import Membership, Review


def test_load_demo_builds_the_demo_review_with_documented_logins(
    db, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    review = Review.objects.get(slug="demo")
    roles = set(Membership.objects.filter(review=review).values_list("user__username", "role"))
    assert {
        ("lead", "lead"),
        ("reviewer_a", "reviewer"),
        ("reviewer_b", "reviewer"),
        ("stats", "statistician"),
    } <= roles
    assert set(Job.objects.filter(review=review).values_list("status", flat=True)) == {
        JobStatus.SUCCEEDED
    }
    per_database = dict(
        Record.objects.filter(review=review)
        .values("search__database")
        .annotate(n=Count("id"))
        .values_list("search__database", "n")
    )
    assert per_database == {
        "Scopus": 255,
        "MEDLINE": 176,
        "APA PsycInfo": 124,
        "Lens": 49,
        "Criminal Justice Abstracts": 41,
    }
    out = capsys.readouterr().out
    assert f"lead / {DEMO_PASSWORD}" in out
    client = Client()
    assert client.login(username="reviewer_a", password=DEMO_PASSWORD)
    assert client.get("/reviews/demo/").status_code == 200
    page = client.get("/reviews/demo/rounds/").content.decode()
    assert "split by publication year" in page
    assert "updated-review template" in client.get("/reviews/demo/prisma/").content.decode()
    _check_protocol(review, set(per_database))
    _check_screening_and_prisma(review)


def test_load_demo_can_run_twice(db):
    call_command("load_demo")
    call_command("load_demo")
    assert Review.objects.filter(slug="demo").count() == 1


def _check_screening_and_prisma(review):
    """Screening in progress with a conflict to resolve, and a PRISMA diagram that adds up."""
    from reporting.selectors import prisma_report
    from screening.constants import ItemStatus, Stage
    from screening.models import ScreeningItem

    items = ScreeningItem.objects.filter(review=review)
    assert items.filter(stage=Stage.TITLE_ABSTRACT, status=ItemStatus.CONFLICT).count() == 1
    assert items.filter(stage=Stage.FULL_TEXT, status=ItemStatus.INCLUDED).exists()
    assert items.filter(stage=Stage.FULL_TEXT, status=ItemStatus.NOT_RETRIEVED).exists()
    # Round 1: the records published up to 2020. The one open conflict leaves its
    # title/abstract screening unfinished, and the page says so.
    report = prisma_report(review=review, round_number=1)
    assert [i.message for i in report.issues if i.severity == "error"] == []
    counts = report.counts
    assert counts.duplicates_removed > 0 and counts.records_excluded > 0
    assert counts.reports_excluded and counts.new_studies > 0
    assert report.warnings == [
        "title/abstract screening: 1 of 157 records still open.",
        "1 title/abstract conflict awaits resolution.",
    ]
    # Round 2 (the later records): the updated-review diagram, counted live, adds up.
    update = prisma_report(review=review)
    assert update.issues == [] and update.warnings == []
    c = update.counts
    assert c.template == "C" and c.update.previous_studies == counts.new_studies
    assert c.update.total_studies == c.update.previous_studies + c.new_studies
    assert c.identified - c.duplicates_removed == c.records_screened == 117
    from identification.demo import SPLIT_YEAR
    from reporting.changelog import change_log

    first, second = change_log(review)
    assert second.duplicates_earlier > 0 and second.new_studies == c.new_studies
    assert first.new_records + second.new_records == 274
    assert f"published up to {SPLIT_YEAR}" in second.reason


def _check_protocol(review, searched: set[str]):
    """A registered protocol (a demonstration registration, never a real registry's number)
    with one amendment; the deviation report shows the database planned but not searched."""
    from reporting.deviations import deviation_report
    from reviews.protocol import selectors

    v1, v2 = selectors.versions_of(review).order_by("number")
    assert (v1.state, v2.state) == ("registered", "amendment")
    assert (v1.registry, v1.registration_id, v1.registration_url) == ("other", "DEMO-2022-001", "")
    assert "demonstration" in v1.registry_name.lower()
    assert v2.sections_changed == ["information_sources"] and "Lens" in v2.rationale
    assert all(check.ok for check in selectors.fingerprint_checks(review))
    report = deviation_report(review)
    assert set(report.databases.searched) == searched
    assert report.databases.not_searched == ["Web of Science Core Collection"]
    assert report.databases.unplanned == []
    assert selectors.synthesis_plan(review)["method"] == "REML"
