"""What screening tells identification's record pages, through ``identification.hooks``.

Identification may not import screening, so its record list, the list's export, the records API
and the record page ask: ``record_filters`` (filter by stage and decision), ``record_statuses``
(where each record of a page stands) and ``record_steps`` (a record's votes, notes and history).

Blinding is applied here exactly as everywhere else, through ``selectors.policy``:

- filters and statuses use an item's status as the user may see it: a conflict hidden from the
  user (``conflicts_hidden_from``: a voter while blinded, a viewer) is a record still awaiting
  votes to them, so "In conflict" does not find it and "Awaiting votes" does;
- nothing filters by anyone's vote, so nobody can sort records by another reviewer's blinded
  decision;
- a record's votes and notes are the ``visible_votes``, its history the user's own events
  unless ``votes_visible``; a resolution shows only on a settled record.
"""

from __future__ import annotations

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)

from identification.hooks import FilterField, RecordEntry, RecordFilters, RecordStep
from reviews.models import Review
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem
from screening.selectors.policy import (
    conflicts_hidden_from,
    status_visible,
    visible_votes,
    votes_visible,
)

STAGE_ORDER = {stage: i for i, stage in enumerate(Stage.values)}
STATUS_LABELS = dict(ItemStatus.choices)
HIDDEN = (
    "Screening is blinded: other reviewers' votes and notes on this record stay hidden until "
    "it is settled."
)


def _name(user, fallback: str = "") -> str:
    if user is None:
        return fallback or "(former member)"
    return user.get_username()


# --- Filters --------------------------------------------------------------------------------


def record_filters(**_kwargs) -> RecordFilters:
    return RecordFilters(
        fields=(
            FilterField(
                "stage",
                "Screening stage",
                tuple(Stage.choices),
                "Records that reached this screening stage; with a decision, the decision at "
                "this stage.",
            ),
            FilterField(
                "decision",
                "Screening decision",
                tuple(ItemStatus.choices),
                "Where records stand at the chosen stage (without one, at the last stage they "
                "reached). While screening is blinded, a conflict you may not see yet is shown "
                "as awaiting votes.",
            ),
        ),
        q=filter_q,
    )


def _with_status(items: QuerySet, decision: str, hidden: Q | None) -> QuerySet:
    """``items`` whose status, as the user may see it, is ``decision``."""
    if not decision:
        return items
    if decision == ItemStatus.CONFLICT:
        conflicts = items.filter(status=ItemStatus.CONFLICT)
        if hidden is None:
            return conflicts
        if not hidden:  # every conflict is hidden from this user
            return conflicts.none()
        return conflicts.exclude(hidden)
    if decision == ItemStatus.PENDING:
        waiting = Q(status=ItemStatus.PENDING)
        if hidden is not None:
            waiting |= Q(status=ItemStatus.CONFLICT) & hidden
        return items.filter(waiting)
    return items.filter(status=decision)


def filter_q(*, review: Review, user, values: dict[str, str]) -> Q | None:
    """Records at ``values["stage"]`` with the status ``values["decision"]`` as ``user`` may
    see it; without a stage, the status at the last stage each record reached."""
    stage, decision = values.get("stage") or "", values.get("decision") or ""
    if not stage and not decision:
        return None
    if (stage and stage not in Stage.values) or (decision and decision not in ItemStatus.values):
        return Q(pk__in=[])
    items = ScreeningItem.objects.filter(review=review)
    hidden = conflicts_hidden_from(user=user, review=review) if decision else None

    def of_record(qs: QuerySet) -> Exists:
        return Exists(qs.filter(record=OuterRef("pk")))

    if stage:
        return Q(of_record(_with_status(items.filter(stage=stage), decision, hidden)))
    full_text = items.filter(stage=Stage.FULL_TEXT)
    title_abstract = items.filter(stage=Stage.TITLE_ABSTRACT)
    return Q(of_record(_with_status(full_text, decision, hidden))) | (
        Q(of_record(_with_status(title_abstract, decision, hidden))) & ~Q(of_record(full_text))
    )


# --- The record list: where each record stands ----------------------------------------------


def record_statuses(*, review: Review, user, records) -> dict[int, str]:
    """One query, whatever the votes: which conflicts are hidden from ``user`` is asked in the
    same statement as the statuses, so the work done never tells a conflict from a record
    still waiting (see ``tests/screening/test_blinding_timing.py``)."""
    hidden = conflicts_hidden_from(user=user, review=review)
    items = ScreeningItem.objects.filter(review=review, record_id__in=[r.pk for r in records])
    if hidden:
        items = items.annotate(
            hidden=ExpressionWrapper(Q(status=ItemStatus.CONFLICT) & hidden, BooleanField())
        )
    else:
        # None: no conflict is hidden; Q(): every one is.
        items = items.annotate(hidden=Value(hidden is not None, BooleanField()))
    last: dict[int, tuple[str, str, bool]] = {}
    for record_id, stage, status, is_hidden in items.values_list(
        "record_id", "stage", "status", "hidden"
    ):
        seen = last.get(record_id)
        if seen is None or STAGE_ORDER[stage] > STAGE_ORDER[seen[0]]:
            last[record_id] = (stage, status, bool(is_hidden))
    out = {}
    for record_id, (stage, status, is_hidden) in last.items():
        if status == ItemStatus.CONFLICT and is_hidden:
            status = ItemStatus.PENDING
        out[record_id] = f"{Stage(stage).label}: {STATUS_LABELS[status]}"
    return out


# --- The record page: votes, notes and history ----------------------------------------------


def record_steps(*, review: Review, user, record) -> list[RecordStep]:
    items = sorted(
        ScreeningItem.objects.filter(review=review, record=record).select_related("final_reason"),
        key=lambda i: STAGE_ORDER[i.stage],
    )
    steps = []
    for item in items:
        visible = votes_visible(user=user, review=review, item=item)
        status = STATUS_LABELS[status_visible(user=user, review=review, item=item)]
        if item.is_settled and item.final_reason is not None:
            status = f"{status} ({item.final_reason.label})"
        entries = tuple(
            RecordEntry(
                who=_name(vote.reviewer),
                what=vote.get_decision_display(),
                reason=vote.reason.label if vote.reason else "",
                note=vote.note,
                when=vote.updated_at,
            )
            for vote in visible_votes(user=user, review=review, item=item)
        )
        events = item.vote_events.select_related("reviewer").order_by("created_at", "pk")
        if not visible:
            events = events.filter(reviewer=user)
        history = [
            RecordEntry(
                who=_name(event.reviewer),
                what=f"{event.get_action_display()}: {event.get_decision_display()}",
                reason=event.reason_label,
                note=event.note,
                when=event.created_at,
            )
            for event in events
        ]
        resolution = getattr(item, "resolution", None) if item.is_settled else None
        if resolution is not None and visible:
            history.append(
                RecordEntry(
                    who=_name(resolution.resolved_by),
                    what=f"Resolved the conflict: {resolution.get_decision_display()}",
                    reason=resolution.reason.label if resolution.reason else "",
                    note=resolution.note,
                    when=resolution.resolved_at,
                )
            )
        steps.append(
            RecordStep(
                title=f"Screening: {Stage(item.stage).label.lower()}",
                status=status,
                entries=entries,
                history=tuple(history),
                hidden="" if visible else HIDDEN,
            )
        )
    return steps
