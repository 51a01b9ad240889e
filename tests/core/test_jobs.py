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
