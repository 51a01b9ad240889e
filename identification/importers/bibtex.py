"""BibTeX through bibtexparser 2, one entry at a time.

bibtexparser parses a whole string at once, so the reader cuts the stream into entries at lines
starting with ``@`` and hands each to bibtexparser: memory stays at one entry. ``@string``
macros are kept and prepended to later entries so references to them still resolve.

Scopus BibTeX repeats ``funding_details`` in one entry (``synthesisr__Scopus_bib_example.bib``);
bibtexparser then returns a ``DuplicateFieldKeyBlock`` instead of the entry, so we take the entry
it offers in ``ignore_error_block`` (first value of each field wins) rather than lose the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import bibtexparser
from bibtexparser import model

from identification.importers.errors import ImportFormatError
from identification.importers.ids import accession_from_url, doi_from_url, pmid_from_text
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

_ENTRY_START = re.compile(r"^\s*@\s*([A-Za-z]+)\s*[{(]")
_AND_RE = re.compile(r"\s+and\s+", re.IGNORECASE)
_LATEX_HINT = re.compile(r"[\\{}$~]")


@lru_cache(maxsize=1)
def _latex_converter():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)


def _delatex(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and (text[0], text[-1]) in (("{", "}"), ('"', '"')):
        text = text[1:-1]
    if not _LATEX_HINT.search(text):
        return text
    try:
        return _latex_converter().latex_to_text(text)
    except Exception:
        return text.replace("{", "").replace("}", "")


def _chunks(lines: Iterable[str]) -> Iterator[tuple[int, str, str]]:
    """Yield ``(first line number, entry type, text)`` for each ``@...`` block."""
    buffer: list[str] = []
    start = 0
    kind = ""
    for number, line in enumerate(lines, start=1):
        found = _ENTRY_START.match(line)
        if found:
            if buffer:
                yield start, kind, "\n".join(buffer)
            buffer = [line]
            start = number
            kind = found.group(1).lower()
        elif buffer:
            buffer.append(line)
    if buffer:
        yield start, kind, "\n".join(buffer)


def read_bibtex(lines: Iterable[str]) -> Iterator[ParsedRecord | tuple[int, str]]:
    """Yield a record per entry, or ``(line, reason)`` for an entry bibtexparser cannot read."""
    macros: list[str] = []
    count = 0
    for start, kind, text in _chunks(lines):
        if kind in ("comment", "preamble"):
            continue
        if kind == "string":
            macros.append(text)
            continue
        source = "\n".join([*macros, text]) if macros else text
        library = bibtexparser.parse_string(source)
        entries: list[model.Entry] = list(library.entries)
        for block in library.failed_blocks:
            if isinstance(block, model.DuplicateFieldKeyBlock):
                entries.append(block.ignore_error_block)
            else:
                yield start, f"BibTeX entry could not be read: {block.error}"
        for entry in entries:
            count += 1
            yield bibtex_record(entry, start)
    if count == 0:
        raise ImportFormatError("no BibTeX entries found (no line starts with '@article{' etc.)")


def bibtex_record(entry: model.Entry, source_line: int) -> ParsedRecord:
    fields: dict[str, list[str]] = {}
    for item in entry.fields:
        key = item.key.strip().lower()
        fields.setdefault(key, []).append(_delatex(str(item.value)))
    fields["ENTRYTYPE"] = [entry.entry_type]
    fields["ID"] = [entry.key]
    authors = [a.strip() for a in _AND_RE.split(first_of(fields, "author")) if a.strip()]
    keywords: list[str] = []
    for key in ("author_keywords", "keywords", "keyword"):
        for value in fields.get(key, ()):
            separator = ";" if ";" in value else ","
            keywords.extend(part.strip() for part in value.split(separator))
    url = first_of(fields, "url")
    doi = first_doi(fields.get("doi", ())) or doi_from_url(url)
    return build_record(
        raw=fields,
        source_line=source_line,
        title=first_of(fields, "title"),
        abstract=first_of(fields, "abstract"),
        authors=authors,
        year=parse_year(first_of(fields, "year"), first_of(fields, "date")),
        journal=first_of(fields, "journal", "journaltitle", "booktitle"),
        volume=first_of(fields, "volume"),
        issue=first_of(fields, "number", "issue"),
        pages=normalise_pages(first_of(fields, "pages")),
        doi=doi,
        pmid=pmid_from_text(first_of(fields, "pmid", "pubmed_id")),
        issn=normalise_issn(first_of(fields, "issn")),
        keywords=keywords,
        language=first_of(fields, "language"),
        publication_type=ris_type(entry.entry_type, default="GEN"),
        url=url,
        accession_number=first_of(fields, "eid") or accession_from_url(url),
    )
