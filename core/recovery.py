"""Jobs whose worker died: telling them apart from jobs still running, and starting them again.

A job that runs on a Celery worker records which worker runs it (``Job.worker``: the node name
and the pid of the process running it, ``Job.queue``: the queue its message came from) and
keeps a heartbeat (``Job.heartbeat_at``, written every ``EVIDENT_JOB_HEARTBEAT_SECONDS`` on a
connection of its own, so it is seen while the job's transaction is still open).

A job left "running" is an orphan when nobody runs it any more:

* its worker is this node and the recorded process is gone (the pool child was killed, or the
  whole worker was killed and has been restarted under the same node name, as a service
  manager does); or
* its heartbeat is older than ``EVIDENT_JOB_HEARTBEAT_STALE`` seconds (the worker died on
  another machine, or under another name); or
* it has no heartbeat and started longer ago than the hard time limit.

Two things act on orphans:

* ``job_run`` when a message is delivered again (``core.jobs``): it reclaims the job only if it
  is an orphan, so a message restored by Redis's visibility timeout never starts a second copy
  of a job another worker is still running;
* ``jobs_recover`` when a worker starts (Celery's ``worker_ready`` signal, connected in
  ``core.apps``): it puts every orphan back in the queue its message came from. Without it, a
  job whose whole worker was SIGKILLed would wait for Redis's visibility timeout (the hard time
  limit plus ten minutes) before anyone ran it again. The dead worker's original message may
  still come back later; by then the job is finished (or running with a fresh heartbeat) and
  ``job_run`` leaves it alone.

On SQLite (the zero-setup default, jobs run in the web process) there are no workers to die
apart from the web server itself; there is no heartbeat there (SQLite has one writer).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from core.constants import JobStatus
from core.models import Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerIdentity:
    """Who runs a job: a Celery node name, the pid of the process, the queue of the message."""

    node: str
    pid: int
    queue: str = ""

    @property
    def label(self) -> str:
        return f"{self.node} pid {self.pid}"[:200]

    @classmethod
    def current(cls, node: str, queue: str = "") -> WorkerIdentity:
        return cls(node=node, pid=os.getpid(), queue=queue)


def _parse(worker: str) -> tuple[str, int | None]:
    node, sep, pid = worker.rpartition(" pid ")
    if not sep:
        return worker, None
    try:
        return node, int(pid)
    except ValueError:
        return node, None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        pass
    except PermissionError:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not os.path.isdir("/proc")  # no /proc: trust kill(0)


def stale_after() -> timedelta:
    return timedelta(seconds=settings.EVIDENT_JOB_HEARTBEAT_STALE)


def is_orphan(job: Job, *, node: str = "", now=None) -> bool:
    """Whether ``job`` is "running" with nobody running it (see the module's docstring)."""
    if job.status != JobStatus.RUNNING:
        return False
    now = now or timezone.now()
    recorded_node, pid = _parse(job.worker or "")
    if node and recorded_node == node and pid is not None and not pid_alive(pid):
        return True
    if job.heartbeat_at is not None:
        return job.heartbeat_at < now - stale_after()
    started = job.started_at or job.created_at
    return started < now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


class Heartbeat:
    """While a job runs on a worker, writes ``heartbeat_at`` every few seconds on a connection
    outside the job's transaction. A thread of the process that runs the job: it dies with it."""

    def __init__(self, job: Job, *, enabled: bool = True) -> None:
        self.job_id = job.pk
        self.interval = float(settings.EVIDENT_JOB_HEARTBEAT_SECONDS)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._enabled = enabled and connections["default"].vendor != "sqlite"

    def beat(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Job._meta.db_table} SET heartbeat_at = %s WHERE id = %s AND status = %s",  # noqa: S608 - table name is ours
                [timezone.now(), self.job_id, JobStatus.RUNNING],
            )

    def _run(self) -> None:
        connection = connections.create_connection("default")
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.beat(connection)
                except Exception:  # a missed beat is not worth killing the job for
                    log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> Heartbeat:
        if self._enabled:
            self._thread = threading.Thread(
                target=self._run, name=f"job-{self.job_id}-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)


def jobs_recover(node: str, *, send=None) -> list[int]:
    """Put every orphaned job back in its queue; returns their ids. Called as a worker starts.

    The job goes back to "queued" only if it is still exactly as it was read (same worker, same
    heartbeat), so two workers starting at once requeue it once. ``send(job)`` sends its message
    (the Celery task by default).
    """
    if send is None:
        from core.tasks import job_run_task

        def send(job: Job) -> None:
            options = {"queue": job.queue} if job.queue else {}
            job_run_task.apply_async(args=[job.pk], **options)

    now = timezone.now()
    requeued: list[int] = []
    for job in Job.objects.filter(status=JobStatus.RUNNING).order_by("pk"):
        if not is_orphan(job, node=node, now=now):
            continue
        changed = Job.objects.filter(
            pk=job.pk,
            status=JobStatus.RUNNING,
            worker=job.worker,
            heartbeat_at=job.heartbeat_at,
            attempts=job.attempts,
        ).update(
            status=JobStatus.QUEUED,
            message="Queued again: the worker running it stopped",
            progress=0,
        )
        if not changed:
            continue
        log.warning(
            "job %s (%s) was left running by %s; queued again", job.pk, job.kind, job.worker
        )
        requeued.append(job.pk)
        try:
            send(job)
        except Exception:
            # The broker is gone as well: the job waits, queued, for its original message.
            log.exception("could not queue job %s again", job.pk)
    return requeued
