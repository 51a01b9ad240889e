"""Agreement between reviewers (Cohen's and Fleiss' kappa), over every record voted on by at
least two of them, settled or not: leaving out the records in conflict, as this module once did,
showed kappa = 1.000 and 100 % agreement while three conflicts were open.

Blinding still holds: a reader counts a record only once they may see its votes (see
``policy.votes_visible``): when it is settled, or in conflict and theirs to resolve (a lead
resolves every conflict). A voter's own conflict is left out of what they read, exactly as a
record still waiting for the other vote is, so nothing moves when the other vote disagrees.

The statistics themselves are pure functions in ``screening/reliability.py``; this module
gathers the votes they are computed from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from django.db.models import Q

from reviews.models import Review
from screening import reliability
from screening.constants import Decision, ItemStatus, Stage
from screening.models import ScreeningItem, Vote
from screening.selectors.policy import conflicts_hidden_from
from screening.selectors.settings import settings_for


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
    #: Blinding applied for this reader: records whose votes they may not see yet are left out
    #: (it says nothing of whether any were).
    blinded: bool = False


def _yes(decision: str) -> bool:
    # A Maybe moves a record forward unless resolved otherwise, so it counts as "not excluded".
    return decision != Decision.EXCLUDE


def _counted_items(review: Review, stage: str, user) -> tuple[Q, bool]:
    """Which items' votes ``user`` may have counted, as a filter on votes, and whether blinding
    left some kind of record out. ``user`` ``None``: every item (the whole truth)."""
    if user is None or not settings_for(review).blinded:
        return Q(), False
    # As ``policy.votes_visible``: settled (or not retrieved) records for everyone ...
    visible = Q(
        item__status__in=[ItemStatus.INCLUDED, ItemStatus.EXCLUDED, ItemStatus.NOT_RETRIEVED]
    )
    # ... and the conflicts the reader may resolve; never a record still awaiting votes.
    hidden = conflicts_hidden_from(user=user, review=review)
    if hidden is None:
        visible |= Q(item__status=ItemStatus.CONFLICT)
    elif hidden != Q():
        conflicts = ScreeningItem.objects.of_review(review).at(stage)
        visible |= Q(item__in=conflicts.filter(status=ItemStatus.CONFLICT).exclude(hidden))
    return visible, True


def stage_agreement(review: Review, stage: str, *, user) -> StageAgreement:
    """Agreement between reviewers at ``stage`` over every record at least two of them voted on,
    as ``user`` may see it.

    Settled or not: a conflict is a disagreement and counts as one. While screening is blinded
    a record counts once ``user`` may see its votes (settled, or in conflict and theirs to
    resolve); records still awaiting votes (with three reviewers, two votes of three) count for
    nobody until then. ``user`` ``None``: every record, for callers that show the figures to no
    blinded reader.
    """
    counted, blinded = _counted_items(review, stage, user)
    rows = (
        Vote.objects.of_review(review)
        .at(stage)
        .primary(review)
        .filter(counted)
        .order_by("item_id", "created_at", "pk")
        .values_list("item_id", "reviewer_id", "reviewer__username", "reviewer_name", "decision")
    )
    by_item: dict[int, list[tuple[tuple, str, str]]] = defaultdict(list)
    names: dict[tuple, str] = {}
    for item_id, reviewer_id, username, name, decision in rows.iterator(chunk_size=5000):
        # A voter known only by name (from an imported archive) is a voter of their own.
        voter = (0, reviewer_id, "") if reviewer_id is not None else (1, 0, name)
        by_item[item_id].append((voter, username or name, decision))
        names[voter] = username or name
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
        blinded=blinded,
    )
