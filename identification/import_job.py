"""The import job: a stored file of a search read into Records, all or nothing.

The parsing is pure (``identification/importers``). This module inserts the parsed records
(PostgreSQL ``COPY``, large RIS files read in parts by worker processes; ``bulk_create`` on
SQLite) inside the job's transaction, then sends ``records_imported`` so that later steps
(deduplication, screening) take the new records in the same transaction: a file that breaks
halfway leaves nothing behind, and no record exists undeduplicated for anyone to screen.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from core.audit import audit_record
from core.fields import TextJSONField
from core.job_display import Row, Subject, items_of, number, rows_of
from core.jobs import JobError, register
from core.models import Job
from identification import hooks, importers
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record
from identification.services import IMPORT_ROLES
from reviews.constants import ReviewStatus
from reviews.models import Review
from reviews.services import review_status_advance

INSERT_BATCH = 2000
#: The smallest part of a file a worker reads (tests make it small, to cut files into many).
PART_MIN_BYTES = 2**20
#: Rows a COPY statement carries before the next begins (foreign keys are checked at each end).
COPY_STATEMENT_BYTES = 16 * 2**20
logger = logging.getLogger(__name__)


def _record_from(parsed: importers.ParsedRecord, batch: ImportBatch) -> Record:
    """The Record for ``parsed`` (bulk_create), cut to the model's column sizes as the COPY
    rows of :func:`_row_format` are; a year that no smallint holds is no year."""
    values = {name: getattr(parsed, name) for name in importers.ParsedRecord.NORMALISED_FIELDS}
    for name, limit in _MAX_LENGTHS.items():
        values[name] = values[name][:limit]
    if not (values["year"] and 0 < values["year"] < 32768):
        values["year"] = None
    return Record(
        review_id=batch.review_id,
        search_id=batch.search_id,
        batch_id=batch.pk,
        raw=parsed.raw,
        source_line=parsed.source_line,
        **values,
    )


_COPY_FIELDS = [
    f
    for f in Record._meta.concrete_fields
    if not f.primary_key  # the id comes from the sequence
]
# The columns a parsed record fills itself; the others are the same in every row of a file.
_RECORD_COLUMNS = frozenset(importers.ParsedRecord.NORMALISED_FIELDS) | {"raw", "source_line"}
# Sized text columns a record fills, and their sizes in characters (longer values are cut).
_MAX_LENGTHS = {
    f.attname: f.max_length for f in _COPY_FIELDS if f.attname in _RECORD_COLUMNS and f.max_length
}
# PostgreSQL column types (Django's db_type without its size) to pgcopy's kinds.
_VALUE_KINDS = {
    "text": "text",
    "varchar": "text",
    "smallint": "smallint_positive",
    "integer": "integer",
    "jsonb": "jsonb",
}
_CONST_KINDS = {
    "bigint": "bigint",
    "integer": "integer",
    "boolean": "boolean",
    "timestamp with time zone": "timestamptz",
    "jsonb": "jsonb",
    "text": "text",
    "varchar": "text",
}


def _row_format(batch: ImportBatch, connection) -> importers.pgcopy.RowFormat:
    """How a record of ``batch`` becomes a row of the records table, for binary COPY.

    Built from the model, so a new column cannot be forgotten: an unknown type fails here.
    The columns a record does not fill carry the model's defaults (computed once a file).
    """
    template = _record_from(importers.ParsedRecord(), batch)
    template.created_at = timezone.now()
    columns = []
    for f in _COPY_FIELDS:
        own = f.attname in _RECORD_COLUMNS
        db_type = re.sub(r"\(.*\)$", "", f.db_type(connection) or "")
        kinds = _VALUE_KINDS if own else _CONST_KINDS
        kind = "json_text" if isinstance(f, TextJSONField) else kinds.get(db_type)
        if kind is None:
            raise TypeError(f"Record.{f.attname}: no COPY encoding for {db_type!r}")
        if own:
            column = importers.pgcopy.Column(
                attribute=f.attname, kind=kind, max_length=f.max_length or 0
            )
        else:
            value = getattr(template, f.attname)
            column = importers.pgcopy.Column(const=importers.pgcopy.field(kind, value))
        columns.append(column)
    return importers.pgcopy.RowFormat(columns)


class _Sink:
    """Where an import's records go: ``insert(records)`` everywhere, and on PostgreSQL
    ``write_rows(rows)`` for rows that :attr:`row_format` encoded (in a worker, say)."""

    def __init__(self, insert, write_rows=None, row_format=None) -> None:
        self.insert = insert
        self.write_rows = write_rows
        self.row_format = row_format


class _CopyStatements:
    """Binary COPY rows into the records table, in statements of about ``statement_bytes``.

    One statement at a time is open, fed from a queue by psycopg's writer thread, so the server
    stores rows while we parse the next. Rows from import workers end a statement every
    ``statement_bytes``, because the foreign keys of the rows are checked at the end of each
    (see :func:`_insert`): checked at commit, 300,000 checks for 100,000 records ran after
    everything else, on one core, for a sixth of a large import's time. Rows parsed here go
    into one statement: while a statement ends, nothing is parsed, and that cost more (29.8
    against 28.9 s for 100k records) than checking all the keys at the end.
    """

    def __init__(self, cursor, sql: str, statement_bytes: int) -> None:
        self.cursor = cursor
        self.sql = sql
        self.statement_bytes = statement_bytes
        self._open = None  # (context manager, Copy) of the statement being written
        self._written = 0

    def write(self, rows: bytes, *, may_end: bool = True) -> None:
        """Write whole rows (never part of one: a statement may end after them, if
        ``may_end``). Nothing to write opens no statement."""
        if not rows:
            return
        if self._open is None:
            manager = self.cursor.copy(self.sql, writer=QueuedLibpqWriter(self.cursor))
            self._open = (manager, manager.__enter__())
            self._open[1].write(importers.pgcopy.SIGNATURE)
            self._written = 0
        self._open[1].write(rows)
        self._written += len(rows)
        if may_end and self._written >= self.statement_bytes:
            self.end()

    def end(self) -> None:
        """End the open statement; the server stores its last rows and checks their keys."""
        if self._open is not None:
            manager, copy = self._open
            self._open = None
            copy.write(importers.pgcopy.TRAILER)
            manager.__exit__(None, None, None)

    def abort(self, error: BaseException) -> None:
        """Abandon the open statement (the transaction is failing anyway)."""
        if self._open is not None:
            manager, _copy = self._open
            self._open = None
            manager.__exit__(type(error), error, error.__traceback__)


@contextmanager
def _insert(batch: ImportBatch) -> Iterator[_Sink]:
    """Give a sink that stores the records of ``batch``: COPY on PostgreSQL, bulk_create
    elsewhere.

    On PostgreSQL binary COPY statements carry the file (:class:`_CopyStatements`). Django's
    bulk_create on psycopg 3 was much slower: it binds parameters on the client, quoting every
    JSON value in Python. Rows are encoded by :mod:`identification.importers.pgcopy`, here or in the
    workers of a file read in parts. Nothing else may use the default connection until the
    block ends (the import job writes its progress on its own connection).
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield _Sink(
            lambda records: Record.objects.bulk_create([_record_from(r, batch) for r in records])
        )
        return
    row_format = _row_format(batch, connection)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _COPY_FIELDS)
    table = connection.ops.quote_name(Record._meta.db_table)
    with connection.cursor() as cursor:
        # Most of the server's time went into compressing the large values (the raw record,
        # the abstract) with PostgreSQL's default pglz; lz4 (PostgreSQL 14+, when built with
        # it) does that several times faster. Only values written in this transaction.
        cursor.execute(
            "SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
            "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
        )
        # The table's foreign keys are deferred to commit (Django's default); for these rows
        # they are checked at the end of each COPY statement instead, while we parse on.
        keys = ", ".join(
            connection.ops.quote_name(name)
            for name, info in connection.introspection.get_constraints(
                cursor, Record._meta.db_table
            ).items()
            if info["foreign_key"]
        )
        if keys:
            cursor.execute(f"SET CONSTRAINTS {keys} IMMEDIATE")
        statements = _CopyStatements(
            cursor.cursor,
            f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)",
            COPY_STATEMENT_BYTES,
        )
        encode = row_format.encode
        try:
            yield _Sink(
                lambda records: statements.write(encode(records), may_end=False),
                statements.write,
                row_format,
            )
        except BaseException as error:
            statements.abort(error)
            raise
        statements.end()
        if keys:
            cursor.execute(f"SET CONSTRAINTS {keys} DEFERRED")


def _parts_reader(
    batch: ImportBatch, stream: importers.RecordStream, sink: _Sink
) -> importers.parallel.PartsReader | None:
    """Workers reading ``batch``'s file in parts, when it is worth it and possible."""
    processes = settings.EVIDENT_IMPORT_PROCESSES
    if (
        sink.write_rows is None
        or processes < 2
        or batch.size < settings.EVIDENT_IMPORT_PARALLEL_MIN_MB * 2**20
        or stream.mapping
        or not importers.parallel.splittable(stream.format, stream.encoding)
    ):
        return None
    try:
        path = batch.file.path
    except NotImplementedError:  # storage without local files: read it here
        return None
    # Many parts a worker (about 32), so that they finish together: at the end the others wait
    # for the last part; 8 a worker took 0.45 s longer at 100k records. At most 16 MB each.
    part_bytes = max(PART_MIN_BYTES, min(16 * 2**20, batch.size // (processes * 32)))
    binary = open(path, "rb")  # noqa: SIM115 - closed with the reader
    parts = importers.parallel.iter_parts(binary, fmt=stream.format, part_bytes=part_bytes)
    try:
        reader = importers.parallel.PartsReader(
            path,
            parts=parts,
            fmt=stream.format,
            encoding=stream.encoding,
            row_format=sink.row_format,
            processes=processes,
            report=stream.report,
            on_close=binary.close,
        )
    except OSError:
        binary.close()
        logger.warning("Could not start import workers; reading %s in one process", path)
        return None
    return reader


def _validate_import(*, review: Review, params: dict[str, Any]) -> None:
    batch_id = params.get("batch_id")
    if (
        not isinstance(batch_id, int)
        or not ImportBatch.objects.filter(pk=batch_id, review=review).exists()
    ):
        raise ValidationError("No such import file in this review.")


def _import_failed(job: Job, error: str) -> None:
    ImportBatch.objects.filter(pk=job.params.get("batch_id"), review=job.review).update(
        status=BatchStatus.FAILED, error=error[:5000]
    )


def import_file(batch: ImportBatch, progress=lambda pct, msg: None) -> dict[str, Any]:
    """Parse ``batch``'s file and insert its records. Call inside a transaction."""
    mapping = batch.column_mapping.get("mapping") or None
    imported = 0
    processes = 1

    def stored(count: int, offset: int) -> None:
        """``count`` more records stored, the file read up to byte ``offset``."""
        nonlocal imported
        imported += count
        done = offset / batch.size if batch.size else 1
        progress(min(99, 1 + 98 * done), f"{imported:,} records imported")

    # The cyclic garbage collector, left on, kept walking the batch of records in hand and all
    # of Django's objects: 12-20 % of a large import's time. Parsing and inserting make no
    # reference cycles (reference counting frees everything), so it pauses until we are done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with batch.file.open("rb") as fh:
            try:
                stream = importers.open_records(fh, filename=batch.original_name, mapping=mapping)
                progress(1, f"Reading {stream.detected.format.label} ({stream.encoding})")
                with _insert(batch) as sink:
                    reader = _parts_reader(batch, stream, sink)
                    if reader is not None:
                        processes = reader.processes
                        with reader:
                            for count, rows, offset in reader:
                                sink.write_rows(rows)
                                stored(count, offset)
                    else:
                        for chunk in stream.batches(INSERT_BATCH):
                            sink.insert(chunk)
                            stored(len(chunk), fh.tell())
            except (importers.ImportFormatError, importers.parallel.WorkerFailed) as exc:
                raise JobError(f"{batch.original_name}: {exc}. Nothing was imported.") from None
    finally:
        if collecting:
            gc.enable()
    report = stream.report.as_dict()
    if imported == 0:
        reasons = "; ".join(report["skipped"][:3])
        raise JobError(
            f"{batch.original_name}: no usable records"
            + (f" ({reasons})" if reasons else "")
            + ". Nothing was imported."
        )
    batch.status = BatchStatus.IMPORTED
    batch.format = report["format"]
    batch.encoding = report["encoding"]
    batch.encoding_fell_back = report["encoding_fell_back"]
    batch.parsed = report["parsed"]
    batch.imported = imported
    batch.skipped = report["skipped"]
    batch.skipped_count = report["skipped_count"]
    batch.error = ""
    batch.save()
    summary = {
        "file": batch.original_name,
        "format": report["format"],
        "encoding": report["encoding"],
        "encoding_fell_back": report["encoding_fell_back"],
        "parsed": report["parsed"],
        "imported": imported,
        "skipped": report["skipped"],
        # Worker processes that parsed the file (1: the importing process itself).
        "processes": processes,
    }
    audit_record(
        actor=batch.created_by,
        review=batch.review,
        verb="imported records",
        obj=batch,
        changes={k: v for k, v in summary.items() if k != "skipped"}
        | {"skipped_count": report["skipped_count"]},
    )
    return summary


@register(
    "import_records",
    label="import records",
    roles=IMPORT_ROLES,
    validator=_validate_import,
    on_failure=_import_failed,
    present=lambda result: _present_import(result),
    describe=lambda job: _describe_import(job),
)
def import_records_job(job: Job, progress) -> dict[str, Any]:
    batch = (
        ImportBatch.objects.select_related("search", "review")
        .filter(pk=job.params["batch_id"], review=job.review)
        .first()
    )
    if batch is None:
        raise JobError("This file's search was deleted before the file was imported.")
    if batch.status == BatchStatus.IMPORTED:
        # Redelivered after success (acks_late): nothing more to do.
        return {"file": batch.original_name, "imported": batch.imported, "already": True}
    summary = import_file(batch, lambda pct, msg: progress(pct * 0.6, msg))
    # Later steps take the new records in this transaction (deduplication against every record
    # already in the review, then screening's queue): see identification/hooks.py.
    answers = hooks.records_imported.send(
        review=batch.review,
        batch=batch,
        actor=job.created_by,
        progress=lambda pct, msg: progress(60 + pct * 0.39, msg),
    )
    for answer in answers.values():
        summary.update(answer or {})
    # The review's status follows the work: records imported mean searching has begun.
    review_status_advance(
        review=batch.review,
        status=ReviewStatus.SEARCHING,
        actor=job.created_by,
        because="records imported",
    )
    # This file's records that deduplication merged into another (one already in the review,
    # or another of the file's own).
    summary["duplicates"] = Record.objects.filter(batch=batch).duplicates().count()
    return summary


def _format_label(value: str) -> str:
    try:
        return importers.Format(value).label
    except ValueError:
        return str(value or "")


def _present_import(result: dict[str, Any]) -> list[Row]:
    """An import's summary for people (the job page, ``core.job_display``)."""
    if result.get("already"):
        return [
            Row("File", str(result.get("file", ""))),
            Row("Records imported", number(result.get("imported", 0))),
            Row("Note", "This file had been imported already; nothing more was done."),
        ]
    rows = []
    read_as = ", ".join(
        part
        for part in (
            _format_label(result.get("format", "")),
            f"read as {result['encoding']}" if result.get("encoding") else "",
        )
        if part
    )
    rows.append(Row("File", f"{result.get('file', '')}" + (f" ({read_as})" if read_as else "")))
    # Entries read from the file: those parsed and those skipped (listed under Warnings).
    skipped = result.get("skipped") or []
    read = int(result.get("parsed", 0) or 0) + (len(skipped) if isinstance(skipped, list) else 0)
    rows.append(Row("Records read", number(read)))
    rows.append(Row("Records imported", number(result.get("imported", 0))))
    if "duplicates" in result:
        rows.append(
            Row("Duplicates found", f"{number(result['duplicates'])} (merged, screened once)")
        )
    dedup = result.get("dedup") or {}
    if dedup.get("queued"):
        rows.append(Row("Possible duplicates for a person to judge", number(dedup["queued"])))
    if "added_to_screening" in result:
        rows.append(Row("Queued for screening", number(result["added_to_screening"])))
    if "earlier_round_copies" in result:
        rows.append(
            Row(
                "Copies of records of earlier rounds",
                f"{number(result['earlier_round_copies'])} (they keep their decisions, "
                "not screened again)",
            )
        )
    warnings = []
    if result.get("encoding_fell_back"):
        warnings.append(
            f"The file is not UTF-8: it was read as {result.get('encoding')}. Check accented "
            "names and titles."
        )
    skipped = result.get("skipped") or []
    if skipped:
        warnings.append(f"{len(skipped):,} entr{'y' if len(skipped) == 1 else 'ies'} skipped:")
        warnings.extend(skipped)
    rows.append(
        Row("Warnings", items=items_of(warnings), warning=True)
        if warnings
        else Row("Warnings", "none")
    )
    if (result.get("processes") or 1) > 1:
        rows.append(Row("Read in parts by", f"{result['processes']} worker processes"))
    known = {
        "file",
        "format",
        "encoding",
        "encoding_fell_back",
        "parsed",
        "imported",
        "skipped",
        "processes",
        "duplicates",
        "dedup",
        "added_to_screening",
        "earlier_round_copies",
    }
    return rows + rows_of(result, skip=known)


def _describe_import(job: Job) -> Subject:
    batch = (
        ImportBatch.objects.select_related("search", "review")
        .filter(pk=job.params.get("batch_id"), review_id=job.review_id)
        .first()
    )
    if batch is None:
        return Subject("The file of a search that has since been deleted.")
    search = batch.search
    return Subject(
        title=f"Import of {batch.original_name} into the search “{search}”.",
        url=reverse("identification:search", args=[batch.review.slug, search.pk]),
        link="Back to the search",
        failed_note=(
            f"The search “{search}” is kept without this file: import a corrected file into "
            "it, or delete the search if it has no other use."
        ),
    )
