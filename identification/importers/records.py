"""The normalised record every reader yields, and the small normalisers they share.

Everything here is pure: strings in, strings out. Readers fill a :class:`ParsedRecord` through
:func:`build_record`, which applies the same cleaning (HTML, entities, control characters,
whitespace) whichever format the record came from, so that a record read from RIS and the same
record read from a CSV compare equal field by field.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import unquote

# C0 controls except tab/newline, DEL, C1 controls, the BOM and other zero-width characters
# that some exports leave in the middle of a file (concatenated files keep their BOMs) and that
# PostgreSQL or a browser will not take: NUL in particular is refused by a text column.
CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\u200b]")
_TAG_RE = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?\s*>")
_BREAK_TAG_RE = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6])\s*/?\s*>", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.IGNORECASE)
_DOI_RE = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX_RE = re.compile(
    r"^(?:https?://)?(?:dx\.|www\.)?doi\.org/|^doi\s*[:=]?\s*|^https?://[^/]*doi[^/]*/",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|2[0-2]\d\d)(?!\d)")
_ISSN_RE = re.compile(r"(?<![0-9])(\d{4})-?(\d{3}[\dXx])(?![0-9Xx])")
_PAGES_SPLIT_RE = re.compile(r"\s*(?:-{1,2}|–|—|‐|‑|−)\s*")


@dataclass(slots=True)
class ParsedRecord:
    """One bibliographic record, normalised; ``raw`` keeps what the file said.

    Text fields are ``""`` when absent (never ``None``) so that they can go straight into
    non-null text columns; ``year`` is ``None`` when the record has no usable year.
    """

    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    issn: str = ""
    keywords: list[str] = field(default_factory=list)
    language: str = ""
    publication_type: str = ""
    url: str = ""
    accession_number: str = ""
    raw: dict[str, list[str]] = field(default_factory=dict)
    source_line: int = 0

    #: The bibliographic fields, in the order above: the one list of them. The column mapping
    #: (``tabular.TARGET_FIELDS``), the stored record's columns (``import_job``), the API, the
    #: columns deduplication reads and the benchmarks derive theirs from it; the CSV export keeps
    #: an order of its own (``writers.CSV_COLUMNS``), checked against it by a test.
    NORMALISED_FIELDS: ClassVar[tuple[str, ...]] = (
        "title",
        "abstract",
        "authors",
        "year",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "issn",
        "keywords",
        "language",
        "publication_type",
        "url",
        "accession_number",
    )

    def normalised(self) -> dict[str, object]:
        """The normalised fields only (no ``raw``, no ``source_line``): what a round trip keeps."""
        return {name: getattr(self, name) for name in self.NORMALISED_FIELDS}


def _unescape(match: re.Match[str]) -> str:
    return html.unescape(match.group(0))


def clean_text(value: str | None) -> str:
    """Strip HTML tags, unescape entities, drop control characters, collapse whitespace."""
    if not value:
        return ""
    text = value
    if "<" in text:
        text = _BREAK_TAG_RE.sub(" ", text)
        text = _TAG_RE.sub("", text)
    if "&" in text and ";" in text:
        # Only "&name;" / "&#nn;" entities: html.unescape() alone would also turn the legacy
        # "&not" or "&copy" inside "R&D"-style text and URL query strings into symbols.
        double = "&amp;" in text
        text = _ENTITY_RE.sub(_unescape, text)
        if double and "&" in text:
            # Lens and some EBSCO abstracts arrive double-escaped ("&amp;lt;p&amp;gt;").
            text = _ENTITY_RE.sub(_unescape, text)
        if "<" in text:
            text = _TAG_RE.sub("", text)
    if text.isprintable():
        # Printable means no tab, newline or other control character: only runs of spaces and
        # the ends can need work. Most values need none, and this test is much cheaper.
        # (strip() gives back the string itself when there is nothing to strip.)
        if "  " in text or text.strip(" ") is not text:
            text = " ".join(text.split())
        return text
    # str.split() without arguments splits on all Unicode whitespace; faster than a regex.
    return " ".join(CONTROL_CHARS_RE.sub("", text).split())


def clean_list(values: Iterable[str | None]) -> list[str]:
    """Clean each value and drop the empty ones, keeping order."""
    if type(values) is list and values and all(values):
        # Most lists (a record's authors, keywords) are clean already: check them all at once
        # instead of value by value. Printable values hold no newline, so in ``joined`` the
        # newlines are the separators and " \n"/"\n " are spaces at the end of a value.
        joined = "\n".join(values)  # type: ignore[arg-type]
        if (
            "<" not in joined
            and "&" not in joined
            and "  " not in joined
            and " \n" not in joined
            and "\n " not in joined
            and joined.strip(" ") is joined
            and all(map(str.isprintable, values))  # type: ignore[arg-type]
        ):
            return values.copy()  # type: ignore[return-value]
    out = []
    for value in values:
        cleaned = clean_text(value)
        if cleaned:
            out.append(cleaned)
    return out


def normalise_doi(value: str | None) -> str:
    """Return a bare lower-case DOI (``10.xxxx/...``) or ``""`` if ``value`` holds none.

    Accepts ``doi:`` prefixes, ``http(s)://(dx.)doi.org/`` URLs, percent-encoding and the
    ``[doi]`` suffix of MEDLINE ``AID`` lines.
    """
    if not value:
        return ""
    text = (value if value.isprintable() else CONTROL_CHARS_RE.sub("", value)).strip()
    if "%" in text:
        text = unquote(text)
    if not text.startswith("10."):  # no prefix to remove from a bare DOI
        text = _DOI_PREFIX_RE.sub("", text).strip()
    match = _DOI_RE.search(text)
    if not match:
        return ""
    doi = match.group(0)
    # Trailing punctuation belongs to the sentence the DOI was written in, not to the DOI.
    doi = doi.rstrip(".,;:]")
    if doi.endswith(")") and doi.count("(") < doi.count(")"):
        doi = doi[:-1]
    doi = doi.split("[", 1)[0] if doi.endswith("]") else doi
    return doi.lower()


def first_doi(candidates: Iterable[str | None]) -> str:
    """The first valid DOI among ``candidates`` (a record may give its DOI twice, or junk first)."""
    for candidate in candidates:
        doi = normalise_doi(candidate)
        if doi:
            return doi
    return ""


def normalise_pages(start: str | None, end: str | None = None) -> str:
    """Return pages as ``start-end`` in full form, ``start`` alone, or ``""``.

    ``123-9``, ``123-129`` and ``SP 123`` + ``EP 129`` all give ``123-129``; an end page written
    with fewer digits than the start borrows the start's leading digits (MEDLINE style). Article
    numbers and other non-numeric pages are kept as written.
    """
    start = clean_text(start)
    end = clean_text(end)
    if start and not end:
        parts = _PAGES_SPLIT_RE.split(start, maxsplit=1)
        if len(parts) == 2:
            start, end = parts[0].strip(), parts[1].strip()
    if not start:
        return end
    if not end or end == start:
        return start
    if start.isdigit() and end.isdigit() and len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return f"{start}-{end}"


def parse_year(*candidates: str | None) -> int | None:
    """The first plausible year (1500-2299) found in the candidates, in order."""
    for candidate in candidates:
        if candidate:
            match = _YEAR_RE.search(candidate)
            if match:
                return int(match.group(1))
    return None


def normalise_issn(*candidates: str | None) -> str:
    """The first ISSN among the candidates as ``NNNN-NNNX``; ``""`` if there is none.

    ISBNs (13 or 10 digits) are not ISSNs: the look-arounds refuse digits glued on either side.
    """
    for candidate in candidates:
        if not candidate:
            continue
        for match in _ISSN_RE.finditer(candidate):
            return f"{match.group(1)}-{match.group(2).upper()}"
    return ""


def first(values: Sequence[str] | None) -> str:
    """The first non-blank value of a list, or ``""``."""
    if values:
        for value in values:
            if value and value.strip():
                return value
    return ""


def first_of(raw: Mapping[str, Sequence[str]], *tags: str) -> str:
    """The first non-blank value under the first tag (in order) that has one."""
    for tag in tags:
        value = first(raw.get(tag))
        if value:
            return value
    return ""


def all_of(raw: Mapping[str, Sequence[str]], *tags: str) -> list[str]:
    """Every value under ``tags``, tag by tag."""
    out: list[str] = []
    for tag in tags:
        out.extend(raw.get(tag, ()))
    return out


def build_record(
    *,
    raw: dict[str, list[str]],
    source_line: int,
    title: str | None = "",
    abstract: str | None = "",
    authors: Iterable[str | None] = (),
    year: int | None = None,
    journal: str | None = "",
    volume: str | None = "",
    issue: str | None = "",
    pages: str | None = "",
    doi: str | None = "",
    pmid: str | None = "",
    issn: str | None = "",
    keywords: Iterable[str | None] = (),
    language: str | None = "",
    publication_type: str | None = "",
    url: str | None = "",
    accession_number: str | None = "",
) -> ParsedRecord:
    """Make a :class:`ParsedRecord`, cleaning every text field the same way for all formats.

    ``doi`` must already be normalised (readers pick it with :func:`first_doi`, which they need
    anyway to skip junk candidates); everything else is cleaned here.
    """
    return ParsedRecord(
        title=clean_text(title),
        abstract=clean_text(abstract),
        authors=clean_list(authors),
        year=year,
        journal=clean_text(journal),
        volume=clean_text(volume),
        issue=clean_text(issue),
        pages=clean_text(pages),
        doi=doi or "",
        pmid=clean_text(pmid),
        issn=clean_text(issn),
        keywords=_dedupe(clean_list(keywords)),
        language=clean_text(language),
        publication_type=clean_text(publication_type),
        url=clean_text(url),
        accession_number=clean_text(accession_number),
        raw=raw,
        source_line=source_line,
    )


def _dedupe(values: list[str]) -> list[str]:
    if len(set(values)) == len(values):
        return values
    seen: set[str] = set()
    out = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def skip_reason(record: ParsedRecord) -> str | None:
    """Why a record cannot be used, or ``None`` if it can.

    A record needs a title or a DOI: without either, nobody can screen it or find it again.
    """
    if not record.title and not record.doi:
        return "no title and no DOI"
    return None
