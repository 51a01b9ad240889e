"""The cards of a review's dashboard: one per step of the PRISMA 2020 flow, each with its live
count and a link to the step's page.

Every count is a query at the moment of asking, never a stored total. A card whose capability
has not landed yet counts zero and has no page; each capability fills in its own card from its
``AppConfig.ready`` with :func:`card_set` (the dashboard lives at the bottom of the dependency
order and imports none of them). "Card", not "stage": screening's stages are title/abstract and
full text (``screening.constants.Stage``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.urls import NoReverseMatch, reverse

from reviews.models import Review


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    description: str
    #: What the count counts, for any number but one ("records screened") ...
    count_label: str
    count: Callable[[Review], int]
    url_name: str | None = None
    #: ... and for one ("record screened").
    count_label_one: str = ""


@dataclass(frozen=True)
class CardSummary:
    key: str
    label: str
    description: str
    #: In the number of ``count``: "1 record screened", "2 records screened".
    count_label: str
    count: int
    url: str | None


def _zero(review: Review) -> int:
    return 0


CARDS: list[Card] = [
    Card(
        "protocol",
        "Protocol",
        "Write, register and amend the protocol.",
        "versions",
        _zero,
        count_label_one="version",
    ),
    Card(
        "identification",
        "Identification",
        "Searches in each database and the records they returned.",
        "records identified",
        _zero,
        count_label_one="record identified",
    ),
    Card(
        "rounds",
        "Update rounds",
        "Searches rerun later: only new records are screened.",
        # The round the review is at: 1 until a lead opens an update round.
        "rounds",
        _zero,
        count_label_one="round",
    ),
    Card(
        "deduplication",
        "Duplicates",
        "The same study found in several databases, merged.",
        "duplicates removed",
        _zero,
        count_label_one="duplicate removed",
    ),
    Card(
        "title_abstract",
        "Title and abstract screening",
        "Two reviewers per record, blinded, conflicts resolved by a third.",
        # The PRISMA diagram's "Records screened" box: records whose decision is made.
        "records screened",
        _zero,
        count_label_one="record screened",
    ),
    Card(
        "full_text",
        "Full-text assessment",
        "Reports retrieved and assessed for eligibility, exclusions with reasons.",
        # The PRISMA diagram's "Reports assessed for eligibility" box: reports decided.
        "reports assessed",
        _zero,
        count_label_one="report assessed",
    ),
    Card(
        "included",
        "Included studies",
        "Studies included in the review and their reports.",
        "studies included",
        _zero,
        count_label_one="study included",
    ),
    Card(
        "extraction",
        "Extraction and risk of bias",
        "Data extracted twice and reconciled; RoB 2 and ROBINS-I judgements.",
        "studies extracted",
        _zero,
        count_label_one="study extracted",
    ),
    Card(
        "synthesis",
        "Meta-analysis",
        "Pooled estimates, subgroups, sensitivity and publication-bias analyses.",
        "studies in meta-analysis",
        _zero,
        count_label_one="study in meta-analysis",
    ),
]


def card_set(key: str, *, count: Callable[[Review], int], url_name: str | None) -> None:
    """Let a capability plug its live count and page into its dashboard card."""
    for i, card in enumerate(CARDS):
        if card.key == key:
            CARDS[i] = replace(card, count=count, url_name=url_name)
            return
    raise KeyError(key)


def card_summaries(review: Review) -> list[CardSummary]:
    summaries = []
    for card in CARDS:
        url = None
        if card.url_name:
            try:
                url = reverse(card.url_name, kwargs={"slug": review.slug})
            except NoReverseMatch:
                url = None
        count = card.count(review)
        summaries.append(
            CardSummary(
                card.key,
                card.label,
                card.description,
                card.count_label_one if count == 1 and card.count_label_one else card.count_label,
                count,
                url,
            )
        )
    return summaries
