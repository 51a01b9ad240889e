"""Prioritised screening's state: the ranking model of each review (how and when it was
trained, its heaviest terms, why the first records of the queue rank high) and the lead's
decisions to stop screening with the estimate they saw. Imported by ``screening.models``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviews.models import Review


class RankingMode(models.TextChoices):
    MODEL = "model", "By predicted relevance (active learning)"
    RANDOM = "random", "Random order"
    IMPORT = "import", "Import order"


class RankingModel(models.Model):
    """The review's title/abstract ranking model as last trained (one row per review)."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="ranking_model")
    mode = models.CharField(max_length=10, choices=RankingMode.choices, default=RankingMode.MODEL)
    trained_on = models.PositiveIntegerField(default=0)  # settled records it learnt from
    relevant = models.PositiveIntegerField(default=0)
    irrelevant = models.PositiveIntegerField(default=0)
    trained_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    # Seconds of the last training by phase: read, fit, rank, write (services._Clock).
    phases = models.JSONField(default=dict, blank=True)
    ranked = models.PositiveIntegerField(default=0)  # unscreened records given a priority
    top_terms = models.JSONField(default=list, blank=True)
    # For the first records of the queue: item id -> the terms that push it up most.
    why = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "screening"

    def __str__(self) -> str:
        return f"Ranking model of {self.review}"


class RankingFeatures(models.Model):
    """The state of a review's stored ranking features: the term counts of its title/abstract
    records (one row per item, by ascending item id) and the vocabulary, built by a background
    job after each import (``services.features_refresh``) so that retraining only weighs, fits
    and scores. The arrays themselves are in :class:`RankingFeaturesPart` rows. Derived from
    the records: never archived, rebuilt if lost."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="ranking_features")
    rows = models.PositiveIntegerField(default=0)
    columns = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)  # the last refresh
    version = models.PositiveIntegerField(default=0)  # bumped at every write (process caches)
    # features.ANALYSER when counted: counts made by another analyser are counted again.
    analyser = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        app_label = "screening"

    def __str__(self) -> str:
        return f"Ranking features of {self.review}"


class RankingFeaturesPart(models.Model):
    """One piece of one array of a review's stored features (``services.PARTS``: item ids,
    the count matrix's row pointers, column numbers and counts, the compressed vocabulary).
    Split into pieces of at most ``services.PART_BYTES`` because a 100,000-record review's
    counts are about 170 MB and PostgreSQL refuses any message over 1 GB: stored whole, with the
    TF-IDF matrix beside them, they could not be saved at all."""

    features = models.ForeignKey(RankingFeatures, on_delete=models.CASCADE, related_name="parts")
    name = models.CharField(max_length=20)
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        app_label = "screening"
        constraints = [
            models.UniqueConstraint(fields=["features", "name", "seq"], name="uniq_ranking_part")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.seq} of {self.features}"


class StopDecision(models.Model):
    """A lead's decision to stop title/abstract screening, with the estimate and the reason."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="stop_decisions")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150, blank=True)  # see Vote.reviewer_name
    decided_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()
    recall_target = models.FloatField()
    confidence = models.FloatField()
    estimate = models.JSONField(default=dict)

    class Meta:
        app_label = "screening"
        ordering = ["decided_at", "pk"]

    def __str__(self) -> str:
        return f"Stop decision on {self.review} at {self.decided_at:%Y-%m-%d}"
