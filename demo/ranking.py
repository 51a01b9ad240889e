"""The third demo review (slug ``demo-ranking``): prioritised screening under way.

The other demo reviews are screened to the end, so their queues are empty. This one imports the
1,704 records of Kitchenham et al.'s (2010) tertiary study of systematic reviews in software
engineering (a public labelled set; ``demo_data/kitchenham_2010/SOURCES.md``), and two demo
reviewers screen the first :data:`SCREENED` records the ranked queue hands them, voting as the
published review decided. The model retrains as their votes settle records (a job after every
few), so the queue they leave is ranked, each of its first records shows why it ranks high, and
the stopping panel has numbers to show.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

from django.db import transaction

from core import jobs
from identification import services as identification
from reviews import services
from reviews.constants import Role
from reviews.models import Review
from screening import services as screening
from screening.constants import Stage
from screening.prioritisation import services as prioritisation

RANKING_SLUG = "demo-ranking"
DATA = Path(__file__).resolve().parent.parent / "demo_data" / "kitchenham_2010"
#: Records the two reviewers screen before the demo leaves the queue to the visitor.
SCREENED = 150


def rows() -> list[dict]:
    """The dataset's records in a fixed shuffled order: the file lists its 45 included records
    first, and imported in that order they would be the first records of the queue (before the
    first exclude the queue is in import order), which would show nothing of the ranking."""
    with open(DATA / "Kitchenham_2010.csv", encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    random.Random(2010).shuffle(records)
    return records


def _ris(records: list[dict]) -> bytes:
    """A RIS file of the records: title, abstract and year, all the dataset gives."""
    out = io.StringIO()
    for r in records:
        out.write("TY  - JOUR\n")
        out.write(f"TI  - {' '.join(r['title'].split())}\n")
        if r["abstract"].strip():
            out.write(f"AB  - {' '.join(r['abstract'].split())}\n")
        if r["year"].strip():
            out.write(f"PY  - {r['year'].strip()[:4]}\n")
        out.write("ER  - \n\n")
    return out.getvalue().encode("utf-8")


def demo_ranking_build(people: dict) -> Review:
    """(Re)build the prioritised-screening demo review for the demo users ``people``."""
    lead, a, b = people["lead"], people["reviewer_a"], people["reviewer_b"]
    with transaction.atomic():
        Review.objects.filter(slug=RANKING_SLUG).delete()
    review = services.review_create(
        user=lead,
        slug=RANKING_SLUG,
        title="Systematic reviews in software engineering: prioritised screening under way",
        research_question=(
            "Which systematic literature reviews in software engineering were published from "
            "2004 to 2008? (The records and decisions of Kitchenham et al. 2010, a public "
            "labelled set.)"
        ),
    )
    for user in (a, b):
        services.membership_add(
            actor=lead, review=review, identifier=user.username, roles=[Role.REVIEWER]
        )
    records = rows()
    search = identification.search_create(
        actor=lead,
        review=review,
        database="Kitchenham 2010 labelled set",
        platform="ASReview systematic-review-datasets",
        date_searched=dt.date(2026, 12, 7),
        reported_hits=len(records),
        notes="The 1,704 records screened by Kitchenham et al. (2010), from the ASReview "
        "project's labelled datasets; see demo_data/kitchenham_2010/SOURCES.md.",
    )
    batch = identification.batch_upload(
        actor=lead,
        search=search,
        fileobj=io.BytesIO(_ris(records)),
        filename="kitchenham_2010.ris",
        enqueue=False,
    )
    jobs.job_run(batch.job_id)
    screening.settings_update(actor=lead, review=review, reviewers_per_record=2, blinded=True)
    screening.screening_prepare(review=review)
    # The published decision of each record, found by its title (the import keeps titles).
    decision = {" ".join(r["title"].split()): r["label_included"] == "1" for r in records}
    for _ in range(SCREENED):
        item = screening.assignment_next(user=a, review=review, stage=Stage.TITLE_ABSTRACT)
        if item is None:
            break
        vote = "include" if decision.get(" ".join(item.record.title.split())) else "exclude"
        screening.vote_cast(user=a, review=review, item=item, decision=vote)
        screening.vote_cast(user=b, review=review, item=item, decision=vote)
        # The votes queue a retraining job every few settled records; where jobs run later
        # (a broker, or a test's transaction) the demo retrains here, as the job would.
        if prioritisation.retrain_due(review):
            prioritisation.retrain(review)
    prioritisation.retrain(review)
    return review
