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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED_JOB_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class BatchStatus(models.TextChoices):
    NEEDS_MAPPING = "needs_mapping", "Needs a column mapping"
    PENDING = "pending", "Waiting to import"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"


# Suggestions for the database field; free text is allowed too.
DATABASE_SUGGESTIONS = [
    "Scopus",
    "APA PsycInfo",
    "MEDLINE",
    "PubMed",
    "Embase",
    "Web of Science Core Collection",
    "CINAHL",
    "Cochrane CENTRAL",
    "ERIC",
    "Criminal Justice Abstracts",
    "Lens",
    "ProQuest Dissertations & Theses",
    "ClinicalTrials.gov",
    "WHO ICTRP",
]
PLATFORM_SUGGESTIONS = ["EBSCOhost", "Ovid", "ProQuest", "Web of Science", "PubMed", "Elsevier"]


class PairStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a person"
    AUTO = "auto", "Merged automatically"
    SAME = "same", "Judged the same by a person"
    DIFFERENT = "different", "Judged different by a person"
    UNDONE = "undone", "Merge undone by a person"


DECIDED_DIFFERENT = (PairStatus.DIFFERENT, PairStatus.UNDONE)


class SourceKind(models.TextChoices):
    DATABASE = "database", "Bibliographic database"
    REGISTER = "register", "Study register (e.g. ClinicalTrials.gov, WHO ICTRP)"
