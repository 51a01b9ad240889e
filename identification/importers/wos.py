"""Web of Science tagged plain text (``FN``/``VR`` header, ``PT``...``ER`` records, ``EF``).

Hand-written: rispy cannot read it (two-letter tag, one space, no dash). Continuation lines start
with three spaces: for list tags (authors, addresses, cited references) each is a new value; for
text tags (title, abstract, keywords) it is the same value wrapped. Zoological Record exports
through WoS (``synthesisr__zoorec_wos_tagged.txt``) write the e-mail inside the author line,
``Stillman, Andrew N. (andrew.stillman@uconn.edu)``; the e-mail is dropped from the author.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from identification.importers.errors import ImportFormatError
from identification.importers.records import (
    ParsedRecord,
    build_record,
    first_doi,
    first_of,
    normalise_issn,
    normalise_pages,
    parse_year,
)
from identification.importers.types import ris_type

_TAG_RE = re.compile(r"([A-Z][A-Z0-9]) ?(.*)$")
_LIST_TAGS = frozenset({"AU", "AF", "BA", "BF", "BE", "CA", "GP", "CR", "C1", "C3", "OR", "ED"})
_EMAIL_RE = re.compile(r"\s*[(<]?\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b[)>]?")


def strip_email(author: str) -> str:
    """``Stillman, Andrew N. (andrew.stillman@uconn.edu)`` -> ``Stillman, Andrew N.``"""
    return _EMAIL_RE.sub("", author).strip() if "@" in author else author


def read_wos(lines: Iterable[str]) -> Iterator[ParsedRecord]:
    """Yield one record per ``PT``...``ER`` block; raise if the file ends inside one."""
    raw: dict[str, list[str]] | None = None
    start = 0
    last_tag = ""
    count = 0
    number = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line[:1] in (" ", "\t"):
            if raw is not None and last_tag:
                values = raw[last_tag]
                text = line.strip()
                if last_tag in _LIST_TAGS:
                    values.append(text)
                else:
                    values[-1] = f"{values[-1]} {text}"
            continue
        found = _TAG_RE.match(line)
        if not found:
            continue
        tag, value = found.group(1), found.group(2).strip()
        if raw is None:
            if tag == "PT":
                raw = {"PT": [value]}
                start = number
                last_tag = "PT"
            # FN, VR, EF and anything else between records is file furniture.
            continue
        if tag == "ER":
            count += 1
            yield wos_record(raw, start)
            raw = None
            continue
        if tag == "PT":
            # A record without ER; close it rather than merge two records.
            count += 1
            yield wos_record(raw, start)
            raw = {"PT": [value]}
            start = number
            last_tag = "PT"
            continue
        raw.setdefault(tag, []).append(value)
        last_tag = tag
    if raw is not None:
        raise ImportFormatError(
            f"the file ends inside the record that starts at line {start}: no 'ER' end tag "
            "(was the file cut short?)",
            line=number,
        )
    if count == 0:
        raise ImportFormatError("no Web of Science records found (no line starts with 'PT ')")


def _split_semicolons(values: Iterable[str]) -> list[str]:
    out = []
    for value in values:
        out.extend(part.strip() for part in value.split(";"))
    return [part for part in out if part]


def wos_record(raw: dict[str, list[str]], source_line: int) -> ParsedRecord:
    # Article numbers (AR) are not pages: the WoS RIS export of the same record has no SP.
    pages = normalise_pages(first_of(raw, "BP"), first_of(raw, "EP"))
    kind = ris_type(first_of(raw, "PT"), default="JOUR")
    if kind == "JOUR":
        # PT J is any journal item; DT says "Proceedings Paper" or "Book Chapter" when it is.
        detailed = ris_type(first_of(raw, "DT"), default="JOUR")
        kind = detailed if detailed in ("CPAPER", "CHAP", "BOOK") else kind
    return build_record(
        raw=raw,
        source_line=source_line,
        title=first_of(raw, "TI"),
        abstract=first_of(raw, "AB"),
        authors=[strip_email(a) for a in (raw.get("AU") or raw.get("AF") or ())],
        year=parse_year(first_of(raw, "PY"), first_of(raw, "PD"), first_of(raw, "EA")),
        journal=first_of(raw, "SO", "SE", "J9"),
        volume=first_of(raw, "VL"),
        issue=first_of(raw, "IS"),
        pages=pages,
        doi=first_doi(raw.get("DI", []) + raw.get("D2", [])),
        pmid=first_of(raw, "PM"),
        issn=normalise_issn(first_of(raw, "SN"), first_of(raw, "EI")),
        keywords=_split_semicolons([*raw.get("DE", ()), *raw.get("ID", ())]),
        language=first_of(raw, "LA"),
        publication_type=kind,
        accession_number=first_of(raw, "UT", "AN"),
    )
