"""The queue: the record a reviewer screens next, claimed for them, so that no record is shown
to a reviewer twice and none gets more reviewers than it needs.

The order in which records are handed out is defined once, by :func:`queue_order`: the scan,
the claim and the cursor that pages through the queue all take it from there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from identification.models import Record
from reviews.access import require_role
from reviews.models import Review
from screening.constants import CLAIM_TTL_SECONDS, MAX_OPEN_CLAIMS, ItemStatus, Stage
from screening.managers import primary_record_sql
from screening.models import Assignment, ScreeningItem
from screening.selectors import settings_for
from screening.services._common import SCREEN_ROLES, clean_stage
from screening.services.setup import screening_prepare

log = logging.getLogger(__name__)

#: Items read per batch when looking for the next record to claim.
CANDIDATE_BATCH = 50
#: Records tried before giving up (others took each one first); a reload tries again.
MAX_CLAIM_ATTEMPTS = 200

#: Where a page of the queue ended: the (priority, id) of its last item.
Cursor = tuple[float, int]


@dataclass(frozen=True)
class QueueOrder:
    """The queue's order: higher ``ScreeningItem.priority`` first, then the oldest item (the
    lowest id). With every priority 0, as today, that is the order of the ids.

    It comes in the forms the queue needs: the ORM's ``order_by``, the ``ORDER BY`` of the
    hand-written scan and claim, the key that sorts a batch in Python, and the keyset cursor
    that pages on. Prioritised screening changes the order here, and the queue index
    (``screening_item_queue`` on ScreeningItem) to match.
    """

    def orm(self) -> tuple[str, ...]:
        return ("-priority", "pk")

    def sql(self, alias: str = "") -> str:
        """The ``ORDER BY`` terms; ``alias`` names the item table (none: the output columns)."""
        at = f"{alias}." if alias else ""
        return f"{at}priority DESC, {at}id"

    def key(self, priority: float, item_id: int) -> tuple[float, int]:
        """Sorts (priority, id) pairs in queue order."""
        return (-priority, item_id)

    def cursor(self, priority: float, item_id: int) -> Cursor:
        return (priority, item_id)

    def after(self, alias: str, cursor: Cursor | None) -> list[tuple[str, list[Any]]]:
        """The queue after ``cursor`` as conditions with their values, in queue order.

        Each condition is one range of the queue index, so each page starts with an index seek,
        however far on it is. A single row comparison cannot say "after" when one column runs
        down and the other up, and an ``OR`` of the two would make the database read the queue
        from its start on every page.
        """
        if cursor is None:
            return [("", [])]
        priority, item_id = cursor
        return [
            (f"{alias}.priority = %s AND {alias}.id > %s", [priority, item_id]),
            (f"{alias}.priority < %s", [priority]),
        ]


_ORDER = QueueOrder()


def queue_order() -> QueueOrder:
    """The order in which the queue hands out records (see :class:`QueueOrder`)."""
    return _ORDER


class _Candidate(NamedTuple):
    item_id: int
    priority: float
    had: bool  # the reviewer had a claim on it already


def _queue_scan(
    review: Review, stage: str, user, required: int, after: Cursor | None, with_open: bool
) -> tuple[list[int], list[_Candidate]]:
    """One round trip: the reviewer's open claims (oldest first, when ``with_open``) and the
    next pending items with a free slot after ``after`` in queue order, each with whether this
    reviewer already had it.

    Hand-written SQL because this runs on every vote (see bench/screening_load.py: the ORM
    spent ~1 ms of CPU compiling each query, more than the database took). The check for the
    reviewer's own claims is a correlated ``EXISTS`` over a batch of at most 50 candidates:
    PostgreSQL runs it as an index probe per candidate or as one hash of the reviewer's claims,
    never as their product. A plain anti-join's plan depends on table statistics, and with stale
    ones (a review that just started) PostgreSQL chose a quadratic nested loop.
    """
    order = queue_order()
    items, claims = ScreeningItem._meta.db_table, Assignment._meta.db_table
    records = Record._meta.db_table
    # Only primary records are screened; the condition is ``primary_q``, compiled.
    primary_join = (
        f"JOIN {records} ON {records}.id = i.record_id AND {primary_record_sql(connection)}"
    )
    # Table names are our models'; every value is a parameter.
    pages, params = [], [user.pk]
    for n, (condition, values) in enumerate(order.after("i", after)):
        pages.append(f"""
            SELECT * FROM (
                SELECT i.id, i.priority FROM {items} i {primary_join}
                WHERE i.review_id = %s AND i.stage = %s AND i.status = %s AND i.claims < %s
                  {"AND " + condition if condition else ""}
                ORDER BY {order.sql("i")} LIMIT %s
            ) p{n}""")  # noqa: S608
        params += [review.pk, stage, ItemStatus.PENDING, required, *values, CANDIDATE_BATCH]
    page = pages[0]
    if len(pages) > 1:
        page = f"{' UNION ALL '.join(pages)} ORDER BY {order.sql()} LIMIT %s"
        params.append(CANDIDATE_BATCH)
    candidates = f"""
        SELECT 1, c.id, 0, c.priority, CASE WHEN EXISTS (
            SELECT 1 FROM {claims} m WHERE m.item_id = c.id AND m.reviewer_id = %s
        ) THEN 1 ELSE 0 END
        FROM ({page}) c"""  # noqa: S608
    sql = candidates
    if with_open:
        sql = f"""
        SELECT 0, o.item_id, o.id, o.priority, 0 FROM (
            SELECT a.item_id, a.id, i.priority FROM {claims} a
            JOIN {items} i ON i.id = a.item_id {primary_join}
            WHERE a.review_id = %s AND a.stage = %s AND a.reviewer_id = %s
              AND a.voted_at IS NULL AND i.status IN (%s, %s)
            ORDER BY a.id LIMIT %s
        ) o
        UNION ALL {candidates}"""  # noqa: S608
        # An open claim on a record in conflict is a vote withdrawn there (or a slot kept when
        # a lead lowered the reviewers needed): it comes back as on a pending record, or the
        # queue would tell a blinded voter of the conflict.
        params = [
            review.pk, stage, user.pk, ItemStatus.PENDING, ItemStatus.CONFLICT,
            MAX_OPEN_CLAIMS + 1, *params,
        ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # The open claims oldest first: by claim id, as the query orders them before the union.
    opened = sorted((r for r in rows if r[0] == 0), key=lambda r: r[2])
    open_ids = [item_id for _, item_id, _, _, _ in opened]
    batch = sorted(
        (_Candidate(item_id, priority, bool(had)) for kind, item_id, _, priority, had in rows
         if kind == 1),
        key=lambda c: order.key(c.priority, c.item_id),
    )  # fmt: skip
    return open_ids, batch


def _first_unlocked(ids: list[int], required: int) -> int | None:
    """The first of ``ids`` in queue order still open, locked for the caller's transaction.

    On PostgreSQL rows another reviewer is claiming right now are skipped (SKIP LOCKED) rather
    than waited for: on a busy machine the holder may be descheduled mid-transaction, and every
    reviewer behind it would queue.
    """
    qs = ScreeningItem.objects.filter(
        pk__in=ids, status=ItemStatus.PENDING, claims__lt=required
    ).order_by(*queue_order().orm())
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return qs.values_list("pk", flat=True).first()


def _claim_first(review: Review, stage: str, user, required: int, ids: list[int]) -> int | None:
    """Claim a slot on the first of ``ids`` (in queue order) still open; ``None`` if each is
    taken or locked.

    On PostgreSQL one statement does it (pick with SKIP LOCKED, bump the count, insert the
    claim): one round trip, atomic on its own. Elsewhere the same steps run in a transaction.
    A second claim by the same reviewer raises ``IntegrityError`` and changes nothing.
    """
    if connection.vendor == "postgresql":
        items, claims = ScreeningItem._meta.db_table, Assignment._meta.db_table
        sql = f"""
            WITH pick AS (
                SELECT i.id FROM {items} i
                WHERE i.id = ANY(%s) AND i.status = %s AND i.claims < %s
                ORDER BY {queue_order().sql("i")} LIMIT 1 FOR UPDATE SKIP LOCKED
            ), bump AS (
                UPDATE {items} s SET claims = s.claims + 1 FROM pick WHERE s.id = pick.id
                RETURNING s.id
            )
            INSERT INTO {claims} (review_id, item_id, stage, reviewer_id, claimed_at, voted_at)
            SELECT %s, bump.id, %s, %s, %s, NULL FROM bump
            RETURNING item_id"""  # noqa: S608 - table names are our models'
        params = [ids, ItemStatus.PENDING, required, review.pk, stage, user.pk, timezone.now()]
        # On its own the statement is atomic; inside a caller's transaction a savepoint keeps
        # a unique-constraint error from spoiling it.
        guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with guard, connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is not None:
            ids.remove(row[0])
            return row[0]
        return None
    while ids:
        with transaction.atomic():
            item_id = _first_unlocked(ids, required)
            if item_id is None:
                return None
            ids.remove(item_id)
            if _claim(review, item_id, user, stage, required) is not None:
                return item_id
    return None


def _claim(review: Review, item_id: int, user, stage: str, required: int) -> Assignment | None:
    """Take one slot of the item for ``user``, inside the caller's transaction.

    The conditional UPDATE is what makes it race-safe on every database: two reviewers racing
    for the last slot both run it, the row lock serialises them, and the second sees
    ``claims = required`` and updates nothing. The unique (item, reviewer) constraint stops one
    reviewer taking two slots of one record (two tabs asking at once): the ``IntegrityError``
    it raises rolls back the caller's transaction, claim included.
    """
    taken = ScreeningItem.objects.filter(
        pk=item_id, status=ItemStatus.PENDING, claims__lt=required
    ).update(claims=F("claims") + 1)
    if not taken:
        return None
    return Assignment.objects.create(review=review, item_id=item_id, stage=stage, reviewer=user)


def _item_with_record(item_id: int) -> ScreeningItem:
    # ``raw`` keeps the whole record as the file had it: large, and never shown here.
    return ScreeningItem.objects.select_related("record").defer("record__raw").get(pk=item_id)


def assignment_next(
    *, user, review: Review, stage: str, exclude: Iterable[int] = ()
) -> ScreeningItem | None:
    """The record ``user`` should screen next at ``stage``, or ``None`` when nothing is left.

    First the reviewer's own unvoted claims, oldest first (a reload shows the same record),
    skipping those in ``exclude`` (already on the reviewer's screen). Otherwise a new slot is
    claimed on the first pending record, in queue order (:func:`queue_order`), that still
    needs a reviewer and that this reviewer never had, so no record is shown to a reviewer
    twice and records fill up in order.
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    stage = clean_stage(stage)
    skip = set()
    for value in list(exclude)[:20]:
        try:
            skip.add(int(value))
        except (TypeError, ValueError):
            continue
    required = settings_for(review).reviewers_per_record
    order = queue_order()
    attempts = 0
    for round_ in range(2):
        after: Cursor | None = None
        first = True
        while attempts < MAX_CLAIM_ATTEMPTS:
            open_ids, batch = _queue_scan(review, stage, user, required, after, with_open=first)
            if first:
                for item_id in open_ids:
                    if item_id not in skip:
                        return _item_with_record(item_id)
                if len(open_ids) >= MAX_OPEN_CLAIMS:
                    return None
                first = False
            if not batch:
                break
            free = [c.item_id for c in batch if not c.had]
            while free and attempts < MAX_CLAIM_ATTEMPTS:
                attempts += 1
                try:
                    item_id = _claim_first(review, stage, user, required, free)
                except IntegrityError:
                    continue  # the same reviewer claimed one from another tab; look again
                if item_id is None:
                    break  # all taken or being taken: on to the next batch
                return _item_with_record(item_id)
            after = order.cursor(batch[-1].priority, batch[-1].item_id)
        if round_ == 0:
            # Nothing free: hand on stale claims, and look for records a quick sync missed.
            released = assignment_release_stale(review=review, stage=stage)
            added = stage == Stage.TITLE_ABSTRACT and screening_prepare(review=review, full=True)
            if not (released or added):
                break
    return None


def assignment_release_stale(*, review: Review, stage: str) -> int:
    """Hand back slots claimed long ago and never voted on (a reviewer who left mid-queue)."""
    cutoff = timezone.now() - timedelta(seconds=CLAIM_TTL_SECONDS)
    stale = list(
        Assignment.objects.filter(
            review=review, stage=stage, voted_at__isnull=True, claimed_at__lt=cutoff
        ).values_list("pk", "item_id")[:1000]
    )
    released = 0
    for pk, item_id in stale:
        with transaction.atomic():
            # Lock the item first, as voting does, so a vote and a release never interleave.
            ScreeningItem.objects.select_for_update().filter(pk=item_id).first()
            deleted, _ = Assignment.objects.filter(pk=pk, voted_at__isnull=True).delete()
            if deleted:
                ScreeningItem.objects.filter(pk=item_id, claims__gt=0).update(
                    claims=F("claims") - 1
                )
                released += 1
    if released:
        log.info("released %s stale screening claims in review %s", released, review.pk)
    return released
