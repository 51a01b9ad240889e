"""Screening's CSV exports: the votes (blinded row by row) and the agreement figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from core.spreadsheet import spreadsheet_safe
from reviews.models import Review
from screening.constants import ItemStatus, Stage
from screening.models import Vote
from screening.selectors import may_resolve, settings_for, stage_agreement, status_visible

AGREEMENT_CSV_COLUMNS = [
    "stage",
    "reviewer_a",
    "reviewer_b",
    "records",
    "both_include",
    "a_include_b_exclude",
    "a_exclude_b_include",
    "both_exclude",
    "percent_agreement",
    "kappa",
    "statistic",
]


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def agreement_csv_rows(review: Review, *, user) -> Iterator[str]:
    """The agreement figures as ``user`` may see them (see ``stage_agreement``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AGREEMENT_CSV_COLUMNS)
    for stage in Stage.values:
        report = stage_agreement(review, stage, user=user)
        t, k = report.pooled_table, report.pooled
        writer.writerow(
            [stage, "(first vote)", "(second vote)", t.n, t.both_yes, t.a_yes_b_no,
             t.a_no_b_yes, t.both_no, _fmt(k.percent_agreement, 2), _fmt(k.kappa),
             "Cohen's kappa, pooled"]
        )  # fmt: skip
        for pair in report.pairs:
            t, k = pair.table, pair.kappa
            writer.writerow(
                [stage, spreadsheet_safe(pair.reviewer_a), spreadsheet_safe(pair.reviewer_b),
                 t.n, t.both_yes,
                 t.a_yes_b_no, t.a_no_b_yes, t.both_no, _fmt(k.percent_agreement, 2),
                 _fmt(k.kappa), "Cohen's kappa"]
            )  # fmt: skip
        if report.fleiss is not None:
            f = report.fleiss
            pct = None if f.observed is None else 100 * f.observed
            writer.writerow(
                [stage, "(all)", "", f.items, "", "", "", "", _fmt(pct, 2), _fmt(f.kappa),
                 f"Fleiss' kappa, {f.raters_per_item} votes per record"]
            )  # fmt: skip
    yield buffer.getvalue()


VOTES_CSV_COLUMNS = [
    "stage",
    "record_id",
    "title",
    "doi",
    "status",
    "reviewer",
    "decision",
    "reason",
    "note",
    "voted_at",
]


def votes_csv_rows(*, user, review: Review, stage: str) -> Iterator[str]:
    """Votes of one stage as CSV with blinding applied row by row, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(VOTES_CSV_COLUMNS)
    yield buffer.getvalue()
    blinded = settings_for(review).blinded
    resolver_cache: dict[int, bool] = {}
    votes = (
        Vote.objects.of_review(review)
        .at(stage)
        .primary(review)
        .select_related("record", "reviewer", "reason", "item")
        .order_by("item_id", "created_at", "pk")
    )
    for vote in votes.iterator(chunk_size=2000):
        item = vote.item
        visible = vote.reviewer_id == user.pk or not blinded or item.is_settled
        if not visible and item.status == ItemStatus.CONFLICT:
            if item.pk not in resolver_cache:
                resolver_cache[item.pk] = may_resolve(user=user, review=review, item=item)
            visible = resolver_cache[item.pk]
        if not visible:
            continue
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                stage,
                vote.record_id,
                spreadsheet_safe(vote.record.title[:500]),
                spreadsheet_safe(vote.record.doi),
                status_visible(user=user, review=review, item=item),
                spreadsheet_safe(vote.reviewer_label),  # or the name an archive kept
                vote.decision,
                spreadsheet_safe(vote.reason.label if vote.reason else ""),
                spreadsheet_safe(vote.note),
                vote.updated_at.isoformat(),
            ]
        )
        yield buffer.getvalue()
