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
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

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
from screening.prioritisation.models import RankingMode, RankingModel, StopDecision

log = logging.getLogger(__name__)

JOB_KIND = "screening_retrain"
#: A retrain is submitted after this many newly settled records (or the first include and
#: exclude), and never while another one of the review is queued or running.
RETRAIN_EVERY = 5
#: The first records of the queue whose "why ranked high" terms are kept.
WHY_KEPT = 500
MAX_STOP_REASON = 2000

_FEATURE_CACHE: dict[int, tuple[str, Any, list[str]]] = {}


def ranking_state(review: Review) -> RankingModel:
    state = RankingModel.objects.filter(review=review).first()
    return state or RankingModel(review=review)


@dataclass
class _Items:
    ids: np.ndarray
    texts: list[str]
    labels: np.ndarray  # 1 included, 0 excluded, -1 not settled


def _items(review: Review) -> _Items:
    rows = list(
        ScreeningItem.objects.primary(review)
        .filter(stage=Stage.TITLE_ABSTRACT)
        .order_by("pk")
        .values_list("pk", "status", "record__title", "record__abstract", "record__keywords")
    )
    label = {ItemStatus.INCLUDED: 1, ItemStatus.EXCLUDED: 0}
    return _Items(
        ids=np.asarray([r[0] for r in rows], dtype=np.int64),
        texts=[
            features.record_text(r[2], r[3], " ".join(r[4]) if isinstance(r[4], list) else "")
            for r in rows
        ],
        labels=np.asarray([label.get(r[1], -1) for r in rows], dtype=int),
    )


def _features(review: Review, items: _Items):
    """The review's TF-IDF matrix, kept in this process while its records stay the same."""
    digest = hashlib.sha256(items.ids.tobytes()).hexdigest()
    cached = _FEATURE_CACHE.get(review.pk)
    if cached and cached[0] == digest:
        return cached[1], cached[2]
    matrix, terms = features.featurize(items.texts)
    _FEATURE_CACHE.clear()  # one review at a time: bounded memory
    _FEATURE_CACHE[review.pk] = (digest, matrix, terms)
    return matrix, terms


def _write_priorities(ids: np.ndarray, order: np.ndarray) -> None:
    """Priorities from a queue order: the first gets the highest."""
    n = len(order)
    by_priority: dict[float, list[int]] = {}
    for pos, row in enumerate(order):
        by_priority.setdefault(float(n - pos), []).append(int(ids[row]))
    objs = [ScreeningItem(pk=pk, priority=p) for p, pks in by_priority.items() for pk in pks]
    ScreeningItem.objects.bulk_update(objs, ["priority"], batch_size=2000)


def _run_of_irrelevant(review: Review) -> int:
    """Irrelevant records settled since the last relevant one (up to ``EXPLORE_AFTER``)."""
    statuses = (
        ScreeningItem.objects.primary(review)
        .filter(stage=Stage.TITLE_ABSTRACT, status__in=[ItemStatus.INCLUDED, ItemStatus.EXCLUDED])
        .order_by("-settled_at", "-pk")
        .values_list("status", flat=True)[: model.EXPLORE_AFTER]
    )
    run = 0
    for status in statuses:
        if status == ItemStatus.INCLUDED:
            break
        run += 1
    return run


@transaction.atomic
def retrain(review: Review) -> dict[str, Any]:
    """Train on the settled records and rank the rest, in one transaction (a savepoint inside
    the caller's, as in the job; its own when called alone, as the demo does)."""
    started = time.perf_counter()
    state = RankingModel.objects.select_for_update().filter(review=review).first()
    if state is None:
        state = RankingModel.objects.create(review=review)
    items = _items(review)
    open_rows = np.flatnonzero(items.labels < 0)
    mode = state.mode
    trained = None
    why: dict[str, list[str]] = {}
    if mode == RankingMode.MODEL:
        labelled = np.flatnonzero(items.labels >= 0)
        if len(labelled):
            matrix, terms = _features(review, items)
            trained = model.train(matrix, labelled, items.labels[labelled], terms=terms)
        if trained is not None:
            rng = np.random.default_rng(review.pk)
            order = model.rank(
                trained.scores(matrix), open_rows, rng=rng, offset=len(labelled),
                dry=_run_of_irrelevant(review) >= model.EXPLORE_AFTER,
            )  # fmt: skip
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
    if mode == RankingMode.IMPORT or (mode == RankingMode.MODEL and trained is None):
        ScreeningItem.objects.filter(pk__in=[int(i) for i in items.ids[open_rows]]).exclude(
            priority=0
        ).update(priority=0)
    else:
        _write_priorities(items.ids, order)
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


def retrain_pending(review: Review) -> bool:
    return Job.objects.filter(
        review=review, kind=JOB_KIND, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).exists()


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
    qs = ScreeningItem.objects.primary(review).filter(stage=Stage.TITLE_ABSTRACT)
    total = qs.count()
    seen = [
        1 if s == ItemStatus.INCLUDED else 0
        for s in qs.filter(status__in=[ItemStatus.INCLUDED, ItemStatus.EXCLUDED])
        .order_by("settled_at", "pk")
        .values_list("status", flat=True)
    ]
    return stopping.estimate(
        np.asarray(seen, dtype=int), total, recall_target=recall, confidence=conf,
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
