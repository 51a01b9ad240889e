"""Choices and limits of screening."""

from __future__ import annotations

from django.db import models


class Stage(models.TextChoices):
    # The values match the dashboard stage keys in ``reviews.stages``.
    TITLE_ABSTRACT = "title_abstract", "Title and abstract"
    FULL_TEXT = "full_text", "Full text"


#: The URL segment of each stage (``/reviews/<slug>/screening/title-abstract/``).
STAGE_SEGMENTS = {Stage.TITLE_ABSTRACT: "title-abstract", Stage.FULL_TEXT: "full-text"}
#: Short names used in URL names (``screening:ta_screen``, ``api-screening-ft-next``).
STAGE_CODES = {Stage.TITLE_ABSTRACT: "ta", Stage.FULL_TEXT: "ft"}


class Decision(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    MAYBE = "maybe", "Maybe"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Awaiting votes"
    CONFLICT = "conflict", "In conflict"
    INCLUDED = "included", "Included"
    EXCLUDED = "excluded", "Excluded"
    # Full text only: the report could not be obtained (a PRISMA 2020 box of its own).
    NOT_RETRIEVED = "not_retrieved", "Not retrieved"


SETTLED_STATUSES = (ItemStatus.INCLUDED, ItemStatus.EXCLUDED)
#: Statuses in which a reviewer may still cast, change or withdraw a vote.
OPEN_STATUSES = (ItemStatus.PENDING, ItemStatus.CONFLICT)


class MaybePolicy(models.TextChoices):
    CONFLICT = "conflict", "A Maybe makes a conflict for a third person to resolve"
    INCLUDE = "include", "A Maybe counts as Include (when in doubt, read the full text)"


class ReasonPolicy(models.TextChoices):
    OPTIONAL = "optional", "Optional"
    REQUIRED = "required", "Required"


class ResolverPolicy(models.TextChoices):
    LEADS = "leads", "Leads only"
    THIRD = "third", "Leads, and reviewers who did not vote on the record"
    ANY = "any", "Leads and any reviewer (including those who voted)"


class VoteAction(models.TextChoices):
    CAST = "cast", "Cast"
    CHANGED = "changed", "Changed"
    WITHDRAWN = "withdrawn", "Withdrawn"


MIN_REVIEWERS = 1
MAX_REVIEWERS = 3
MAX_NOTE = 2000
MAX_REASON_LABEL = 200
MAX_REASONS = 50
MAX_KEYWORDS = 200
MAX_KEYWORD_LENGTH = 100
MAX_URL = 2000
MAX_NOT_RETRIEVED_REASON = 500
#: Full-text PDFs: large scanned theses exist, but nothing a reviewer reads is bigger than this.
MAX_PDF_BYTES = 50 * 1024 * 1024
#: The PDF header may follow a little junk; readers look for it within the first 1,024 bytes.
PDF_MAGIC_WINDOW = 1024
#: How many records one reviewer may hold unvoted at a stage (the one on screen, the one
#: preloaded, and room for an undo and a second tab).
MAX_OPEN_CLAIMS = 5
#: A claim nobody voted on for this long is handed to someone else.
CLAIM_TTL_SECONDS = 2 * 60 * 60

DEFAULT_REASONS = {
    Stage.TITLE_ABSTRACT: [
        "Wrong population",
        "Wrong intervention or exposure",
        "Wrong outcome",
        "Wrong study design",
        "Not primary research",
    ],
    Stage.FULL_TEXT: [
        "Wrong population",
        "Wrong intervention or exposure",
        "Wrong comparator",
        "Wrong outcome",
        "Wrong study design",
        "Conference abstract only",
        "No usable data",
        "Duplicate report",
    ],
}
