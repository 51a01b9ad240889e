"""Prioritised screening's services: retraining the ranking model (a background job), the
ranking switch, the stopping panel's numbers and the lead's decision to stop.

The model learns only from settled title/abstract records (two agreeing votes, or a
resolution): a single vote still blinded from the other reviewer never reaches it, so neither
the queue's order nor the "why ranked high" terms can reveal an unsettled vote.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from scipy import sparse

from core import jobs
from core.audit import audit_record
from core.constants import JobStatus
from core.job_display import Row, number
from core.models import Job
from core.text import clean_input_text
from reviews.access import has_role, require_role
from reviews.constants import Role
from reviews.models import Review
from reviews.services import job_submit
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem
from screening.prioritisation.engine import features, model, stopping
from screening.prioritisation.models import (
    RankingFeatures,
    RankingFeaturesPart,
    RankingMode,
    RankingModel,
    StopDecision,
)

log = logging.getLogger(__name__)

JOB_KIND = "screening_retrain"
#: A retrain is submitted after this many newly settled records (or the first include and
#: exclude), and never while another one of the review is queued or running.
RETRAIN_EVERY = 5
#: The first records of the queue whose "why ranked high" terms are kept.
WHY_KEPT = 500
MAX_STOP_REASON = 2000

FEATURES_JOB = "screening_features"
#: Records featurised per database read (their texts are held in memory meanwhile).
FEATURE_CHUNK = 20_000
#: The arrays of a stored feature state (:func:`_pack`) and the largest piece stored per row.
PARTS = ("counts", "indices", "indptr", "item_ids", "terms")
PART_BYTES = 32 * 1024 * 1024

#: Per process, the last stores read and matrices weighed (a worker retrains the same reviews
#: again and again): review id -> (store stamp, item ids, counts, TF-IDF, terms) and
#: review id -> (store stamp, digest of the rows' item ids, TF-IDF matrix). Bounded: the
#: two most recent reviews.
_STORES: dict[int, tuple[int, np.ndarray, Any, Any, list[str] | bytes]] = {}
_WEIGHED: dict[int, tuple[int, str, Any]] = {}
_KEPT = 2


def ranking_state(review: Review) -> RankingModel:
    state = RankingModel.objects.filter(review=review).first()
    return state or RankingModel(review=review)


def _remember(cache: dict, key: int, value) -> None:
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > _KEPT:
        cache.pop(next(iter(cache)))


@dataclass
class _Items:
    ids: np.ndarray
    labels: np.ndarray  # 1 included, 0 excluded, -1 not settled
    priorities: np.ndarray  # as stored now


def _items(review: Review) -> _Items:
    rows = list(
        ScreeningItem.objects.primary(review)
        .filter(stage=Stage.TITLE_ABSTRACT)
        .order_by("pk")
        .values_list("pk", "status", "priority")
    )
    label = {ItemStatus.INCLUDED: 1, ItemStatus.EXCLUDED: 0}
    return _Items(
        ids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        labels=np.fromiter((label.get(r[1], -1) for r in rows), dtype=int, count=len(rows)),
        priorities=np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows)),
    )


def _texts(review: Review, ids: np.ndarray) -> list[str]:
    """The ranked text of the items ``ids`` (ascending), read in chunks."""
    out: list[str] = []
    for start in range(0, len(ids), FEATURE_CHUNK):
        chunk = [int(i) for i in ids[start : start + FEATURE_CHUNK]]
        rows = (
            ScreeningItem.objects.filter(review=review, pk__in=chunk)
            .order_by("pk")
            .values_list("record__title", "record__abstract", "record__keywords")
        )
        out.extend(
            features.record_text(t, a, " ".join(k) if isinstance(k, list) else "")
            for t, a, k in rows
        )
    return out


def _stamp(store: RankingFeatures) -> tuple:
    """What names one stored state of a review's features for this process's caches. The
    version alone does not: a review deleted and made again (or a transaction rolled back)
    can reuse the review's id and start the version from the same number with other records,
    so the row's id and the moment it was built are part of it."""
    return (store.pk, store.version, store.built_at)


def _read_parts(store: RankingFeatures) -> dict[str, bytes]:
    """Each stored array of ``store``, its pieces joined. On PostgreSQL through a binary
    cursor (Django's reads ``bytea`` as hex text: 3.0 s against 1.0 s for 350 MB)."""
    pieces: dict[str, list[bytes]] = {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(RankingFeaturesPart._meta.db_table)
        sql = f"SELECT name, data FROM {table} WHERE features_id = %s ORDER BY name, seq"  # noqa: S608
        import psycopg

        connection.ensure_connection()
        # Django's cursors bind parameters on the client, which psycopg allows only for text
        # results: a plain psycopg cursor on the same connection (same transaction) instead.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, [store.pk], binary=True)
            rows = cursor.fetchall()
    else:
        rows = store.parts.order_by("name", "seq").values_list("name", "data")
    for name, data in rows:
        pieces.setdefault(name, []).append(bytes(data))
    return {name: b"".join(chunks) for name, chunks in pieces.items()}


def _load(store: RankingFeatures) -> tuple[np.ndarray, Any, Any, list[str] | bytes]:
    """The store's item ids, counts, TF-IDF matrix and terms (the terms maybe still
    compressed: only the "why ranked high" terms need them, see :func:`_terms`), from this
    process's cache if current. The TF-IDF is weighed from the counts here, once per process
    and stored state (1.1 s at 100,000 records; storing it too would double what is stored
    and read)."""
    cached = _STORES.get(store.review_id)
    if cached and cached[0] == _stamp(store):
        return cached[1], cached[2], cached[3], cached[4]
    empty = sparse.csr_matrix((0, 0))
    nothing = (np.asarray([], dtype=np.int64), empty, empty, [])
    if not store.rows or store.analyser != features.ANALYSER:  # nothing, or counted otherwise
        return nothing
    arrays = _read_parts(store)
    if set(arrays) != set(PARTS):
        return nothing  # never expected; the next refresh counts every record again
    ids = np.frombuffer(arrays["item_ids"], dtype="<i8")
    indptr = np.frombuffer(arrays["indptr"], dtype="<i8")
    indices = np.frombuffer(arrays["indices"], dtype="<i4")
    if len(ids) != store.rows or len(indptr) != store.rows + 1 or indptr[-1] != len(indices):
        return nothing
    if len(indices) < 2**31:  # scipy would copy the column numbers to int64 otherwise
        indptr = indptr.astype(np.int32)
    data = np.frombuffer(arrays["counts"], dtype="<u2").astype(np.float64)
    counts = sparse.csr_matrix((data, indices, indptr), shape=(store.rows, store.columns))
    weighed = features.weigh(counts)
    terms = arrays["terms"]
    _remember(_STORES, store.review_id, (_stamp(store), ids, counts, weighed, terms))
    return ids, counts, weighed, terms


def _terms(review_id: int, stamp: tuple, terms: list[str] | bytes) -> list[str]:
    if isinstance(terms, list):
        return terms
    text = zlib.decompress(terms).decode("utf-8") if terms else ""
    decoded = text.split("\n") if text else []
    cached = _STORES.get(review_id)
    if cached and cached[0] == stamp:
        _remember(_STORES, review_id, (*cached[:4], decoded))
    return decoded


def _pack(ids: np.ndarray, counts, terms: list[str]) -> dict[str, bytes]:
    """The arrays stored for a review (see :class:`RankingFeaturesPart`): counts as 16-bit
    integers (a term counted more than 65,535 times in one record counts 65,535: its
    sublinear weight, 1 + log(tf), barely moves)."""
    counts = counts.tocsr()
    return {
        "item_ids": np.ascontiguousarray(ids, dtype="<i8").tobytes(),
        "indptr": np.ascontiguousarray(counts.indptr, dtype="<i8").tobytes(),
        "indices": np.ascontiguousarray(counts.indices, dtype="<i4").tobytes(),
        "counts": np.minimum(counts.data, 65535).astype("<u2").tobytes(),
        "terms": zlib.compress("\n".join(terms).encode("utf-8"), 1),
    }


def _store(store: RankingFeatures, ids, counts, terms: list[str], started: float) -> None:
    store.parts.all().delete()
    RankingFeaturesPart.objects.bulk_create(
        (
            RankingFeaturesPart(features=store, name=name, seq=seq, data=blob[at : at + PART_BYTES])
            for name, blob in _pack(ids, counts, terms).items()
            for seq, at in enumerate(range(0, max(len(blob), 1), PART_BYTES))
        ),
        batch_size=4,  # at most 4 x 32 MB per statement
    )
    store.rows, store.columns = counts.shape
    store.built_at = timezone.now()
    store.seconds = round(time.perf_counter() - started, 3)
    store.version += 1
    store.analyser = features.ANALYSER
    store.save()
    _remember(_STORES, store.review_id, (_stamp(store), ids, counts, features.weigh(counts), terms))


def features_refresh(review: Review, ids: np.ndarray | None = None) -> dict[str, Any]:
    """Bring the review's stored term counts up to date with its title/abstract items (or the
    items ``ids``, ascending): the records not counted yet are tokenised and appended, the
    rows of items gone are dropped. Only new records are read and tokenised, so a refresh
    costs in proportion to what was imported. Run by the job that follows an import, and by a
    retrain for the records it finds uncounted (an import whose job has not run yet)."""
    started = time.perf_counter()
    with transaction.atomic():
        store, _ = RankingFeatures.objects.select_for_update().get_or_create(review=review)
        if ids is None:
            ids = _items(review).ids
        old_ids, counts, _, terms = _load(store)
        terms = list(_terms(review.pk, _stamp(store), terms))
        missing = np.setdiff1d(ids, old_ids, assume_unique=True)
        gone = np.setdiff1d(old_ids, ids, assume_unique=True)
        if len(missing) == 0 and len(gone) == 0 and store.built_at is not None:
            return {"featurised": 0, "dropped": 0, "records": len(old_ids), "seconds": 0.0}
        if len(gone):
            keep = np.flatnonzero(np.isin(old_ids, ids))
            old_ids, counts = old_ids[keep], counts[keep]
        new_counts, terms = features.count(_texts(review, missing), terms)
        counts = sparse.vstack([features.pad_columns(counts, len(terms)), new_counts]).tocsr()
        all_ids = np.concatenate([old_ids, missing])
        if len(old_ids) and len(missing) and missing[0] < old_ids[-1]:
            order = np.argsort(all_ids, kind="stable")
            all_ids, counts = all_ids[order], counts[order]
        _store(store, all_ids, counts, terms, started)
    return {
        "featurised": len(missing),
        "dropped": len(gone),
        "records": len(all_ids),
        "seconds": store.seconds,
    }


def _features(review: Review, ids: np.ndarray) -> tuple[Any, list[str], int]:
    """The TF-IDF matrix of the items ``ids`` (ascending), its terms, and how many records had
    to be counted first (none once the job after their import has run). When the items are
    those of the store (no import or merge since the job ran) its matrix is used as it is."""
    store = RankingFeatures.objects.filter(review=review).first()
    featurised = 0
    if store is not None:
        stored_ids, counts, weighed, terms = _load(store)
    if store is None or not np.isin(ids, stored_ids, assume_unique=True).all():
        featurised = features_refresh(review, ids)["featurised"]
        store = RankingFeatures.objects.get(review=review)
        stored_ids, counts, weighed, terms = _load(store)
    if len(stored_ids) == len(ids) and np.array_equal(stored_ids, ids):
        matrix = weighed
    else:  # items gone since (merged as duplicates): the IDF of those that remain
        digest = hashlib.sha256(ids.tobytes()).hexdigest()
        cached = _WEIGHED.get(review.pk)
        if cached and cached[0] == _stamp(store) and cached[1] == digest:
            matrix = cached[2]
        else:
            matrix = features.weigh(counts[np.searchsorted(stored_ids, ids)])
            _remember(_WEIGHED, review.pk, (_stamp(store), digest, matrix))
    return matrix, _terms(review.pk, _stamp(store), terms), featurised


def _write_priorities(items: _Items, rows: np.ndarray, priorities: np.ndarray) -> int:
    """Store ``priorities`` for the items at ``rows``, writing only those that changed, in
    one statement per 50,000 on PostgreSQL (an ``UPDATE ... FROM unnest``) and one prepared
    statement run for each on SQLite. Django's ``bulk_update`` builds a ``CASE`` with a branch
    per row: 1.6 s for 9,000 items on PostgreSQL, above the second a whole retrain of a
    10,000-record review may take. Returns the number written."""
    rows = np.asarray(rows, dtype=int)
    changed = items.priorities[rows] != priorities
    ids = [int(i) for i in items.ids[rows][changed]]
    values = [float(p) for p in np.asarray(priorities, dtype=np.float64)[changed]]
    if not ids:
        return 0
    # The table's name is the model's own, quoted; every value is a bound parameter.
    table = connection.ops.quote_name(ScreeningItem._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = (
                f"UPDATE {table} AS i SET priority = v.p FROM unnest(%s::bigint[], "  # noqa: S608
                "%s::double precision[]) AS v(id, p) WHERE i.id = v.id"
            )
            for start in range(0, len(ids), 50_000):
                cursor.execute(sql, [ids[start : start + 50_000], values[start : start + 50_000]])
        else:
            sql = f"UPDATE {table} SET priority = %s WHERE id = %s"  # noqa: S608
            cursor.executemany(sql, list(zip(values, ids, strict=True)))
    return len(ids)


def _settled_in_order(review: Review) -> np.ndarray:
    """The settled title/abstract records' labels (1 included, 0 excluded) in the order they
    settled: what the stopping test reads."""
    statuses = (
        ScreeningItem.objects.primary(review)
        .filter(stage=Stage.TITLE_ABSTRACT, status__in=[ItemStatus.INCLUDED, ItemStatus.EXCLUDED])
        .order_by("settled_at", "pk")
        .values_list("status", flat=True)
    )
    return np.asarray([1 if s == ItemStatus.INCLUDED else 0 for s in statuses], dtype=int)


class _Clock:
    """Seconds spent per phase of a retrain (reading, fitting, ranking, writing), for the job's
    result and the benchmark."""

    def __init__(self) -> None:
        self.phases = {"read": 0.0, "fit": 0.0, "rank": 0.0, "write": 0.0}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(self.phases[phase] + now - self._last, 3)
        self._last = now


@transaction.atomic
def retrain(review: Review) -> dict[str, Any]:
    """Train on the settled records and rank the rest, in one transaction (a savepoint inside
    the caller's, as in the job; its own when called alone, as the demo does)."""
    started = time.perf_counter()
    clock = _Clock()
    state = RankingModel.objects.select_for_update().filter(review=review).first()
    if state is None:
        state = RankingModel.objects.create(review=review)
    items = _items(review)
    clock.lap("read")
    open_rows = np.flatnonzero(items.labels < 0)
    mode = state.mode
    trained = None
    featurised = 0
    why: dict[str, list[str]] = {}
    if mode == RankingMode.MODEL:
        labelled = np.flatnonzero(items.labels >= 0)
        if len(labelled):
            matrix, terms, featurised = _features(review, items.ids)
            clock.lap("read")
            trained = model.train(matrix, labelled, items.labels[labelled], terms=terms)
            clock.lap("fit")
        if trained is not None:
            rng = np.random.default_rng(review.pk)
            dry = model.exploring(_settled_in_order(review), len(items.ids))
            clock.lap("read")
            order = model.rank(
                trained.scores(matrix), open_rows, rng=rng, offset=len(labelled), dry=dry
            )
            for row in order[:WHY_KEPT]:
                terms_of = trained.why(matrix[int(row)])
                if terms_of:
                    why[str(int(items.ids[row]))] = terms_of
        else:
            order = open_rows  # import order until the first include and exclude
    elif mode == RankingMode.RANDOM:
        order = np.random.default_rng(review.pk).permutation(open_rows)
    else:
        order = np.asarray([], dtype=int)
    clock.lap("rank")
    if mode == RankingMode.IMPORT or (mode == RankingMode.MODEL and trained is None):
        written = _write_priorities(items, open_rows, np.zeros(len(open_rows)))
    else:  # the first of the queue gets the highest
        written = _write_priorities(items, order, np.arange(len(order), 0, -1, dtype=np.float64))
    clock.lap("write")
    state.phases = clock.phases
    state.trained_on = int((items.labels >= 0).sum())
    state.relevant = int((items.labels == 1).sum())
    state.irrelevant = int((items.labels == 0).sum())
    state.trained_at = timezone.now()
    state.seconds = round(time.perf_counter() - started, 3)
    state.ranked = len(open_rows) if (trained is not None or mode == RankingMode.RANDOM) else 0
    state.top_terms = [t for t, _ in trained.top_terms(15)] if trained else []
    state.why = why
    state.save()
    return {
        "mode": mode,
        "trained_on": state.trained_on,
        "relevant": state.relevant,
        "irrelevant": state.irrelevant,
        "ranked": state.ranked,
        "seconds": state.seconds,
        "featurised": featurised,
        "written": written,
        "phases": clock.phases,
    }


def _present(result: dict[str, Any]) -> list:
    return [
        Row("Ranking", RankingMode(result.get("mode", "model")).label),
        Row("Settled records learnt from", number(result.get("trained_on", 0))),
        Row("Records ranked", number(result.get("ranked", 0))),
        Row("Seconds", str(result.get("seconds", 0))),
    ]


@jobs.register(
    JOB_KIND,
    label="rank the screening queue",
    roles=[Role.REVIEWER, Role.LEAD],
    present=_present,
)
def retrain_job(job: Job, progress: jobs.ProgressFn) -> dict[str, Any]:
    progress(5, "Training the ranking model")
    return retrain(job.review)


def _present_features(result: dict[str, Any]) -> list:
    return [
        Row("Records featurised", number(result.get("featurised", 0))),
        Row("Records ready for ranking", number(result.get("records", 0))),
        Row("Seconds", str(result.get("seconds", 0))),
    ]


@jobs.register(
    FEATURES_JOB,
    label="prepare new records for ranking",
    roles=[Role.REVIEWER, Role.LEAD],
    present=_present_features,
)
def features_job(job: Job, progress: jobs.ProgressFn) -> dict[str, Any]:
    """Tokenise the records imported since the last run, so that the next retrain only fits
    and scores; then re-rank, so that the new records take their place in the queue (if a
    model was trained already)."""
    progress(5, "Counting the terms of the new records")
    result = features_refresh(job.review)
    state = ranking_state(job.review)
    if result["featurised"] and state.mode == RankingMode.MODEL and state.trained_at:
        retrain_queue(review=job.review, actor=job.created_by)
    return result


def features_after_import(*, review: Review, actor) -> Job | None:
    """Called by screening's receiver of ``records_imported``, inside the import's transaction:
    queues the features job (it starts once the import has committed, never inside it), unless
    one is queued already. Never raises: an import must not fail because of ranking."""
    try:
        with transaction.atomic():
            if Job.objects.filter(
                review=review, kind=FEATURES_JOB, status=JobStatus.QUEUED
            ).exists():
                return None
            return job_submit(actor=actor, review=review, kind=FEATURES_JOB, params={})
    except Exception:
        log.exception("could not queue the ranking features of %s", review.pk)
        return None


@dataclass(frozen=True)
class FeaturesState:
    """How far the records are prepared for ranking (the lead's model panel and the API)."""

    prepared: int  # title/abstract records whose terms are counted
    records: int  # title/abstract records
    built_at: Any
    seconds: float  # the last preparation
    pending: bool  # a preparation job is queued or running


def features_state(review: Review) -> FeaturesState:
    store = RankingFeatures.objects.filter(review=review).first()
    current = store is not None and store.analyser == features.ANALYSER
    pending = _job_pending(review, FEATURES_JOB)
    return FeaturesState(
        prepared=store.rows if current else 0,
        records=ScreeningItem.objects.primary(review).filter(stage=Stage.TITLE_ABSTRACT).count(),
        built_at=store.built_at if current else None,
        seconds=store.seconds if current else 0.0,
        pending=pending,
    )


def retrain_queue(*, review: Review, actor) -> Job | None:
    """Queue a retrain now (new records to rank), unless one is queued or running."""
    try:
        if retrain_pending(review) or ranking_state(review).mode != RankingMode.MODEL:
            return None
        return job_submit(actor=actor, review=review, kind=JOB_KIND, params={})
    except Exception:
        log.exception("could not queue a retrain for %s", review.pk)
        return None


def _job_pending(review: Review, kind: str) -> bool:
    """Whether a job of ``kind`` is queued or running for the review."""
    return Job.objects.filter(
        review=review, kind=kind, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).exists()


def retrain_pending(review: Review) -> bool:
    return _job_pending(review, JOB_KIND)


def retrain_due(review: Review) -> bool:
    """Whether enough records settled since the last training to train again."""
    state = ranking_state(review)
    if state.mode != RankingMode.MODEL:
        return False
    settled = dict(_settled_counts(review))
    inc, exc = settled.get(ItemStatus.INCLUDED, 0), settled.get(ItemStatus.EXCLUDED, 0)
    if inc == 0 or exc == 0:
        return False
    if state.trained_at is None or state.relevant == 0 or state.irrelevant == 0:
        return True
    return inc + exc - state.trained_on >= RETRAIN_EVERY


def _settled_counts(review: Review):
    return (
        ScreeningItem.objects.primary(review)
        .filter(stage=Stage.TITLE_ABSTRACT, status__in=[ItemStatus.INCLUDED, ItemStatus.EXCLUDED])
        .values_list("status")
        .annotate(n=Count("pk"))
    )


def retrain_maybe(*, review: Review, actor) -> Job | None:
    """After a vote: submit a retrain job if one is due and none is queued or running. Never
    raises: a vote must not fail because ranking could not be queued."""
    try:
        if retrain_pending(review) or not retrain_due(review):
            return None
        return job_submit(actor=actor, review=review, kind=JOB_KIND, params={})
    except Exception:
        log.exception("could not queue a retrain for %s", review.pk)
        return None


def schedule_retrain(*, review: Review, actor) -> None:
    """Called inside a vote's or a resolution's transaction: checks once it has committed."""
    transaction.on_commit(lambda: retrain_maybe(review=review, actor=actor))


def ranking_set(*, actor, review: Review, mode: Any) -> RankingModel:
    """Switch ranking (lead only): by model, random or import order. Audited; the queue is
    re-ordered at once."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="change the ranking")
    if mode not in RankingMode.values:
        raise ValidationError({"mode": f"Choose one of {', '.join(RankingMode.values)}."})
    with transaction.atomic():
        state, _ = RankingModel.objects.select_for_update().get_or_create(review=review)
        old = state.mode
        if old != mode:
            state.mode = mode
            state.save(update_fields=["mode"])
            audit_record(
                actor=actor, review=review, verb="changed ranking", obj=state,
                changes={"mode": [old, mode]},
            )  # fmt: skip
            retrain(review)
    return ranking_state(review)


# --- stopping ---------------------------------------------------------------------------------


def _clean_share(value: Any, *, field: str, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "Give a number between 0.5 and 0.999."}) from None
    if number > 1:
        number /= 100  # given as a percentage
    if not 0.5 <= number <= 0.999:
        raise ValidationError({field: "Give a number between 0.5 and 0.999 (or 50 to 99.9 %)."})
    return number


def _clean_run(value: Any) -> int:
    if value in (None, ""):
        return stopping.DEFAULT_CONSECUTIVE
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"consecutive": "Give a whole number."}) from None
    if not 1 <= number <= 100_000:
        raise ValidationError({"consecutive": "Between 1 and 100,000."})
    return number


def stopping_panel(
    *, user, review: Review, recall_target: Any = None, confidence: Any = None,
    consecutive: Any = None,
) -> stopping.Estimate:  # fmt: skip
    """The stopping panel's numbers, from the settled title/abstract records in the order they
    settled. Any member may read it: it counts settled records only, which blinding shows to
    everyone."""
    recall = _clean_share(recall_target, field="recall_target", default=stopping.DEFAULT_RECALL)
    conf = _clean_share(confidence, field="confidence", default=stopping.DEFAULT_CONFIDENCE)
    run = _clean_run(consecutive)
    total = ScreeningItem.objects.primary(review).filter(stage=Stage.TITLE_ABSTRACT).count()
    return stopping.estimate(
        _settled_in_order(review), total, recall_target=recall, confidence=conf,
        consecutive_threshold=run,
    )  # fmt: skip


def stop_decide(
    *, actor, review: Review, reason: Any, recall_target: Any = None, confidence: Any = None
) -> StopDecision:
    """A lead's decision to stop title/abstract screening, stored with the estimate at that
    moment and the reason (audited; exported for the methods section)."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="decide to stop screening")
    text = clean_input_text(reason, field="reason", max_length=MAX_STOP_REASON).strip()
    if not text:
        raise ValidationError({"reason": "Say why screening stops (it goes in the methods)."})
    numbers = stopping_panel(
        user=actor, review=review, recall_target=recall_target, confidence=confidence
    )
    with transaction.atomic():
        decision = StopDecision.objects.create(
            review=review, decided_by=actor, reason=text,
            recall_target=numbers.recall_target, confidence=numbers.confidence,
            estimate=numbers.as_dict(),
        )  # fmt: skip
        audit_record(
            actor=actor, review=review, verb="decided to stop screening", obj=decision,
            changes={"reason": text, "screened": numbers.screened, "p_value": numbers.p_value},
        )  # fmt: skip
    return decision


def may_see_model(*, user, review: Review) -> bool:
    return has_role(user=user, review=review, roles=[Role.LEAD])
