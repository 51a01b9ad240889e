"""Without a broker, an upload's import runs after the response (core/background.py): the browser
gets the job page at once, the page follows the job, and the job then completes.

The rest of the suite runs jobs inside the request (``EVIDENT_JOBS_IN_REQUEST``, the test
settings) to find them finished; these tests switch that off and wait for the background
thread themselves (``background.wait_idle``). They need real commits (``transaction=True``):
the job's thread sees only what the request committed.
"""

from __future__ import annotations

import io
import threading

import pytest
from django.conf import settings
from django.test import override_settings

from core import background, jobs
from core.constants import JobStatus
from core.models import Job
from identification import hooks
from identification.models import ImportBatch, Record
from tests.conftest import client_for
from tests.identification.conftest import RIS

pytestmark = pytest.mark.django_db(transaction=True)

#: Longest a test waits for the background thread (it takes well under a second).
WAIT = 30


@pytest.fixture(autouse=True)
def _eager_after_the_response():
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("jobs go to a broker in this run; the background thread is for no broker")
    with override_settings(EVIDENT_JOBS_IN_REQUEST=False):
        yield
    # Whatever happened, no job thread outlives its test (the database is flushed next).
    assert background.wait_idle(WAIT)


class Gate:
    """Holds a job at one point of its work until the test lets it go on."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()

    def __call__(self, **_) -> dict:
        self.reached.set()
        if not self.opened.wait(10):
            raise RuntimeError("the gate was never opened: the job ran inside the request")
        return {}


@pytest.fixture
def gate():
    gate = Gate()
    # Before deduplication and screening take the records (their receivers run at 10 and 20).
    hooks.records_imported.connect(gate, order=5, key="tests.gate")
    yield gate
    gate.opened.set()
    hooks.records_imported.disconnect("tests.gate")


def test_an_upload_answers_before_its_import_runs_and_the_import_then_completes(lead, review, gate):
    client = client_for(lead)
    export = io.BytesIO(RIS.encode())
    export.name = "scopus.ris"
    response = client.post("/reviews/exercise/searches/", {"database": "Scopus", "files": export})

    # The answer came back while the import had not even passed the gate.
    job = Job.objects.get(kind="import_records")
    assert response.status_code == 302 and response.url == f"/reviews/exercise/jobs/{job.pk}/"
    assert not gate.opened.is_set() and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    # The job runs on its own thread after the response, and waits at the gate, mid-import.
    assert gate.reached.wait(WAIT)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.finished_at is None
    # The job page, as it polls, shows its progress while its transaction is still open.
    fragment = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="running"' in fragment and 'hx-trigger="every 1s"' in fragment
    assert "2 records imported" in fragment and 'value="0"' not in fragment

    gate.opened.set()
    assert background.wait_idle(WAIT)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["imported"] == 2 and Record.objects.count() == 2
    assert ImportBatch.objects.get().status == "imported"
    page = client.get(response.url).content.decode()
    assert "Records imported" in page and 'hx-trigger="every 1s"' not in page
    assert background.live_progress(job.pk) is None


def test_the_job_page_follows_a_job_running_after_the_response(lead, review, monkeypatch):
    """A job's progress, written inside its transaction, shows on its page while it runs."""
    halfway, finish = threading.Event(), threading.Event()

    def slow(job, progress):
        progress(37, "Thirty-seven of a hundred")
        halfway.set()
        if not finish.wait(10):
            raise jobs.JobError("never finished")
        return {"done": 100}

    monkeypatch.setitem(jobs._REGISTRY, "slow", jobs.JobKind("slow", "slow work", ("lead",), slow))
    client = client_for(lead)
    # A request that submits the job, as every page and API write does.
    response = client.post(
        "/api/reviews/exercise/jobs/",
        {"kind": "slow", "params": {}},
        content_type="application/json",
    )
    assert response.status_code == 202
    job_url = f"/reviews/exercise/jobs/{response.json()['id']}/"
    assert halfway.wait(WAIT)
    page = client.get(job_url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="running"' in page and 'hx-trigger="every 1s"' in page
    assert "Thirty-seven of a hundred" in page and 'value="37"' in page
    finish.set()
    assert background.wait_idle(WAIT)
    page = client.get(job_url).content.decode()
    assert 'data-status="succeeded"' in page and 'hx-trigger="every 1s"' not in page
    assert "<dt>Done</dt>" in page  # the result, as a definition list

    # Outside a request (a management command, the demo) there is no response to wait for:
    # a job runs at once, in the caller, and is finished when job_submit returns.
    from reviews import services

    job = services.job_submit(
        actor=lead,
        review=review,
        kind="team_bulk_add",
        params={"identifiers": ["reviewer_a"], "roles": ["viewer"]},
    )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
