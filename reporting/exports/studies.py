"""Included studies, their characteristics and the reports excluded at full text.

Each is a selector over the screening decisions at the moment of asking, written as CSV, XLSX
or RIS for the manuscript's tables and appendices.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from django.db.models import QuerySet

from extraction.selectors import study_of_record
from identification import importers
from identification.models import Record
from reporting.exports.files import XLSX, as_csv, as_xlsx
from reporting.exports.records import records_for_export
from reviews.models import Review
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem

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
    # The study the report belongs to (data extraction links reports to studies); blank for a
    # report not linked yet, which is a study of its own and named by its first author.
    "study_id",
]
EXCLUDED_COLUMNS = ["record_id", "study", "title", "year", "doi", "reason", "decided_at"]


def included_records(*, review: Review) -> QuerySet[Record]:
    """Records included after full-text assessment (one per included report)."""
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
    studies = study_of_record(review)
    for r in included_records(review=review):
        study = studies.get(r.pk)
        report = getattr(r, "fulltext_report", None)
        full_text = ""
        if report is not None:
            full_text = report.url or (report.original_name if report.file else "")
        yield [
            r.pk,
            study.label if study else _study_label(r),
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
            study.pk if study else "",
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
        XLSX,
    ),
    "excluded-csv": (
        "Excluded at full text, with reasons (CSV)",
        "excluded-full-text.csv",
        "text/csv",
    ),
    "excluded-xlsx": (
        "Excluded at full text, with reasons (XLSX)",
        "excluded-full-text.xlsx",
        XLSX,
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
