"""Tables: Scopus CSV, Embase CSV, and any CSV/TSV/XLSX through a column mapping.

The csv module and openpyxl (read-only mode, row by row) do the reading; this module only maps
columns to fields. Scopus has changed its columns over the years (``Authors`` alone, then
``Author full names`` with ids in brackets, ``;``-separated); both sets are read. Embase packs
journal, year, volume, issue and pages into one ``Source`` cell, and its DOI into the OpenURL
link, when the export has no DOI column.
"""

from __future__ import annotations

import csv
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import BinaryIO
from xml.parsers import expat

from identification.importers.errors import ImportFormatError
from identification.importers.ids import doi_from_url, pmid_from_text
from identification.importers.records import (
    ParsedRecord,
    build_record,
    first_doi,
    normalise_doi,
    normalise_issn,
    normalise_pages,
    parse_year,
)
from identification.importers.types import ris_type

_AFTER_PAGES = ParsedRecord.NORMALISED_FIELDS.index("pages") + 1
#: Fields a generic table can be mapped to: the record's fields, in their order (the order of
#: the mapping form, and the order :func:`suggest_mapping` gives columns out in), with
#: ``start_page``/``end_page`` after ``pages`` as an alternative to it.
TARGET_FIELDS = (
    *ParsedRecord.NORMALISED_FIELDS[:_AFTER_PAGES],
    "start_page",
    "end_page",
    *ParsedRecord.NORMALISED_FIELDS[_AFTER_PAGES:],
)

# Header names seen in real exports (and in our own CSV export), by field, most specific first.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("title", "article title", "document title", "primary title", "ti", "t1"),
    "abstract": ("abstract", "abstract note", "ab", "n2", "summary"),
    "authors": ("authors", "author", "author names", "author full names", "au", "creators"),
    "year": ("year", "publication year", "pub year", "py", "date", "publication date"),
    "journal": (
        "journal",
        "source title",
        "publication title",
        "journal title",
        "source",
        "so",
        "t2",
        "jf",
    ),
    "volume": ("volume", "vl", "vol"),
    "issue": ("issue", "number", "is", "no"),
    "pages": ("pages", "page", "pagination", "pg"),
    "start_page": ("page start", "start page", "first page", "sp", "bp"),
    "end_page": ("page end", "end page", "last page", "ep"),
    "doi": ("doi", "di", "do", "digital object identifier"),
    "pmid": ("pmid", "pubmed id", "medline pmid", "pm"),
    "issn": ("issn", "sn", "eissn"),
    "keywords": ("keywords", "author keywords", "manual tags", "kw", "de", "mesh terms"),
    "language": ("language", "language of original document", "language of article", "la"),
    "publication_type": ("publication type", "document type", "item type", "type", "pt", "ty"),
    "url": ("url", "link", "full record link", "ur"),
    "accession_number": ("accession number", "accession_number", "eid", "an", "ut", "pui", "id"),
}

_NO_VALUE = re.compile(r"^\[no (?:abstract|author name|title) available\]$", re.IGNORECASE)
_SCOPUS_ID = re.compile(r"\s*\(\d+\)\s*$")
# "Endoscopic Ultrasound (2014) 3:3 (152-160). Date of Publication: 2014"
_EMBASE_SOURCE = re.compile(
    r"^(?P<journal>.*?)\s*\((?P<year>\d{4})\)\s*(?P<volume>[^\s:(]+)?(?::(?P<issue>[^\s(]+))?"
    r"\s*(?:\((?P<pages>[^)]*)\))?"
)
_LIST_SPLIT = re.compile(r"\s*[;|\n]\s*")


@lru_cache(maxsize=4096)
def _norm(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", column.lower()).strip()


def suggest_mapping(header: Sequence[str]) -> dict[str, str]:
    """Guess ``{target_field: column}`` from a header row, for the user to confirm.

    Each column is used at most once; fields with no plausible column are left out.
    """
    by_name = {}
    for column in header:
        if column and _norm(column) not in by_name:
            by_name[_norm(column)] = column
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for target in TARGET_FIELDS:
        for synonym in _SYNONYMS.get(target, ()):
            column = by_name.get(_norm(synonym))
            if column and column not in used:
                mapping[target] = column
                used.add(column)
                break
    return mapping


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _split_top_level(value: str, separator: str = ",") -> list[str]:
    """Split at ``separator`` outside brackets: Emtree's ``cyst (diagnosis, surgery)``."""
    parts, depth, current = [], 0, []
    for char in value:
        if char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
        if char == separator and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def _split_list(value: str) -> list[str]:
    return [part for part in _LIST_SPLIT.split(value) if part.strip()] if value else []


class _Row:
    """Case-insensitive access to one row by column name."""

    __slots__ = ("index", "values")

    def __init__(self, index: Mapping[str, int], values: Sequence[str]) -> None:
        self.index = index
        self.values = values

    def get(self, *names: str) -> str:
        for name in names:
            position = self.index.get(_norm(name))
            if position is not None and position < len(self.values):
                value = self.values[position].strip()
                if value and not _NO_VALUE.match(value):
                    return value
        return ""


RowMapper = Callable[[_Row, int], ParsedRecord]


def _raw(header: Sequence[str], values: Sequence[str]) -> dict[str, list[str]]:
    return {
        column: [value]
        for column, value in zip(header, values, strict=False)
        if column and value and value.strip()
    }


def _scopus_authors(row: _Row) -> list[str]:
    full = row.get("Author full names")
    if full:
        return [_SCOPUS_ID.sub("", name) for name in full.split(";")]
    authors = row.get("Authors")
    if ";" in authors:
        return authors.split(";")
    # Scopus CSV before 2020: "Yagai T., Kimura Y., ..." (names carry no comma of their own).
    return authors.split(", ") if authors else []


def _scopus_mapper(header: Sequence[str]) -> RowMapper:
    def mapper(row: _Row, line: int) -> ParsedRecord:
        return build_record(
            raw=_raw(header, row.values),
            source_line=line,
            title=row.get("Title"),
            abstract=row.get("Abstract"),
            authors=_scopus_authors(row),
            year=parse_year(row.get("Year")),
            journal=row.get("Source title"),
            volume=row.get("Volume"),
            issue=row.get("Issue"),
            pages=normalise_pages(row.get("Page start"), row.get("Page end")),
            doi=normalise_doi(row.get("DOI")),
            pmid=pmid_from_text(row.get("PubMed ID")),
            issn=normalise_issn(row.get("ISSN")),
            keywords=_split_list(row.get("Author Keywords"))
            + _split_list(row.get("Index Keywords")),
            language=row.get("Language of Original Document"),
            publication_type=ris_type(row.get("Document Type"), default="JOUR"),
            url=row.get("Link"),
            accession_number=row.get("EID"),
        )

    return mapper


def _embase_mapper(header: Sequence[str]) -> RowMapper:
    def mapper(row: _Row, line: int) -> ParsedRecord:
        source = row.get("Source")
        parsed = _EMBASE_SOURCE.match(source) if source else None
        found = parsed.groupdict() if parsed else {}
        keywords: list[str] = []
        for column in (
            "Author Keywords",
            "Emtree Drug Index Terms (Major Focus)",
            "Emtree Drug Index Terms",
            "Emtree Medical Index Terms (Major Focus)",
            "Emtree Medical Index Terms",
            "keywords",
        ):
            keywords.extend(_split_top_level(row.get(column)))
        pages = normalise_pages(row.get("First Page"), row.get("Last Page")) or normalise_pages(
            found.get("pages")
        )
        link = row.get("Open URL Link", "Full Text Link")
        return build_record(
            raw=_raw(header, row.values),
            source_line=line,
            title=row.get("Title", "Article Title"),
            abstract=row.get("Abstract"),
            authors=_split_top_level(row.get("Author Names")),
            year=parse_year(row.get("Publication Year"), found.get("year"), source),
            journal=row.get("Source title", "Source Title") or found.get("journal"),
            volume=row.get("Volume") or found.get("volume"),
            issue=row.get("Issue") or found.get("issue"),
            pages=pages,
            doi=first_doi([row.get("DOI")]) or doi_from_url(link),
            pmid=pmid_from_text(row.get("Medline PMID", "PMID")),
            issn=normalise_issn(row.get("ISSN")),
            keywords=keywords,
            language=row.get("Language of Article", "Article Language"),
            publication_type=ris_type(row.get("Publication Type"), default="JOUR"),
            url=row.get("Full Record Link"),
            accession_number=row.get("Embase Accession ID", "PUI", "Embase Accession Number"),
        )

    return mapper


def _generic_mapper(header: Sequence[str], mapping: Mapping[str, str]) -> RowMapper:
    unknown = [target for target in mapping if target not in TARGET_FIELDS]
    if unknown:
        raise ValueError(f"unknown target fields in column mapping: {', '.join(unknown)}")
    names = {_norm(column) for column in header}
    missing = [column for column in mapping.values() if column and _norm(column) not in names]
    if missing:
        raise ImportFormatError(
            f"the column mapping names columns the file does not have: {', '.join(missing)}",
            line=1,
        )

    def get(row: _Row, target: str) -> str:
        column = mapping.get(target)
        return row.get(column) if column else ""

    def mapper(row: _Row, line: int) -> ParsedRecord:
        pages = get(row, "pages")
        return build_record(
            raw=_raw(header, row.values),
            source_line=line,
            title=get(row, "title"),
            abstract=get(row, "abstract"),
            authors=_split_list(get(row, "authors")),
            year=parse_year(get(row, "year")),
            journal=get(row, "journal"),
            volume=get(row, "volume"),
            issue=get(row, "issue"),
            pages=normalise_pages(pages)
            if pages
            else normalise_pages(get(row, "start_page"), get(row, "end_page")),
            doi=normalise_doi(get(row, "doi")) or doi_from_url(get(row, "url")),
            pmid=pmid_from_text(get(row, "pmid")),
            issn=normalise_issn(get(row, "issn")),
            keywords=_split_list(get(row, "keywords")),
            language=get(row, "language"),
            publication_type=ris_type(get(row, "publication_type"), default="JOUR")
            if get(row, "publication_type")
            else "",
            url=get(row, "url"),
            accession_number=get(row, "accession_number"),
        )

    return mapper


def _mapper_for(kind: str, header: Sequence[str], mapping: Mapping[str, str] | None) -> RowMapper:
    if mapping:
        return _generic_mapper(header, mapping)
    if kind == "scopus_csv":
        return _scopus_mapper(header)
    if kind == "embase_csv":
        return _embase_mapper(header)
    raise ImportFormatError(
        "this table has no known column set: choose which column holds the title, authors, "
        "etc. (a column mapping; see suggest_mapping())"
    )


def read_rows(
    rows: Iterable[tuple[int, Sequence[str]]], kind: str, mapping: Mapping[str, str] | None
) -> Iterator[ParsedRecord]:
    """Map ``(line, cells)`` rows, the first non-blank being the header, to records."""
    header: list[str] | None = None
    mapper: RowMapper | None = None
    index: dict[str, int] = {}
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lstrip("\ufeff") for cell in cells]
            for position, column in enumerate(header):
                index.setdefault(_norm(column), position)
            mapper = _mapper_for(kind, header, mapping)
            continue
        assert mapper is not None
        yield mapper(_Row(index, cells), line)
    if header is None:
        raise ImportFormatError("the table is empty (no header row)")


def _detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d])


def csv_rows(lines: Iterable[str], delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` for each CSV row; the delimiter is taken from the header if not given."""
    iterator = iter(lines)
    first_lines: list[str] = []
    for line in iterator:
        first_lines.append(line)
        if line.strip():
            break
    if not first_lines:
        return
    delimiter = delimiter or _detect_delimiter(first_lines[-1])
    # Scopus "References" cells pass the csv module's 128 KiB default; a hostile file is still
    # bounded by iter_lines' line cap and this field cap.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))

    def with_ends() -> Iterator[str]:
        for line in first_lines:
            yield line + "\n"
        for line in iterator:
            yield line + "\n"

    reader = csv.reader(with_ends(), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as error:
        raise ImportFormatError(f"unreadable CSV: {error}", line=reader.line_num) from error


#: What reading a damaged workbook raises, from zipfile, zlib, expat (``ParseError`` is a
#: ``SyntaxError``) and openpyxl's own parsing of what it found: all mean "not a workbook we can
#: read". Deliberately not ``Exception``: a job's time limit (Celery's ``SoftTimeLimitExceeded``)
#: or running out of memory must not pass for a damaged file.
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    RuntimeError,  # an encrypted member, an unsupported compression method, deep recursion
)
#: A part's prolog (what comes before its root element: the XML declaration, comments, and
#: where a DOCTYPE would be) is a few hundred bytes in every workbook a program writes.
_MAX_PROLOG_BYTES = 1 << 20


class _RootStarted(Exception):
    """The part's root element began: its prolog held no DOCTYPE."""


class _Doctype(Exception):
    """The part declares a document type."""


def _stop_at_root(*_args) -> None:
    raise _RootStarted


def _stop_at_doctype(*_args) -> None:
    raise _Doctype


def _check_xml_parts(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook any of whose parts has a DOCTYPE, before openpyxl parses anything.

    A DOCTYPE is where entities are declared, and entities are how XML attacks work: "billion
    laughs" expansion, external entities (XXE). No spreadsheet program writes one. openpyxl
    reads with the standard library's expat (without defusedxml, which we do not depend on):
    expat 2.4+ stops the billion laughs and never fetches external entities, but it still
    expands the entities a file declares, so the DOCTYPE is refused here, in every part, not
    left to the parser's limits. Each part is read only until its root element starts (a
    DOCTYPE can only come before it), with the parser openpyxl's ElementTree uses (expat, with
    namespaces): a part that parser cannot read (a picture, a damaged part) has no DOCTYPE it
    could act on, and openpyxl says so if it needs the part.
    """
    for info in archive.infolist():
        if info.is_dir():
            continue
        parser = expat.ParserCreate(None, "}")
        parser.StartDoctypeDeclHandler = _stop_at_doctype
        parser.EntityDeclHandler = _stop_at_doctype
        parser.StartElementHandler = _stop_at_root
        read = 0
        try:
            with archive.open(info) as part:
                while chunk := part.read(1 << 14):
                    parser.Parse(chunk, False)
                    read += len(chunk)
                    if read > _MAX_PROLOG_BYTES:
                        raise ImportFormatError(
                            f"not a readable Excel workbook: its part {info.filename[:100]} "
                            "starts with over a megabyte of text before its content"
                        )
                parser.Parse(b"", True)
        except (_RootStarted, expat.ExpatError):
            continue
        except _Doctype:
            raise ImportFormatError(
                f"the workbook's part {info.filename[:100]} has a document type declaration "
                "(DOCTYPE), which no spreadsheet program writes and which can hide an XML "
                "attack; the file is refused. Save it again from your spreadsheet program"
            ) from None


def _damaged(error: BaseException) -> ImportFormatError:
    detail = (str(error).strip() or type(error).__name__)[:200]
    return ImportFormatError(f"not a readable Excel workbook: the file is damaged ({detail})")


def xlsx_rows(binary: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` of the first worksheet, read row by row (openpyxl read-only).

    Raises :class:`ImportFormatError` for a workbook with a DOCTYPE in any part (see
    :func:`_check_xml_parts`) and for a damaged one, whether openpyxl finds the damage on
    opening the workbook or in the sheet's rows (then naming the row).
    """
    import openpyxl

    start = binary.tell()
    try:
        with zipfile.ZipFile(binary) as archive:
            _check_xml_parts(archive)
    except ImportFormatError:
        raise
    except _DAMAGED as error:
        raise _damaged(error) from error
    binary.seek(start)
    try:
        workbook = openpyxl.load_workbook(binary, read_only=True, data_only=True)
    except _DAMAGED as error:
        raise _damaged(error) from error
    if not workbook.worksheets:
        workbook.close()
        raise ImportFormatError("not a readable Excel workbook: it has no worksheet")
    number = 0
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell(value) for value in row]
    except _DAMAGED as error:
        detail = (str(error).strip() or type(error).__name__)[:200]
        raise ImportFormatError(
            f"not a readable Excel workbook: its first worksheet is damaged ({detail})",
            line=number + 1 if number else None,
        ) from error
    finally:
        workbook.close()


def table_header(rows: Iterable[tuple[int, Sequence[str]]]) -> list[str]:
    """The header (first non-blank row) of a table, for a column-mapping form."""
    for _, cells in rows:
        if any(cell.strip() for cell in cells):
            return [cell.strip().lstrip("\ufeff") for cell in cells]
    raise ImportFormatError("the table is empty (no header row)")


def detect_table_kind(header: Sequence[str]) -> str:
    """``scopus_csv``, ``embase_csv`` or ``csv`` from a header row (for XLSX, where sniffing
    cannot read the header from the first bytes)."""
    columns = {_norm(column) for column in header}
    if {"eid", "source title"} <= columns:
        return "scopus_csv"
    if {"author names", "source"} <= columns or {"title", "emtree medical index terms"} <= columns:
        return "embase_csv"
    return "csv"
