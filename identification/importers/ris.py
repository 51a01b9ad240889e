"""RIS: a streaming reader that survives real exports, and a writer.

Why not rispy alone: rispy 0.10 raises on Ovid exports (``asreview__ovid_psycinfo.ris``: the
record-number line ``1.`` before ``TY`` and the "Link to the Ovid Full Text..." lines after
``ER``), it reads the whole file into memory, and it has no place for EBSCO's DOI in ``L3`` or
the repeated ``DO`` URL. rispy is kept as the yardstick in ``bench/import_parse_bench.py``.

The reader is a small state machine over lines:

* outside a record, everything is ignored (Ovid's ``1.`` and link lines, blank lines), except a
  tagged line right after ``ER``, which Ovid uses for ``NL`` (journal abbreviation) and which
  belongs to the record just closed;
* ``TY`` opens a record (closing one that never got its ``ER``);
* inside, a tag line adds a value and an untagged line continues the last one: a new keyword
  for ``KW`` (EndNote writes one keyword a line under a single ``KW``), more text otherwise
  (WoS's three-space continuation of ``AB``, PubMed-via-EndNote ``N1`` notes);
* ``ER`` closes it. End of file inside a record means the file was cut short.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from identification.importers.errors import ImportFormatError
from identification.importers.ids import accession_from_url, first_doi_from_urls, pmid_from_text
from identification.importers.records import (
    ParsedRecord,
    all_of,
    build_record,
    first_doi,
    first_of,
    normalise_issn,
    normalise_pages,
    parse_year,
)
from identification.importers.types import RIS_TYPES, ris_type

# "TY  - JOUR", "ER  -", and the one-space "TY - JOUR" some tools write.
_TAG_RE = re.compile(r"([A-Z][A-Z0-9]) {1,2}-(?: (.*)|\s*)$")
# Tags whose untagged continuation lines are new values rather than more text.
_LIST_TAGS = frozenset({"KW", "AU", "A1", "A2", "A3", "A4", "AD"})
_URL_TAGS = ("UR", "L1", "L2", "L4", "LK")
# Placeholders for "no page numbers": Ovid's "SP - No" + "EP - Specified", EBSCO's "N.PAG".
_NO_PAGES = re.compile(
    r"^(?:no(?:\s+pagination)?(?:\s+specified)?|specified|n\.?\s?pag\.?)$", re.IGNORECASE
)
# What a placeholder can start with, for a cheap test first (IGNORECASE lets "ſ" match "s").
_NO_PAGES_START = frozenset("nNsSſ")
# EBSCO appends the publisher's copyright notice to AB as a second value; it is not abstract.
_COPYRIGHT_AB = re.compile(r"^\s*Copyright of .* is the property of ", re.IGNORECASE)


def read_ris(lines: Iterable[str]) -> Iterator[ParsedRecord]:
    """Yield one :class:`ParsedRecord` per ``TY``...``ER`` record in ``lines``.

    ``lines`` are lines without line ends (see :func:`~.encoding.iter_lines`). Raises
    :class:`ImportFormatError` when the file holds no record, or ends inside one.
    """
    return read_ris_lists((lines,))


def read_ris_lists(
    line_lists: Iterable[Iterable[str]], *, first_line: int = 1, last: bool = True
) -> Iterator[ParsedRecord]:
    """:func:`read_ris` over lines that come in lists (see :func:`~.encoding.iter_line_lists`).

    For one part of a file cut just before a ``TY`` line (see :mod:`.parallel`): ``first_line``
    is the file's line number of the part's first line, and ``last=False`` says that the file
    goes on, so a record still open at the end was closed by the next part's ``TY`` (as a
    ``TY`` closes a record without ``ER`` when the whole file is read), and a part without
    records is no error.
    """
    raw: dict[str, list[str]] | None = None  # the record being read
    start = 0
    pending: dict[str, list[str]] | None = None  # closed, not yet yielded (Ovid's NL may follow)
    pending_start = 0
    last_tag = ""  # the last tag seen in the record, for continuation lines
    # Continuation lines of raw[last_tag][-1], joined when the next tag comes: joining one
    # line at a time copied a long N1 (Scopus writes the references there) once per line.
    more: list[str] | None = None
    count = 0
    number = first_line - 1
    match_tag = _TAG_RE.match
    for lines in line_lists:
        for line in lines:
            number += 1
            # Fast path for the common well-formed "XX  - value" line; the regex for the rest
            # (it needs a "-" at the fourth or fifth character).
            if line[2:6] == "  - " and line[0] > " ":
                tag = line[:2]
                value = line[6:].strip()
            else:
                found = match_tag(line) if "-" in line[3:5] else None
                if found is None:
                    # Untagged: continues the last value inside a record; ignored outside one
                    # (Ovid's "1." record numbers and "Link to the Ovid Full Text" lines).
                    if raw is not None:
                        text = line.strip()
                        if text:
                            if last_tag in _LIST_TAGS:
                                raw[last_tag].append(text)
                            elif more is None:
                                more = [text]
                            else:
                                more.append(text)
                    continue
                tag, value = found.group(1), (found.group(2) or "").strip()
            if more is not None:
                values = raw[last_tag]  # type: ignore[index]
                values[-1] = "\n".join([values[-1], *more] if values[-1] else more)
                more = None
            if raw is not None:
                if tag == "ER":
                    if pending is not None:
                        count += 1
                        yield ris_record(pending, pending_start)
                    pending, pending_start, raw, last_tag = raw, start, None, ""
                    continue
                if tag != "TY":
                    values = raw.get(tag)
                    if values is None:
                        raw[tag] = [value]
                    else:
                        values.append(value)
                    last_tag = tag
                    continue
                # TY inside a record: the record had no ER. Close it and go on, as EndNote does.
                if pending is not None:
                    count += 1
                    yield ris_record(pending, pending_start)
                pending, pending_start = raw, start
                raw = None
            if tag == "TY":
                if pending is not None:
                    count += 1
                    yield ris_record(pending, pending_start)
                    pending = None
                raw = {"TY": [value]}
                start = number
                last_tag = "TY"
            elif tag != "ER" and pending is not None:
                # A tag after ER: Ovid's NL (journal abbreviation) belongs to the closed record.
                pending.setdefault(tag, []).append(value)
    if raw is not None and not last:
        if more is not None:
            values = raw[last_tag]
            values[-1] = "\n".join([values[-1], *more] if values[-1] else more)
        if pending is not None:
            count += 1
            yield ris_record(pending, pending_start)
        pending, pending_start = raw, start
        raw = None
    if raw is not None:
        raise ImportFormatError(
            f"the file ends inside the record that starts at line {start}: no 'ER  -' end "
            "tag (was the file cut short?)",
            line=number,
        )
    if pending is not None:
        count += 1
        yield ris_record(pending, pending_start)
    if count == 0 and first_line == 1 and last:
        raise ImportFormatError("no RIS records found (no line starts with 'TY  - ')")


_TITLE_TAGS = ("TI", "T1", "CT")
_YEAR_TAGS = ("PY", "Y1", "DA")
_JOURNAL_TAGS = ("JF", "T2", "JO", "JA", "J2", "J1")
_ISSUE_TAGS = ("IS", "CP")
_DOI_TAGS = ("DO", "DI", "L3", "M3")
_URL_FIELD_TAGS = ("UR", "LK")
_DATABASE_TAGS = ("DB", "DP")


def _first(raw: dict[str, list[str]], tags: tuple[str, ...]) -> str:
    # first_of() for values read_ris() has already stripped; this runs ~15 times a record.
    for tag in tags:
        values = raw.get(tag)
        if values:
            for value in values:
                if value:
                    return value
    return ""


def ris_record(raw: dict[str, list[str]], source_line: int) -> ParsedRecord:
    """Map a RIS record's tags to a :class:`ParsedRecord` (tag meanings per vendor, see module)."""
    get = raw.get
    urls = [url for tag in _URL_TAGS for url in get(tag, ())]
    abstract = ""
    if "AB" in raw:
        abstract = " ".join(v for v in raw["AB"] if v and not _COPYRIGHT_AB.match(v))
    if not abstract and "N2" in raw:
        abstract = _first(raw, ("N2",))
    sp = _first(raw, ("SP",))
    ep = _first(raw, ("EP",))
    # Every placeholder starts with n or s (the test spares the regex for real page numbers).
    if (sp[:1] in _NO_PAGES_START and _NO_PAGES.match(sp)) or (
        ep[:1] in _NO_PAGES_START and _NO_PAGES.match(ep)
    ):
        sp = ep = ""
    doi = ""
    for tag in _DOI_TAGS:
        if tag in raw:
            doi = first_doi(raw[tag])
            if doi:
                break
    if not doi and urls:
        doi = first_doi_from_urls(urls)
    year = None
    for tag in _YEAR_TAGS:
        year = parse_year(_first(raw, (tag,)))
        if year is not None:
            break
    return build_record(
        raw=raw,
        source_line=source_line,
        title=_first(raw, _TITLE_TAGS) or _book_title(raw),
        abstract=abstract,
        authors=get("AU") or get("A1") or (),
        year=year,
        journal=_first(raw, _JOURNAL_TAGS),
        volume=_first(raw, ("VL",)),
        issue=_first(raw, _ISSUE_TAGS),
        pages=normalise_pages(sp, ep) if sp or ep else "",
        doi=doi,
        pmid=_pmid(raw, urls),
        issn=normalise_issn(*get("SN", ())),
        keywords=get("KW", ()),
        language=_first(raw, ("LA",)),
        publication_type=ris_type(_first(raw, ("TY",)), default="GEN"),
        url=_first(raw, _URL_FIELD_TAGS),
        accession_number=_first(raw, ("AN",)) or _accession_from_urls(urls),
    )


def _book_title(raw: dict[str, list[str]]) -> str:
    return first_of(raw, "BT") if first_of(raw, "TY") in ("BOOK", "EBOOK", "EDBOOK") else ""


_PMID_TAGS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "N1", "AN")


def _pmid(raw: dict[str, list[str]], urls: list[str]) -> str:
    for tag in _PMID_TAGS:
        for value in raw.get(tag, ()):
            if value[:4].upper() == "PMID":
                pmid = pmid_from_text(value)
                if pmid:
                    return pmid
    # Scopus writes the PubMed ID bare in C2; PubMed through EndNote puts it in AN.
    if "DB" in raw or "DP" in raw:
        database = " ".join(all_of(raw, *_DATABASE_TAGS)).lower()
        if "scopus" in database:
            pmid = pmid_from_text(_first(raw, ("C2",)))
            if pmid:
                return pmid
        if "nlm" in database or "pubmed" in database or "medline" in database:
            pmid = pmid_from_text(_first(raw, ("AN",)))
            if pmid:
                return pmid
    for url in urls:
        if "pubmed" in url or "ncbi.nlm.nih.gov" in url:
            pmid = pmid_from_text(url)
            if pmid:
                return pmid
    return ""


def _accession_from_urls(urls: list[str]) -> str:
    for url in urls:
        accession = accession_from_url(url)
        if accession:
            return accession
    return ""


def _ris_line(tag: str, value: str) -> str:
    return f"{tag}  - {value}\n"


def write_ris(records: Iterable[ParsedRecord], stream: TextIO) -> int:
    """Write ``records`` as RIS to a text stream; return how many were written.

    Writes only normalised fields (never ``raw``), in the tags :func:`read_ris` reads first, so
    that reading the output back gives the same normalised records.
    """
    count = 0
    write = stream.write
    for record in records:
        kind = record.publication_type if record.publication_type in RIS_TYPES else "GEN"
        parts = [_ris_line("TY", kind)]
        if record.title:
            parts.append(_ris_line("TI", record.title))
        parts.extend(_ris_line("AU", author) for author in record.authors)
        if record.year is not None:
            parts.append(_ris_line("PY", str(record.year)))
        for tag, value in (
            ("T2", record.journal),
            ("VL", record.volume),
            ("IS", record.issue),
        ):
            if value:
                parts.append(_ris_line(tag, value))
        if record.pages:
            start, _, end = (
                record.pages.partition("-")
                if _simple_range(record.pages)
                else (
                    record.pages,
                    "",
                    "",
                )
            )
            parts.append(_ris_line("SP", start))
            if end:
                parts.append(_ris_line("EP", end))
        for tag, value in (
            ("DO", record.doi),
            ("SN", record.issn),
            ("LA", record.language),
            ("UR", record.url),
            ("AN", record.accession_number),
        ):
            if value:
                parts.append(_ris_line(tag, value))
        if record.pmid:
            parts.append(_ris_line("C2", f"PMID: {record.pmid}"))
        parts.extend(_ris_line("KW", keyword) for keyword in record.keywords)
        if record.abstract:
            parts.append(_ris_line("AB", record.abstract))
        parts.append("ER  - \n\n")
        write("".join(parts))
        count += 1
    return count


def _simple_range(pages: str) -> bool:
    """True for ``start-end`` with exactly one hyphen, which SP/EP can carry and re-join."""
    return pages.count("-") == 1 and not pages.startswith("-") and not pages.endswith("-")
