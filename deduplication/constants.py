"""Choices of deduplication."""

from django.db import models


class PairStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a person"
    AUTO = "auto", "Merged automatically"
    SAME = "same", "Judged the same by a person"
    DIFFERENT = "different", "Judged different by a person"
    UNDONE = "undone", "Merge undone by a person"


DECIDED_DIFFERENT = (PairStatus.DIFFERENT, PairStatus.UNDONE)
