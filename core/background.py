"""Jobs run after the response, in the web process, when there is no broker.

Without a broker (the zero-setup default: SQLite, ``CELERY_TASK_ALWAYS_EAGER``) Celery would run
a job inside the request that submitted it: an import of a few thousand records kept the browser
waiting for seconds with no feedback. Instead, a job submitted while a web request is served
waits in this process's queue and runs in one background thread once the response has been sent
(Django's ``request_finished``), so the browser shows the job page at once and polls it.

* One runner thread per process runs the queued jobs one after the other, as a worker with a
  concurrency of one would: SQLite has a single writer, and two jobs at once would only wait for
  each other's lock. The thread ends when the queue is empty and starts again with the next job.
  It is not a daemon: a process that exits cleanly (a server reloading, say) first finishes
  the job in hand.
* Each job runs through ``core.jobs.job_run`` (its own transaction), on the thread's own database
  connection, closed when the job ends.
* A job submitted outside a request (a management command, the shell, the demo) runs at once in
  the caller, as before: there is no response to send first, and nothing would wait for it.
* ``EVIDENT_JOBS_IN_REQUEST`` keeps the old behaviour (the job runs inside the request, before
  the response): the tests use it to find every job finished when a request returns.

While a job runs here its transaction holds SQLite's write lock; other requests read freely
(WAL) and writers wait for it (``timeout`` in the database settings). Progress written inside
the job's transaction would only become visible at its end, so it is kept in this process's
memory (:func:`note_progress`) and the job page reads it (:func:`live_progress`). A job page
served by another process (several web workers) shows the job running without the percentage.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from django.core.signals import request_finished, request_started
from django.db import connections

log = logging.getLogger(__name__)

#: Longest a job waits for the response of the request that submitted it (a server that never
#: closes its responses must not keep the job from running).
RESPONSE_WAIT_SECONDS = 10.0

_local = threading.local()
_queue: queue.Queue[tuple[int, threading.Event]] = queue.Queue()
_lock = threading.Lock()
_runner: threading.Thread | None = None
_idle = threading.Condition(_lock)
_pending = 0  # jobs queued or running here
_live: dict[int, tuple[int, str]] = {}


# --- which request is being served on this thread ------------------------------------------------


def _on_request_started(**_) -> None:
    _local.served = threading.Event()


def _on_request_finished(**_) -> None:
    served = getattr(_local, "served", None)
    _local.served = None
    if served is not None:
        served.set()


request_started.connect(_on_request_started, dispatch_uid="evident-background-request-started")
request_finished.connect(_on_request_finished, dispatch_uid="evident-background-request-finished")


def in_request() -> bool:
    """Whether this thread is serving a web request whose response is not sent yet."""
    return getattr(_local, "served", None) is not None


# --- the queue and its runner ---------------------------------------------------------------------


def submit(job_id: int, run: Callable[[int], object]) -> None:
    """Run ``run(job_id)`` in the background once the current request's response is sent."""
    global _pending, _runner
    served = getattr(_local, "served", None)
    if served is None:  # no response to wait for
        served = threading.Event()
        served.set()
    with _lock:
        _pending += 1
        _queue.put((job_id, served))
        if _runner is None or not _runner.is_alive():
            _runner = threading.Thread(
                target=_run_queue, args=(run,), name="evident-jobs", daemon=False
            )
            _runner.start()


def _run_queue(run: Callable[[int], object]) -> None:
    global _pending, _runner
    while True:
        with _lock:
            try:
                job_id, served = _queue.get_nowait()
            except queue.Empty:
                _runner = None
                _idle.notify_all()
                return
        try:
            served.wait(RESPONSE_WAIT_SECONDS)
            run(job_id)
        except Exception:  # job_run records its own failures; this is a last resort
            log.exception("background job %s could not run", job_id)
        finally:
            forget_progress(job_id)
            # This thread's connection: a job's connection is never left open behind it.
            connections.close_all()
            with _lock:
                _pending -= 1
                _idle.notify_all()


def wait_idle(timeout: float | None = None) -> bool:
    """Wait until every job queued here has run; False if ``timeout`` passed first."""
    with _lock:
        return _idle.wait_for(lambda: _pending == 0, timeout=timeout)


# --- progress visible while the job's transaction is open ----------------------------------------


def note_progress(job_id: int, percent: int, message: str) -> None:
    _live[job_id] = (percent, message)


def forget_progress(job_id: int) -> None:
    _live.pop(job_id, None)


def live_progress(job_id: int) -> tuple[int, str] | None:
    """``(percent, message)`` of a job running in this process, if it reported any."""
    return _live.get(job_id)
