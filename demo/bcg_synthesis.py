"""The BCG demo review's synthesis (issue 18): analyses like the seed review's on the 13 real
trials of metadat's dat.bcg, run through the same services a statistician uses.

- the main analysis: log risk ratio, REML, with leave-one-out and publication bias (funnel plot,
  Egger's and Begg's tests, trim-and-fill);
- a subgroup analysis by the method of allocation (random, alternate, systematic: dat.bcg's
  ``alloc``, extracted into the form's "Random sequence generation" field);
- the sensitivity analysis without the studies at high risk of bias (the RoB module's consensus
  judgements; without any, it says that no study is judged high).

Run after the snapshot (and after the risk-of-bias assessments, which it reads).
"""

from __future__ import annotations

from reviews.models import Review
from synthesis import services

ANALYSES = [
    {
        "name": "Main analysis: log risk ratio, REML",
        "outcome": "Tuberculosis",
        "measure": "RR",
        "method": "REML",
        "test": "z",
        "level": 95,
        "leave_one_out": True,
        "publication_bias": True,
    },
    {
        "name": "Subgroups by allocation method",
        "outcome": "Tuberculosis",
        "measure": "RR",
        "method": "REML",
        "test": "z",
        "level": 95,
        "subgroup": "sequence",
    },
    {
        "name": "Sensitivity: without high risk of bias",
        "outcome": "Tuberculosis",
        "measure": "RR",
        "method": "REML",
        "test": "z",
        "level": 95,
        "without_high_rob": True,
    },
]


def demo_bcg_synthesis(review: Review, people: dict) -> list:
    """Define and run the demo's analyses (synchronously); their stored results."""
    actor = people.get("stats") or people["lead"]
    results = []
    for data in ANALYSES:
        analysis = services.analysis_create(actor=actor, review=review, data=data)
        results.append(services.analysis_run_now(actor=actor, review=review, analysis=analysis))
    return results
