"""The change log of an updated review (issue 21): what each round did to the results.

Per round: the records identified (per database), the duplicates against earlier rounds and
within the round, the new records screened, the new studies included and the totals after the
round, all counted live; and how each main analysis changed, from whoever answers
``identification.hooks.round_analyses`` (synthesis, once it runs analyses: "No analyses yet"
until then). Exportable as Markdown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from identification import hooks as identification_hooks
from identification import rounds
from identification.models import Record
from reporting.selectors import prisma_report
from reviews.models import Review

NO_ANALYSES = "No analyses yet: the change of each main analysis appears once synthesis runs them."


@dataclass(frozen=True)
class RoundChange:
    number: int
    date: dt.date | None
    reason: str
    identified: tuple[tuple[str, int], ...]
    identified_total: int
    duplicates_earlier: int
    duplicates_within: int
    new_records: int
    records_screened: int
    new_studies: int
    new_reports: int
    total_studies: int
    total_reports: int
    analyses: list[dict[str, Any]] = field(default_factory=list)


def _analyses(review: Review, number: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for answer in identification_hooks.round_analyses.send(
        review=review, round_number=number
    ).values():
        out.extend(answer or [])
    return out


def round_change(review: Review, number: int) -> RoundChange:
    """What round ``number`` did; a ValueError names a round the review does not have."""
    report = prisma_report(review=review, round_number=number)
    c = report.counts
    records = Record.objects.filter(review=review).filter(rounds.round_q(number))
    duplicates = records.filter(duplicate_of__isnull=False)
    earlier = duplicates.filter(rounds.earlier_q(number, prefix="duplicate_of__search__")).count()
    row = next((r for r in rounds.rounds_of(review) if r.number == number), None)
    total_studies = c.update.total_studies if c.update else c.new_studies
    total_reports = c.update.total_reports if c.update else c.new_reports
    return RoundChange(
        number=number,
        date=row.date if row else None,
        reason=row.reason if row else "",
        identified=c.databases + c.registers,
        identified_total=c.identified,
        duplicates_earlier=earlier,
        duplicates_within=c.duplicates_removed - earlier,
        new_records=records.filter(duplicate_of__isnull=True).count(),
        records_screened=c.records_screened,
        new_studies=c.new_studies,
        new_reports=c.new_reports,
        total_studies=total_studies,
        total_reports=total_reports,
        analyses=_analyses(review, number),
    )


def change_log(review: Review) -> list[RoundChange]:
    """Every round of ``review``, first to latest."""
    return [round_change(review, n) for n in range(1, rounds.current_round_number(review) + 1)]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _analysis_lines(analyses: list[dict[str, Any]]) -> list[str]:
    if not analyses:
        return [NO_ANALYSES]
    lines = [
        "| Analysis | Estimate before | after | 95% CI before | after | tau² before | after |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in analyses:
        b, f = a.get("before") or {}, a.get("after") or {}

        def ci(d: dict[str, Any]) -> str:
            return f"{_fmt(d.get('ci_low'))} to {_fmt(d.get('ci_high'))}" if d else "–"

        lines.append(
            f"| {_cell(str(a.get('name', '')))} | {_fmt(b.get('estimate'))} | "
            f"{_fmt(f.get('estimate'))} | {ci(b)} | {ci(f)} | {_fmt(b.get('tau2'))} | "
            f"{_fmt(f.get('tau2'))} |"
        )
    return lines


def _cell(text: str) -> str:
    # A Markdown table cell: no pipe, no line break.
    return " ".join(text.replace("|", "/").split())


def change_log_markdown(review: Review) -> str:
    """The change log as a Markdown document."""
    out = [f"# Change log: {_cell(review.title)}", ""]
    for ch in change_log(review):
        when = f" ({ch.date:%Y-%m-%d})" if ch.date else ""
        out += [f"## Round {ch.number}{when}", ""]
        if ch.reason:
            out += [f"Reason: {_cell(ch.reason)}", ""]
        out += [
            f"- Records identified: {ch.identified_total:,}",
            *[f"  - {_cell(name)}: {n:,}" for name, n in ch.identified],
            f"- Duplicates of records of earlier rounds: {ch.duplicates_earlier:,}",
            f"- Duplicates within the round: {ch.duplicates_within:,}",
            f"- New records (to screen): {ch.new_records:,}",
            f"- Records screened: {ch.records_screened:,}",
            f"- New studies included: {ch.new_studies:,} ({ch.new_reports:,} reports)",
            f"- Studies included after the round: {ch.total_studies:,} "
            f"({ch.total_reports:,} reports)",
            "",
            "### Analyses",
            "",
            *_analysis_lines(ch.analyses),
            "",
        ]
    return "\n".join(out).rstrip() + "\n"
