"""Setting screening up: the review's settings and default reasons, the title/abstract item of
each primary record, the receivers of the lower steps' hooks, and changes of the settings."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef

from core.audit import audit_record
from core.text import clean_input_text
from identification import rounds
from identification.models import Record
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review
from screening.constants import (
    DEFAULT_REASONS,
    MAX_KEYWORDS,
    MAX_REVIEWERS,
    MIN_REVIEWERS,
    ItemStatus,
    MaybePolicy,
    ReasonPolicy,
    ResolverPolicy,
    Stage,
)
from screening.keywords import KeywordError, check_keyword
from screening.models import ExclusionReason, ScreeningItem, ScreeningSettings
from screening.services._status import evaluate


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


def on_records_imported(
    *, review: Review, actor=None, progress=None, batch=None, **_: Any
) -> dict[str, int]:
    """New primary records join the title/abstract queue in the import's transaction.

    In an update round a copy of an earlier round's record is that record's duplicate, so it is
    not queued: the earlier record keeps its decisions. The summary counts those copies.
    """
    if progress is not None:
        progress(99, "Adding the new records to screening")
    answer = {"added_to_screening": screening_prepare(review=review, actor=actor)}
    if answer["added_to_screening"]:
        # Their text features are built by a job once the import has committed, so that the
        # next retrain only fits and scores (never inside the import: it does not wait).
        from screening.prioritisation.services import features_after_import

        features_after_import(review=review, actor=actor)
    number = batch.search.round_number if batch is not None else 1
    if number > 1:
        answer["earlier_round_copies"] = (
            Record.objects.filter(batch=batch, duplicate_of__isnull=False)
            .filter(rounds.earlier_q(number, prefix="duplicate_of__search__"))
            .count()
        )
    return answer


def on_clusters_changed(*, review: Review, full: bool = False, **_: Any) -> None:
    """Records that became primary (an undone merge, a new primary) join the queue."""
    screening_prepare(review=review, full=full)


def records_with_votes(*, review: Review, **_: Any) -> set[int]:
    """Records people have started screening: deduplication keeps them primary."""
    return set(
        ScreeningItem.objects.of_review(review)
        .filter(votes__isnull=False)
        .values_list("record_id", flat=True)
    )


def screening_prepare(*, review: Review, full: bool = False, actor=None) -> int:
    """Make screening ready: settings and default reasons once (:func:`screening_setup`), and a
    title/abstract item for every primary record that has none yet (records imported since the
    last call). Called by the hooks of imports and deduplication, never by a page that reads.
    Idempotent and safe to run concurrently (the unique constraint drops doubles). Returns the
    number of items created. ``actor`` is named in the audit event if screening is set up here.

    Only records above the last synced id are looked at, unless ``full``: a record whose
    import committed late with a lower id is found by a full pass, which assignment runs when
    a queue looks empty.
    """
    settings_obj = screening_setup(review=review, actor=actor)
    after = 0 if full else settings_obj.synced_record_id
    has_item = ScreeningItem.objects.at(Stage.TITLE_ABSTRACT).filter(record=OuterRef("pk"))
    screenable = Record.objects.of_review(review).primary()
    missing = (
        screenable.filter(pk__gt=after)
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
        seen = screenable.aggregate(m=Max("pk"))["m"] or 0
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
        raise ValidationError({field: [f"Keyword not saved: {e}." for e in errors[:5]]})
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
        ScreeningItem.objects.of_review(review)
        .filter(status=ItemStatus.PENDING)
        .annotate(n=Count("votes"))
        .filter(n__gte=settings_obj.reviewers_per_record)
        .values_list("pk", flat=True)
    )
    for pk in list(ready):
        item = ScreeningItem.objects.select_for_update().get(pk=pk)
        evaluate(item, settings_obj)
