"""Risk of bias (RoB 2) of the BCG demo review's 13 trials (issue 17).

Grounded in the one thing the source reports about each trial's conduct: ``alloc`` of
``dat.bcg`` (Colditz et al. 1994's allocation table: random, alternate or systematic). Domain 1
follows it: random allocation answers 1.1 Y; alternate or systematic allocation is not random
and cannot be concealed (1.1 N, 1.2 N), which the RoB 2 algorithm judges High. Everything the
source does not report is NI. The few other answers are the demo's reading, said in their
support text and in ``demo_data/bcg/SOURCES.md``. Both demo extractors assess every trial
through the services a team uses, blinded; they disagree on one trial (B answered 1.2 NI for
Stein & Aronson 1953), and the lead's consensus takes A's answers there.
"""

from __future__ import annotations

from extraction.models import Study
from extraction.rob import services as rob
from reviews.models import Review

#: The trial (dat.bcg's ``trial`` number) on which the two assessors differ.
ROB_DISAGREEMENT = 6
SOURCE = "Colditz et al. 1994 (dat.bcg alloc)"


def answers_for(alloc: str) -> tuple[dict, dict]:
    """RoB 2 answers and support for a trial allocated ``alloc`` (random, alternate or
    systematic), assessed for the effect of assignment."""
    if alloc == "random":
        d1 = {"1.1": "Y", "1.2": "NI", "1.3": "NI"}
        d1_support = {
            "1.1": f"Allocation {alloc!r}: {SOURCE}.",
            "1.2": "Concealment is not reported in the source.",
            "1.3": "Baseline characteristics are not reported in the source.",
        }
    else:
        d1 = {"1.1": "N", "1.2": "N", "1.3": "NI"}
        d1_support = {
            "1.1": f"Allocation {alloc!r}, not random: {SOURCE}.",
            "1.2": f"{alloc.capitalize()} allocation is predictable: it cannot be concealed.",
            "1.3": "Baseline characteristics are not reported in the source.",
        }
    answers = {
        "D1": d1,
        "D2": {"2.1": "NI", "2.2": "NI", "2.3": "NI", "2.6": "PY"},
        "D3": {"3.1": "PY"},
        "D4": {"4.1": "PN", "4.2": "NI", "4.3": "NI", "4.4": "PY", "4.5": "PN"},
        "D5": {"5.1": "NI", "5.2": "NI", "5.3": "NI"},
    }
    support = {
        "D1": d1_support,
        "D2": {
            "2.1": "Not reported in the source.",
            "2.6": "The demo's reading: dat.bcg counts cases in the groups as allocated.",
        },
        "D3": {"3.1": "The demo's reading: the 2x2 tables count every participant of each group."},
        "D4": {
            "4.1": "The demo's reading: tuberculosis cases as the trials diagnosed them.",
            "4.3": "Blinding of outcome assessors is not reported in the source.",
            "4.4": "The demo's reading: diagnosing tuberculosis involves some judgement.",
            "4.5": "The demo's reading: no sign in the source that it did.",
        },
        "D5": {"5.1": "No pre-specified analysis plan is reported (trials of 1948-1980)."},
    }
    return answers, support


def demo_bcg_rob(review: Review, people: dict, trials: list[dict]) -> None:
    """RoB 2 settings, two blinded assessments per trial and the lead's consensus."""
    lead, a, b = people["lead"], people["reviewer_a"], people["reviewer_b"]
    rob.settings_save(actor=lead, review=review, tool="rob2", per_outcome=False)
    by_label = {s.label: s for s in Study.objects.filter(review=review)}
    for t in trials:
        study = by_label[f"{t['author']} {t['year']}"]
        answers, support = answers_for(t["alloc"])
        b_answers = {k: dict(v) for k, v in answers.items()}
        if int(t["trial"]) == ROB_DISAGREEMENT:
            b_answers["D1"]["1.2"] = "NI"
        for user, mine in ((a, answers), (b, b_answers)):
            rob.assessment_save(
                actor=user,
                review=review,
                study=study,
                d2_variant="assignment",
                answers=mine,
                support=support,
            )
            rob.assessment_mark(actor=user, review=review, study=study, done=True)
        picks = {"D1": {"pick": "a"}} if int(t["trial"]) == ROB_DISAGREEMENT else {}
        rob.consensus_save(actor=lead, review=review, study=study, picks=picks, finish=True)
