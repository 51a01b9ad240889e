"""What identification lets the later steps join (see :mod:`core.hooks`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from core.hooks import Hook

#: Sent by the import job inside its transaction, after a file's records are stored, with
#: ``review``, ``batch``, ``actor`` and ``progress`` (pct 0-100, message). Each receiver returns
#: a dict merged into the import's summary. Deduplication (order 10) compares the new records
#: with the review's; screening (order 20) adds the new primary records to its queue.
records_imported = Hook("records_imported", __doc__ or "")

#: Asked before records are deleted (a search deleted with its records), with ``review`` and
#: ``records`` (a queryset of them). Each receiver returns the ids of those records a later step
#: has started work on (screening: votes cast, a full text attached); any id refuses the deletion.
records_in_use = Hook("identification.records_in_use")

#: Sent inside the deleting transaction just before the records go, with ``review``, ``records``
#: (a queryset of them) and ``actor``. Each receiver lets go of what it holds of them and returns
#: a dict of counts for the audit event: deduplication (order 10) drops their pairs and mends
#: their clusters (another member becomes primary), screening (order 20) drops their items.
records_removed = Hook("identification.records_removed")


# --- The record pages: what later steps add to them ------------------------------------------


@dataclass(frozen=True)
class FilterField:
    """One filter of the record list that a later step provides (a choice, by ``name``)."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...]
    description: str = ""


@dataclass(frozen=True)
class RecordFilters:
    """A later step's filters of the record list.

    ``q(review=, user=, values=)`` returns a filter on ``Record`` for the values chosen (by
    field name, ``""`` where none is), or ``None`` when none of its fields is set. It answers
    for ``user``: what they may not see (another reviewer's blinded vote, a conflict hidden
    from them) must neither narrow nor widen the list.
    """

    fields: tuple[FilterField, ...]
    q: Callable[..., Q | None]


#: Asked with no arguments when the record list, its export or the records API build their
#: filters; each receiver returns a :class:`RecordFilters`. Screening answers with its stage and
#: decision filters, under its blinding rules.
record_filters = Hook("identification.record_filters")


@dataclass(frozen=True)
class RecordEntry:
    """One line of what a later step did with a record: who, what, why and when."""

    who: str
    what: str
    reason: str = ""
    note: str = ""
    when: datetime | None = None


@dataclass(frozen=True)
class RecordStep:
    """What a later step did with one record, as the user asking may see it.

    ``status``: where the record stands there; ``entries`` its current decisions (votes),
    ``history`` every change, ``hidden``: a sentence saying what the user may not see yet.
    """

    title: str
    status: str
    entries: tuple[RecordEntry, ...] = ()
    history: tuple[RecordEntry, ...] = ()
    hidden: str = ""


#: Asked by the record page with ``review``, ``user`` and ``record``; each receiver returns a
#: list of :class:`RecordStep`. Screening answers with each stage's status, votes, notes and
#: history, under its blinding rules.
record_steps = Hook("identification.record_steps")

#: Asked by the record list with ``review``, ``user`` and ``records`` (the page's): each
#: receiver returns ``{record id: a short status}`` for the records it knows, as ``user`` may
#: see it. Screening answers with the stage each record is at and its status there.
record_statuses = Hook("identification.record_statuses")

#: Asked by the change log of update rounds (``reporting/changelog.py``) with ``review`` and
#: ``round_number``: each receiver returns a list of dicts, one per main analysis, with ``name``
#: and ``before`` / ``after`` dicts of ``estimate``, ``ci_low``, ``ci_high`` and ``tau2`` (the
#: analysis on the records of the earlier rounds, then with this round's). Synthesis joins it
#: once it runs analyses; until then nobody answers and the change log says "No analyses yet".
round_analyses = Hook("identification.round_analyses")
