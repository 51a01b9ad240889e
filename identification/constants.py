"""Choices of identification: searches, sources and import batches."""

from django.db import models


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


class SourceKind(models.TextChoices):
    DATABASE = "database", "Bibliographic database"
    REGISTER = "register", "Study register (e.g. ClinicalTrials.gov, WHO ICTRP)"
