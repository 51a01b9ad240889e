"""Celery tasks: thin, take ids, call one function."""

from celery import shared_task

from core.jobs import job_run


# The task keeps the name it had when jobs lived in reviews/: messages queued before an upgrade
# still find it.
@shared_task(name="reviews.job_run")
def job_run_task(job_id: int) -> None:
    job_run(job_id)
