"""The entry points a service calls: detect, decode, iterate records, summarise.

Typical use from a Django service (the file is an ``UploadedFile`` opened in binary mode)::

    records = open_records(upload.file, filename=upload.name)
    for batch in records.batches(2000):
        Record.objects.bulk_create(to_model(r) for r in batch)
    summary = records.report.as_dict()   # {"format": "ris", "encoding": "utf-8", ...}

Everything is lazy: nothing is read until iteration starts, and at most one batch of records is
held at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from identification.importers.bibtex import read_bibtex
from identification.importers.encoding import (
    DecodedText,
    decode_stream,
    iter_chunks,
    iter_line_lists,
    iter_lines,
)
from identification.importers.endnote_xml import read_endnote_xml
from identification.importers.errors import ImportFormatError
from identification.importers.formats import SNIFF_BYTES, DetectedFormat, Format, check_text, sniff
from identification.importers.medline import read_medline
from identification.importers.records import ParsedRecord, skip_reason
from identification.importers.ris import read_ris, read_ris_lists
from identification.importers.tabular import (
    csv_rows,
    detect_table_kind,
    read_rows,
    table_header,
    xlsx_rows,
)
from identification.importers.wos import read_wos

#: Reasons kept in a report; beyond this only the count grows (a file of 200,000 bad rows must
#: not make a 200,000-line summary).
MAX_SKIP_REASONS = 1000


@dataclass
class Skipped:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


@dataclass
class ImportReport:
    """What happened to one file; filled in while records are iterated."""

    format: str = ""
    encoding: str = ""
    encoding_fell_back: bool = False
    parsed: int = 0
    skipped_count: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, line: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIP_REASONS:
            self.skipped.append(Skipped(line, reason))

    def add(self, other: ImportReport) -> None:
        """Count in the records of ``other``, a report on a later part of the same file."""
        self.parsed += other.parsed
        for item in other.skipped:
            self.skip(item.line, item.reason)
        # Reasons beyond the other report's own cap were counted there, not listed.
        self.skipped_count += other.skipped_count - len(other.skipped)

    def as_dict(self) -> dict[str, object]:
        """``{format, encoding, encoding_fell_back, parsed, skipped: [reasons], skipped_count}``."""
        reasons = [str(item) for item in self.skipped]
        if self.skipped_count > len(self.skipped):
            reasons.append(f"... and {self.skipped_count - len(self.skipped)} more")
        return {
            "format": self.format,
            "encoding": self.encoding,
            "encoding_fell_back": self.encoding_fell_back,
            "parsed": self.parsed,
            "skipped": reasons,
            "skipped_count": self.skipped_count,
        }


def _read(
    lines: Iterable[str], fmt: Format, mapping: Mapping[str, str] | None, delimiter: str | None
):
    if fmt is Format.RIS:
        return read_ris(lines)
    if fmt is Format.MEDLINE:
        return read_medline(lines)
    if fmt is Format.WOS:
        return read_wos(lines)
    if fmt is Format.BIBTEX:
        return read_bibtex(lines)
    if fmt in (Format.SCOPUS_CSV, Format.EMBASE_CSV, Format.CSV):
        return read_rows(csv_rows(lines, delimiter), fmt.value, mapping)
    raise ValueError(f"{fmt} is not a text format; use open_records() for workbooks")


def _checked(
    items: Iterable[ParsedRecord | tuple[int, str]], report: ImportReport
) -> Iterator[ParsedRecord]:
    for item in items:
        if isinstance(item, tuple):
            report.skip(*item)
            continue
        reason = skip_reason(item)
        if reason:
            report.skip(item.source_line, reason)
            continue
        report.parsed += 1
        yield item


def iter_records(
    stream: TextIO | Iterable[str],
    fmt: Format | str,
    *,
    mapping: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    report: ImportReport | None = None,
) -> Iterator[ParsedRecord]:
    """Yield the usable records of a text stream in format ``fmt``, one at a time.

    ``stream`` is a text stream (or any iterable of lines, for tests). Records that cannot be
    used (no title and no DOI, an unreadable BibTeX entry) are not yielded but counted in
    ``report.skipped`` with their line. Raises :class:`ImportFormatError` when the file as a
    whole cannot be read; records already yielded before that should be thrown away.
    ``mapping`` (``{target_field: column}``) is required for ``Format.CSV``.
    """
    fmt = Format(fmt)
    report = report if report is not None else ImportReport(format=fmt.value)
    if not report.format:
        report.format = fmt.value
    if fmt is Format.ENDNOTE_XML:
        # XML is read in chunks, not lines: a whole EndNote XML file can be a single line.
        chunks = iter_chunks(stream) if hasattr(stream, "read") else ("\n".join(stream),)
        yield from _checked(read_endnote_xml(chunks), report)  # type: ignore[arg-type]
        return
    if fmt is Format.RIS and hasattr(stream, "read"):
        yield from _checked(read_ris_lists(iter_line_lists(stream)), report)  # type: ignore[arg-type]
        return
    lines = iter_lines(stream) if hasattr(stream, "read") else stream  # type: ignore[arg-type]
    yield from _checked(_read(lines, fmt, mapping, delimiter), report)


class RecordStream:
    """An opened upload: its detected format and encoding, and its records on iteration."""

    def __init__(
        self,
        binary: BinaryIO,
        detected: DetectedFormat,
        decoded: DecodedText | None,
        mapping: Mapping[str, str] | None,
    ) -> None:
        self.binary = binary
        self.detected = detected
        self.decoded = decoded
        self.mapping = mapping
        self.report = ImportReport(
            format=detected.format.value,
            encoding=decoded.encoding if decoded else "xlsx",
            encoding_fell_back=decoded.fell_back if decoded else False,
        )

    @property
    def format(self) -> Format:
        return self.detected.format

    @property
    def encoding(self) -> str:
        return self.report.encoding

    @property
    def fell_back(self) -> bool:
        return self.report.encoding_fell_back

    def __iter__(self) -> Iterator[ParsedRecord]:
        if self.decoded is None:
            kind = self.mapping and "csv"
            rows = xlsx_rows(self.binary)
            if not kind:
                first = list(itertools.islice(rows, 1))
                kind = detect_table_kind(first[0][1] if first else [])
                rows = itertools.chain(first, rows)
            return _checked(read_rows(rows, kind, self.mapping), self.report)
        return iter_records(
            self.decoded.stream,
            self.format,
            mapping=self.mapping,
            delimiter=self.detected.delimiter,
            report=self.report,
        )

    def batches(self, size: int = 1000) -> Iterator[list[ParsedRecord]]:
        """Records in lists of ``size`` (the last may be shorter), for ``bulk_create``."""
        iterator = iter(self)
        while batch := list(itertools.islice(iterator, size)):
            yield batch


def open_records(
    binary: BinaryIO,
    *,
    filename: str = "",
    fmt: Format | str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> RecordStream:
    """Detect format and encoding of an uploaded file and return its records, lazily.

    ``fmt`` overrides detection; ``mapping`` is needed for generic CSV/TSV/XLSX tables. Raises
    :class:`ImportFormatError` for empty, binary or unrecognised files (and, on iteration, for
    files broken further in).
    """
    start = binary.tell() if binary.seekable() else 0
    head = binary.read(SNIFF_BYTES)
    if binary.seekable():
        binary.seek(start)
    else:
        raise ValueError("open_records() needs a seekable file (an upload or a temporary file)")
    if fmt is not None:
        # The caller (a user who picked the format) knows better than our sniffing; we still
        # refuse empty and binary files.
        check_text(head)
        detected = DetectedFormat(Format(fmt), "chosen by the caller")
    else:
        detected = sniff(head, filename)
    if detected.format is Format.XLSX:
        return RecordStream(binary, detected, None, mapping)
    if detected.format is Format.CSV and not mapping:
        raise ImportFormatError(
            "this table has no known column set: a column mapping is needed "
            "(see table_columns() and suggest_mapping())"
        )
    return RecordStream(binary, detected, decode_stream(binary), mapping)


def table_columns(binary: BinaryIO, *, filename: str = "") -> list[str]:
    """The header row of a CSV/TSV/XLSX upload, for the column-mapping step; rewinds the file."""
    start = binary.tell()
    head = binary.read(SNIFF_BYTES)
    binary.seek(start)
    detected = sniff(head, filename)
    try:
        if detected.format is Format.XLSX:
            return table_header(xlsx_rows(binary))
        if not detected.format.value.endswith("csv"):
            raise ImportFormatError(f"the file is {detected.format.label}, not a table")
        decoded = decode_stream(binary)
        try:
            return table_header(csv_rows(iter_lines(decoded.stream), detected.delimiter))
        finally:
            decoded.stream.detach()
    finally:
        binary.seek(start)
