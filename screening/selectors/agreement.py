"""Agreement between reviewers (Cohen's and Fleiss' kappa), over settled records only.

The statistics themselves are pure functions in ``screening/reliability.py``; this module
gathers the votes they are computed from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from reviews.models import Review
from screening import reliability
from screening.constants import Decision, Stage
from screening.models import Vote


@dataclass(frozen=True)
class PairAgreement:
    reviewer_a: str
    reviewer_b: str
    table: reliability.TwoByTwo
    kappa: reliability.KappaResult


@dataclass(frozen=True)
class StageAgreement:
    stage: str
    label: str
    records: int
    pooled: reliability.KappaResult
    pooled_table: reliability.TwoByTwo
    pairs: list[PairAgreement]
    fleiss: reliability.FleissResult | None
    raters: int


def _yes(decision: str) -> bool:
    # A Maybe moves a record forward unless resolved otherwise, so it counts as "not excluded".
    return decision != Decision.EXCLUDE


def stage_agreement(review: Review, stage: str) -> StageAgreement:
    """Agreement between reviewers at ``stage`` over settled records only.

    Records still awaiting votes or in conflict are left out until settled, so that these
    figures can never reveal a blinded vote.
    """
    rows = (
        Vote.objects.of_review(review)
        .at(stage)
        .primary(review)
        .on_settled()
        .order_by("item_id", "created_at", "pk")
        .values_list("item_id", "reviewer_id", "reviewer__username", "decision")
    )
    by_item: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    names: dict[int, str] = {}
    for item_id, reviewer_id, username, decision in rows.iterator(chunk_size=5000):
        by_item[item_id].append((reviewer_id, username, decision))
        names[reviewer_id] = username
    pooled_pairs = []
    pair_votes: dict[tuple[int, int], list[tuple[bool, bool]]] = defaultdict(list)
    for votes in by_item.values():
        if len(votes) >= 2:
            pooled_pairs.append((_yes(votes[0][2]), _yes(votes[1][2])))
        for (ua, _, da), (ub, _, db) in combinations(votes, 2):
            if ua > ub:
                ua, ub, da, db = ub, ua, db, da
            pair_votes[(ua, ub)].append((_yes(da), _yes(db)))
    pairs = []
    for (ua, ub), pv in sorted(
        pair_votes.items(), key=lambda kv: (names[kv[0][0]], names[kv[0][1]])
    ):
        table = reliability.two_by_two(pv)
        pairs.append(PairAgreement(names[ua], names[ub], table, reliability.cohen_kappa(pv)))
    fleiss = None
    if len(names) > 2:
        sizes = [len(v) for v in by_item.values() if len(v) >= 2]
        if sizes:
            m = max(set(sizes), key=lambda s: (sizes.count(s), s))
            matrix = []
            for votes in by_item.values():
                if len(votes) == m:
                    yes = sum(1 for _, _, d in votes if _yes(d))
                    matrix.append([yes, m - yes])
            fleiss = reliability.fleiss_kappa(matrix)
    return StageAgreement(
        stage=stage,
        label=Stage(stage).label,
        records=sum(1 for v in by_item.values() if len(v) >= 2),
        pooled=reliability.cohen_kappa(pooled_pairs),
        pooled_table=reliability.two_by_two(pooled_pairs),
        pairs=pairs,
        fleiss=fleiss,
        raters=len(names),
    )
