"""Which export format a file is, from its first bytes (and its name as a hint)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from enum import StrEnum

from identification.importers.encoding import decode_head, describe_binary
from identification.importers.errors import ImportFormatError

#: How many bytes :func:`sniff` wants; fewer works, more is not read.
SNIFF_BYTES = 64 * 1024


class Format(StrEnum):
    RIS = "ris"
    MEDLINE = "medline"
    WOS = "wos"
    BIBTEX = "bibtex"
    ENDNOTE_XML = "endnote_xml"
    SCOPUS_CSV = "scopus_csv"
    EMBASE_CSV = "embase_csv"
    #: Any other comma/semicolon/tab separated table: needs a column mapping.
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def needs_mapping(self) -> bool:
        """Generic tables have no fixed columns: the user maps them (see ``suggest_mapping``)."""
        return self in (Format.CSV, Format.XLSX)


_LABELS = {
    Format.RIS: "RIS",
    Format.MEDLINE: "MEDLINE/PubMed text",
    Format.WOS: "Web of Science tagged text",
    Format.BIBTEX: "BibTeX",
    Format.ENDNOTE_XML: "EndNote XML",
    Format.SCOPUS_CSV: "Scopus CSV",
    Format.EMBASE_CSV: "Embase CSV",
    Format.CSV: "CSV/TSV table",
    Format.XLSX: "Excel workbook",
}


@dataclass(frozen=True)
class DetectedFormat:
    format: Format
    #: Why we think so, for logs and for the import summary ("found 'TY  - ' at line 2").
    reason: str
    #: For tables: the delimiter (``,``, ``;`` or tab). ``None`` for other formats.
    delimiter: str | None = None


_RIS_RE = re.compile(r"^TY {1,2}- ?\S*", re.MULTILINE)
_MEDLINE_RE = re.compile(r"^PMID- ?\d", re.MULTILINE)
_WOS_RE = re.compile(r"^(?:FN .*|PT [A-Z])\s*$", re.MULTILINE)
_WOS_TAG_RE = re.compile(r"^(?:AU|TI|UT|SO) \S", re.MULTILINE)
_BIBTEX_RE = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
_XML_RE = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<", re.DOTALL)

_SCOPUS_COLUMNS = {"eid", "source title"}
_EMBASE_COLUMNS = ({"author names", "source"}, {"title", "emtree medical index terms"})
_EXTENSIONS = {
    ".ris": Format.RIS,
    ".enw": Format.RIS,
    ".nbib": Format.MEDLINE,
    ".medline": Format.MEDLINE,
    ".bib": Format.BIBTEX,
    ".bibtex": Format.BIBTEX,
    ".xml": Format.ENDNOTE_XML,
    ".csv": Format.CSV,
    ".tsv": Format.CSV,
    ".tab": Format.CSV,
    ".xlsx": Format.XLSX,
}


def sniff(first_bytes: bytes, filename: str = "") -> DetectedFormat:
    """Detect the export format from the first bytes of a file (:data:`SNIFF_BYTES` is plenty).

    Content decides; the file name only breaks ties (``.nbib``, ``.bib``...). Raises
    :class:`ImportFormatError` for empty, binary and non-bibliographic input.
    """
    name = filename.lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if first_bytes.startswith(b"PK\x03\x04"):
        if (
            extension in (".xlsx", ".xlsm")
            or b"xl/" in first_bytes
            or b"[Content_Types]" in (first_bytes)
        ):
            return DetectedFormat(Format.XLSX, "a ZIP archive holding an Excel workbook")
        raise ImportFormatError("the file is a ZIP archive, not a bibliographic export")
    check_text(first_bytes)
    text = decode_head(first_bytes)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")

    match = _RIS_RE.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        return DetectedFormat(Format.RIS, f"'TY  - ' record start at line {line}")
    if _MEDLINE_RE.search(text):
        return DetectedFormat(Format.MEDLINE, "'PMID- ' tag lines")
    if _WOS_RE.search(text) and _WOS_TAG_RE.search(text):
        return DetectedFormat(Format.WOS, "'FN'/'PT' header and two-letter tags")
    if _XML_RE.match(text):
        if re.search(r"<records?\b", text) or re.search(r"<xml\b", text):
            return DetectedFormat(Format.ENDNOTE_XML, "XML with <record> elements")
        raise ImportFormatError(
            "the file is XML but not EndNote XML (no <records> element); export from your "
            "reference manager as 'EndNote XML'"
        )
    if _BIBTEX_RE.search(text) and extension not in (".csv", ".tsv"):
        return DetectedFormat(Format.BIBTEX, "'@type{' BibTeX entries")
    table = _sniff_table(text)
    if table:
        return table
    hint = _EXTENSIONS.get(extension)
    detail = f" (the name says {hint.label})" if hint else ""
    raise ImportFormatError(
        "the file is not a bibliographic export we recognise" + detail + ": expected RIS "
        "('TY  - '), MEDLINE ('PMID- '), Web of Science ('FN'/'PT'), BibTeX ('@article{'), "
        "EndNote XML, or a table with a header row"
    )


def check_text(first_bytes: bytes) -> None:
    """Raise :class:`ImportFormatError` if the head of a file is empty or plainly binary."""
    if first_bytes.startswith(b"PK\x03\x04"):
        return  # a workbook, or refused by sniff()
    if not first_bytes.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ImportFormatError("the file is empty")
    what = describe_binary(first_bytes)
    if what:
        raise ImportFormatError(f"the file is {what}, not a bibliographic export")


def _sniff_table(text: str) -> DetectedFormat | None:
    lines = [line for line in text.split("\n") if line.strip()][:20]
    if not lines:
        return None
    header_line = lines[0]
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        return None
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return None
    header = rows[0]
    named = [column.strip().strip("\ufeff").lower() for column in header if column.strip()]
    columns = set(named)
    # A header names at least two columns, briefly; prose with a comma in it does not, and its
    # next lines do not split into as many cells. (Quoted cells spanning lines make later
    # rows unreliable in a cut head, so one matching row is enough.)
    if len(columns) < 2 or any(len(column) > 120 for column in named):
        return None
    if len(rows) > 1 and not any(len(row) == len(header) for row in rows[1:]):
        return None
    if columns >= _SCOPUS_COLUMNS:
        return DetectedFormat(
            Format.SCOPUS_CSV, "Scopus column names (EID, Source title)", delimiter
        )
    if any(group <= columns for group in _EMBASE_COLUMNS):
        return DetectedFormat(Format.EMBASE_CSV, "Embase column names", delimiter)
    name = "tab" if delimiter == "\t" else repr(delimiter)
    return DetectedFormat(Format.CSV, f"a table with a header row, {name}-separated", delimiter)
