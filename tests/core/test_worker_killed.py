"""A Celery worker SIGKILLed mid-job (issue 13: "SIGKILL the Celery worker during an import, a
deduplication ...; after restart the job completes exactly once or is marked failed and
retryable, and leaves no partial data").

Real parts only: each test starts its own ``celery -A config worker`` on a queue of its own
(the CI's worker listens on the default queue, so neither takes the other's messages), pointed
at pytest-django's test database, and kills it with SIGKILL while a job runs:

* the pool child that runs the job: the worker's main process sees it die and, with
  ``acks_late`` and ``reject_on_worker_lost``, puts the message back at the head of the queue,
  marked redelivered; a new pool child takes it and ``core.jobs.job_run`` reclaims the job;
* the whole worker: nothing is left to requeue the message, which waits in Redis's "unacked"
  set until the visibility timeout (an hour or more). The job is started again anyway when a
  worker starts (``core.recovery.jobs_recover``): at once when the worker comes back under the
  same node name (as a service manager restarts it) and the process recorded on the job is
  gone; on any other worker once the job's heartbeat is stale. The dead worker's message, put
  back by kombu's ``restore_by_tag`` as a live worker would after the visibility timeout, then
  finds the job finished and changes nothing.

Each time the job must end succeeded exactly once (two starts; the first one's rows rolled back
with its dead connection) with the same data as a run that was never interrupted.

They run in the PostgreSQL stage of .ci/run (PostgreSQL, Redis). Elsewhere they skip and say why.
They do not need the CI's worker.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from core import jobs
from core.constants import JobStatus
from core.models import AuditEvent, Job
from core.tasks import job_run_task
from deduplication.models import DuplicateCluster, DuplicatePair
from identification import services as imports
from identification.models import ImportBatch, Record
from reviews import services
from tests.conftest import make_user, require_service

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "tests" / "data" / "exports"
RIS_SOURCES = [
    "asreview__ovid_psycinfo.ris",
    "asreview__proquest.ris",
    "asreview__scopus.ris",
    "asysd__wos_test.ris",
    "synthesisr__ebsco_ASP_ris_example.ris",
    "synthesisr__scopus.ris",
]
#: Records in the files the tests import. Copies of 163 real records, so deduplication (which
#: an import runs in its own transaction) has work: about 8 seconds' in all on a laptop, most
#: of it after every record has been inserted, which is when the tests kill the job.
RECORDS = 1000


# --- the file ---------------------------------------------------------------------------------


def _ris_records() -> list[str]:
    """Every record of the RIS exports in tests/data, each ending with its ``ER  -`` line."""
    records = []
    for name in RIS_SOURCES:
        text = (EXPORTS / name).read_text(encoding="utf-8", errors="replace").lstrip("\ufeff")
        for part in re.split(r"(?m)^ER  -.*\n?", text.replace("\r\n", "\n")):
            if "TY  -" in part:
                records.append(part.strip("\n") + "\nER  - \n")
    return records


def ris_copies(count: int) -> tuple[bytes, list[str]]:
    """A RIS file of ``count`` records cycled from real exports, each title tagged with its
    number (as bench/_common.write_ris_copies does), and the titles in file order."""
    records = _ris_records()
    out, titles = [], []
    for i in range(count):
        tagged = f"[copy {i}]"
        record, found = re.subn(
            r"(?m)^(TI|T1)  - (.*)$",
            lambda m, tagged=tagged: f"{m.group(1)}  - {tagged} {m.group(2)}",
            records[i % len(records)],
            count=1,
        )
        if not found:
            record = record.replace("\n", f"\nTI  - {tagged}\n", 1)
        out.append(record + "\n")
        titles.append(tagged)
    return "".join(out).encode(), titles


# --- the worker -------------------------------------------------------------------------------


def _database_url() -> str:
    """pytest-django's test database (test_<name>), as the worker must see it."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux's /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return sorted(set(found))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class Worker:
    """``celery -A config worker`` in a subprocess, on its own queue, with one pool child."""

    def __init__(self, queue: str, name: str, log: Path, env: dict[str, str]) -> None:
        self.queue, self.name, self.log = queue, name, log
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "--concurrency=1",
                "--loglevel=INFO",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.node = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited at start:\n{self.tail()}")
            for reply in celery_app.control.ping(timeout=0.5):
                node = next(iter(reply))
                if node.startswith(f"{self.name}@"):
                    self.node = node
            if self.node and self.children():
                return
        raise AssertionError(f"worker {self.name} does not answer a ping:\n{self.tail()}")

    def children(self) -> list[int]:
        return [pid for pid in _children(self.pid) if _alive(pid)]

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Whatever state it is in: SIGKILL it and its pool children (ours by pid)."""
        children = _children(self.pid) if self.proc.poll() is None else []
        self.kill()
        for pid in children:
            _kill(pid)
        self._log.close()

    def tail(self, lines: int = 60) -> str:
        self._log.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def workers(tmp_path):
    """Starts workers on one queue of this test's own; stops them all afterwards."""
    require_service(
        connection.vendor == "postgresql",
        "the worker-killing tests run on PostgreSQL (the second stage of .ci/run)",
        service="postgres",
    )
    broker = settings.CELERY_BROKER_URL
    require_service(
        broker.startswith(("redis://", "rediss://")),
        "no Redis broker configured (set CELERY_BROKER_URL)",
        service="worker",
    )
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        require_service(False, f"the broker does not answer: {exc}", service="worker")
    queue = f"evident-sigkill-{uuid.uuid4().hex[:12]}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
        CELERY_BROKER_URL=broker,
        PYTHONUNBUFFERED="1",
    )
    started: list[Worker] = []
    counter = itertools.count(1)

    def start(name: str = "", **extra_env: str) -> Worker:
        name = name or f"sigkill-{uuid.uuid4().hex[:6]}-{next(counter)}"
        worker = Worker(queue, name, tmp_path / f"{name}.log", env | extra_env)
        started.append(worker)
        worker.wait_ready()
        return worker

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    start.queue = queue  # type: ignore[attr-defined]
    start.started = started  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        for worker in started:
            worker.stop()
        # The queue may never have been declared.
        with celery_app.connection_for_write() as conn, contextlib.suppress(Exception):
            conn.default_channel.queue_delete(queue)


def send(job: Job, queue: str) -> str:
    return job_run_task.apply_async(args=[job.pk], queue=queue).id


def wait_until(job: Job, ready, *, what: str, timeout: float = 60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if ready(job):
            return job
        time.sleep(0.02)
    raise AssertionError(
        f"job {job.pk} never {what}: {job.status} at {job.progress}% ({job.message!r}) "
        f"after {timeout}s, {job.attempts} start(s)"
    )


def killed_mid_job(job: Job, *, at_least: int) -> Job:
    """Wait until ``job`` runs and has got somewhere (``at_least`` percent)."""
    return wait_until(
        job,
        lambda j: j.is_finished or (j.status == JobStatus.RUNNING and j.progress >= at_least),
        what=f"ran to {at_least}%",
    )


def assert_still_running(job: Job, worker: Worker) -> None:
    assert job.status == JobStatus.RUNNING, (
        f"the job ended ({job.status}) before it could be killed: make its input larger\n"
        + worker.tail()
    )
    assert job.attempts == 1


def restore_after_visibility_timeout(task_id: str) -> None:
    """What a live worker does once Redis's visibility timeout has passed: put a message that
    was delivered but never acknowledged back on its queue (kombu marks it redelivered). Done
    for this one message only, now rather than an hour from now."""
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        client = channel.client
        tags = [
            tag
            for tag, payload in client.hgetall(channel.unacked_key).items()
            if json.loads(payload)[0]["headers"].get("id") == task_id
        ]
        assert len(tags) == 1, f"message {task_id} is not waiting unacknowledged: {tags}"
        channel.qos.restore_by_tag(tags[0])


# --- import -----------------------------------------------------------------------------------


def _upload(count: int) -> tuple[ImportBatch, list[str], Job]:
    lead = make_user("lead")
    review = services.review_create(user=lead, title="Killed import", slug="killed-import")
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    data, titles = ris_copies(count)
    batch = imports.batch_upload(
        actor=lead, search=search, fileobj=io.BytesIO(data), filename="large.ris", enqueue=False
    )
    return batch, titles, Job.objects.get(pk=batch.job_id)


def assert_imported_once(batch: ImportBatch, titles: list[str], job: Job) -> None:
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2, "the job was not started again after its worker died"
    assert job.result["imported"] == len(titles) and not job.result.get("already")
    records = Record.objects.filter(review=batch.review)
    assert records.count() == len(titles)
    stored = Counter(t.split("]", 1)[0] + "]" for t in records.values_list("title", flat=True))
    assert stored == Counter(titles), "records missing or stored twice"
    assert records.values("source_line").distinct().count() == len(titles)
    batch.refresh_from_db()
    assert (batch.status, batch.imported, batch.error) == ("imported", len(titles), "")
    # The first start's audit entries went with its transaction.
    verbs = Counter(AuditEvent.objects.filter(review=batch.review).values_list("verb", flat=True))
    assert verbs["imported records"] == 1
    # Deduplication ran once, in the import's transaction, over every record.
    assert not records.filter(dedup_checked=False).exists()
    assert job.result["dedup"]["new_records"] == len(titles)


def test_an_import_whose_pool_child_is_killed_runs_again_once(workers):
    batch, titles, job = _upload(RECORDS)
    worker = workers()
    send(job, workers.queue)
    # Killed once every record was inserted (in the job's open transaction), while the new
    # records are deduplicated.
    job = killed_mid_job(job, at_least=61)
    assert_still_running(job, worker)
    [child] = worker.children()
    os.kill(child, signal.SIGKILL)

    job = wait_until(job, lambda j: j.is_finished, what="finished", timeout=90)
    assert_imported_once(batch, titles, job)
    # The same worker ran it again, in a new pool child, from the requeued message.
    assert worker.proc.poll() is None
    assert child not in worker.children()
    assert "signal 9 (SIGKILL)" in worker.log.read_text(errors="replace"), worker.tail()


def _kill_whole_worker(worker: Worker) -> None:
    pool = worker.children()
    worker.kill()
    for pid in pool:  # a pool child whose parent is gone stops by itself; do not wait for it
        _kill(pid)


def _assert_left_running(job: Job, batch: ImportBatch) -> Job:
    """Nobody runs the job now: it is still "running", and nothing it did is in the database."""
    time.sleep(1)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert job.worker and job.heartbeat_at is not None, "the worker did not record itself"
    assert not Record.objects.filter(review=batch.review).exists(), "partial data committed"
    return job


def _late_message_changes_nothing(task_id: str, job: Job, batch, titles) -> None:
    """The dead worker's message, back after the visibility timeout, finds the job finished."""
    restore_after_visibility_timeout(task_id)
    time.sleep(2)
    job.refresh_from_db()
    assert_imported_once(batch, titles, job)


def test_an_import_whose_worker_is_killed_runs_again_when_the_worker_restarts(workers):
    batch, titles, job = _upload(RECORDS)
    first = workers()
    task_id = send(job, workers.queue)
    job = killed_mid_job(job, at_least=61)
    assert_still_running(job, first)
    _kill_whole_worker(first)
    job = _assert_left_running(job, batch)
    assert job.worker.startswith(first.node + " pid ")

    # Restarted under the same node name, as systemd or supervisord restart it: the recorded
    # process is gone, so the job is queued again at once (no waiting for a timeout).
    started = time.monotonic()
    restarted = workers(name=first.name)
    assert restarted.node == first.node
    job = wait_until(job, lambda j: j.is_finished, what="finished", timeout=90)
    assert_imported_once(batch, titles, job)
    assert time.monotonic() - started < 60
    assert "queued again" in restarted.log.read_text(errors="replace"), restarted.tail()
    _late_message_changes_nothing(task_id, job, batch, titles)


def test_an_import_whose_worker_is_killed_runs_again_on_another_worker(workers):
    beat = {"EVIDENT_JOB_HEARTBEAT_SECONDS": "1", "EVIDENT_JOB_HEARTBEAT_STALE": "4"}
    batch, titles, job = _upload(RECORDS)
    first = workers(**beat)
    task_id = send(job, workers.queue)
    job = killed_mid_job(job, at_least=61)
    assert_still_running(job, first)
    _kill_whole_worker(first)
    job = _assert_left_running(job, batch)

    # Another machine's worker cannot see the dead process: it goes by the heartbeat, which
    # stops with the process.
    time.sleep(5)
    second = workers(**beat)
    assert second.node != first.node
    job = wait_until(job, lambda j: j.is_finished, what="finished", timeout=90)
    assert_imported_once(batch, titles, job)
    assert second.proc.poll() is None
    _late_message_changes_nothing(task_id, job, batch, titles)


# --- deduplication ----------------------------------------------------------------------------


def _undeduplicated(review) -> None:
    """Back to records none of which was deduplicated yet."""
    DuplicatePair.objects.filter(review=review).delete()
    Record.objects.filter(review=review).update(
        cluster=None, duplicate_of=None, dedup_checked=False
    )
    DuplicateCluster.objects.filter(review=review).delete()


def _dedup_state(review) -> tuple:
    """Clusters and pairs, by record source line."""
    line = dict(Record.objects.filter(review=review).values_list("pk", "source_line"))
    clusters = sorted(
        sorted(line[pk] for pk in Record.objects.filter(cluster=c).values_list("pk", flat=True))
        for c in DuplicateCluster.objects.filter(review=review)
    )
    pairs = sorted(
        (line[a], line[b], status)
        for a, b, status in DuplicatePair.objects.filter(review=review).values_list(
            "left_id", "right_id", "status"
        )
    )
    unchecked = Record.objects.filter(review=review, dedup_checked=False).count()
    return clusters, pairs, unchecked


def test_a_deduplication_whose_pool_child_is_killed_runs_again_once(workers):
    batch, _, imported = _upload(RECORDS)
    imported = jobs.job_run(imported.pk)
    assert imported.status == JobStatus.SUCCEEDED, imported.error
    review, lead = batch.review, batch.created_by
    # What the same deduplication ends with, run in this process undisturbed.
    _undeduplicated(review)
    reference = services.job_submit(
        actor=lead, review=review, kind="dedup", params={"full": True}, enqueue=False
    )
    assert jobs.job_run(reference.pk).status == JobStatus.SUCCEEDED
    expected = _dedup_state(review)
    assert expected[0] and expected[2] == 0, "the records should hold duplicates"
    _undeduplicated(review)
    audits = AuditEvent.objects.filter(review=review, verb="ran deduplication")
    before = audits.count()

    job = services.job_submit(
        actor=lead, review=review, kind="dedup", params={"full": True}, enqueue=False
    )
    worker = workers()
    send(job, workers.queue)
    # Killed while it saves its clusters (in its open transaction).
    job = killed_mid_job(job, at_least=82)
    assert_still_running(job, worker)
    [child] = worker.children()
    os.kill(child, signal.SIGKILL)

    job = wait_until(job, lambda j: j.is_finished, what="finished", timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert _dedup_state(review) == expected
    assert audits.count() == before + 1
    assert job.result["new_records"] == RECORDS
