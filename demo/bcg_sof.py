"""The BCG demo review's summary of findings (issue 19): one row for the main outcome
(tuberculosis, log risk ratio, REML, the main analysis of demo/bcg_synthesis.py), its GRADE
domains judged as a review team would, through the same services a lead uses.

The suggestions come from the stored result (synthesis.grade); the team accepts most of them
and changes or gives its own reason where a reviewer would:

- indirectness has no suggestion: the team judges no concern, with a reason;
- inconsistency: the suggestion is kept if it is "serious"; where it is "very serious" (I² about
  92 % in dat.bcg) the team rates down one level, giving the reason: risk ratios lie below 1 in
  11 of the 13 trials and the variation follows distance from the equator (Colditz et al.,
  JAMA 1994;271:698-702, the meta-analysis dat.bcg comes from);
- imprecision with GRADE's rough-guide MID of RR 1.25 (GRADE guidelines 6).

Run after demo_bcg_synthesis (it reads the main analysis's result).
"""

from __future__ import annotations

from reviews.models import Review
from synthesis.models import Analysis
from synthesis.sof import selectors, services

MAIN_ANALYSIS = "Main analysis: log risk ratio, REML"

REASONS = {
    "indirectness": (
        "The trials compared BCG vaccination with no vaccination and counted cases of "
        "tuberculosis: population, intervention, comparator and outcome are those of the "
        "question."
    ),
    "inconsistency": (
        "Heterogeneity is large, but the risk ratio lies below 1 in 11 of the 13 trials, and "
        "much of the variation follows distance from the equator (Colditz et al., JAMA "
        "1994;271:698-702): rated down one level, not two."
    ),
}


def demo_bcg_sof(review: Review, people: dict):
    """The table and its row for tuberculosis, every domain judged; the row."""
    actor = people.get("stats") or people["lead"]
    lead = people["lead"]
    services.table_save(
        actor=lead,
        review=review,
        data={
            "title": "BCG vaccine compared with no vaccination for preventing tuberculosis",
            "intervention": "BCG vaccination",
            "comparison": "no vaccination",
            "population": "Participants of the 13 BCG trials of dat.bcg",
            "setting": "Trials published 1948 to 1980 (Colditz et al. 1994)",
        },
    )
    analysis = Analysis.objects.get(review=review, name=MAIN_ANALYSIS)
    row = services.row_add(
        actor=actor,
        review=review,
        data={"analysis": analysis.pk, "outcome_label": "tuberculosis", "mid": 1.25},
    )
    view = selectors.row_view(row)
    for d in view.domains:
        judgement, reason = d.suggested, ""
        if d.domain == "indirectness":
            judgement, reason = "no concern", REASONS["indirectness"]
        elif d.domain == "inconsistency" and d.suggested == "very serious":
            judgement, reason = "serious", REASONS["inconsistency"]
        elif judgement is None:
            judgement = "no concern"
            reason = "Judged by the team: " + d.evidence
        services.judge(
            actor=lead,
            review=review,
            row=row,
            domain=d.domain,
            judgement=judgement,
            reason=reason,
        )
    return row
