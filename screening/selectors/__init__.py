"""Reads of screening that more than one caller needs, with blinding applied in one place.

One module per concern: ``settings`` (a review's settings and reasons), ``policy`` (who may
do what, and what blinding lets them see), ``queues`` (the conflict queue), ``progress``
(counts of a stage and of a reviewer), ``agreement`` (kappa) and ``boxes`` (the PRISMA
diagram's screening boxes: the one definition of records screened and reports assessed, which
the dashboard's cards and the progress counts use too). The public names are all importable
from here. Screening's CSV files (votes, agreement) are built with every other export, in
``reporting.exports``.
"""

from __future__ import annotations

from screening.fulltext.selectors import report_of
from screening.selectors.agreement import PairAgreement, StageAgreement, stage_agreement
from screening.selectors.boxes import (
    OpenDecisions,
    ScreeningBoxes,
    excluded_reasons,
    records_screened,
    reports_assessed,
    screening_boxes,
    studies_included,
)
from screening.selectors.policy import (
    can_screen,
    conflicts_hidden_from,
    may_resolve,
    may_resolve_some,
    participants,
    status_visible,
    visible_votes,
    votes_visible,
)
from screening.selectors.progress import (
    COUNTER_LIVE_MAX,
    COUNTER_TTL,
    MyProgress,
    MyVote,
    ReviewerProgress,
    StageProgress,
    my_progress,
    my_recent_votes,
    stage_progress,
)
from screening.selectors.queues import conflicts_for
from screening.selectors.settings import highlighter_for, reasons_for, settings_for

__all__ = [
    "COUNTER_LIVE_MAX",
    "COUNTER_TTL",
    "MyProgress",
    "MyVote",
    "OpenDecisions",
    "PairAgreement",
    "ReviewerProgress",
    "ScreeningBoxes",
    "StageAgreement",
    "StageProgress",
    "can_screen",
    "conflicts_for",
    "conflicts_hidden_from",
    "excluded_reasons",
    "highlighter_for",
    "may_resolve",
    "may_resolve_some",
    "my_progress",
    "my_recent_votes",
    "participants",
    "reasons_for",
    "records_screened",
    "report_of",
    "reports_assessed",
    "screening_boxes",
    "settings_for",
    "stage_agreement",
    "stage_progress",
    "status_visible",
    "studies_included",
    "visible_votes",
    "votes_visible",
]
