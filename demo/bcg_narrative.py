"""The BCG demo review's narrative synthesis (issue 22): the 13 real trials of metadat's dat.bcg
grouped by their method of allocation (random, alternate, systematic: the form's "Random
sequence generation" field, ``sequence``), vote counting on the direction of each trial's log
risk ratio with the sign test, the summary of the estimates, Fisher's combined p-value, the
effect-direction plot and the SWiM checklist. dat.bcg reports one outcome (tuberculosis cases),
so the synthesis keeps one outcome domain (the default: each outcome its own domain); no outcome
is invented to show the grouping of outcomes into domains.

These trials are also pooled by the demo's meta-analyses (``demo/bcg_synthesis.py``), so the
synthesis takes "all studies" rather than "studies not in a meta-analysis" (which would be
none): it shows the method, as the page's text says. Run after the synthesis step.
"""

from __future__ import annotations

from reviews.models import Review
from synthesis.narrative import services

DEFINITION = {
    "name": "Narrative synthesis by allocation method",
    "group_by": "sequence",
    "selection": "all",
    "outcomes": [{"outcome": "Tuberculosis", "favourable": "lower", "combine": "fisher"}],
    "description": (
        "A demonstration of synthesis without meta-analysis (SWiM; Campbell et al. 2020, BMJ "
        "368:l6890) on the 13 BCG trials of metadat's dat.bcg (Colditz et al. 1994). These "
        "trials are also pooled in this review's meta-analyses; a real review would use this "
        "page for the studies it cannot pool. The trials are grouped by how they allocated "
        "participants; each trial's direction is the sign of its log risk ratio of "
        "tuberculosis (lower favours the vaccine), counted with the sign test. The trials "
        "report one outcome (tuberculosis cases), so the effect-direction plot has one outcome "
        "domain, Tuberculosis: no outcomes are grouped into domains here."
    ),
}
SWIM_TEXT = {
    "6": (
        "Not assessed in this demonstration; a review would rate the certainty of each "
        "synthesised finding (e.g. GRADE, adapted for syntheses without meta-analysis)."
    ),
    "9": (
        "Vote counting ignores the size of the effects and the studies' precision: here every "
        "trial could be, and is, pooled in a meta-analysis, which is the better synthesis."
    ),
}


def demo_bcg_narrative(review: Review, people: dict):
    """Define the demo's narrative synthesis and write two SWiM items the data cannot fill."""
    actor = people.get("stats") or people["lead"]
    synthesis = services.synthesis_create(actor=actor, review=review, data=DEFINITION)
    services.swim_save(actor=actor, review=review, synthesis=synthesis, data=SWIM_TEXT)
    return synthesis
