"""Extracted data as spreadsheets (issue 16, part 7): one row per result row, the study's
characteristics joined, from a finalised snapshot or the current consensus.

Columns are the form's keys, so that a file exported here can be imported back with no
mapping: ``study``, ``reports``, ``form_version``, the sections' fields (``design``, ...),
``outcome.<key>``, ``arm1.<key>``, ``arm2.<key>``, ``result.<key>`` and ``effect.yi``,
``effect.vi``, ``effect.ci_lb``, ``effect.ci_ub``, ``effect.problem``. A study without result
rows is one row of characteristics. Every cell is formula-safe (``core.spreadsheet``); numbers
stay numbers.
"""

from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from core.spreadsheet import spreadsheet_safe
from extraction import schema as forms

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
FORMATS = {"csv": CSV, "xlsx": XLSX}
EFFECT_COLUMNS = ("yi", "vi", "ci_lb", "ci_ub", "problem")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def _cell(value) -> object:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if value is None:
        return ""
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        text = value.strip()
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    return spreadsheet_safe(value)


def _group_keys(schema: dict, studies: list[dict], group: str) -> list[str]:
    keys = [f["key"] for f in schema.get(group, [])]
    for s in studies:
        for k in s["values"]:
            parts = k.split(".")
            if len(parts) == 3 and parts[0] == group and parts[2] not in keys:
                keys.append(parts[2])
    return keys


def columns_of(schema: dict, studies: list[dict]) -> list[str]:
    """The export's columns for ``studies`` (snapshot-shaped dicts) under ``schema``."""
    characteristics = [f["key"] for s in schema.get("sections", []) for f in s["fields"]]
    for s in studies:
        for k in sorted(s["values"]):
            if "." not in k and k not in characteristics:
                characteristics.append(k)
    arms = _group_keys(schema, studies, "arms")
    return [
        "study",
        "reports",
        "form_version",
        *characteristics,
        *(f"outcome.{k}" for k in _group_keys(schema, studies, "outcomes")),
        *(f"arm1.{k}" for k in arms),
        *(f"arm2.{k}" for k in arms),
        *(f"result.{f['key']}" for f in forms.RESULT_FIELDS),
        *(f"effect.{k}" for k in EFFECT_COLUMNS),
    ]


def _index(values: dict, key: str) -> int:
    """The 0-based row a result row's 1-based number points at (-1: none)."""
    try:
        return int(values.get(key, "")) - 1
    except (TypeError, ValueError):
        return -1


def rows_of(columns: list[str], studies: list[dict]) -> list[list[object]]:
    out = []
    for s in studies:
        values = s["values"]
        base = {
            "study": s["label"],
            "reports": " | ".join(s.get("reports", [])),
            "form_version": s.get("form_version", ""),
        }
        base |= {c: values.get(c, "") for c in columns if "." not in c and c not in base}
        results = forms.rows(values, "results")
        effects = {e["row"]: e for e in s.get("effects", [])}
        if not results:
            out.append([_cell(base.get(c, "")) for c in columns])
            continue
        for i in results:
            row = dict(base)
            p = f"results.{i}."
            for f in forms.RESULT_FIELDS:
                row[f"result.{f['key']}"] = values.get(p + f["key"], "")
            at = {k: _index(values, p + k) for k in ("outcome", "arm1", "arm2")}
            for c in columns:
                head, _, key = c.partition(".")
                if head == "outcome":
                    row[c] = values.get(f"outcomes.{at['outcome']}.{key}", "")
                elif head in ("arm1", "arm2"):
                    row[c] = values.get(f"arms.{at[head]}.{key}", "")
            effect = effects.get(i + 1, {})
            for k in EFFECT_COLUMNS:
                row[f"effect.{k}"] = effect.get(k)
            out.append([_cell(row.get(c, "")) for c in columns])
    return out


def as_csv(columns: list[str], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def as_xlsx(columns: list[str], rows: list[list[object]], *, title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_file(
    *, studies: list[dict], schema: dict, fmt: str, name: str
) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of the extracted data as ``fmt`` (csv or xlsx)."""
    columns = columns_of(schema, studies)
    rows = rows_of(columns, studies)
    if fmt == "xlsx":
        return as_xlsx(columns, rows, title="Extracted data"), XLSX, f"{name}.xlsx"
    return as_csv(columns, rows), CSV, f"{name}.csv"
