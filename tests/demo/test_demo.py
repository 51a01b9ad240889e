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
    report = prisma_report(review=review)
    assert [i.message for i in report.issues if i.severity == "error"] == []
    counts = report.counts
    assert counts.duplicates_removed > 0 and counts.records_excluded > 0
    assert counts.reports_excluded and counts.new_studies > 0
    assert report.warnings == ["1 title/abstract conflicts await resolution."]
