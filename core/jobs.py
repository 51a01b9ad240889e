"""Background jobs: a registry of job kinds and the runner every kind shares.

A job kind is a function ``handler(job, progress) -> dict`` plus who may start it and how its
parameters are checked. The runner (called by the thin Celery task with a job id):

* marks the job running (committed at once, so the browser sees it);
* runs the handler inside one transaction, so a failing job leaves no partial data;
* reports progress on a *separate* database connection, because writes made inside the
  handler's transaction stay invisible until it commits. SQLite has a single writer, so there
  (the zero-setup default, where jobs run in a thread of the web process after the response:
  ``core.background``) progress is kept in the process's memory, where the job page reads it;
* records the result or the error, and the start and finish times. A job that passes Celery's
  soft time limit (``SoftTimeLimitExceeded``) ends failed with a message saying so.

Import, deduplication and analysis jobs register themselves here as they land.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import background
from core.constants import JobStatus
from core.models import Job
from core.recovery import Heartbeat, WorkerIdentity, is_orphan

log = logging.getLogger(__name__)


class JobError(Exception):
    """A failure with a message meant for the person who started the job."""


ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    roles: tuple[str, ...]
    handler: Callable[[Job, ProgressFn], dict[str, Any]]
    validator: Callable[..., None] | None = field(default=None)
    # Called after a failed job's transaction was rolled back, to mark what it worked on.
    on_failure: Callable[[Job, str], None] | None = field(default=None)
    # For people (the job page, core.job_display): ``present(result)`` gives the rows of a
    # finished job's result, ``describe(job)`` says what the job works on.
    present: Callable[[dict[str, Any]], list] | None = field(default=None)
    describe: Callable[[Job], Any] | None = field(default=None)

    def validate(self, *, review: models.Model, params: dict[str, Any]) -> None:
        if not isinstance(params, dict):
            raise ValidationError("Job parameters must be an object.")
        if self.validator is not None:
            self.validator(review=review, params=params)


_REGISTRY: dict[str, JobKind] = {}


def register(
    name: str,
    *,
    label: str,
    roles: Iterable[str],
    validator: Callable[..., None] | None = None,
    on_failure: Callable[[Job, str], None] | None = None,
    present: Callable[[dict[str, Any]], list] | None = None,
    describe: Callable[[Job], Any] | None = None,
) -> Callable:
    def decorate(handler: Callable[[Job, ProgressFn], dict[str, Any]]):
        _REGISTRY[name] = JobKind(
            name, label, tuple(roles), handler, validator, on_failure, present, describe
        )
        return handler

    return decorate


def get_kind(name: str) -> JobKind:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValidationError(f"Unknown job kind {str(name)[:60]!r}.") from None


def kinds() -> dict[str, JobKind]:
    return dict(_REGISTRY)


class _ProgressWriter:
    """Writes a job's progress where other processes can see it while the job still runs."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._side = None
        self._last_pct = -1
        self._last_at = 0.0
        if connections["default"].vendor != "sqlite":
            # A private connection outside Django's handler: autocommits, and is not part of
            # the handler's transaction.
            self._side = connections.create_connection("default")

    def __call__(self, percent: float, message: str = "") -> None:
        pct = max(0, min(100, int(percent)))
        message = str(message)[:300]
        now = time.monotonic()
        # At most one write per percent step or per half second: a 200,000-record import
        # calls this for every batch, and each write is a round trip.
        if pct == self._last_pct and now - self._last_at < 0.5:
            return
        self._last_pct, self._last_at = pct, now
        self.job.progress, self.job.message = pct, message
        if self._side is not None:
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Job._meta.db_table} SET progress = %s, message = %s WHERE id = %s",  # noqa: S608 - table name is ours
                    [pct, message, self.job.pk],
                )
        else:
            # SQLite: a write here would join the handler's transaction (one writer), unseen
            # until the job ends, when the result overwrites it; the job page reads this instead.
            background.note_progress(self.job.pk, pct, message)

    def close(self) -> None:
        background.forget_progress(self.job.pk)
        if self._side is not None:
            self._side.close()


def job_run(
    job_id: int, *, redelivered: bool = False, worker: WorkerIdentity | None = None
) -> Job | None:
    """Run one job to its end. Idempotent: a finished job is left alone.

    ``redelivered``: the broker delivers this message again because the worker that held it
    died (Celery's ``acks_late`` with ``reject_on_worker_lost``: killed at the hard time limit,
    out of memory, SIGKILL). A job such a worker left "running" is then run again at once,
    since nobody else runs it; after ``EVIDENT_JOB_MAX_ATTEMPTS`` starts it ends failed instead
    of looping for ever.

    ``worker``: the Celery worker running this call (``core.recovery``). It is recorded on the
    job, a heartbeat is kept while the job runs, and a job some other delivery left "running"
    is reclaimed only when ``core.recovery.is_orphan`` says nobody runs it any more.
    """
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("job %s vanished before it ran", job_id)
        return None
    if job.is_finished:
        return job
    spec = _REGISTRY.get(job.kind)
    # Claim the job atomically, so two deliveries never run it twice at once: a queued job, or
    # one left "running" by a worker that died (an orphan, core.recovery), guarded by the
    # values just read so that two claimants cannot both win.
    if job.status == JobStatus.QUEUED:
        guard = Q(status=JobStatus.QUEUED)
    elif _orphaned(job, redelivered=redelivered, worker=worker):
        guard = Q(
            status=JobStatus.RUNNING,
            worker=job.worker,
            heartbeat_at=job.heartbeat_at,
            attempts=job.attempts,
        )
    else:
        return job
    claimed = (
        Job.objects.filter(pk=job.pk)
        .filter(guard)
        .update(
            status=JobStatus.RUNNING,
            started_at=timezone.now(),
            heartbeat_at=timezone.now() if worker is not None else None,
            worker=worker.label if worker is not None else "",
            queue=worker.queue[:200] if worker is not None else "",
            progress=0,
            message="Starting",
            error="",
            attempts=F("attempts") + 1,
        )
    )
    job.refresh_from_db()
    if not claimed:
        return job
    if job.attempts > settings.EVIDENT_JOB_MAX_ATTEMPTS:
        log.error("job %s (%s) was started %s times; given up", job.pk, job.kind, job.attempts)
        _fail(job, spec, _killed_message(job.attempts - 1))
        job.refresh_from_db()
        return job
    progress = _ProgressWriter(job)
    try:
        if spec is None:
            raise JobError(f"This server does not know how to run a {job.kind!r} job.")
        with Heartbeat(job, enabled=worker is not None), transaction.atomic():
            result = spec.handler(job, progress) or {}
    except (JobError, ValidationError) as exc:
        error = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        _fail(job, spec, error)
    except SoftTimeLimitExceeded:
        # Celery's soft time limit: raised inside the handler, whose transaction has rolled
        # back. The hard limit kills the process a little later, so say so now.
        log.warning("job %s (%s) stopped at its time limit", job.pk, job.kind)
        _fail(job, spec, _time_limit_message())
    except Exception as exc:  # the job must end visibly failed, whatever went wrong
        log.exception("job %s (%s) crashed", job.pk, job.kind)
        summary = traceback.format_exception_only(type(exc), exc)[-1].strip()
        _fail(job, spec, f"Unexpected error: {summary}")
    else:
        _finish(job, JobStatus.SUCCEEDED, result=result)
    finally:
        progress.close()
    job.refresh_from_db()
    return job


def _orphaned(job: Job, *, redelivered: bool, worker: WorkerIdentity | None) -> bool:
    """Whether a job found "running" may be taken over by this delivery."""
    if redelivered and not job.worker:
        # Run by a caller that recorded no worker (no heartbeat to go by): the broker's word
        # that its worker died is all there is.
        return True
    return is_orphan(job, node=worker.node if worker is not None else "")


def _killed_message(starts: int) -> str:
    return (
        f"This job was started {starts} times and its worker was stopped each time before it "
        "finished (its time limit or the server's memory); it was not started again. Nothing "
        "it did was kept. Try a smaller file, or ask the site's administrator."
    )


def _time_limit_message() -> str:
    seconds = int(settings.CELERY_TASK_SOFT_TIME_LIMIT)
    minutes = round(seconds / 60)
    limit = (
        f"{minutes} minute{'s' if minutes != 1 else ''}"
        if seconds >= 60
        else f"{seconds} second{'s' if seconds != 1 else ''}"
    )
    return (
        f"This job ran longer than its time limit ({limit}) and was stopped. Nothing it did "
        "was kept. Try again with less at once (a smaller file, say), or ask whoever runs "
        "this site to raise the limit."
    )


def _fail(job: Job, spec: JobKind | None, error: str) -> None:
    _finish(job, JobStatus.FAILED, error=error)
    if spec is not None and spec.on_failure is not None:
        try:
            spec.on_failure(job, error)
        except Exception:
            log.exception("on_failure of job %s (%s) failed", job.pk, job.kind)


def _finish(job: Job, status: str, *, error: str = "", result: dict | None = None) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status,
        error=error[:5000],
        result=result or {},
        progress=100 if status == JobStatus.SUCCEEDED else job.progress,
        message="Done" if status == JobStatus.SUCCEEDED else "Failed",
        finished_at=timezone.now(),
    )
