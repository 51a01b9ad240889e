"""Services for deduplication: run the engine over a review, store clusters, judge pairs, undo.

The matching itself is pure (``deduplication/engine``). This module turns records into the engine's
input, writes its clusters back (every member keeps its row and its search, so "records
identified per database" and "duplicates removed" stay derivable), queues doubtful pairs for a
person, and lets people merge, keep apart, choose the primary, and undo any merge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.audit import audit_record
from core.job_display import Row, number, rows_of
from core.jobs import register
from core.models import Job
from deduplication import engine as dedup
from deduplication import hooks, selectors
from deduplication.constants import DECIDED_DIFFERENT, PairStatus
from deduplication.models import DuplicateCluster, DuplicatePair
from identification import rounds
from identification.importers import ParsedRecord
from identification.models import Record
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review

RUN_ROLES = (Role.LEAD,)
JUDGE_ROLES = (Role.LEAD, Role.REVIEWER)
#: The record columns the engine reads: the fields of its input record that are bibliographic
#: fields of a record (``ParsedRecord.NORMALISED_FIELDS``); a record has no ISBN of its own.
_ENGINE_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(dedup.DedupRecord)
    if f.name in ParsedRecord.NORMALISED_FIELDS
)
#: What a run reads of each record: its id, the engine's fields and where deduplication left it.
_FIELDS = ["id", *_ENGINE_FIELDS, "cluster_id", "dedup_checked", "filled"]

Progress = Callable[[float, str], None]


def _as_input(row: dict[str, Any]) -> dedup.DedupRecord:
    # An empty text column is "" in the database and None (absent) to the engine.
    values: dict[str, Any] = {name: row[name] or None for name in _ENGINE_FIELDS}
    values.update(title=row["title"], authors=tuple(row["authors"] or ()), year=row["year"])
    return dedup.DedupRecord(id=row["id"], **values)


def _input_of(record: Record) -> dedup.DedupRecord:
    return _as_input({f: getattr(record, f, None) for f in _FIELDS})


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _fields_json(fields: Iterable[dedup.FieldComparison]) -> list[dict[str, Any]]:
    return [
        {
            "field": f.field,
            "left": f.left,
            "right": f.right,
            "status": f.status,
            "similarity": None if f.similarity is None else round(f.similarity, 3),
        }
        for f in fields
    ]


# --- applying clusters ------------------------------------------------------------------------


def _restore_filled(record: Record) -> None:
    """Give a record that stops being primary back the fields it had of its own."""
    for name, info in (record.filled or {}).items():
        setattr(record, name, info.get("was", "" if name != "year" else None))
    record.filled = {}


def _settle_cluster(
    cluster: DuplicateCluster, members: list[Record], primary_id: int
) -> list[Record]:
    """Point every member at the primary and fill the primary's gaps; return changed rows."""
    for m in members:
        if m.pk != primary_id and m.filled:
            _restore_filled(m)
    primary = next(m for m in members if m.pk == primary_id)
    _restore_filled(primary)
    inputs = [_input_of(m) for m in members]
    by_id = {r.id: r for r in inputs}
    best = dedup.best_fields(by_id[primary_id], inputs)
    for name, source in best.sources.items():
        primary.filled[name] = {"from": source, "was": getattr(primary, name)}
        setattr(primary, name, getattr(best.record, name))
    for m in members:
        m.cluster = cluster
        m.duplicate_of_id = None if m.pk == primary_id else primary_id
    if cluster.primary_id != primary_id:
        cluster.primary_id = primary_id
        cluster.save(update_fields=["primary", "updated_at"])
    return members


_UPDATE_FIELDS = ["cluster", "duplicate_of", "filled", *dedup.FILLABLE]


def _dissolve(cluster: DuplicateCluster) -> None:
    members = list(Record.objects.filter(cluster=cluster))
    for m in members:
        _restore_filled(m)
        m.cluster = None
        m.duplicate_of = None
    Record.objects.bulk_update(members, _UPDATE_FIELDS)
    cluster.delete()


# --- the run ----------------------------------------------------------------------------------


def dedup_run(
    *,
    review: Review,
    actor=None,
    full: bool = False,
    progress: Progress | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Deduplicate the review's records; call inside a transaction.

    Records not yet checked are compared with each other and with every record already in the
    review (``full`` compares all with all). Existing clusters are kept and may grow; pairs a
    person judged different, and merges a person undid, are never merged or queued again.
    ``notify=False`` leaves ``clusters_changed`` unsent, for a caller whose own hook reaches the
    same receivers (an import sends ``records_imported``).
    """
    report = progress or (lambda pct, msg: None)
    rows = list(Record.objects.filter(review=review).values(*_FIELDS).order_by("pk"))
    if full:
        new, existing = rows, []
    else:
        new = [r for r in rows if not r["dedup_checked"]]
        existing = [r for r in rows if r["dedup_checked"]]
    judged = list(
        DuplicatePair.objects.filter(review=review, status__in=DECIDED_DIFFERENT).values_list(
            "left_id", "right_id"
        )
    )
    pinned = set(
        DuplicateCluster.objects.filter(review=review, primary_pinned=True).values_list(
            "primary_id", flat=True
        )
    )
    # A record a later step has started work on (screening: votes cast) stays primary, so a more
    # complete copy found by a later search joins it instead of sending the study back.
    pinned |= hooks.records_in_use.collect(review=review)
    # An update round: a copy of an earlier round's record is a duplicate of it, never the other
    # way round, so the earlier record keeps its screening decisions (issue 21).
    pinned |= _earlier_round_primaries(review)
    existing_clusters = {r["id"]: r["cluster_id"] for r in rows if r["cluster_id"]}

    def engine_progress(stage: str, done: int, total: int) -> None:
        report(5 + 75 * done / max(total, 1), f"Deduplication: {stage} ({done:,} of {total:,})")

    result = dedup.deduplicate(
        [_as_input(r) for r in new],
        existing=[_as_input(r) for r in existing],
        existing_clusters=existing_clusters,
        judged_different=judged,
        pinned_primaries=pinned,
        progress=engine_progress,
    )
    report(82, "Saving clusters")
    touched = _apply_clusters(review, result.clusters, pinned)
    report(92, "Saving the review queue")
    _store_pairs(review, result.merged_pairs, PairStatus.AUTO)
    _store_pairs(review, result.queued_pairs, PairStatus.QUEUED)
    _drop_settled_pairs(review)
    Record.objects.filter(review=review, dedup_checked=False).update(dedup_checked=True)
    summary = selectors.dedup_summary(review=review)
    summary["new_records"] = len(new)
    summary["clusters_changed"] = touched
    summary["seconds"] = round(result.counts.seconds, 3)
    audit_record(
        actor=actor,
        review=review,
        verb="ran deduplication",
        object_type="reviews.review",
        object_id=review.pk,
        object_repr=str(review),
        changes=_counted(summary),
    )
    if notify:
        hooks.clusters_changed.send(review=review, actor=actor, full=False)
    report(99, "Deduplication done")
    return summary


def _earlier_round_primaries(review: Review) -> set[int]:
    """The primary records of the rounds before the one being deduplicated.

    That round is the earliest round of the records not checked yet (the latest round when
    every record is checked, as in a full rerun). Empty in a review of one round.
    """
    unchecked = (
        Record.objects.filter(review=review, dedup_checked=False)
        .values_list("search__round__number", flat=True)
        .distinct()
    )
    numbers = {n or 1 for n in unchecked}
    current = min(numbers) if numbers else rounds.current_round_number(review)
    if current <= 1:
        return set()
    return set(
        Record.objects.filter(review=review, dedup_checked=True, duplicate_of__isnull=True)
        .filter(rounds.earlier_q(current))
        .values_list("pk", flat=True)
    )


def _earliest_round(members: list[Record]) -> list[Record]:
    """The members of the earliest round among ``members`` (a person's merge keeps them first)."""
    numbers = rounds.record_rounds([m.pk for m in members])
    first = min(numbers.values(), default=1)
    return [m for m in members if numbers.get(m.pk, 1) == first]


def dedup_after_import(*, review: Review, actor=None, progress: Progress | None = None, **_):
    """Receiver of ``identification.hooks.records_imported``: deduplicate the new records.

    Runs against every record already in the review, in the import's transaction, so the
    records never exist undeduplicated for anyone to screen.
    """
    summary = dedup_run(review=review, actor=actor, progress=progress, notify=False)
    return {"dedup": _counted(summary)}


def _counted(summary: dict[str, Any]) -> dict[str, Any]:
    """A run's summary with the queued pairs counted, not listed (for the log and the import)."""
    return {k: v for k, v in summary.items() if k != "queued"} | {"queued": len(summary["queued"])}


def _apply_clusters(review: Review, clusters: Iterable[dedup.Cluster], pinned: set[int]) -> int:
    clusters = list(clusters)
    if not clusters:
        return 0
    member_ids = [m for c in clusters for m in c.member_ids]
    records = {r.pk: r for r in Record.objects.filter(review=review, pk__in=member_ids)}
    existing = {c.pk: c for c in DuplicateCluster.objects.filter(review=review)}
    changed: list[Record] = []
    touched = 0
    for c in clusters:
        members = [records[m] for m in c.member_ids]
        keys = [k for k in c.existing_keys if k in existing]
        if keys:
            target = existing[keys[0]]
            for other in keys[1:]:
                # A new record showed two clusters are one: fold the other into the target.
                DuplicateCluster.objects.filter(pk=other).delete()
            unchanged = target.primary_id == c.primary_id and all(
                m.cluster_id == target.pk
                and m.duplicate_of_id == (None if m.pk == c.primary_id else c.primary_id)
                for m in members
            )
            if unchanged:
                continue
        else:
            target = DuplicateCluster.objects.create(review=review, primary_id=c.primary_id)
        touched += 1
        changed.extend(_settle_cluster(target, members, c.primary_id))
    Record.objects.bulk_update(changed, _UPDATE_FIELDS, batch_size=1000)
    return touched


def _store_pairs(review: Review, pairs: Iterable[dedup.ScoredPair], status: str) -> None:
    rows = [
        DuplicatePair(
            review=review,
            left_id=min(p.left_id, p.right_id),
            right_id=max(p.left_id, p.right_id),
            score=round(p.score, 4),
            fields=_fields_json(p.fields),
            status=status,
        )
        for p in pairs
    ]
    # A pair already stored keeps its state (a person's decision above all).
    DuplicatePair.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def _drop_settled_pairs(review: Review) -> None:
    """Queued pairs whose records ended up in one cluster need nobody's judgement any more."""
    DuplicatePair.objects.filter(
        review=review,
        status=PairStatus.QUEUED,
        left__cluster__isnull=False,
        left__cluster=F("right__cluster"),
    ).update(status=PairStatus.AUTO)


# --- decisions by people ----------------------------------------------------------------------


def _cluster_members(record: Record) -> list[Record]:
    if record.cluster_id:
        return list(Record.objects.filter(cluster_id=record.cluster_id).order_by("pk"))
    return [record]


def _merge(review: Review, a: Record, b: Record, *, primary_id: int | None) -> DuplicateCluster:
    members = {m.pk: m for m in _cluster_members(a) + _cluster_members(b)}
    clusters = {m.cluster_id for m in members.values() if m.cluster_id}
    target = DuplicateCluster.objects.filter(pk__in=clusters).order_by("pk").first()
    for other in clusters - ({target.pk} if target else set()):
        DuplicateCluster.objects.filter(pk=other).delete()
    pinned = primary_id is not None or bool(target and target.primary_pinned)
    if primary_id is None:
        if target and target.primary_pinned:
            primary_id = target.primary_id
        else:
            inputs = [_input_of(m) for m in _earliest_round(list(members.values()))]
            primary_id = dedup.choose_primary(inputs).id
    if target is None:
        target = DuplicateCluster.objects.create(review=review, primary_id=primary_id)
    target.primary_pinned = pinned
    target.primary_id = primary_id
    target.save()
    Record.objects.bulk_update(
        _settle_cluster(target, list(members.values()), primary_id), _UPDATE_FIELDS
    )
    return target


def pair_decide(
    *, actor, pair: DuplicatePair, same: bool, primary_id: int | None = None
) -> DuplicatePair:
    """A person says whether the two records of a queued pair are one publication."""
    review = pair.review
    require_role(user=actor, review=review, roles=JUDGE_ROLES, action="judge duplicates")
    if pair.status != PairStatus.QUEUED:
        raise ValidationError(
            "This pair was already decided; undo the merge from the record instead."
        )
    if primary_id is not None and primary_id not in (pair.left_id, pair.right_id):
        raise ValidationError("The primary record must be one of the pair.")
    with transaction.atomic():
        pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
        if pair.status != PairStatus.QUEUED:
            raise ValidationError("Someone decided this pair a moment ago.")
        left, right = Record.objects.get(pk=pair.left_id), Record.objects.get(pk=pair.right_id)
        if same:
            cluster = _merge(review, left, right, primary_id=primary_id)
            pair.status = PairStatus.SAME
        else:
            pair.status = PairStatus.DIFFERENT
            cluster = None
        pair.decided_by, pair.decided_at = actor, timezone.now()
        pair.save(update_fields=["status", "decided_by", "decided_at"])
        if same:
            _drop_settled_pairs(review)
        audit_record(
            actor=actor,
            review=review,
            verb="judged duplicates",
            obj=pair,
            changes={
                "left": pair.left_id,
                "right": pair.right_id,
                "same": same,
                "primary": primary_id,
                "cluster": cluster.pk if cluster else None,
            },
        )
        hooks.clusters_changed.send(review=review, actor=actor, full=True)
    return pair


def record_unmerge(*, actor, record: Record) -> None:
    """Undo a merge: take ``record`` out of its cluster and never merge it with them again."""
    review = record.review
    require_role(user=actor, review=review, roles=JUDGE_ROLES, action="undo a merge")
    if not record.cluster_id:
        raise ValidationError("This record is not merged with any other.")
    with transaction.atomic():
        cluster = DuplicateCluster.objects.select_for_update().get(pk=record.cluster_id)
        members = list(Record.objects.filter(cluster=cluster).order_by("pk"))
        others = [m for m in members if m.pk != record.pk]
        now = timezone.now()
        for other in others:
            left, right = _pair(record.pk, other.pk)
            DuplicatePair.objects.update_or_create(
                left_id=left,
                right_id=right,
                defaults={
                    "review": review,
                    "status": PairStatus.UNDONE,
                    "decided_by": actor,
                    "decided_at": now,
                },
                create_defaults={
                    "review": review,
                    "score": 0.0,
                    "status": PairStatus.UNDONE,
                    "decided_by": actor,
                    "decided_at": now,
                },
            )
        me = next(m for m in members if m.pk == record.pk)
        _restore_filled(me)
        me.cluster, me.duplicate_of = None, None
        Record.objects.bulk_update([me], _UPDATE_FIELDS)
        if len(others) <= 1:
            _dissolve(cluster)
        else:
            primary_id = cluster.primary_id
            if primary_id == record.pk:
                inputs = [_input_of(m) for m in others]
                primary_id = dedup.choose_primary(inputs).id
                cluster.primary_pinned = False
                cluster.save(update_fields=["primary_pinned"])
            Record.objects.bulk_update(_settle_cluster(cluster, others, primary_id), _UPDATE_FIELDS)
        audit_record(
            actor=actor,
            review=review,
            verb="undid merge",
            obj=record,
            changes={"cluster": cluster.pk, "others": [o.pk for o in others]},
        )
        hooks.clusters_changed.send(review=review, actor=actor, full=True)


def cluster_set_primary(*, actor, record: Record) -> DuplicateCluster:
    """Make ``record`` the primary of its cluster (and keep it so on later runs)."""
    review = record.review
    require_role(user=actor, review=review, roles=JUDGE_ROLES, action="choose the primary record")
    if not record.cluster_id:
        raise ValidationError("This record is not merged with any other.")
    with transaction.atomic():
        cluster = DuplicateCluster.objects.select_for_update().get(pk=record.cluster_id)
        members = list(Record.objects.filter(cluster=cluster))
        cluster.primary_pinned = True
        cluster.save(update_fields=["primary_pinned"])
        Record.objects.bulk_update(_settle_cluster(cluster, members, record.pk), _UPDATE_FIELDS)
        audit_record(
            actor=actor,
            review=review,
            verb="chose primary record",
            obj=cluster,
            changes={"primary": record.pk},
        )
        hooks.clusters_changed.send(review=review, actor=actor, full=True)
    return cluster


# --- records deleted --------------------------------------------------------------------------


def on_records_removed(*, review: Review, records, actor=None, **_: Any) -> dict[str, int]:
    """Receiver of ``identification.hooks.records_removed``: ``records`` are about to go.

    Their pairs go with them. Each cluster they belong to keeps its other members: with one
    left it dissolves; otherwise, if its primary goes, another member becomes primary, and a
    primary gives back the fields it took from the records that go. The records themselves are
    left as they are (they are deleted next), so none of them becomes primary on the way.
    """
    gone = set(records.values_list("pk", flat=True))
    pairs, _ = (
        DuplicatePair.objects.filter(review=review)
        .filter(Q(left__in=records.values("pk")) | Q(right__in=records.values("pk")))
        .delete()
    )
    clusters = DuplicateCluster.objects.filter(
        review=review, pk__in=records.exclude(cluster=None).values("cluster_id")
    ).order_by("pk")
    changed: list[Record] = []
    mended = dissolved = 0
    for cluster in clusters.select_for_update():
        staying = [m for m in Record.objects.filter(cluster=cluster) if m.pk not in gone]
        if len(staying) <= 1:
            for m in staying:
                _restore_filled(m)
                m.cluster, m.duplicate_of = None, None
            changed.extend(staying)
            cluster.delete()
            dissolved += 1
            continue
        primary_id = cluster.primary_id
        if primary_id in gone:
            primary_id = dedup.choose_primary([_input_of(m) for m in staying]).id
            cluster.primary_pinned = False
            cluster.save(update_fields=["primary_pinned"])
        changed.extend(_settle_cluster(cluster, staying, primary_id))
        mended += 1
    Record.objects.bulk_update(changed, _UPDATE_FIELDS, batch_size=1000)
    if mended or dissolved:
        # Records that became primary join screening's queue.
        hooks.clusters_changed.send(review=review, actor=actor, full=True)
    return {
        "duplicate_pairs_removed": pairs,
        "clusters_mended": mended,
        "clusters_dissolved": dissolved,
    }


# --- job ------------------------------------------------------------------------------------


def _present_run(result: dict[str, Any]) -> list[Row]:
    """A run's counts for people (the job page, ``core.job_display``)."""
    queued = result.get("queued", 0)
    queued = len(queued) if isinstance(queued, list) else queued
    rows = [
        Row("Records in the review", number(result.get("records", 0))),
        Row("Records compared for the first time", number(result.get("new_records", 0))),
        Row("Records merged into another", number(result.get("merged", 0))),
        Row("Groups of duplicates", number(result.get("clusters", 0))),
        Row("Groups changed by this run", number(result.get("clusters_changed", 0))),
        Row("Possible duplicates for a person to judge", number(queued)),
    ]
    if "seconds" in result:
        rows.append(Row("Time", f"{result['seconds']:.1f} s"))
    known = {"records", "new_records", "merged", "clusters", "clusters_changed", "queued"}
    return rows + rows_of(result, skip=known | {"seconds"})


@register("dedup", label="deduplicate records", roles=RUN_ROLES, present=_present_run)
def dedup_job(job: Job, progress) -> dict[str, Any]:
    return dedup_run(
        review=job.review,
        actor=job.created_by,
        full=bool(job.params.get("full")),
        progress=progress,
    )
