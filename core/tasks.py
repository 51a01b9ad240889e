"""Celery tasks: thin, take ids, call one function."""

from celery import shared_task
from django.conf import settings

from core import background
from core.jobs import job_run
from core.recovery import WorkerIdentity


# The task keeps the name it had when jobs lived in reviews/: messages queued before an upgrade
# still find it.
@shared_task(name="reviews.job_run", bind=True)
def job_run_task(self, job_id: int) -> None:
    # A redelivered message means the worker that held it died mid-job (acks_late).
    delivery = self.request.delivery_info or {}
    redelivered = bool(delivery.get("redelivered"))
    if self.request.is_eager:
        job_run(job_id, redelivered=redelivered)
        return
    worker = WorkerIdentity.current(
        node=self.request.hostname or "", queue=str(delivery.get("routing_key") or "")
    )
    job_run(job_id, redelivered=redelivered, worker=worker)


def job_enqueue(job_id: int) -> None:
    """Start a committed job (``reviews.services.job_submit`` calls this on commit).

    With a broker, its message goes to the workers. Without one (eager Celery, the zero-setup
    default), a job submitted by a web request runs in this process once the response is sent
    (``core.background``), so the browser shows its page at once; elsewhere, or with
    ``EVIDENT_JOBS_IN_REQUEST``, it runs here and now, as Celery's eager mode does.
    """
    if (
        settings.CELERY_TASK_ALWAYS_EAGER
        and not settings.EVIDENT_JOBS_IN_REQUEST
        and background.in_request()
    ):
        background.submit(job_id, job_run)
        return
    job_run_task.delay(job_id)
