"""Every state change of screening. One function per change; each checks the actor's role
through ``reviews.access``, owns its transaction and records an audit event.

Blinding reaches the audit log too: an audit event for a vote says who voted on which record,
never the decision, because leads read the log while screening is still blinded. The decisions
live in ``VoteEvent``, which is shown under the blinding rules.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef
from django.utils import timezone

from core.audit import audit_record
from core.text import clean_input_text
from identification.models import Record
from reviews.access import require_member, require_role, scoped_get
from reviews.constants import Role
from reviews.models import Review
from screening import rules, selectors
from screening.constants import (
    CLAIM_TTL_SECONDS,
    DEFAULT_REASONS,
    MAX_KEYWORDS,
    MAX_NOT_RETRIEVED_REASON,
    MAX_NOTE,
    MAX_OPEN_CLAIMS,
    MAX_PDF_BYTES,
    MAX_REASON_LABEL,
    MAX_REASONS,
    MAX_REVIEWERS,
    MAX_URL,
    MIN_REVIEWERS,
    OPEN_STATUSES,
    PDF_MAGIC_WINDOW,
    Decision,
    ItemStatus,
    MaybePolicy,
    ReasonPolicy,
    ResolverPolicy,
    Stage,
    VoteAction,
)
from screening.keywords import KeywordError, check_keyword
from screening.models import (
    Assignment,
    ExclusionReason,
    FullTextReport,
    Resolution,
    ScreeningItem,
    ScreeningSettings,
    Vote,
    VoteEvent,
)

log = logging.getLogger(__name__)

SCREEN_ROLES = [Role.REVIEWER]
#: Items read per batch when looking for the next record to claim.
CANDIDATE_BATCH = 50
#: Records tried before giving up (others took each one first); a reload tries again.
MAX_CLAIM_ATTEMPTS = 200


# --- Input cleaning ----------------------------------------------------------------------------


def clean_stage(stage: Any) -> str:
    if stage not in Stage.values:
        raise ValidationError({"stage": f"Unknown stage {str(stage)[:40]!r}."})
    return stage


def _clean_decision(decision: Any, *, allowed: Iterable[str] = Decision.values) -> str:
    allowed = list(allowed)
    if not isinstance(decision, str) or decision not in allowed:
        raise ValidationError(
            {"decision": f"Choose one of {', '.join(allowed)} (got {str(decision)[:40]!r})."}
        )
    return decision


def _clean_reason(review: Review, stage: str, reason: Any) -> ExclusionReason | None:
    """An active exclusion reason of this review and stage, from an id or an object."""
    if reason in (None, ""):
        return None
    if isinstance(reason, ExclusionReason):
        reason = reason.pk
    try:
        pk = int(reason)
    except (TypeError, ValueError):
        raise ValidationError({"reason": "Choose a reason from the list."}) from None
    found = ExclusionReason.objects.filter(pk=pk, review=review, stage=stage, active=True).first()
    if found is None:
        raise ValidationError({"reason": "That reason is not on this stage's list."})
    return found


def _check_item(review: Review, item: ScreeningItem, stage: str | None) -> None:
    if item.review_id != review.pk:
        raise ValidationError("That record belongs to another review.")
    if stage is not None and item.stage != stage:
        raise ValidationError(
            f"That record is at the {Stage(item.stage).label.lower()} stage, not this one."
        )


def _item_repr(item: ScreeningItem) -> str:
    return f"{Stage(item.stage).label}: record {item.record_id}"


# --- Setting up --------------------------------------------------------------------------------


def screening_setup(*, review: Review, actor=None) -> ScreeningSettings:
    """Save the review's screening settings and seed the default exclusion reasons, once."""
    settings_obj = ScreeningSettings.objects.filter(review=review).first()
    if settings_obj is not None:
        return settings_obj
    with transaction.atomic():
        settings_obj, created = ScreeningSettings.objects.get_or_create(review=review)
        if created and not settings_obj.reasons_seeded:
            n = _seed_reasons(review)
            settings_obj.reasons_seeded = True
            settings_obj.save(update_fields=["reasons_seeded"])
            audit_record(
                actor=actor,
                review=review,
                verb="set up screening",
                obj=settings_obj,
                changes={"default_reasons": n},
            )
    review._screening_settings_cache = None  # type: ignore[attr-defined]
    return settings_obj


# Receivers of the hooks of lower steps (connected in ScreeningConfig.ready).


def on_review_created(*, review: Review, actor=None, **_: Any) -> None:
    screening_setup(review=review, actor=actor)


def on_records_imported(*, review: Review, actor=None, progress=None, **_: Any) -> dict[str, int]:
    """New primary records join the title/abstract queue in the import's transaction."""
    if progress is not None:
        progress(99, "Adding the new records to screening")
    screening_setup(review=review, actor=actor)
    return {"added_to_screening": screening_prepare(review=review)}


def on_clusters_changed(*, review: Review, full: bool = False, **_: Any) -> None:
    """Records that became primary (an undone merge, a new primary) join the queue."""
    screening_prepare(review=review, full=full)


def records_with_votes(*, review: Review, **_: Any) -> set[int]:
    """Records people have started screening: deduplication keeps them primary."""
    return set(
        ScreeningItem.objects.filter(review=review, votes__isnull=False).values_list(
            "record_id", flat=True
        )
    )


def screening_prepare(*, review: Review, full: bool = False) -> int:
    """Make screening ready: settings and default reasons once (:func:`screening_setup`), and a
    title/abstract item for every primary record that has none yet (records imported since the
    last call). Called by the hooks of imports and deduplication, never by a page that reads.
    Idempotent and safe to run concurrently (the unique constraint drops doubles). Returns the
    number of items created.

    Only records above the last synced id are looked at, unless ``full``: a record whose
    import committed late with a lower id is found by a full pass, which assignment runs when
    a queue looks empty.
    """
    settings_obj = screening_setup(review=review)
    after = 0 if full else settings_obj.synced_record_id
    has_item = ScreeningItem.objects.filter(record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT)
    missing = (
        selectors.screenable_records(review)
        .filter(pk__gt=after)
        .filter(~Exists(has_item))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    created = 0
    top = after
    batch: list[ScreeningItem] = []
    for record_id in missing.iterator(chunk_size=5000):
        batch.append(ScreeningItem(review=review, record_id=record_id, stage=Stage.TITLE_ABSTRACT))
        top = max(top, record_id)
        if len(batch) >= 5000:
            ScreeningItem.objects.bulk_create(batch, ignore_conflicts=True)
            created += len(batch)
            batch = []
    if batch:
        ScreeningItem.objects.bulk_create(batch, ignore_conflicts=True)
        created += len(batch)
    if after == 0:
        # A full pass saw every record there is: later ones will have higher ids.
        seen = selectors.screenable_records(review).aggregate(m=Max("pk"))["m"] or 0
        top = max(top, seen)
    if top > settings_obj.synced_record_id:
        ScreeningSettings.objects.filter(review=review, synced_record_id__lt=top).update(
            synced_record_id=top
        )
    return created


def _seed_reasons(review: Review) -> int:
    n = 0
    for stage, labels in DEFAULT_REASONS.items():
        for position, label in enumerate(labels):
            ExclusionReason.objects.get_or_create(
                review=review, stage=stage, label=label, defaults={"position": position}
            )
            n += 1
    return n


_SETTING_CHOICES = {
    "maybe_policy": MaybePolicy,
    "reasons_title_abstract": ReasonPolicy,
    "reasons_full_text": ReasonPolicy,
    "resolvers": ResolverPolicy,
}


def _clean_keywords(value: Any, *, field: str) -> str:
    text = clean_input_text(value, field=field, max_length=MAX_KEYWORDS * 110)
    terms, errors = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            term = check_keyword(line)
        except KeywordError as exc:
            errors.append(str(exc))
            continue
        if term.lower() not in (t.lower() for t in terms):
            terms.append(term)
    if errors:
        raise ValidationError({field: [f"Cannot use {e}." for e in errors[:5]]})
    if len(terms) > MAX_KEYWORDS:
        raise ValidationError({field: f"At most {MAX_KEYWORDS} keywords (got {len(terms)})."})
    return "\n".join(terms)


def settings_update(*, actor, review: Review, **values: Any) -> ScreeningSettings:
    """Change how the review screens (lead only).

    Lowering the reviewers a record needs settles the pending records that now have enough
    votes; records already in conflict stay there for a resolver.
    """
    require_role(user=actor, review=review, roles=[Role.LEAD], action="change screening settings")
    allowed = {
        "reviewers_per_record",
        "blinded",
        "maybe_policy",
        "reasons_title_abstract",
        "reasons_full_text",
        "resolvers",
        "include_keywords",
        "exclude_keywords",
    }
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError(f"Unknown setting(s): {', '.join(sorted(unknown))[:200]}.")
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name == "reviewers_per_record":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValidationError({name: "Give a whole number."}) from None
            if isinstance(value, bool) or not MIN_REVIEWERS <= number <= MAX_REVIEWERS:
                raise ValidationError(
                    {name: f"Between {MIN_REVIEWERS} and {MAX_REVIEWERS} reviewers per record."}
                )
            cleaned[name] = number
        elif name == "blinded":
            if not isinstance(value, bool):
                raise ValidationError({name: "Must be true or false."})
            cleaned[name] = value
        elif name in _SETTING_CHOICES:
            choices = _SETTING_CHOICES[name]
            if value not in choices.values:
                raise ValidationError({name: f"Choose one of {', '.join(choices.values)}."})
            cleaned[name] = value
        else:
            cleaned[name] = _clean_keywords(value, field=name)
    screening_prepare(review=review)
    with transaction.atomic():
        obj = ScreeningSettings.objects.select_for_update().get(review=review)
        changes = {}
        for name, value in cleaned.items():
            old = getattr(obj, name)
            if old != value:
                changes[name] = [old, value]
                setattr(obj, name, value)
        if changes:
            obj.updated_by = actor
            obj.save()
            audit_record(
                actor=actor, review=review, verb="changed screening settings", obj=obj,
                changes=changes,
            )  # fmt: skip
        review._screening_settings_cache = obj  # type: ignore[attr-defined]
        if "reviewers_per_record" in changes or "maybe_policy" in changes:
            _reevaluate_pending(review, obj)
    return obj


def _reevaluate_pending(review: Review, settings_obj: ScreeningSettings) -> None:
    ready = (
        ScreeningItem.objects.filter(review=review, status=ItemStatus.PENDING)
        .annotate(n=Count("votes"))
        .filter(n__gte=settings_obj.reviewers_per_record)
        .values_list("pk", flat=True)
    )
    for pk in list(ready):
        item = ScreeningItem.objects.select_for_update().get(pk=pk)
        _evaluate(item, settings_obj)


# --- Exclusion reasons -------------------------------------------------------------------------


def reason_add(*, actor, review: Review, stage: str, label: Any) -> ExclusionReason:
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    stage = clean_stage(stage)
    label = clean_input_text(label, field="label", max_length=MAX_REASON_LABEL, required=True)
    label = " ".join(label.split())
    with transaction.atomic():
        existing = ExclusionReason.objects.select_for_update().filter(review=review, stage=stage)
        if len(existing) >= MAX_REASONS:
            raise ValidationError({"label": f"At most {MAX_REASONS} reasons per stage."})
        if any(r.label.lower() == label.lower() for r in existing):
            raise ValidationError({"label": f"“{label}” is already on the list."})
        position = (existing.aggregate(m=Max("position"))["m"] or 0) + 1
        reason = ExclusionReason.objects.create(
            review=review, stage=stage, label=label, position=position
        )
        audit_record(
            actor=actor, review=review, verb="added exclusion reason", obj=reason,
            changes={"stage": stage, "label": label},
        )  # fmt: skip
    return reason


def reason_update(
    *, actor, review: Review, reason: ExclusionReason, label: Any = None, active: bool | None = None
) -> ExclusionReason:
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    if reason.review_id != review.pk:
        raise ValidationError("That reason belongs to another review.")
    changes: dict[str, list[Any]] = {}
    with transaction.atomic():
        reason = ExclusionReason.objects.select_for_update().get(pk=reason.pk)
        if label is not None:
            label = " ".join(
                clean_input_text(
                    label, field="label", max_length=MAX_REASON_LABEL, required=True
                ).split()
            )
            clash = (
                ExclusionReason.objects.filter(
                    review=review, stage=reason.stage, label__iexact=label
                )
                .exclude(pk=reason.pk)
                .exists()
            )
            if clash:
                raise ValidationError({"label": f"“{label}” is already on the list."})
            if label != reason.label:
                changes["label"] = [reason.label, label]
                reason.label = label
        if active is not None:
            if not isinstance(active, bool):
                raise ValidationError({"active": "Must be true or false."})
            if active != reason.active:
                changes["active"] = [reason.active, active]
                reason.active = active
        if changes:
            reason.save()
            audit_record(
                actor=actor, review=review, verb="changed exclusion reason", obj=reason,
                changes=changes,
            )  # fmt: skip
    return reason


def reason_move(*, actor, review: Review, reason: ExclusionReason, offset: int) -> None:
    """Move a reason up (``offset=-1``) or down (``+1``) its stage's list."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    if reason.review_id != review.pk:
        raise ValidationError("That reason belongs to another review.")
    if offset not in (-1, 1):
        raise ValidationError("Move a reason one place up or down.")
    with transaction.atomic():
        siblings = list(
            ExclusionReason.objects.select_for_update()
            .filter(review=review, stage=reason.stage)
            .order_by("position", "pk")
        )
        index = next(i for i, r in enumerate(siblings) if r.pk == reason.pk)
        target = index + offset
        if not 0 <= target < len(siblings):
            return
        siblings[index], siblings[target] = siblings[target], siblings[index]
        for position, r in enumerate(siblings):
            if r.position != position:
                r.position = position
                r.save(update_fields=["position"])
        audit_record(
            actor=actor, review=review, verb="reordered exclusion reasons", obj=reason,
            changes={"stage": reason.stage, "order": [r.label for r in siblings]},
        )  # fmt: skip


def reason_delete(*, actor, review: Review, reason: ExclusionReason) -> None:
    """Delete an unused reason; a reason that votes or decisions use can only be retired."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="edit exclusion reasons")
    if reason.review_id != review.pk:
        raise ValidationError("That reason belongs to another review.")
    used = (
        Vote.objects.filter(reason=reason).count()
        + ScreeningItem.objects.filter(final_reason=reason).count()
        + Resolution.objects.filter(reason=reason).count()
    )
    if used:
        raise ValidationError(
            f"“{reason.label}” is used by {used} vote(s) or decision(s); retire it instead, "
            "so that they keep their reason."
        )
    with transaction.atomic():
        audit_record(
            actor=actor, review=review, verb="deleted exclusion reason", obj=reason,
            changes={"stage": reason.stage, "label": reason.label},
        )  # fmt: skip
        reason.delete()


# --- Assignment --------------------------------------------------------------------------------


def _queue_scan(
    review: Review, stage: str, user, required: int, after: int, with_open: bool
) -> tuple[list[int], list[tuple[int, bool]]]:
    """One round trip: the reviewer's open claims (oldest first, when ``with_open``) and the
    next pending items with a free slot after item ``after``, each with whether this reviewer
    already had it.

    Hand-written SQL because this runs on every vote (see bench/screening_load.py: the ORM
    spent ~1 ms of CPU compiling each query, more than the database took). The check for the
    reviewer's own claims is a correlated ``EXISTS`` over a batch of at most 50 candidates:
    PostgreSQL runs it as an index probe per candidate or as one hash of the reviewer's claims,
    never as their product. A plain anti-join's plan depends on table statistics, and with stale
    ones (a review that just started) PostgreSQL chose a quadratic nested loop.
    """
    items, claims = ScreeningItem._meta.db_table, Assignment._meta.db_table
    primary_join = ""
    if selectors.records_know_duplicates():
        primary_join = (
            f"JOIN {Record._meta.db_table} r ON r.id = i.record_id AND r.duplicate_of_id IS NULL"
        )
    # Table names are our models'; every value is a parameter.
    candidates = f"""
        SELECT 1, c.id, CASE WHEN EXISTS (
            SELECT 1 FROM {claims} m WHERE m.item_id = c.id AND m.reviewer_id = %s
        ) THEN 1 ELSE 0 END
        FROM (
            SELECT i.id FROM {items} i {primary_join}
            WHERE i.review_id = %s AND i.stage = %s AND i.status = %s AND i.claims < %s
              AND i.id > %s
            ORDER BY i.id LIMIT %s
        ) c"""  # noqa: S608
    params: list[Any] = [user.pk, review.pk, stage, ItemStatus.PENDING, required, after]
    params.append(CANDIDATE_BATCH)
    sql = candidates
    if with_open:
        sql = f"""
        SELECT 0, o.item_id, o.id FROM (
            SELECT a.item_id, a.id FROM {claims} a
            JOIN {items} i ON i.id = a.item_id {primary_join}
            WHERE a.review_id = %s AND a.stage = %s AND a.reviewer_id = %s
              AND a.voted_at IS NULL AND i.status = %s
            ORDER BY a.id LIMIT %s
        ) o
        UNION ALL {candidates}"""  # noqa: S608
        params = [review.pk, stage, user.pk, ItemStatus.PENDING, MAX_OPEN_CLAIMS + 1, *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    open_ids = [item_id for kind, item_id, order in sorted(r for r in rows if r[0] == 0)]
    batch = sorted((item_id, bool(had)) for kind, item_id, had in rows if kind == 1)
    return open_ids, batch


def _first_unlocked(ids: list[int], required: int) -> int | None:
    """The first of ``ids`` still open, locked for the caller's transaction.

    On PostgreSQL rows another reviewer is claiming right now are skipped (SKIP LOCKED) rather
    than waited for: on a busy machine the holder may be descheduled mid-transaction, and every
    reviewer behind it would queue.
    """
    qs = ScreeningItem.objects.filter(
        pk__in=ids, status=ItemStatus.PENDING, claims__lt=required
    ).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return qs.values_list("pk", flat=True).first()


def _claim_first(review: Review, stage: str, user, required: int, ids: list[int]) -> int | None:
    """Claim a slot on the first of ``ids`` still open; ``None`` if each is taken or locked.

    On PostgreSQL one statement does it (pick with SKIP LOCKED, bump the count, insert the
    claim): one round trip, atomic on its own. Elsewhere the same steps run in a transaction.
    A second claim by the same reviewer raises ``IntegrityError`` and changes nothing.
    """
    if connection.vendor == "postgresql":
        items, claims = ScreeningItem._meta.db_table, Assignment._meta.db_table
        sql = f"""
            WITH pick AS (
                SELECT id FROM {items}
                WHERE id = ANY(%s) AND status = %s AND claims < %s
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
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
    claimed on the first pending record that still needs a reviewer and that this reviewer never
    had, so no record is shown to a reviewer twice and records fill up in order.
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    stage = clean_stage(stage)
    skip = set()
    for value in list(exclude)[:20]:
        try:
            skip.add(int(value))
        except (TypeError, ValueError):
            continue
    required = selectors.settings_for(review).reviewers_per_record
    attempts = 0
    for round_ in range(2):
        after, first = 0, True
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
            free = [item_id for item_id, had in batch if not had]
            while free and attempts < MAX_CLAIM_ATTEMPTS:
                attempts += 1
                try:
                    item_id = _claim_first(review, stage, user, required, free)
                except IntegrityError:
                    continue  # the same reviewer claimed one from another tab; look again
                if item_id is None:
                    break  # all taken or being taken: on to the next batch
                return _item_with_record(item_id)
            after = batch[-1][0]
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


# --- Votes -------------------------------------------------------------------------------------


def _evaluate(
    item: ScreeningItem,
    settings_obj: ScreeningSettings,
    votes: list[tuple[str, Any]] | None = None,
) -> rules.Outcome:
    """Apply the settle/conflict rules to a locked item and save what they say.

    ``votes`` are the item's (decision, reason id) pairs in the order cast, when the caller
    has them already.
    """
    if votes is None:
        votes = list(item.votes.order_by("created_at", "pk").values_list("decision", "reason_id"))
    outcome = rules.decide(
        [d for d, _ in votes],
        required=settings_obj.reviewers_per_record,
        maybe_is_include=settings_obj.maybe_policy == MaybePolicy.INCLUDE,
        reasons=[r for _, r in votes],
        reasons_must_agree=settings_obj.reasons_required(item.stage),
    )
    status = {
        rules.PENDING: ItemStatus.PENDING,
        rules.CONFLICT: ItemStatus.CONFLICT,
        rules.INCLUDED: ItemStatus.INCLUDED,
        rules.EXCLUDED: ItemStatus.EXCLUDED,
    }[outcome.status]
    _set_status(item, status, reason_id=outcome.reason)
    return outcome


def _set_status(item: ScreeningItem, status: str, *, reason_id: Any = None) -> None:
    settled = status in (ItemStatus.INCLUDED, ItemStatus.EXCLUDED)
    if status == item.status == ItemStatus.PENDING:
        return  # the common case, a first vote of several: nothing to write
    item.status = status
    item.final_reason_id = reason_id if status == ItemStatus.EXCLUDED else None
    item.settled_at = timezone.now() if settled else None
    item.save(update_fields=["status", "final_reason", "settled_at"])
    if status == ItemStatus.INCLUDED and item.stage == Stage.TITLE_ABSTRACT:
        # Included on title and abstract: the record moves on to full-text assessment.
        ScreeningItem.objects.get_or_create(
            record_id=item.record_id,
            stage=Stage.FULL_TEXT,
            defaults={"review_id": item.review_id},
        )


def _locked_open_item(
    review: Review, item: ScreeningItem | int, stage: str | None = None
) -> ScreeningItem:
    """The item, locked, if it belongs to ``review`` (404 otherwise) and is still open."""
    pk = item.pk if isinstance(item, ScreeningItem) else item
    locked = scoped_get(ScreeningItem.objects.select_for_update(), review=review, pk=pk)
    _check_item(review, locked, stage)
    if locked.status == ItemStatus.NOT_RETRIEVED:
        raise ValidationError(
            "This report is marked not retrieved; attach the full text first to assess it."
        )
    if locked.status not in OPEN_STATUSES:
        raise ValidationError("This record is already settled; its votes can no longer change.")
    return locked


def vote_cast(
    *,
    user,
    review: Review,
    item: ScreeningItem | int,
    decision: Any,
    reason: Any = None,
    note: Any = "",
    stage: str | None = None,
) -> Vote:
    """Cast or change ``user``'s vote on ``item``; settles the record or makes a conflict when
    it has all the votes it needs.

    ``item`` may be an id (with ``stage``): it is then fetched, scoped to the review, with the
    row lock the vote needs anyway, which saves a query on the busiest path of the app.
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    if isinstance(item, ScreeningItem):
        _check_item(review, item, stage)
        item_stage = item.stage
    elif stage is None:
        raise TypeError("vote_cast needs the stage when given an item id")
    else:
        item_stage = clean_stage(stage)
    decision = _clean_decision(decision)
    note = clean_input_text(note, field="note", max_length=MAX_NOTE)
    settings_obj = selectors.settings_for(review)
    # A reason only goes with Exclude; one sent along with another decision is dropped.
    reason_obj = _clean_reason(review, item_stage, reason) if decision == Decision.EXCLUDE else None
    if (
        decision == Decision.EXCLUDE
        and reason_obj is None
        and settings_obj.reasons_required(item_stage)
    ):
        raise ValidationError(
            {"reason": "Choose a reason for excluding: this review requires one at this stage."}
        )
    try:
        return _vote_write(user, review, item, stage, decision, reason_obj, note, settings_obj)
    except IntegrityError:
        # Only a second request of the same reviewer on the same record at the same moment
        # gets here; the first one won and this one changed nothing.
        raise ValidationError(
            "This record changed while your vote was being saved; nothing was saved. Try again."
        ) from None


def _vote_write(user, review, item, stage, decision, reason_obj, note, settings_obj) -> Vote:
    with transaction.atomic():
        locked = _locked_open_item(review, item, stage)
        if locked.stage == Stage.FULL_TEXT:
            report = FullTextReport.objects.filter(record_id=locked.record_id).first()
            if report is None or not report.is_available:
                raise ValidationError(
                    "Attach the full text (a PDF or a link) before assessing this report, "
                    "or mark it not retrieved."
                )
        # Mark the reviewer's claim voted; with no claim yet (a vote through the API on a
        # record never fetched), take a slot first if one is free.
        now = timezone.now()
        marked = Assignment.objects.filter(
            item=locked, reviewer=user, voted_at__isnull=True
        ).update(voted_at=now)
        if not marked and not Assignment.objects.filter(item=locked, reviewer=user).exists():
            required = settings_obj.reviewers_per_record
            assignment = _claim(review, locked.pk, user, locked.stage, required)
            if assignment is None:
                raise ValidationError(
                    "This record already has all the reviewers it needs; "
                    "it was passed to someone else."
                )
            Assignment.objects.filter(pk=assignment.pk).update(voted_at=now)
        # All the record's votes at once: this reviewer's (to change) and the rest (to decide).
        votes = list(locked.votes.order_by("created_at", "pk"))
        vote = next((v for v in votes if v.reviewer_id == user.pk), None)
        if vote is not None and (vote.decision, vote.reason_id, vote.note) == (
            decision,
            reason_obj.pk if reason_obj else None,
            note,
        ):
            return vote
        action = VoteAction.CHANGED if vote is not None else VoteAction.CAST
        if vote is None:
            vote = Vote(
                review=review,
                item=locked,
                record_id=locked.record_id,
                stage=locked.stage,
                reviewer=user,
            )
            votes.append(vote)
        vote.decision, vote.reason, vote.note = decision, reason_obj, note
        vote.save()
        VoteEvent.objects.create(
            review=review,
            item=locked,
            stage=locked.stage,
            reviewer=user,
            action=action,
            decision=decision,
            reason_label=reason_obj.label if reason_obj else "",
            note=note,
        )
        _evaluate(locked, settings_obj, [(v.decision, v.reason_id) for v in votes])
        audit_record(
            actor=user,
            review=review,
            verb="voted" if action == VoteAction.CAST else "changed vote",
            obj=locked,
            object_repr=_item_repr(locked),
            # No decision here: the audit log is not blinded (see the module docstring).
            changes={"stage": locked.stage, "record": locked.record_id},
        )
    if isinstance(item, ScreeningItem):
        item.status = locked.status
    return vote


def vote_withdraw(*, user, review: Review, vote: Vote) -> ScreeningItem:
    """Take back ``user``'s own vote on a record that is not settled; the record returns to the
    front of their queue."""
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    if vote.review_id != review.pk or vote.reviewer_id != user.pk:
        raise PermissionDenied("You can only withdraw your own votes.")
    with transaction.atomic():
        locked = _locked_open_item(review, vote.item_id)
        vote = Vote.objects.select_related("reason").get(pk=vote.pk)
        VoteEvent.objects.create(
            review=review,
            item=locked,
            stage=locked.stage,
            reviewer=user,
            action=VoteAction.WITHDRAWN,
            decision=vote.decision,
            reason_label=vote.reason.label if vote.reason else "",
            note=vote.note,
        )
        vote.delete()
        # The claim stays (the slot is still theirs) and is open again; a fresh claim time
        # keeps it from being handed to someone else as stale.
        Assignment.objects.filter(item=locked, reviewer=user).update(
            voted_at=None, claimed_at=timezone.now()
        )
        _evaluate(locked, selectors.settings_for(review))
        audit_record(
            actor=user,
            review=review,
            verb="withdrew vote",
            obj=locked,
            object_repr=_item_repr(locked),
            changes={"stage": locked.stage, "record": locked.record_id},
        )
    return ScreeningItem.objects.select_related("record").get(pk=locked.pk)


def vote_undo(*, user, review: Review, stage: str) -> ScreeningItem:
    """Withdraw ``user``'s most recent vote at ``stage`` and return its record."""
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="screen records")
    stage = clean_stage(stage)
    last = (
        Vote.objects.filter(review=review, stage=stage, reviewer=user)
        .select_related("item")
        .order_by("-updated_at", "-pk")
        .first()
    )
    if last is None:
        raise ValidationError("You have no vote to undo at this stage.")
    if last.item.status not in OPEN_STATUSES:
        raise ValidationError(
            "Your last vote has already settled its record, so it can no longer be undone."
        )
    return vote_withdraw(user=user, review=review, vote=last)


# --- Conflicts ---------------------------------------------------------------------------------


def conflict_resolve(
    *,
    user,
    review: Review,
    item: ScreeningItem,
    decision: Any,
    reason: Any = None,
    note: Any = "",
    stage: str | None = None,
) -> Resolution:
    """Settle a record in conflict (by a lead, or a reviewer the review's policy allows)."""
    require_member(user=user, review=review)
    _check_item(review, item, stage)
    decision = _clean_decision(decision, allowed=[Decision.INCLUDE, Decision.EXCLUDE])
    note = clean_input_text(note, field="note", max_length=MAX_NOTE)
    settings_obj = selectors.settings_for(review)
    reason_obj = _clean_reason(review, item.stage, reason) if decision == Decision.EXCLUDE else None
    if not selectors.may_resolve(user=user, review=review, item=item):
        policy = ResolverPolicy(settings_obj.resolvers).label.lower()
        raise PermissionDenied(f"In this review conflicts are resolved by: {policy}.")
    if (
        decision == Decision.EXCLUDE
        and reason_obj is None
        and settings_obj.reasons_required(item.stage)
    ):
        raise ValidationError({"reason": "Choose a reason for excluding this record."})
    with transaction.atomic():
        locked = ScreeningItem.objects.select_for_update().get(pk=item.pk)
        if locked.status != ItemStatus.CONFLICT:
            raise ValidationError("This record is not in conflict (any more); nothing changed.")
        resolution = Resolution.objects.create(
            item=locked, decision=decision, reason=reason_obj, note=note, resolved_by=user
        )
        status = ItemStatus.INCLUDED if decision == Decision.INCLUDE else ItemStatus.EXCLUDED
        _set_status(locked, status, reason_id=reason_obj.pk if reason_obj else None)
        audit_record(
            actor=user,
            review=review,
            verb="resolved conflict",
            obj=locked,
            object_repr=_item_repr(locked),
            changes={
                "stage": locked.stage,
                "record": locked.record_id,
                "decision": decision,
                "reason": reason_obj.label if reason_obj else "",
            },
        )
    item.status = locked.status
    return resolution


# --- Full texts --------------------------------------------------------------------------------


def _check_pdf(upload) -> tuple[str, int]:
    """Size, PDF signature and SHA-256 of an uploaded file; ``ValidationError`` if not a PDF."""
    size = getattr(upload, "size", None)
    if size is None:
        raise ValidationError({"file": "No file was received."})
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if size > MAX_PDF_BYTES:
        raise ValidationError(
            {"file": f"The file is {size / 1024 / 1024:.1f} MB; the limit is "
                     f"{MAX_PDF_BYTES // 1024 // 1024} MB."}
        )  # fmt: skip
    upload.seek(0)
    head = upload.read(PDF_MAGIC_WINDOW)
    if b"%PDF-" not in head:
        raise ValidationError({"file": "This is not a PDF (it does not start with %PDF)."})
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    ):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


def _full_text_item(review: Review, item: ScreeningItem) -> None:
    _check_item(review, item, None)
    if item.stage != Stage.FULL_TEXT:
        raise ValidationError("Full texts belong to records at the full-text stage.")


def report_attach(
    *, user, review: Review, item: ScreeningItem, upload=None, url: Any = ""
) -> FullTextReport:
    """Attach the full text of a record at the full-text stage: a PDF upload or a link.

    The file is checked (size, the %PDF signature) and stored through Django's storage under a
    name made from its hash; a report marked not retrieved becomes available again.
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="attach full texts")
    _full_text_item(review, item)
    url = clean_input_text(url, field="url", max_length=MAX_URL)
    if (upload is None) == (not url):
        raise ValidationError("Give either a PDF file or a link, not both and not neither.")
    sha = ""
    size = 0
    if upload is not None:
        sha, size = _check_pdf(upload)
    else:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationError(
                {"url": "Give a full web address starting with https://."}
            ) from None
    old_file = None
    with transaction.atomic():
        locked = ScreeningItem.objects.select_for_update().get(pk=item.pk)
        report, _ = FullTextReport.objects.select_for_update().get_or_create(
            record_id=locked.record_id, defaults={"review": review, "added_by": user}
        )
        if upload is not None:
            same_file = bool(report.file) and report.sha256 == sha
            if report.file and not same_file:
                old_file = report.file.name
            report.sha256, report.size = sha, size
            report.original_name = clean_input_text(
                (getattr(upload, "name", "") or "")[:255], field="file", max_length=255
            )
            report.url = ""
            if not same_file:
                report.file.save(f"{sha}.pdf", File(upload), save=False)
        else:
            if report.file:
                old_file = report.file.name
            report.file = ""
            report.original_name, report.size, report.sha256 = "", 0, ""
            report.url = url
        report.not_retrieved_reason = ""
        report.added_by = user
        report.save()
        if locked.status == ItemStatus.NOT_RETRIEVED:
            _set_status(locked, ItemStatus.PENDING)
        audit_record(
            actor=user,
            review=review,
            verb="attached full text",
            obj=locked,
            object_repr=_item_repr(locked),
            changes={"record": locked.record_id, "file": report.original_name, "url": report.url,
                     "sha256": report.sha256},
        )  # fmt: skip
        if old_file and not FullTextReport.objects.filter(file=old_file).exists():
            storage = report.file.storage
            transaction.on_commit(lambda: storage.delete(old_file))
    return report


def report_not_retrieved(
    *, user, review: Review, item: ScreeningItem, reason: Any
) -> FullTextReport:
    """Record that a report could not be obtained, and why (a PRISMA 2020 box)."""
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="mark reports not retrieved")
    _full_text_item(review, item)
    reason = clean_input_text(
        reason, field="reason", max_length=MAX_NOT_RETRIEVED_REASON, required=True
    )
    with transaction.atomic():
        locked = ScreeningItem.objects.select_for_update().get(pk=item.pk)
        if locked.status != ItemStatus.PENDING:
            raise ValidationError(
                "Only a report still awaiting assessment can be marked not retrieved."
            )
        report, _ = FullTextReport.objects.select_for_update().get_or_create(
            record_id=locked.record_id, defaults={"review": review, "added_by": user}
        )
        if report.is_available:
            raise ValidationError("A full text is attached to this record already.")
        report.not_retrieved_reason = reason
        report.added_by = user
        report.save()
        _set_status(locked, ItemStatus.NOT_RETRIEVED)
        audit_record(
            actor=user,
            review=review,
            verb="marked not retrieved",
            obj=locked,
            object_repr=_item_repr(locked),
            changes={"record": locked.record_id, "reason": reason},
        )
    return report
