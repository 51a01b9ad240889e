"""Jobs whose worker died are told apart from jobs still running (issue 13: "SIGKILL the Celery
worker ...; after restart the job completes exactly once or is marked failed and retryable").

The worker-killing tests (test_worker_killed.py) show the whole path with real workers on
PostgreSQL; these pin the rules of ``core.recovery`` on any database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from core import jobs
from core.constants import JobStatus
from core.models import Job
from core.recovery import Heartbeat, WorkerIdentity, is_orphan, jobs_recover, pid_alive
from reviews import services
from tests.conftest import require_postgres

RUNS: list[int] = []


@jobs.register("test_recovery_ok", label="test job", roles=["lead"])
def _ok(job, progress):
    RUNS.append(job.pk)
    return {"ran": True}


@jobs.register("test_recovery_slow", label="test job", roles=["lead"])
def _slow(job, progress):
    time.sleep(2.5)
    return {"ran": True}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def job(db, review):
    RUNS.clear()
    return services.job_submit(
        actor=review.created_by, review=review, kind="test_recovery_ok", params={}, enqueue=False
    )


def _running(job: Job, *, worker: str, heartbeat_age: float | None, queue: str = "q") -> Job:
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        started_at=now,
        attempts=1,
        worker=worker,
        queue=queue,
        heartbeat_at=None if heartbeat_age is None else now - timedelta(seconds=heartbeat_age),
    )
    job.refresh_from_db()
    return job


def test_a_job_of_a_dead_process_on_this_node_is_an_orphan(job):
    job = _running(job, worker=f"w1@host pid {_dead_pid()}", heartbeat_age=1)
    assert is_orphan(job, node="w1@host")
    # Another node cannot see that process: it goes by the (fresh) heartbeat.
    assert not is_orphan(job, node="w2@other")


def test_a_job_of_a_live_process_with_a_fresh_heartbeat_is_not(job):
    job = _running(job, worker=f"w1@host pid {os.getpid()}", heartbeat_age=1)
    assert pid_alive(os.getpid())
    assert not is_orphan(job, node="w1@host")
    assert not is_orphan(job, node="w2@other")


@override_settings(EVIDENT_JOB_HEARTBEAT_STALE=60)
def test_a_stale_heartbeat_makes_an_orphan_anywhere(job):
    job = _running(job, worker=f"w1@host pid {os.getpid()}", heartbeat_age=61)
    assert is_orphan(job, node="w2@other")
    assert is_orphan(job, node="")


def test_a_job_that_is_not_running_is_never_an_orphan(job):
    assert not is_orphan(job, node="w1@host")


def test_a_redelivered_message_leaves_a_job_another_worker_runs_alone(job):
    """Redis restores an unacknowledged message after its visibility timeout even when the job
    it carries still runs (a long job): the late delivery must not start a second copy."""
    job = _running(job, worker=f"w1@host pid {os.getpid()}", heartbeat_age=1)
    me = WorkerIdentity(node="w2@other", pid=os.getpid(), queue="q")
    again = jobs.job_run(job.pk, redelivered=True, worker=me)
    assert (again.status, again.attempts, again.worker) == (JobStatus.RUNNING, 1, job.worker)
    assert RUNS == []


def test_a_redelivered_message_takes_over_the_job_of_a_dead_pool_child(job):
    job = _running(job, worker=f"w1@host pid {_dead_pid()}", heartbeat_age=1)
    me = WorkerIdentity(node="w1@host", pid=os.getpid(), queue="q")
    done = jobs.job_run(job.pk, redelivered=True, worker=me)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    assert done.worker == me.label
    assert [job.pk] == RUNS


def test_a_job_run_by_a_worker_records_it(job):
    me = WorkerIdentity(node="w1@host", pid=os.getpid(), queue="evident")
    done = jobs.job_run(job.pk, worker=me)
    assert done.status == JobStatus.SUCCEEDED
    assert (done.worker, done.queue) == (f"w1@host pid {os.getpid()}", "evident")
    assert done.heartbeat_at is not None


def test_recovery_queues_orphans_again_once(job, review):
    live = services.job_submit(
        actor=review.created_by, review=review, kind="test_recovery_ok", params={}, enqueue=False
    )
    live = _running(live, worker=f"w1@host pid {os.getpid()}", heartbeat_age=1)
    dead = _running(job, worker=f"w1@host pid {_dead_pid()}", heartbeat_age=1, queue="imports")
    sent: list[tuple[int, str]] = []

    requeued = jobs_recover("w1@host", send=lambda j: sent.append((j.pk, j.queue)))
    assert requeued == [dead.pk]
    assert sent == [(dead.pk, "imports")]
    dead.refresh_from_db()
    live.refresh_from_db()
    assert dead.status == JobStatus.QUEUED and "worker running it stopped" in dead.message
    assert live.status == JobStatus.RUNNING
    # A second worker starting at the same moment finds nothing left to requeue.
    assert jobs_recover("w1@host", send=lambda j: sent.append((j.pk, j.queue))) == []
    # The requeued job then runs once, counting its second start.
    done = jobs.job_run(dead.pk)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    # Its late original message finds it finished.
    assert jobs.job_run(dead.pk, redelivered=True).attempts == 2


@override_settings(EVIDENT_JOB_MAX_ATTEMPTS=1)
def test_a_requeued_job_past_its_attempts_ends_failed(job):
    dead = _running(job, worker=f"w1@host pid {_dead_pid()}", heartbeat_age=1)
    jobs_recover("w1@host", send=lambda j: None)
    done = jobs.job_run(dead.pk)
    assert done.status == JobStatus.FAILED
    assert "started 1 times" in done.error


@pytest.mark.django_db(transaction=True)
@override_settings(EVIDENT_JOB_HEARTBEAT_SECONDS=1)
def test_the_heartbeat_is_written_while_the_job_runs(review):
    require_postgres("the heartbeat is written on PostgreSQL (SQLite has one writer)")
    job = services.job_submit(
        actor=review.created_by, review=review, kind="test_recovery_slow", params={}, enqueue=False
    )
    me = WorkerIdentity(node="w1@host", pid=os.getpid(), queue="q")
    started = timezone.now()
    done = jobs.job_run(job.pk, worker=me)
    assert done.status == JobStatus.SUCCEEDED
    # Claimed at the start, then beaten at least twice during the 2.5 s handler.
    assert done.heartbeat_at >= started + timedelta(seconds=1.5)


def test_the_heartbeat_thread_stops_with_the_job(review, db):
    job = services.job_submit(
        actor=review.created_by, review=review, kind="test_recovery_ok", params={}, enqueue=False
    )
    beat = Heartbeat(job, enabled=True)
    beat._enabled = True  # also on SQLite: the thread's start and stop are what is tested
    with override_settings(EVIDENT_JOB_HEARTBEAT_SECONDS=1):
        beat.interval = 0.05
        with beat:
            assert beat._thread is not None and beat._thread.is_alive()
        assert not beat._thread.is_alive()
