"""Deduplication of a review's records: blocking, scoring, clustering, the review queue."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from deduplication.engine.blocking import iter_candidate_pairs
from deduplication.engine.merge import choose_primary
from deduplication.engine.records import DedupRecord, PreparedRecord, prepare_record
from deduplication.engine.scoring import (
    FieldComparison,
    compare_fields,
    location_agrees,
    needs_location,
    score_pair,
)

__all__ = [
    "Cluster",
    "DedupConfig",
    "DedupCounts",
    "DedupResult",
    "ScoredPair",
    "deduplicate",
]


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Thresholds of the engine.

    Pairs scoring at least ``auto_threshold`` merge without asking; pairs from
    ``queue_threshold`` up to it wait for a person; lower ones are dropped. Both were set on
    the benchmark sets (``bench/dedup_bench.py``), see ``docs/benchmarks.md``.
    """

    auto_threshold: float = 7.5
    queue_threshold: float = 1.5
    #: A block of more records than this pairs each with its ``window`` neighbours only.
    max_block: int = 20
    window: int = 5
    #: No automatic merge makes a cluster larger than this; such merges wait for people. A
    #: publication is rarely found more than a dozen times; a file of a thousand copies of one
    #: record is a broken or hostile export, and people should look at it.
    max_cluster: int = 100
    #: Records linked by queued pairs form a group; besides the pairs that link it (so that
    #: confirming the whole queue joins every group the doubtful pairs would), a group gets
    #: at most this many more pairs: the most any group has in the benchmark sets.
    max_extra_queued: int = 3
    #: A pair whose title is generic ("Editorial", "Reply", see ``generic.py``) merges
    #: automatically only when its DOI, PMID or volume and pages agree; otherwise a person
    #: decides. Off only to measure what the rule changes (``bench/dedup_bench.py``).
    generic_titles_need_location: bool = True


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """Two records compared: ids (left < right), score, and the field-by-field view."""

    left_id: int
    right_id: int
    score: float
    fields: tuple[FieldComparison, ...] = ()


@dataclass(frozen=True, slots=True)
class Cluster:
    """Records that are one publication.

    ``existing_keys`` are the keys of the caller's existing clusters that this cluster
    contains: none for a new cluster, one when records joined an existing cluster, several
    when a new record showed that existing clusters are one.
    """

    primary_id: int
    member_ids: tuple[int, ...]
    existing_keys: tuple[Hashable, ...] = ()

    @property
    def duplicate_ids(self) -> tuple[int, ...]:
        """Members other than the primary."""
        return tuple(m for m in self.member_ids if m != self.primary_id)


@dataclass(frozen=True, slots=True)
class DedupCounts:
    """Numbers of one run; ``merged`` counts records merged into another record."""

    records: int
    new_records: int
    candidate_pairs: int
    auto_merged_pairs: int
    queued_pairs: int
    clusters: int
    merged: int
    seconds: float
    #: Candidate pairs actually scored (not already in one cluster).
    compared_pairs: int = 0
    #: Automatic merges that ``max_cluster`` sent to the queue instead.
    held_back_merges: int = 0
    #: Doubtful pairs left out of the queue by ``max_extra_queued``: pairs whose records the
    #: queue links through other pairs already.
    queue_trimmed: int = 0
    #: Pairs scoring for an automatic merge that were queued instead because their title is
    #: generic and nothing pins them to one item (``DedupConfig.generic_titles_need_location``).
    generic_held_back: int = 0


@dataclass(frozen=True, slots=True)
class DedupResult:
    """Outcome of :func:`deduplicate`.

    ``clusters`` holds every cluster of two or more records (existing ones included, possibly
    grown); records in no cluster are unique. ``merged_pairs`` are the pairs whose automatic
    merge built the clusters, ``queued_pairs`` the doubtful pairs for a person, at most one per
    pair of clusters, never within one cluster and never one a person judged different, and a
    few beyond those that link a group of clusters (see ``DedupConfig.max_extra_queued``).
    No automatic merge makes a cluster larger than ``DedupConfig.max_cluster``: such merges
    are queued instead. The work is bounded too: each record is compared with the members of
    its small blocks and its neighbours in large ones only.
    """

    clusters: tuple[Cluster, ...]
    merged_pairs: tuple[ScoredPair, ...]
    queued_pairs: tuple[ScoredPair, ...]
    counts: DedupCounts
    cluster_of: Mapping[int, int] = field(default_factory=dict)

    def cluster_for(self, record_id: int) -> Cluster | None:
        """The cluster holding ``record_id``, or ``None`` for a unique record."""
        position = self.cluster_of.get(record_id)
        return None if position is None else self.clusters[position]


class _Clusters:
    """Union-find over record indices that refuses merges a person or the DOIs forbid."""

    def __init__(self, records: Sequence[PreparedRecord]) -> None:
        self.parent = list(range(len(records)))
        self.size = [1] * len(records)
        # Identifiers per cluster, kept only where present, to catch chains such as
        # A (doi x) ~ B (no doi) ~ C (doi y) that would merge two different DOIs.
        self.dois: dict[int, set[str]] = {r.index: {r.doi} for r in records if r.doi}
        self.pmids: dict[int, set[str]] = {r.index: {r.pmid} for r in records if r.pmid}
        self.different: dict[int, set[int]] = {}

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def forbid(self, i: int, j: int) -> None:
        """Record that a person judged records ``i`` and ``j`` different."""
        self.different.setdefault(self.find(i), set()).add(j)
        self.different.setdefault(self.find(j), set()).add(i)

    def judged_different(self, root_a: int, root_b: int) -> bool:
        marked_a = self.different.get(root_a)
        if not marked_a:
            return False
        return any(self.find(k) == root_b for k in marked_a)

    def identifiers_conflict(
        self, root_a: int, root_b: int, *, dois: bool = True, pmids: bool = True
    ) -> bool:
        """Whether the two clusters hold DOIs (PMIDs) and share none."""
        for table, wanted in ((self.dois, dois), (self.pmids, pmids)):
            if not wanted:
                continue
            a, b = table.get(root_a), table.get(root_b)
            if a and b and not a & b:
                return True
        return False

    def union(self, root_a: int, root_b: int) -> int:
        if self.size[root_a] < self.size[root_b]:
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]
        for table in (self.dois, self.pmids, self.different):
            moved = table.pop(root_b, None)
            if moved:
                table.setdefault(root_a, set()).update(moved)
        return root_a


def _bounded_queue(
    doubtful: Iterable[tuple[float, int, int]],
    clusters: _Clusters,
    extra_per_group: int,
) -> tuple[list[tuple[float, int, int]], int]:
    """The doubtful pairs (given strongest first) that go to people.

    At most one pair between two clusters (the strongest), never one inside a cluster or
    between clusters a person judged different. A pair that links two groups of clusters no
    queued pair links yet is always queued: with those alone, confirming the whole queue joins
    every group the doubtful pairs would (a spanning forest, built strongest first as
    Kruskal's algorithm does). Pairs inside a group already linked are a second route, worth
    asking while the group has fewer than ``extra_per_group`` of them: a few for a handful of
    look-alikes, not a flood of questions about a record with a thousand copies. Nothing here
    grows with the doubtful pairs, only with the queue. Returns the queue and how many pairs
    the bound left out.
    """
    find = clusters.find
    group: dict[int, int] = {}
    extra: dict[int, int] = {}
    asked: set[tuple[int, int]] = set()  # pairs of clusters with a queued pair

    def top(root: int) -> int:
        while (up := group.get(root, root)) != root:
            group[root] = group.get(up, up)
            root = up
        return root

    queue: list[tuple[float, int, int]] = []
    trimmed = 0
    for score, i, j in doubtful:
        a, b = find(i), find(j)
        if a == b or clusters.judged_different(a, b):
            continue
        pair = (a, b) if a < b else (b, a)
        ga, gb = top(a), top(b)
        if ga != gb:
            group[ga] = gb
            extra[gb] = extra.get(gb, 0) + extra.pop(ga, 0)
        elif pair in asked:
            continue  # a weaker pair between the same two clusters
        elif extra.get(ga, 0) < extra_per_group:
            extra[ga] = extra.get(ga, 0) + 1
        else:
            trimmed += 1
            continue
        asked.add(pair)
        queue.append((score, i, j))
    return queue, trimmed


def _pairs_as_indices(
    pairs: Iterable[tuple[int, int]], index_of: Mapping[int, int]
) -> list[tuple[int, int]]:
    result = []
    for left, right in pairs:
        if left in index_of and right in index_of and left != right:
            result.append((index_of[left], index_of[right]))
    return result


def deduplicate(
    records: Sequence[DedupRecord],
    *,
    existing: Sequence[DedupRecord] = (),
    existing_clusters: Mapping[int, Hashable] | None = None,
    judged_different: Iterable[tuple[int, int]] = (),
    pinned_primaries: Collection[int] = (),
    config: DedupConfig | None = None,
    with_fields: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> DedupResult:
    """Find duplicates among ``records`` and between them and ``existing``.

    Parameters
    ----------
    records
        The records to deduplicate: a fresh import, or every record for a full rerun.
    existing
        Records already in the review. They are compared with ``records`` but not with each
        other, since that was done when they arrived.
    existing_clusters
        Record id -> cluster key for records already clustered (by the engine or by a
        person). Records sharing a key start in one cluster; the engine may add records to a
        cluster or join clusters through a new record, but never splits one.
    judged_different
        Pairs of record ids a person judged to be different publications. They are never
        merged or queued, nor are the clusters holding them.
    pinned_primaries
        Record ids a person chose as primary; such a record stays primary of its cluster.
    config
        Thresholds; :class:`DedupConfig` defaults when ``None``.
    with_fields
        Attach the field-by-field comparison to merged and queued pairs (for the review
        screen); leave it off for speed when only the clusters are needed.
    progress
        Called as ``progress(stage, done, total)`` now and then, for a progress bar.

    Returns
    -------
    DedupResult
        Deterministic for the same input.

    Notes
    -----
    After an import, pass the new records as ``records`` and the review's others as
    ``existing`` with their clusters. For a full rerun pass every record as ``records`` and,
    in ``existing_clusters``, only the clusters people made or confirmed, so that automatic
    merges are recomputed under the current rules. The engine knows nothing of reviews: the
    caller passes one review's records, which is what keeps merges inside a review.
    ``merged_pairs`` and ``queued_pairs`` hold this run's pairs only; a queued pair from an
    earlier run whose records now share a cluster is settled.
    """
    # The run allocates millions of small acyclic objects (pairs, scores); the cyclic garbage
    # collector would scan them over and over for nothing (a quarter of the time at 100k).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _deduplicate(
            records,
            existing=existing,
            existing_clusters=existing_clusters,
            judged_different=judged_different,
            pinned_primaries=pinned_primaries,
            config=config or DedupConfig(),
            with_fields=with_fields,
            progress=progress,
        )
    finally:
        if collecting:
            gc.enable()


def _deduplicate(
    records: Sequence[DedupRecord],
    *,
    existing: Sequence[DedupRecord],
    existing_clusters: Mapping[int, Hashable] | None,
    judged_different: Iterable[tuple[int, int]],
    pinned_primaries: Collection[int],
    config: DedupConfig,
    with_fields: bool,
    progress: Callable[[str, int, int], None] | None,
) -> DedupResult:
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)

    all_records = [*existing, *records]
    new_count = len(records)
    first_new = len(existing)
    index_of: dict[int, int] = {}
    for position, record in enumerate(all_records):
        if record.id in index_of:
            raise ValueError(f"record id {record.id} appears twice")
        index_of[record.id] = position

    prepared: list[PreparedRecord] = []
    total = len(all_records)
    for position, record in enumerate(all_records):
        prepared.append(prepare_record(record, position, is_new=position >= first_new))
        if position % 10000 == 0:
            report("normalise", position, total)
    report("normalise", total, total)

    clusters = _Clusters(prepared)
    first_member: dict[Hashable, int] = {}
    for record_id, key in (existing_clusters or {}).items():
        position = index_of.get(record_id)
        if position is None:
            continue
        if key in first_member:
            a, b = clusters.find(first_member[key]), clusters.find(position)
            if a != b:
                clusters.union(a, b)
        else:
            first_member[key] = position
    for i, j in _pairs_as_indices(judged_different, index_of):
        clusters.forbid(i, j)

    # Pairs are streamed from the blocks and scored as they come: only the pairs that score
    # high enough to merge or to ask about are kept.
    auto: list[tuple[float, int, int]] = []
    doubtful: list[tuple[float, int, int]] = []
    auto_threshold, queue_threshold = config.auto_threshold, config.queue_threshold
    find = clusters.find
    candidates = compared = generic_held_back = 0
    gate_generic = config.generic_titles_need_location
    report("block", 0, total)
    for i, j in iter_candidate_pairs(prepared, max_block=config.max_block, window=config.window):
        candidates += 1
        if candidates % 50000 == 0:
            report("score", i, total)
        if find(i) == find(j):
            continue
        compared += 1
        score = score_pair(prepared[i], prepared[j], queue_threshold)
        if score >= auto_threshold:
            if (
                gate_generic
                and needs_location(prepared[i], prepared[j])
                and not location_agrees(prepared[i], prepared[j])
            ):
                doubtful.append((score, i, j))
                generic_held_back += 1
                continue
            auto.append((score, i, j))
        elif score >= queue_threshold:
            doubtful.append((score, i, j))
    report("score", total, total)

    # Strongest evidence first, so that a chain is built from its surest links.
    auto.sort(key=lambda t: (-t[0], t[1], t[2]))
    merged: list[tuple[float, int, int]] = []
    held_back = 0
    size = clusters.size
    for score, i, j in auto:
        a, b = find(i), find(j)
        if a == b or clusters.judged_different(a, b):
            continue
        if size[a] + size[b] > config.max_cluster:
            # Past the cap a merge is a question for people, not an automatic answer.
            doubtful.append((score, i, j))
            held_back += 1
            continue
        a_record, b_record = prepared[i], prepared[j]
        # The pair's own identifiers were weighed by its score; a conflict between the two
        # clusters' other members was not, so a person decides.
        if clusters.identifiers_conflict(
            a,
            b,
            dois=not (a_record.doi and b_record.doi),
            pmids=not (a_record.pmid and b_record.pmid),
        ):
            doubtful.append((score, i, j))
            continue
        clusters.union(a, b)
        merged.append((score, i, j))

    # Strongest first: the first pair met between two clusters is the one to ask about.
    doubtful.sort(key=lambda t: (-t[0], t[1], t[2]))
    queued, trimmed = _bounded_queue(doubtful, clusters, config.max_extra_queued)
    del doubtful

    members: dict[int, list[int]] = {}
    for position in range(total):
        root = find(position)
        if clusters.size[root] > 1:
            members.setdefault(root, []).append(position)

    key_of = existing_clusters or {}
    pinned = set(pinned_primaries)
    result_clusters: list[Cluster] = []
    cluster_of: dict[int, int] = {}
    for root in sorted(members, key=lambda r: all_records[members[r][0]].id):
        member_records = [all_records[k] for k in members[root]]
        primary = choose_primary(member_records, pinned)
        keys: list[Hashable] = []
        for record in member_records:
            key = key_of.get(record.id)
            if key is not None and key not in keys:
                keys.append(key)
        for record in member_records:
            cluster_of[record.id] = len(result_clusters)
        result_clusters.append(
            Cluster(
                primary_id=primary.id,
                member_ids=tuple(r.id for r in member_records),
                existing_keys=tuple(keys),
            )
        )

    def scored(score: float, i: int, j: int) -> ScoredPair:
        left, right = (i, j) if all_records[i].id < all_records[j].id else (j, i)
        fields = (
            compare_fields(all_records[left], all_records[right], prepared[left], prepared[right])
            if with_fields
            else ()
        )
        return ScoredPair(all_records[left].id, all_records[right].id, round(score, 3), fields)

    merged_pairs = tuple(scored(*t) for t in merged)
    queued_pairs = tuple(scored(*t) for t in queued)

    counts = DedupCounts(
        records=total,
        new_records=new_count,
        candidate_pairs=candidates,
        auto_merged_pairs=len(merged_pairs),
        queued_pairs=len(queued_pairs),
        clusters=len(result_clusters),
        merged=sum(len(c.member_ids) - 1 for c in result_clusters),
        seconds=round(time.perf_counter() - started, 3),
        compared_pairs=compared,
        held_back_merges=held_back,
        queue_trimmed=trimmed,
        generic_held_back=generic_held_back,
    )
    return DedupResult(
        clusters=tuple(result_clusters),
        merged_pairs=merged_pairs,
        queued_pairs=queued_pairs,
        counts=counts,
        cluster_of=cluster_of,
    )
