"""The second demo review (slug ``demo-bcg``): 13 BCG vaccine trials, extracted and finalised.

Its numbers are real published study-level data: the 2x2 tables of R's ``metadat::dat.bcg``
(Colditz et al. 1994; ``demo_data/bcg/SOURCES.md``). Built through the services a team uses: a
search whose records are the trial reports, screened in by two reviewers at both stages, a
study per report, the Cochrane RCT form published, two blinded extractions per study (one
disagreement, resolved in the consensus) and a finalised snapshot ready for synthesis.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core import jobs
from extraction import services as extraction
from extraction.models import Study
from identification import services as identification
from identification.models import Record
from reviews import services
from reviews.constants import Role
from reviews.models import Review
from screening import services as screening
from screening.constants import Stage
from screening.fulltext import services as fulltext

BCG_SLUG = "demo-bcg"
BCG_DATA = Path(settings.BASE_DIR) / "demo_data" / "bcg"
#: The trial whose extractions differ (B typed the control group's cases wrong).
DISAGREEMENT = 4


def trials() -> list[dict]:
    with (BCG_DATA / "dat_bcg.tsv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _values(t: dict) -> dict:
    n1 = int(t["tpos"]) + int(t["tneg"])
    n2 = int(t["cpos"]) + int(t["cneg"])
    return {
        "design": "parallel",
        "sequence": f"Allocation: {t['alloc']} (dat.bcg)",
        "setting": f"Absolute latitude {t['ablat']} degrees (dat.bcg)",
        "intervention": "BCG vaccine",
        "comparator": "No vaccine",
        "arms.0.name": "BCG vaccine",
        "arms.0.n": str(n1),
        "arms.1.name": "Control",
        "arms.1.n": str(n2),
        "outcomes.0.name": "Tuberculosis",
        "outcomes.0.timepoint": "End of follow-up",
        "outcomes.0.effect": "RR",
        "results.0.outcome": "1",
        "results.0.arm1": "1",
        "results.0.arm2": "2",
        "results.0.ai": t["tpos"],
        "results.0.n1i": str(n1),
        "results.0.ci": t["cpos"],
        "results.0.n2i": str(n2),
    }


def _record_trial(record: Record, rows: list[dict]) -> dict:
    return next(t for t in rows if f"trial {t['trial']} of" in record.title)


def demo_bcg_build(people: dict) -> Review:
    """(Re)build the BCG demo review for the demo users ``people``."""
    lead, a, b = people["lead"], people["reviewer_a"], people["reviewer_b"]
    with transaction.atomic():
        Review.objects.filter(slug=BCG_SLUG).delete()
    review = services.review_create(
        user=lead,
        slug=BCG_SLUG,
        title="BCG vaccine against tuberculosis: a demonstration meta-analysis",
        research_question=(
            "Does BCG vaccination prevent tuberculosis, compared with no vaccination? "
            "(The 13 trials of Colditz et al. 1994, metadat's dat.bcg.)"
        ),
    )
    for user in (a, b):
        services.membership_add(
            actor=lead,
            review=review,
            identifier=user.username,
            roles=[Role.REVIEWER, Role.EXTRACTOR],
        )
    if "stats" in people:
        services.membership_add(
            actor=lead, review=review, identifier="stats", roles=[Role.STATISTICIAN]
        )
    search = identification.search_create(
        actor=lead,
        review=review,
        database="metadat dat.bcg",
        platform="R package metadat 1.2.0",
        date_searched=dt.date(2026, 12, 1),
        reported_hits=13,
        notes="The 13 trial reports of Colditz et al. (1994), from metadat's dat.bcg; see "
        "demo_data/bcg/SOURCES.md.",
    )
    batch = identification.batch_upload(
        actor=lead,
        search=search,
        fileobj=io.BytesIO((BCG_DATA / "bcg_trials.ris").read_bytes()),
        filename="bcg_trials.ris",
        enqueue=False,
    )
    jobs.job_run(batch.job_id)
    screening.settings_update(actor=lead, review=review, reviewers_per_record=2, blinded=True)
    screening.screening_prepare(review=review)
    for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
        for user in (a, b):
            while item := screening.assignment_next(user=user, review=review, stage=stage):
                if stage == Stage.FULL_TEXT and not hasattr(item.record, "fulltext_report"):
                    fulltext.report_attach(
                        user=lead,
                        review=review,
                        item=item,
                        url="https://doi.org/10.1001/jama.1994.03510330076038",
                    )
                screening.vote_cast(user=user, review=review, item=item, decision="include")
    rows = trials()
    extraction.form_use_template(actor=lead, review=review)
    extraction.form_publish(actor=lead, review=review)
    for record in Record.objects.filter(review=review).order_by("pk"):
        t = _record_trial(record, rows)
        study = extraction.study_create(
            actor=a, review=review, records=[record.pk], label=f"{t['author']} {t['year']}"
        )
        values = _values(t)
        b_values = dict(values)
        if int(t["trial"]) == DISAGREEMENT:
            b_values["results.0.ci"] = str(int(t["cpos"]) + 10)
        for user, mine in ((a, values), (b, b_values)):
            extraction.extraction_save(actor=user, review=review, study=study, values=mine)
            extraction.extraction_mark(actor=user, review=review, study=study, done=True)
        picks = {k: {"pick": "a"} for k in values if b_values[k] != values[k]}
        extraction.consensus_save(actor=lead, review=review, study=study, picks=picks, finish=True)
    extraction.snapshot_finalise(actor=lead, review=review)
    assert Study.objects.filter(review=review).count() == len(rows)
    # Risk of bias (RoB 2) of the 13 trials, grounded in dat.bcg's allocation (issue 17).
    from demo.bcg_rob import demo_bcg_rob

    demo_bcg_rob(review, people, rows)
    # Synthesis last: it reads the snapshot and the risk-of-bias judgements (issue 18).
    from demo.bcg_synthesis import demo_bcg_synthesis

    demo_bcg_synthesis(review, people)
    # Narrative synthesis of the trials grouped by allocation method (issue 22).
    from demo.bcg_narrative import demo_bcg_narrative

    demo_bcg_narrative(review, people)
    # The summary of findings with GRADE, from the main analysis's result (issue 19).
    from demo.bcg_sof import demo_bcg_sof

    demo_bcg_sof(review, people)
    return review
