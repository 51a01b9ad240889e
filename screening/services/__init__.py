"""Every state change of screening. One function per change; each checks the actor's role
through ``reviews.access``, owns its transaction and records an audit event.

Blinding reaches the audit log too: an audit event for a vote says who voted on which record,
never the decision, because leads read the log while screening is still blinded. The decisions
live in ``VoteEvent``, which is shown under the blinding rules.

One module per concern: ``setup`` (settings, reasons seeded, the items of new records, the
hooks of the lower steps), ``reasons``, ``queue`` (what a reviewer screens next, in the order
of ``queue.queue_order``), ``votes`` and ``conflicts``; ``_common`` cleans the input they share
and ``_status`` writes an item's status. Full texts have their own package,
``screening.fulltext`` (its services in ``screening.fulltext.services``). The public functions
of the modules above are all importable from here.
"""

from __future__ import annotations

from screening.services._common import SCREEN_ROLES, clean_stage
from screening.services.conflicts import conflict_resolve
from screening.services.queue import (
    assignment_next,
    assignment_release_stale,
    queue_order,
)
from screening.services.reasons import reason_add, reason_delete, reason_move, reason_update
from screening.services.setup import (
    on_clusters_changed,
    on_records_imported,
    on_review_created,
    records_with_votes,
    screening_prepare,
    screening_setup,
    settings_update,
)
from screening.services.votes import vote_cast, vote_undo, vote_withdraw

__all__ = [
    "SCREEN_ROLES",
    "assignment_next",
    "assignment_release_stale",
    "clean_stage",
    "conflict_resolve",
    "on_clusters_changed",
    "on_records_imported",
    "on_review_created",
    "queue_order",
    "reason_add",
    "reason_delete",
    "reason_move",
    "reason_update",
    "records_with_votes",
    "screening_prepare",
    "screening_setup",
    "settings_update",
    "vote_cast",
    "vote_undo",
    "vote_withdraw",
]
