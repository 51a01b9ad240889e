"""The PRISMA 2020 stages shown on a review's dashboard, each with its live count.

Every count is a query at the moment of asking, never a stored total. A stage whose capability
has not landed yet counts zero and has no page; each capability fills in its own entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from .models import Review


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    description: str
    count_label: str
    count: Callable[[Review], int]
    url_name: str | None = None


@dataclass(frozen=True)
class StageSummary:
    key: str
    label: str
    description: str
    count_label: str
    count: int
    url: str | None


def _zero(review: Review) -> int:
    return 0


STAGES: list[Stage] = [
    Stage("protocol", "Protocol", "Write, register and amend the protocol.", "versions", _zero),
    Stage(
        "identification",
        "Identification",
        "Searches in each database and the records they returned.",
        "records identified",
        _zero,
    ),
    Stage(
        "deduplication",
        "Duplicates",
        "The same study found in several databases, merged.",
        "duplicates removed",
        _zero,
    ),
    Stage(
        "title_abstract",
        "Title and abstract screening",
        "Two reviewers per record, blinded, conflicts resolved by a third.",
        "records screened",
        _zero,
    ),
    Stage(
        "full_text",
        "Full-text assessment",
        "Reports retrieved and assessed for eligibility, exclusions with reasons.",
        "reports assessed",
        _zero,
    ),
    Stage(
        "included",
        "Included studies",
        "Studies included in the review and their reports.",
        "studies included",
        _zero,
    ),
    Stage(
        "extraction",
        "Extraction and risk of bias",
        "Data extracted twice and reconciled; RoB 2 and ROBINS-I judgements.",
        "studies extracted",
        _zero,
    ),
    Stage(
        "synthesis",
        "Meta-analysis",
        "Pooled estimates, subgroups, sensitivity and publication-bias analyses.",
        "studies in meta-analysis",
        _zero,
    ),
]


def stage_set(key: str, *, count: Callable[[Review], int], url_name: str | None) -> None:
    """Let a capability plug its live count and page into the dashboard."""
    for i, stage in enumerate(STAGES):
        if stage.key == key:
            STAGES[i] = Stage(
                stage.key, stage.label, stage.description, stage.count_label, count, url_name
            )
            return
    raise KeyError(key)


def stage_summaries(review: Review) -> list[StageSummary]:
    summaries = []
    for stage in STAGES:
        url = None
        if stage.url_name:
            try:
                url = reverse(stage.url_name, kwargs={"slug": review.slug})
            except NoReverseMatch:
                url = None
        summaries.append(
            StageSummary(
                stage.key,
                stage.label,
                stage.description,
                stage.count_label,
                stage.count(review),
                url,
            )
        )
    return summaries
