"""Audit events and background jobs: plumbing every step of every review writes to.

Their model app label stays ``reviews`` (tables and migrations live there; moving them would
cost migrations that buy nothing).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.constants import JobStatus


class AuditEvent(models.Model):
    """Who changed what, when, on which object. Written only by services; never edited."""

    review = models.ForeignKey(
        "reviews.Review",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the log still says who acted after an account is deleted.
    actor_username = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # Kept in the "reviews" app (its table and migrations are there); it points at the review
        # by name, as Django's own apps point at AUTH_USER_MODEL, so core imports no app.
        app_label = "reviews"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["review", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_username or 'system'} {self.verb} {self.object_type} {self.object_id}"


class Job(models.Model):
    """A background job (import, dedup, analysis...) and its visible progress.

    The Celery task only carries the job id; everything a person wants to see lives here.
    """

    review = models.ForeignKey("reviews.Review", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=60)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker started it: a job whose worker is killed (hard time limit, out of
    # memory) is delivered again; after EVIDENT_JOB_MAX_ATTEMPTS starts it ends failed.
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Which Celery worker runs it ("node pid N"), the queue its message came from, and its last
    # heartbeat: how a job whose worker died is told from one still running (core/recovery.py).
    worker = models.CharField(max_length=200, blank=True)
    queue = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Kept in the "reviews" app (its table and migrations are there); it points at the review
        # by name, as Django's own apps point at AUTH_USER_MODEL, so core imports no app.
        app_label = "reviews"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_max")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
