"""A job stopped by its time limit ends failed, with a message for people (issue 13, item 6).

Celery raises ``SoftTimeLimitExceeded`` inside the task when the soft limit passes. The runner
must end the job as failed with a message that says what happened (not "Unexpected error"),
roll back what the job did, and let the job's kind mark what it worked on (the import's batch).
"""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded

from core import jobs
from core.constants import JobStatus
from core.models import Job
from reviews.models import Membership
from tests.conftest import make_user


def test_a_job_past_its_soft_time_limit_ends_failed_with_its_message(
    review, monkeypatch, settings, caplog
):
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 30 * 60
    marked = []

    def slow(job, progress):
        progress(96, "Saving the review queue")
        Membership.objects.create(review=review, user=make_user("erin"), role="viewer")
        raise SoftTimeLimitExceeded()

    monkeypatch.setitem(
        jobs._REGISTRY,
        "slow",
        jobs.JobKind(
            "slow", "slow work", ("lead",), slow, on_failure=lambda j, e: marked.append(e)
        ),
    )
    job = Job.objects.create(review=review, kind="slow")
    with caplog.at_level(logging.WARNING, logger="core.jobs"):
        jobs.job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert "Unexpected error" not in job.error
    assert "30 minutes" in job.error and "time limit" in job.error
    assert "Nothing it did was kept" in job.error
    assert job.progress == 96 and job.message == "Failed"
    assert marked == [job.error]
    # Its work was rolled back with it.
    assert not Membership.objects.filter(role="viewer").exists()
    assert any("time limit" in r.getMessage() for r in caplog.records)


def test_a_finished_job_is_not_run_again_after_its_time_limit(review, monkeypatch):
    calls = []

    def slow(job, progress):
        calls.append(job.pk)
        raise SoftTimeLimitExceeded()

    monkeypatch.setitem(jobs._REGISTRY, "slow", jobs.JobKind("slow", "slow", ("lead",), slow))
    job = Job.objects.create(review=review, kind="slow")
    jobs.job_run(job.pk)
    jobs.job_run(job.pk)  # redelivered (acks_late)
    assert calls == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
