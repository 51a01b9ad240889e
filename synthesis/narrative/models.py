"""Narrative synthesis (synthesis without meta-analysis, issue 22; SWiM, Campbell et al. 2020).

A ``NarrativeSynthesis`` groups the studies of a finalised extraction snapshot by a study-level
field, chooses its studies (those not pooled in any analysis's latest result, all, or a chosen
set) and its outcomes (each with the side of the null that favours the intervention and an
optional method of combining p-values); its SWiM checklist text is kept on it. A
``NarrativeDirection`` is a person's entry for one study and outcome: an effect direction set by
hand and/or a p-value entered, always with a reason, attributed (``set_by`` with its
``set_by_name`` companion, see ``screening.models.Vote``) and audited.

The models keep the ``synthesis`` label: ``synthesis/models.py`` imports them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviews.models import Review

SELECTION_CHOICES = [
    ("not_pooled", "Studies not in any meta-analysis (the latest result of each analysis)"),
    ("all", "All studies of the snapshot"),
    ("chosen", "The studies I choose"),
]
DIRECTION_CHOICES = [
    ("beneficial", "Beneficial (favours the intervention)"),
    ("harmful", "Harmful (favours the comparator)"),
    ("no clear difference", "No clear difference / conflicting"),
]


class NarrativeSynthesis(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="narrative_syntheses")
    name = models.CharField(max_length=200)
    # None: the review's latest snapshot whenever it is read.
    snapshot = models.ForeignKey(
        "extraction.ExtractionSnapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The study-level field whose values make the groups ("" = one group of every study).
    group_by = models.CharField(max_length=100, blank=True)
    selection = models.CharField(max_length=20, choices=SELECTION_CHOICES, default="not_pooled")
    #: Study labels when ``selection == "chosen"``.
    studies = models.JSONField(default=list, blank=True)
    #: [{"outcome": name, "favourable": "lower"|"higher", "combine": ""|"fisher"|"stouffer"}]
    outcomes = models.JSONField(default=list, blank=True)
    #: Outcome domains (Thomson & Thomas 2013): {outcome name: domain name}. An outcome not in
    #: the map is its own domain (named after it), so an empty map keeps one column per outcome.
    domains = models.JSONField(default=dict, blank=True)
    #: The team's words shown above the tables (what the synthesis is and why).
    description = models.TextField(blank=True)
    #: The SWiM checklist's text the team wrote, by item key ("1".."9").
    swim = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="uniq_narrative_name")
        ]

    def __str__(self) -> str:
        return self.name


class NarrativeDirection(models.Model):
    """An effect direction set by hand and/or a p-value entered for one study and outcome."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    synthesis = models.ForeignKey(
        NarrativeSynthesis, on_delete=models.CASCADE, related_name="directions"
    )
    study = models.CharField(max_length=500)
    outcome = models.CharField(max_length=500)
    #: "" = keep the direction derived from the result row.
    direction = models.CharField(max_length=30, choices=DIRECTION_CHOICES, blank=True)
    #: A two-sided p-value entered (None = from the row's yi/vi).
    p_value = models.FloatField(null=True, blank=True)
    reason = models.TextField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_by_name = models.CharField(max_length=150, blank=True)
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["synthesis", "outcome", "study"]
        constraints = [
            models.UniqueConstraint(
                fields=["synthesis", "study", "outcome"], name="uniq_narrative_direction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.study} · {self.outcome}: {self.direction or 'p entered'}"
