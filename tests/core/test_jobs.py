import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core import jobs
from core.constants import JobStatus
from core.models import Job
from reviews import services
from reviews.models import Membership
from tests.conftest import make_user


def test_it_runs_a_job_to_success_with_progress_and_times(
    lead, review, django_capture_on_commit_callbacks
):
    make_user("erin")
    make_user("fay")
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_submit(
            actor=lead,
            review=review,
            kind="team_bulk_add",
            params={"identifiers": ["erin", "fay@example.org", "  "], "roles": ["viewer"]},
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.progress, job.message, job.error) == (100, "Done", "")
    assert job.started_at <= job.finished_at
    assert job.result == {"added": ["erin (viewer)", "fay (viewer)"], "people": 2}
    assert Membership.objects.filter(review=review, role="viewer").count() == 2


def test_a_failing_job_shows_its_error_and_leaves_no_partial_data(
    lead, review, django_capture_on_commit_callbacks
):
    make_user("erin")
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_submit(
            actor=lead,
            review=review,
            kind="team_bulk_add",
            params={"identifiers": ["erin", "ghost"], "roles": ["viewer"]},
        )
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "Line 2" in job.error and "ghost" in job.error and "Nobody was added" in job.error
    # erin was added before ghost failed; the rollback took her out again.
    assert not Membership.objects.filter(review=review, role="viewer").exists()
    assert job.finished_at is not None


def test_it_rejects_bad_parameters_before_queuing(lead, review):
    for params in [
        {},
        {"identifiers": "erin", "roles": ["viewer"]},
        {"identifiers": [""], "roles": ["viewer"]},
        {"identifiers": ["erin"], "roles": ["king"]},
    ]:
        with pytest.raises(ValidationError):
            services.job_submit(actor=lead, review=review, kind="team_bulk_add", params=params)
    with pytest.raises(ValidationError):
        services.job_submit(actor=lead, review=review, kind="no_such_job", params={})
    assert not Job.objects.exists()


def test_it_refuses_a_job_to_a_member_without_the_role(review, reviewer_a):
    with pytest.raises(PermissionDenied):
        services.job_submit(
            actor=reviewer_a,
            review=review,
            kind="team_bulk_add",
            params={"identifiers": ["x"], "roles": ["viewer"]},
        )


def test_it_leaves_a_finished_job_alone_when_delivered_twice(
    lead, review, django_capture_on_commit_callbacks
):
    make_user("erin")
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_submit(
            actor=lead,
            review=review,
            kind="team_bulk_add",
            params={"identifiers": ["erin"], "roles": ["viewer"]},
        )
    job.refresh_from_db()
    finished = job.finished_at
    again = jobs.job_run(job.pk)
    assert again.finished_at == finished and again.status == JobStatus.SUCCEEDED


def test_an_unknown_job_kind_in_the_table_fails_visibly(review):
    job = Job.objects.create(review=review, kind="retired_kind")
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "retired_kind" in job.error


def test_a_crashing_handler_fails_the_job_without_a_traceback_for_the_user(review, monkeypatch):
    def boom(job, progress):
        progress(50, "half way")
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(jobs._REGISTRY, "boom", jobs.JobKind("boom", "boom", ("lead",), boom))
    job = Job.objects.create(review=review, kind="boom")
    jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "Unexpected error: ZeroDivisionError: division by zero"
    assert job.progress == 50


# --- the job page, for people ---------------------------------------------------------------


def _job_page(client, job) -> str:
    response = client.get(f"/reviews/{job.review.slug}/jobs/{job.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _shows(page: str, label: str, value: str) -> bool:
    """Whether ``page`` shows ``value`` as the definition of ``label`` (not just somewhere)."""
    return bool(
        re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>\s*{re.escape(value)}\s*</dd>", page)
    )


def _no_python(page: str) -> None:
    """No result rendered as a Python dict or list."""
    assert "{&#x27;" not in page and "{'" not in page and "[&#x27;" not in page


def test_the_job_page_shows_an_imports_summary_for_people(
    lead, review, django_capture_on_commit_callbacks
):
    import io

    from tests.conftest import client_for

    export = io.BytesIO(
        b"TY  - JOUR\nTI  - Gambling and debt\nPY  - 2020\nDO  - 10.1000/abc\nER  - \n\n"
        b"TY  - JOUR\nTI  - Gambling and debt\nPY  - 2020\nDO  - 10.1000/abc\nER  - \n\n"
        b"TY  - JOUR\nTI  - Lottery play\nPY  - 2019\nER  - \n\n"
        b"TY  - JOUR\nAU  - Nobody, N\nER  - \n"
    )
    export.name = "scopus.ris"
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reviews/exercise/searches/", {"database": "Scopus", "files": export}
        )
    job = Job.objects.get(kind="import_records")
    assert response.url == f"/reviews/exercise/jobs/{job.pk}/"
    page = _job_page(client, job)
    _no_python(page)
    assert "<h1>Import records #" in page
    assert "Import of scopus.ris into the search “Scopus”" in page
    rows = {
        "Records read": "4",
        "Records imported": "3",
        "Duplicates found": "1 (merged, screened once)",
        "Queued for screening": "2",
    }
    for label, value in rows.items():
        assert _shows(page, label, value), label
    assert "<dt>Warnings</dt>" in page and "1 entry skipped" in page and "no title" in page


def test_the_job_page_shows_a_dedup_runs_counts_and_a_team_bulk_adds_result(
    lead, review, django_capture_on_commit_callbacks
):
    from tests.conftest import client_for

    make_user("erin")
    with django_capture_on_commit_callbacks(execute=True):
        dedup = services.job_submit(actor=lead, review=review, kind="dedup", params={})
        team = services.job_submit(
            actor=lead,
            review=review,
            kind="team_bulk_add",
            params={"identifiers": ["erin"], "roles": ["viewer"]},
        )
    client = client_for(lead)
    page = _job_page(client, dedup)
    _no_python(page)
    for label in (
        "Records in the review",
        "Records merged into another",
        "Possible duplicates for a person to judge",
    ):
        assert f"<dt>{label}</dt>" in page
    page = _job_page(client, team)
    _no_python(page)
    assert "<dt>People on the list</dt>" in page and "erin (viewer)" in page
    jobs_page = client.get("/reviews/exercise/jobs/").content.decode()
    assert "Deduplicate records #" in jobs_page and "Add team members #" in jobs_page


def test_a_result_the_page_does_not_know_is_a_readable_definition_list(lead, review):
    from tests.conftest import client_for

    job = Job.objects.create(
        review=review,
        kind="retired_kind",
        status=JobStatus.SUCCEEDED,
        result={
            "studies_found": 1234,
            "by_design": {"rct": 3, "cohort": 4},
            "excluded_ids": list(range(30)),
            "complete": True,
        },
    )
    page = _job_page(client_for(lead), job)
    _no_python(page)
    assert _shows(page, "Studies found", "1,234")
    assert "<dt>By design</dt>" in page and "<dt>Rct</dt>" in page
    assert "<li>19</li>" in page and "<li>20</li>" not in page and "… and 10 more" in page
    assert _shows(page, "Complete", "yes")
