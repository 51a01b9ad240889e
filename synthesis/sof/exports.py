"""Exports of the summary-of-findings table: standalone HTML (simple table markup, inline
styles: pastes into Word as a table), XLSX and CSV (cells made safe by core.spreadsheet).
Footnotes are numbered as on the page; every row names the analysis, result and snapshot."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Font

from core.spreadsheet import spreadsheet_safe

FORMATS = {
    "html": ("text/html", "summary-of-findings.html"),
    "csv": ("text/csv", "summary-of-findings.csv"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "summary-of-findings.xlsx",
    ),
}
COLUMNS = [
    "Outcome",
    "Studies (k)",
    "Participants",
    "Relative effect (95% CI)",
    "Assumed control risk per 1,000",
    "Corresponding risk per 1,000 (95% CI)",
    "Difference per 1,000 (95% CI)",
    "Certainty",
    "Footnotes",
    "Plain-language statement",
    "Analysis",
    "Result",
    "Snapshot",
    "Stale",
]


def _r(x: float) -> int:
    import math

    return math.floor(x + 0.5)


def row_cells(rv, footnotes: list[dict]) -> list[Any]:
    a = rv.absolute
    marks = ",".join(str(f["n"]) for f in footnotes if f["row"] == rv.row.pk)
    return [
        rv.row.outcome_label,
        rv.k,
        rv.participants,
        rv.effect_text,
        _r(a.control_per_1000) if a else None,
        f"{_r(a.risk_per_1000)} ({_r(a.risk_lb_per_1000)} to {_r(a.risk_ub_per_1000)})"
        if a
        else None,
        f"{_r(a.difference_per_1000)} ({_r(a.difference_lb_per_1000)} to "
        f"{_r(a.difference_ub_per_1000)})"
        if a
        else None,
        rv.certainty or "not yet rated",
        marks,
        rv.statement,
        rv.row.analysis.name,
        rv.result.pk if rv.result else None,
        rv.result.snapshot_number if rv.result else None,
        "stale" if rv.stale else "",
    ]


def _cell(value):
    return "" if value is None else spreadsheet_safe(value)


def sof_csv(view: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for rv in view["rows"]:
        writer.writerow([_cell(c) for c in row_cells(rv, view["footnotes"])])
    writer.writerow([])
    for f in view["footnotes"]:
        writer.writerow([f["n"], _cell(f["text"])])
    return buffer.getvalue().encode("utf-8")


def sof_xlsx(view: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "summary of findings"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for rv in view["rows"]:
        sheet.append([_cell(c) for c in row_cells(rv, view["footnotes"])])
    notes = book.create_sheet("footnotes")
    notes.append(["n", "footnote"])
    for f in view["footnotes"]:
        notes.append([f["n"], _cell(f["text"])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sof_html(review, view: dict) -> bytes:
    rows = [(rv, row_cells(rv, view["footnotes"])) for rv in view["rows"]]
    return render_to_string(
        "synthesis/sof/export.html", {"review": review, "view": view, "rows": rows}
    ).encode("utf-8")


def export_bytes(review, view: dict, fmt: str) -> tuple[bytes, str, str]:
    """``(body, media type, file name)``; KeyError for an unknown format."""
    media_type, name = FORMATS[fmt]
    if fmt == "csv":
        body = sof_csv(view)
    elif fmt == "xlsx":
        body = sof_xlsx(view)
    else:
        body = sof_html(review, view)
    return body, media_type, f"{review.slug}-{name}"
