"""A job whose worker died is run again when its message comes back, and given up after
EVIDENT_JOB_MAX_ATTEMPTS starts (issue 13: jobs killed at the hard limit or out of memory must not
stay "running" for ever nor loop)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from core import jobs
from core.constants import JobStatus
from core.models import Job
from reviews import services

RUNS: list[int] = []


@jobs.register("test_attempts_ok", label="test job", roles=["lead"])
def _ok(job, progress):
    RUNS.append(job.pk)
    return {"ran": True}


@pytest.fixture
def job(db, review):
    RUNS.clear()
    return services.job_submit(
        actor=review.created_by, review=review, kind="test_attempts_ok", params={}, enqueue=False
    )


def _left_running(job: Job, attempts: int) -> None:
    """As a worker killed mid-job leaves it: running, started a moment ago."""
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=attempts
    )


def test_a_first_run_counts_one_attempt(job):
    done = jobs.job_run(job.pk)
    assert (done.status, done.attempts, RUNS) == (JobStatus.SUCCEEDED, 1, [job.pk])


def test_a_running_job_is_left_alone_by_a_second_delivery(job):
    _left_running(job, attempts=1)
    assert jobs.job_run(job.pk).status == JobStatus.RUNNING
    assert RUNS == []


def test_a_redelivered_message_runs_the_job_its_dead_worker_left_running(job):
    _left_running(job, attempts=1)
    done = jobs.job_run(job.pk, redelivered=True)
    assert (done.status, done.attempts, RUNS) == (JobStatus.SUCCEEDED, 2, [job.pk])


def test_a_job_whose_worker_keeps_dying_ends_failed_with_a_message(job):
    _left_running(job, attempts=settings.EVIDENT_JOB_MAX_ATTEMPTS)
    done = jobs.job_run(job.pk, redelivered=True)
    assert done.status == JobStatus.FAILED and RUNS == []
    assert f"started {settings.EVIDENT_JOB_MAX_ATTEMPTS} times" in done.error
    assert "Nothing it did was kept" in done.error


def test_a_finished_job_is_not_run_again_by_a_redelivery(job):
    jobs.job_run(job.pk)
    RUNS.clear()
    assert jobs.job_run(job.pk, redelivered=True).status == JobStatus.SUCCEEDED
    assert RUNS == []


def test_messages_come_back_only_after_the_hard_time_limit():
    # Otherwise Redis would hand a long job's message to a second worker while it still runs.
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
