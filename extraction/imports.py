"""Extracted data from a spreadsheet into consensus extractions (issue 16, part 7).

A team that extracted in a spreadsheet uploads it (CSV or XLSX) and maps its columns to the
form's fields (``suggest_mapping``: a column named as the export names it maps by itself). Each
row is a result row of a study (``study`` names it by label); ``outcome.<key>``, ``arm1.<key>``
and ``arm2.<key>`` columns make the study's outcomes and arms (one per distinct name), the
``result.<key>`` columns its result rows, the others its characteristics. Files are read by
identification's safe readers: a workbook with a DOCTYPE, a damaged one, a binary file or one
over the size limit is refused with a message.
"""

from __future__ import annotations

import io

from extraction import schema as forms
from identification.importers.encoding import decode_stream, iter_lines
from identification.importers.errors import ImportFormatError
from identification.importers.tabular import csv_rows, xlsx_rows

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
#: Mapping targets besides the form's fields.
STUDY_COLUMN = "study"
IGNORED = ("reports", "form_version")


def read_table(upload, name: str = "") -> tuple[list[str], list[list[str]]]:
    """``(header, rows)`` of an uploaded CSV or XLSX; ``ImportFormatError`` says what is wrong."""
    data = upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFormatError(
            f"the file is over {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it or leave out "
            "columns that are not extracted data"
        )
    if not data.strip():
        raise ImportFormatError("the file is empty")
    if data[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        found = xlsx_rows(io.BytesIO(data))
    else:
        try:
            stream = decode_stream(io.BytesIO(data)).stream
        except ImportFormatError as exc:
            raise ImportFormatError(
                str(exc).replace("a bibliographic export", "a CSV or XLSX table")
            ) from None
        found = csv_rows(iter_lines(stream))
    header: list[str] | None = None
    rows: list[list[str]] = []
    for _line, cells in found:
        cells = [("" if c is None else str(c)).strip() for c in cells]
        if header is None:
            if any(cells):
                header = [c.lstrip("\ufeff") for c in cells]
            continue
        if not any(cells):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportFormatError(f"the file has over {MAX_IMPORT_ROWS} rows")
        rows.append(cells)
    if header is None:
        raise ImportFormatError("the table is empty (no header row)")
    return header, rows


def targets(schema: dict) -> list[str]:
    """Every column a file may map to, in the export's order."""
    out = [STUDY_COLUMN]
    out += [f["key"] for s in schema.get("sections", []) for f in s["fields"]]
    out += [f"outcome.{f['key']}" for f in schema.get("outcomes", [])]
    for arm in ("arm1", "arm2"):
        out += [f"{arm}.{f['key']}" for f in schema.get("arms", [])]
    out += [f"result.{f['key']}" for f in forms.RESULT_FIELDS if f["key"] not in _ROW_LINKS]
    return out


#: A result row's outcome and arm numbers come from the outcome and arm columns.
_ROW_LINKS = ("outcome", "arm1", "arm2")


def suggest_mapping(header: list[str], schema: dict) -> dict[str, str]:
    """Column -> target for the columns named as a target (case and spaces aside)."""
    known = {t.casefold(): t for t in targets(schema)}
    out = {}
    for column in header:
        target = known.get(column.strip().casefold().replace(" ", "_"))
        if target:
            out[column] = target
    return out
