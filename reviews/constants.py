"""Choices used by the reviews app."""

from django.db import models


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    REVIEWER = "reviewer", "Reviewer"
    EXTRACTOR = "extractor", "Extractor"
    STATISTICIAN = "statistician", "Statistician"
    VIEWER = "viewer", "Viewer"


ROLE_HELP = {
    Role.LEAD: "everything in the review, including the team",
    Role.REVIEWER: "screens titles, abstracts and full texts",
    Role.EXTRACTOR: "extracts data and judges risk of bias",
    Role.STATISTICIAN: "runs the analyses",
    Role.VIEWER: "reads everything, changes nothing",
}


class ReviewStatus(models.TextChoices):
    PLANNING = "planning", "Planning (protocol)"
    SEARCHING = "searching", "Searching"
    SCREENING = "screening", "Screening"
    EXTRACTION = "extraction", "Extraction and risk of bias"
    SYNTHESIS = "synthesis", "Synthesis"
    COMPLETE = "complete", "Complete"
