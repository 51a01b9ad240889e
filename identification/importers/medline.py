"""MEDLINE/PubMed text (``.nbib``, PubMed "Save > PubMed format", Ovid MEDLINE tagged).

Hand-written because neither rispy nor bibtexparser reads it. Tags are up to four letters padded
to four columns then ``- ``; continuation lines start with six spaces; a record starts at
``PMID-`` (or, for exports without PMIDs, at the first tag after a blank line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from identification.importers.errors import ImportFormatError
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
from identification.importers.types import ris_type

_TAG_RE = re.compile(r"([A-Z][A-Z0-9]{1,3}) *- ?(.*)$")
_DOI_SUFFIX = re.compile(r"\s*\[doi\]\s*$", re.IGNORECASE)


def read_medline(lines: Iterable[str]) -> Iterator[ParsedRecord]:
    """Yield one record per ``PMID-`` block. Raises when the file holds no record."""
    raw: dict[str, list[str]] | None = None
    start = 0
    last_tag = ""
    after_blank = True
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            after_blank = True
            continue
        if line.startswith("      ") or line[:1] in (" ", "\t"):
            if raw is not None and last_tag:
                values = raw[last_tag]
                values[-1] = f"{values[-1]} {line.strip()}"
            continue
        found = _TAG_RE.match(line)
        if not found:
            continue
        tag, value = found.group(1), found.group(2).strip()
        if tag == "PMID" or raw is None or (after_blank and "PMID" not in raw):
            if raw:
                count += 1
                yield medline_record(raw, start)
            raw = {}
            start = number
        after_blank = False
        raw.setdefault(tag, []).append(value)
        last_tag = tag
    if raw:
        count += 1
        yield medline_record(raw, start)
    if count == 0:
        raise ImportFormatError("no MEDLINE records found (no line starts with 'PMID- ')")


def medline_record(raw: dict[str, list[str]], source_line: int) -> ParsedRecord:
    dois = [v for v in all_of(raw, "AID", "LID") if _DOI_SUFFIX.search(v)]
    types = raw.get("PT", ())
    if "BTI" in raw and "TI" not in raw:
        kind = "BOOK"
    elif "BTI" in raw:
        kind = "CHAP"
    else:
        kind = ris_type(types[0] if types else "", default="JOUR")
    return build_record(
        raw=raw,
        source_line=source_line,
        title=first_of(raw, "TI", "BTI", "TT"),
        abstract=" ".join(raw.get("AB", ())),
        authors=(raw.get("FAU") or raw.get("AU") or []) + raw.get("CN", []),
        year=parse_year(first_of(raw, "DP"), first_of(raw, "DEP"), first_of(raw, "DA")),
        journal=first_of(raw, "JT", "TA"),
        volume=first_of(raw, "VI"),
        issue=first_of(raw, "IP"),
        pages=normalise_pages(first_of(raw, "PG")),
        doi=first_doi(_DOI_SUFFIX.sub("", v) for v in dois),
        pmid=first_of(raw, "PMID"),
        issn=normalise_issn(*raw.get("IS", ())),
        keywords=all_of(raw, "OT", "MH"),
        language=first_of(raw, "LA"),
        publication_type=kind,
        accession_number=first_of(raw, "PMID"),
    )
