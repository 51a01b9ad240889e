"""Jobs through the real broker and a real Celery worker (the PostgreSQL run of .ci/run).

.ci/run starts ``celery -A config worker`` against Redis, pointed at the test database, and sets
EVIDENT_CELERY_WORKER=1. Elsewhere these tests skip and say why.
"""

from __future__ import annotations

import io
import os
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from config.celery import app as celery_app
from core.constants import JobStatus
from core.models import Job
from reviews import services
from reviews.constants import Role
from reviews.models import Membership
from tests.conftest import make_user, require_service

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    broker = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")
    require_service(
        connection.vendor == "postgresql",
        "the worker tests run on PostgreSQL (the second stage of .ci/run)",
        service="postgres",
    )
    require_service(bool(broker), "no broker configured (set CELERY_BROKER_URL)", service="worker")
    require_service(
        os.environ.get("EVIDENT_CELERY_WORKER") == "1",
        "no Celery worker started for the tests (see .ci/run)",
        service="worker",
    )
    replies = celery_app.control.ping(timeout=5.0)
    require_service(bool(replies), "the Celery worker does not answer a ping", service="worker")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield replies
    celery_app.conf.task_always_eager = eager


def wait_for(job: Job, *, timeout: float = 120.0) -> tuple[Job, list[int]]:
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not seen or seen[-1] != job.progress:
            seen.append(job.progress)
        if job.is_finished:
            return job, seen
        time.sleep(0.02)
    raise AssertionError(
        f"job {job.pk} still {job.status} at {job.progress}% after {timeout}s: is the worker on this database?"
    )


def test_a_job_runs_on_the_worker_and_reports_progress(worker):
    lead = make_user("lead")
    review = services.review_create(user=lead, title="Worker test", slug="worker-test")
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"person{i:04d}", email=f"p{i}@example.org") for i in range(1000)]
    )
    job = services.job_submit(
        actor=lead,
        review=review,
        kind="team_bulk_add",
        params={
            "identifiers": [f"person{i:04d}" for i in range(1000)],
            "roles": [Role.VIEWER, Role.EXTRACTOR],
        },
    )
    job, seen = wait_for(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 100 and job.started_at and job.finished_at
    # Progress was visible from outside while the job's own transaction was still open.
    assert any(0 < p < 100 for p in seen), seen
    assert Membership.objects.filter(review=review, role=Role.VIEWER).count() == 1000
    assert Membership.objects.filter(review=review, role=Role.EXTRACTOR).count() == 1000


def test_a_failing_job_on_the_worker_shows_its_error_and_leaves_nothing(worker):
    lead = make_user("lead")
    review = services.review_create(user=lead, title="Worker failure", slug="worker-failure")
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"person{i:04d}", email=f"p{i}@example.org") for i in range(300)]
    )
    names = [f"person{i:04d}" for i in range(300)] + ["ghost-who-is-not-there"]
    job = services.job_submit(
        actor=lead,
        review=review,
        kind="team_bulk_add",
        params={"identifiers": names, "roles": [Role.VIEWER, Role.EXTRACTOR]},
    )
    job, _ = wait_for(job)
    assert job.status == JobStatus.FAILED
    assert "Line 301" in job.error and "ghost-who-is-not-there" in job.error
    assert not Membership.objects.filter(review=review, role=Role.VIEWER).exists()


def test_a_large_import_is_read_in_parts_by_the_worker(worker):
    """A file over EVIDENT_IMPORT_PARALLEL_MIN_MB: the Celery worker (a daemonic process) starts
    the import's own worker processes, and the job still reports progress and is atomic."""
    from django.conf import settings

    from identification import services as imports
    from identification.models import ImportBatch, Record

    lead = make_user("lead")
    review = services.review_create(user=lead, title="Worker import", slug="worker-import")
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    abstract = "Gambling harms in adolescents and young adults. " * 70  # 3.4 kB, as in Scopus
    count = 2600
    text = "".join(
        f"TY  - JOUR\nTI  - Record {i} on gambling\nAU  - Author, {i}\nPY  - {1990 + i % 30}\n"
        f"DO  - 10.5555/worker.{i}\nAB  - {abstract}\nER  - \n\n"
        for i in range(count)
    ).encode()
    assert len(text) > settings.EVIDENT_IMPORT_PARALLEL_MIN_MB * 2**20
    batch = imports.batch_upload(
        actor=lead, search=search, fileobj=io.BytesIO(text), filename="large.ris"
    )
    job, seen = wait_for(Job.objects.get(pk=batch.job_id))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["imported"] == count
    # .ci/run gives the worker two import processes.
    assert job.result["processes"] == 2, job.result
    assert any(0 < p < 100 for p in seen), seen
    assert Record.objects.filter(batch=batch).count() == count
    last = Record.objects.filter(batch=batch).order_by("pk").last()
    assert last.title == f"Record {count - 1} on gambling" and last.source_line == 8 * count - 7
    assert ImportBatch.objects.get(pk=batch.pk).status == "imported"
