"""EndNote XML, as written by EndNote, Zotero and Mendeley, read with expat as a stream.

The three differ in small ways: EndNote wraps every text in ``<style face=... >``; Zotero writes
plain text and both ``<number>`` and ``<issue>``; Mendeley writes ``<ref-type>0</ref-type>``
(Generic) for most items and puts links under ``<web-urls>``. Expat is used directly (not
``ElementTree.iterparse``) because it gives the line each ``<record>`` starts at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from xml.parsers import expat

from identification.importers.errors import ImportFormatError
from identification.importers.ids import doi_from_url, pmid_from_text
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
from identification.importers.types import ENDNOTE_REF_TYPES, ris_type

_URL_PATHS = (
    "urls/related-urls/url",
    "urls/web-urls/url",
    "urls/pdf-urls/url",
    "urls/url",
)


class _Collector:
    """Expat handlers that turn ``<record>`` elements into ``{path: [text, ...]}`` dicts."""

    def __init__(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        self.done: list[tuple[int, dict[str, list[str]]]] = []
        self.raw: dict[str, list[str]] | None = None
        self.start = 0
        self.stack: list[tuple[str, list[str]]] = []
        self.saw_records = False

    def start_element(self, name: str, attrs: dict[str, str]) -> None:
        if name == "record":
            self.raw = {}
            self.start = self.parser.CurrentLineNumber
            self.stack = []
            self.saw_records = True
            return
        if self.raw is None or name == "style":
            return
        self.stack.append((name, []))
        if name == "ref-type" and "name" in attrs:
            self.raw.setdefault("ref-type@name", []).append(attrs["name"])

    def end_element(self, name: str) -> None:
        if self.raw is None:
            return
        if name == "record":
            self.done.append((self.start, self.raw))
            self.raw = None
            return
        if name == "style" or not self.stack:
            return
        path = "/".join(tag for tag, _ in self.stack)
        _, parts = self.stack.pop()
        text = "".join(parts).strip()
        if text:
            self.raw.setdefault(path, []).append(text)

    def characters(self, data: str) -> None:
        if self.stack:
            self.stack[-1][1].append(data)


def read_endnote_xml(chunks: Iterable[str]) -> Iterator[ParsedRecord]:
    """Yield one record per ``<record>`` from text chunks (see :func:`~.encoding.iter_chunks`).

    Raises :class:`ImportFormatError` on XML that is not well-formed or holds no record.
    """
    parser = expat.ParserCreate(encoding="utf-8")
    collector = _Collector(parser)
    parser.StartElementHandler = collector.start_element
    parser.EndElementHandler = collector.end_element
    parser.CharacterDataHandler = collector.characters
    parser.buffer_text = True
    count = 0

    def feed(text: str, final: bool) -> None:
        try:
            parser.Parse(text.encode("utf-8"), final)
        except expat.ExpatError as error:
            reason = expat.errors.messages.get(error.code, str(error))
            if final and error.code == expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]:
                reason = "the XML ends early (was the file cut short?)"
            elif final and error.code == expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN]:
                reason = "the XML ends inside a tag (was the file cut short?)"
            raise ImportFormatError(
                f"not well-formed EndNote XML: {reason}", line=error.lineno
            ) from None

    for chunk in chunks:
        feed(chunk, False)
        for start, raw in collector.done:
            count += 1
            yield endnote_record(raw, start)
        collector.done.clear()
    feed("", True)
    for start, raw in collector.done:
        count += 1
        yield endnote_record(raw, start)
    if count == 0:
        raise ImportFormatError("no EndNote XML <record> elements found")


def endnote_record(raw: dict[str, list[str]], source_line: int) -> ParsedRecord:
    ref_type = first_of(raw, "ref-type")
    if ref_type.isdigit() and int(ref_type) in ENDNOTE_REF_TYPES:
        kind = ENDNOTE_REF_TYPES[int(ref_type)]
    else:
        kind = ris_type(first_of(raw, "ref-type@name"), default="GEN")
    urls = all_of(raw, *_URL_PATHS)
    database = " ".join(all_of(raw, "remote-database-name", "remote-database-provider")).lower()
    accession = first_of(raw, "accession-num")
    pmid = ""
    if any(name in database for name in ("nlm", "pubmed", "medline")):
        pmid = pmid_from_text(accession)
    for note in raw.get("notes", ()):
        if not pmid and "PMID" in note.upper():
            pmid = pmid_from_text(note[note.upper().index("PMID") :])
    doi = first_doi(raw.get("electronic-resource-num", ()))
    if not doi:
        doi = next((d for d in map(doi_from_url, urls) if d), "")
    return build_record(
        raw=raw,
        source_line=source_line,
        title=first_of(raw, "titles/title"),
        abstract=first_of(raw, "abstract"),
        authors=raw.get("contributors/authors/author", ()),
        year=parse_year(first_of(raw, "dates/year"), first_of(raw, "dates/pub-dates/date")),
        journal=first_of(
            raw, "periodical/full-title", "titles/secondary-title", "alt-periodical/full-title"
        ),
        volume=first_of(raw, "volume"),
        issue=first_of(raw, "issue", "number"),
        pages=normalise_pages(first_of(raw, "pages")),
        doi=doi,
        pmid=pmid,
        issn=normalise_issn(*raw.get("isbn", ())),
        keywords=raw.get("keywords/keyword", ()),
        language=first_of(raw, "language"),
        publication_type=kind,
        url=urls[0] if urls else "",
        accession_number=accession,
    )
