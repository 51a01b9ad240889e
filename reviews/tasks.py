"""Celery tasks: thin, take ids, call one function."""

from celery import shared_task

from reviews.jobs import job_run


@shared_task(name="reviews.job_run")
def job_run_task(job_id: int) -> None:
    job_run(job_id)
