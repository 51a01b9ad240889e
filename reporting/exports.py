"""Reporting exports: included studies, their characteristics, and full-text exclusions.

Each is a selector over the screening decisions at the moment of asking, written as CSV, XLSX
or RIS for the manuscript's tables and appendices.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from django.db.models import QuerySet

from core.spreadsheet import spreadsheet_safe
from identification import importers
from identification.models import Record
from reviews import selectors as review_selectors
from reviews.models import Review

CHARACTERISTICS_COLUMNS = [
    "record_id",
    "study",
    "first_author",
    "year",
    "title",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "publication_type",
    "language",
    "found_in",
    "full_text",
]
EXCLUDED_COLUMNS = ["record_id", "study", "title", "year", "doi", "reason", "decided_at"]


def included_records(*, review: Review) -> QuerySet[Record]:
    """Records included after full-text assessment (one per included report)."""
    from screening.constants import ItemStatus, Stage

    return (
        Record.objects.filter(
            review=review,
            screening_items__stage=Stage.FULL_TEXT,
            screening_items__status=ItemStatus.INCLUDED,
        )
        .select_related("search", "fulltext_report")
        .prefetch_related("duplicates__search")
        .order_by("year", "pk")
    )


def excluded_at_full_text(*, review: Review):
    from screening.constants import ItemStatus, Stage
    from screening.models import ScreeningItem

    return (
        ScreeningItem.objects.filter(
            review=review, stage=Stage.FULL_TEXT, status=ItemStatus.EXCLUDED
        )
        .select_related("record", "final_reason")
        .order_by("final_reason__position", "record__year", "record_id")
    )


def _study_label(record: Record) -> str:
    author = record.first_author.split(",")[0].strip() if record.first_author else "Anon."
    return f"{author} {record.year or 'n.d.'}"


def _found_in(record: Record) -> str:
    """Every database that returned this study: the record's own search and its duplicates'."""
    names = {record.search.database}
    names.update(d.search.database for d in record.duplicates.all())
    return "; ".join(sorted(names))


def characteristics_rows(*, review: Review) -> Iterator[list[object]]:
    for r in included_records(review=review):
        report = getattr(r, "fulltext_report", None)
        full_text = ""
        if report is not None:
            full_text = report.url or (report.original_name if report.file else "")
        yield [
            r.pk,
            _study_label(r),
            r.first_author,
            r.year or "",
            r.title,
            r.journal,
            r.volume,
            r.issue,
            r.pages,
            r.doi,
            r.pmid,
            r.publication_type,
            r.language,
            _found_in(r),
            full_text,
        ]


def excluded_rows(*, review: Review) -> Iterator[list[object]]:
    for item in excluded_at_full_text(review=review):
        r = item.record
        yield [
            r.pk,
            _study_label(r),
            r.title,
            r.year or "",
            r.doi,
            item.final_reason.label if item.final_reason else "No reason recorded",
            item.settled_at.isoformat() if item.settled_at else "",
        ]


def as_csv(columns: list[str], rows: Iterable[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([importers.spreadsheet_safe(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def as_xlsx(columns: list[str], rows: Iterable[list[object]], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([importers.spreadsheet_safe(v) for v in row])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def included_ris(*, review: Review) -> bytes:
    text = io.StringIO()
    importers.write_ris((p for p, _ in records_for_export(included_records(review=review))), text)
    return text.getvalue().encode("utf-8")


def included_csv(*, review: Review) -> bytes:
    text = io.StringIO(newline="")
    importers.write_csv(
        records_for_export(included_records(review=review)),
        text,
        trailing_columns=("cluster_id", "duplicate_of"),
    )
    return text.getvalue().encode("utf-8")


EXPORTS = {
    # name: (label, filename suffix, content type, builder)
    "included-ris": (
        "Included studies (RIS)",
        "included.ris",
        "application/x-research-info-systems",
    ),
    "included-csv": ("Included studies (CSV)", "included.csv", "text/csv"),
    "characteristics-csv": (
        "Characteristics of included studies (CSV)",
        "characteristics.csv",
        "text/csv",
    ),
    "characteristics-xlsx": (
        "Characteristics of included studies (XLSX)",
        "characteristics.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "excluded-csv": (
        "Excluded at full text, with reasons (CSV)",
        "excluded-full-text.csv",
        "text/csv",
    ),
    "excluded-xlsx": (
        "Excluded at full text, with reasons (XLSX)",
        "excluded-full-text.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def build_export(*, review: Review, name: str) -> bytes:
    if name == "included-ris":
        return included_ris(review=review)
    if name == "included-csv":
        return included_csv(review=review)
    if name == "characteristics-csv":
        return as_csv(CHARACTERISTICS_COLUMNS, characteristics_rows(review=review))
    if name == "characteristics-xlsx":
        return as_xlsx(
            CHARACTERISTICS_COLUMNS, characteristics_rows(review=review), title="Included studies"
        )
    if name == "excluded-csv":
        return as_csv(EXCLUDED_COLUMNS, excluded_rows(review=review))
    if name == "excluded-xlsx":
        return as_xlsx(
            EXCLUDED_COLUMNS, excluded_rows(review=review), title="Excluded at full text"
        )
    raise KeyError(name)


def records_for_export(records: Iterable[Record]):
    """(ParsedRecord, extra columns) pairs for the pure writers."""
    fields = importers.ParsedRecord.NORMALISED_FIELDS
    for r in records:
        values = {name: getattr(r, name) for name in fields}
        # Lists are copied: the writers must not share the model's lists.
        values["authors"], values["keywords"] = list(r.authors), list(r.keywords)
        parsed = importers.ParsedRecord(**values)
        yield (
            parsed,
            {
                "id": r.pk,
                "search": r.search_id,
                "database": r.search.database,
                "cluster_id": r.cluster_id,
                "duplicate_of": r.duplicate_of_id,
            },
        )


def records_export(records, fmt: str) -> IO[bytes]:
    """Write ``records`` as RIS or CSV into a temporary file (on disk past 8 MB), rewound."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20, mode="w+b")  # noqa: SIM115 - returned open
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    rows = records_for_export(records.iterator(chunk_size=2000))
    if fmt == "ris":
        importers.write_ris((parsed for parsed, _extra in rows), text)
    else:
        importers.write_csv(rows, text, trailing_columns=("cluster_id", "duplicate_of"))
    text.flush()
    text.detach()
    spool.seek(0)
    return spool


# --- the audit log --------------------------------------------------------------------------


AUDIT_CSV_COLUMNS = ["id", "when", "who", "verb", "object_type", "object_id", "object", "changes"]


def audit_csv_rows(*, review: Review) -> Iterator[str]:
    """The review's audit log as CSV text, streamed row by row, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_CSV_COLUMNS)
    yield buffer.getvalue()
    events = review_selectors.audit_events_of(review=review).order_by("created_at", "pk")
    for event in events.iterator(chunk_size=2000):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                event.pk,
                event.created_at.isoformat(),
                spreadsheet_safe(event.actor_username or "system"),
                event.verb,
                event.object_type,
                event.object_id,
                spreadsheet_safe(event.object_repr),
                spreadsheet_safe(json.dumps(event.changes, ensure_ascii=False, sort_keys=True)),
            ]
        )
        yield buffer.getvalue()
