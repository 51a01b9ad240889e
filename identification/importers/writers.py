"""Exports: RIS (see :func:`.ris.write_ris`) and CSV with the columns the issue fixes."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from core.spreadsheet import spreadsheet_safe
from identification.importers.records import ParsedRecord
from identification.importers.ris import write_ris

__all__ = ["CSV_COLUMNS", "spreadsheet_safe", "write_csv", "write_ris"]


def _csv_columns() -> tuple[str, ...]:
    # The fields of ParsedRecord.NORMALISED_FIELDS in the export's own order: the order is part
    # of the file format (fixed by the import issue; people's spreadsheets and scripts read the
    # columns by position, the tests compare whole files): the accession number first, the
    # abstract after the keywords.
    rest = [f for f in ParsedRecord.NORMALISED_FIELDS if f not in ("accession_number", "abstract")]
    after_keywords = rest.index("keywords") + 1
    return ("accession_number", *rest[:after_keywords], "abstract", *rest[after_keywords:])


#: Record columns, in order, after the caller's leading columns (``id, search, database``).
CSV_COLUMNS = _csv_columns()


def write_csv(
    records: Iterable[ParsedRecord | tuple[ParsedRecord, Mapping[str, object]]],
    stream: TextIO,
    *,
    extra_columns: Sequence[str] = ("id", "search", "database"),
    trailing_columns: Sequence[str] = (),
    excel_safe: bool = True,
) -> int:
    """Write one CSV row per record; return the number of rows.

    Columns are ``extra_columns`` (values taken from the mapping paired with each record, e.g.
    ``(record, {"id": 7, "search": "Scopus 2024-05-01", "database": "Scopus"})``), then
    :data:`CSV_COLUMNS`, then ``trailing_columns`` (also from the mapping). Authors and keywords
    are joined with ``"; "``. ``stream`` should be opened with ``newline=""``.
    """
    writer = csv.writer(stream)
    writer.writerow([*extra_columns, *CSV_COLUMNS, *trailing_columns])
    count = 0
    for item in records:
        record, extra = item if isinstance(item, tuple) else (item, {})
        row: list[str] = []
        for column in extra_columns:
            value = extra.get(column, "")
            row.append("" if value is None else str(value))
        for column in CSV_COLUMNS:
            value = getattr(record, column)
            if isinstance(value, list):
                text = "; ".join(value)
            elif value is None:
                text = ""
            else:
                text = str(value)
            row.append(spreadsheet_safe(text) if excel_safe and text else text)
        for column in trailing_columns:
            value = extra.get(column, "")
            row.append("" if value is None else str(value))
        writer.writerow(row)
        count += 1
    return count
