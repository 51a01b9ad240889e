"""Choices of the site-wide plumbing."""

from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED_JOB_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)
