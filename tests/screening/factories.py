"""Records to screen, made directly (the import pipeline has its own tests), and small helpers
shared by the tests of screening."""

from __future__ import annotations

import hashlib

from identification.constants import BatchStatus
from identification.models import ImportBatch, Record, Search
from reviews.models import Review
from screening import selectors, services
from screening.constants import Stage
from screening.fulltext import services as fulltext
from screening.models import ExclusionReason, ScreeningItem, Vote

#: The smallest file the full-text checks take for a PDF.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

TITLES = [
    "Problem gambling and household debt: a cohort study",
    "Lottery spending among adolescents",
    "Online casino advertising and young adults",
    "Gambling harms in older adults: a cross-sectional survey",
    "Sports betting and suicidality",
    "A randomised trial of a brief intervention for gamblers",
    "Loot boxes in video games",
    "Electronic gaming machines and intimate partner violence",
]


def make_records(review: Review, n: int = 4, *, prefix: str = "") -> list[Record]:
    """``n`` records of one search of ``review``, with a title, an abstract and keywords."""
    search = Search.objects.create(review=review, database="Scopus")
    digest = hashlib.sha256(f"{review.pk}-{search.pk}".encode()).hexdigest()
    batch = ImportBatch.objects.create(
        review=review,
        search=search,
        file=f"imports/test/{digest}",
        original_name="test.ris",
        size=0,
        sha256=digest,
        status=BatchStatus.IMPORTED,
    )
    records = [
        Record(
            review=review,
            search=search,
            batch=batch,
            title=f"{prefix}{TITLES[i % len(TITLES)]} ({i + 1})",
            abstract=f"Background: gambling study number {i + 1}. Methods: survey of gamblers.",
            authors=["Smith, J", "Jones, K"],
            year=2020,
            journal="Journal of Gambling Studies",
            doi=f"10.1000/test.{review.pk}.{search.pk}.{i}",
            keywords=["gambling"],
        )
        for i in range(n)
    ]
    return Record.objects.bulk_create(records)


def ta_items(review: Review) -> list[ScreeningItem]:
    services.screening_prepare(review=review)
    return list(
        ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT).order_by("pk")
    )


def vote(user, review: Review, item, decision, **kw) -> Vote:
    return services.vote_cast(user=user, review=review, item=item, decision=decision, **kw)


def status(item: ScreeningItem) -> str:
    """The item's status as stored now."""
    item.refresh_from_db()
    return item.status


def reason(review: Review, stage: str = Stage.TITLE_ABSTRACT, n: int = 0) -> ExclusionReason:
    """The ``n``-th active exclusion reason of ``stage``."""
    return selectors.reasons_for(review, stage)[n]


def full_text_item(review: Review, reviewer_a, reviewer_b, *, attached_by=None) -> ScreeningItem:
    """The first record, included at title and abstract by both reviewers, at full text; with a
    link to its full text attached by ``attached_by`` when given."""
    ta = ta_items(review)[0]
    vote(reviewer_a, review, ta, "include")
    vote(reviewer_b, review, ta, "include")
    ft = ScreeningItem.objects.get(record=ta.record, stage=Stage.FULL_TEXT)
    if attached_by is not None:
        fulltext.report_attach(
            user=attached_by, review=review, item=ft, url="https://example.org/paper.pdf"
        )
    return ft


def sample_pk(review: Review, kind: str) -> int:
    """A sample object of ``kind`` under ``review`` for the access test (made once, reused)."""
    from screening.constants import Decision

    lead = review.memberships.filter(role="lead").first().user
    if not ScreeningItem.objects.filter(review=review, stage=Stage.FULL_TEXT).exists():
        make_records(review, 2, prefix="Sample: ")
        services.settings_update(actor=lead, review=review, reviewers_per_record=1)
        items = ta_items(review)
        services.vote_cast(user=lead, review=review, item=items[0], decision=Decision.INCLUDE)
    if kind == "reason":
        return ExclusionReason.objects.filter(review=review).first().pk
    if kind == "ta_item":
        return ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT).first().pk
    if kind == "ft_item":
        return ScreeningItem.objects.filter(review=review, stage=Stage.FULL_TEXT).first().pk
    if kind == "vote":
        return Vote.objects.filter(review=review).first().pk
    raise KeyError(kind)
