"""Celery tasks: thin, take ids, call one function."""

from celery import shared_task

from core.jobs import job_run


# The task keeps the name it had when jobs lived in reviews/: messages queued before an upgrade
# still find it.
@shared_task(name="reviews.job_run", bind=True)
def job_run_task(self, job_id: int) -> None:
    # A redelivered message means the worker that held it died mid-job (acks_late).
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    job_run(job_id, redelivered=redelivered)
