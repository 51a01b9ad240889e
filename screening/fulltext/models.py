"""The full text of a record. Its app label stays ``screening`` (the table and the migrations
are screening's); ``screening/models.py`` imports this module so that Django finds the model."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from identification.models import Record
from reviews.models import Review


def _report_path(instance: FullTextReport, filename: str) -> str:
    # Never the uploaded name (which may be hostile): the content hash names the file.
    return f"fulltext/review-{instance.review_id}/{instance.sha256[:2]}/{instance.sha256}.pdf"


class FullTextReport(models.Model):
    """The full text of a record: an uploaded PDF, a link, or a note that it was not found."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="fulltext_reports")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="fulltext_report")
    file = models.FileField(upload_to=_report_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    not_retrieved_reason = models.CharField(max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "screening"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name or self.url or "not retrieved"

    @property
    def is_available(self) -> bool:
        return bool(self.file) or bool(self.url)
