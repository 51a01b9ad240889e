"""Bytes to text: which encoding an export is in, and its lines, cleaned, one at a time.

Database exports come as UTF-8 with or without a BOM, UTF-16 with a BOM (EndNote on Windows,
some Ovid exports) and, still, cp1252 (the ASySD "Diabetes" set is one). We never guess silently:
:func:`decode_stream` says which encoding it used and whether that was a fallback, so the caller
can tell the user "read as Windows-1252".
"""

from __future__ import annotations

import codecs
import io
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from identification.importers.errors import ImportFormatError
from identification.importers.records import CONTROL_CHARS_RE

#: Bytes read to validate an encoding, and characters read per chunk when splitting lines.
CHUNK_SIZE = 1 << 16
#: A line longer than this is cut: no real tag line or CSV row is anywhere near it (the longest
#: in our exports is a 65 kB abstract), and a hostile file with one 2 GB "line" must not be
#: held in memory.
MAX_LINE_CHARS = 4_000_000

_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"PK\x03\x04", "a ZIP archive (Word, Excel or other)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document (.doc/.xls)"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
    (b"SQLite format 3", "an SQLite database"),
)
_BINARY_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20))


@dataclass
class DecodedText:
    """A text stream over an upload, and how it was decoded."""

    stream: TextIO
    #: Python codec name actually used: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``utf-16-le``,
    #: ``utf-16-be``, ``cp1252`` or ``latin-1``.
    encoding: str
    #: True when the bytes were not valid UTF-8 (or UTF-16 with a BOM) and we fell back to
    #: cp1252 or latin-1: the caller should tell the user.
    fell_back: bool
    #: Byte offset of the first byte that was not valid UTF-8, when ``fell_back``.
    first_bad_byte: int | None = None

    @property
    def label(self) -> str:
        """A human name for the encoding, e.g. ``UTF-8 (BOM)`` or ``Windows-1252 (fallback)``."""
        names = {
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 (BOM)",
            "utf-16": "UTF-16",
            "utf-16-le": "UTF-16LE",
            "utf-16-be": "UTF-16BE",
            "cp1252": "Windows-1252",
            "latin-1": "Latin-1",
        }
        name = names.get(self.encoding, self.encoding)
        return f"{name} (fallback)" if self.fell_back else name


def describe_binary(head: bytes) -> str | None:
    """Say what ``head`` is if it is plainly not text (``"a PDF document"``), else ``None``."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(head):
        return None
    sample = head[:8192]
    if not sample:
        return None
    # A few NUL or control bytes happen in real exports (and are stripped); a file where more
    # than one byte in ten is a control byte is not text.
    controls = sum(sample.count(bytes([b])) for b in _BINARY_BYTES)
    if controls * 10 > len(sample):
        return "binary data, not text"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte of an ASCII-ish head is NUL, else ``None``."""
    sample = head[:2000]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _seekable(binary: BinaryIO) -> BinaryIO:
    if binary.seekable():
        return binary
    # We read twice (validate, then decode); spool a pipe or socket to disk to allow that.
    spooled = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    shutil.copyfileobj(binary, spooled)
    spooled.seek(0)
    return spooled  # type: ignore[return-value]


def _first_invalid(binary: BinaryIO, encoding: str) -> int | None:
    """Offset of the first byte ``encoding`` cannot decode, or ``None`` if it all decodes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    while True:
        chunk = binary.read(CHUNK_SIZE)
        # Bytes the decoder holds back (an unfinished multi-byte character) start before chunk.
        held = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            return offset - held + error.start
        if not chunk:
            return None
        offset += len(chunk)


def detect_encoding(binary: BinaryIO) -> tuple[str, bool, int | None]:
    """Return ``(codec, fell_back, first_bad_byte)`` for a seekable binary file, left at 0."""
    start = binary.tell()
    head = binary.read(4096)
    binary.seek(start)
    if head.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False, None
    else:
        guessed = _utf16_without_bom(head)
        if guessed:
            return guessed, False, None
        codec = "utf-8"
    bad = _first_invalid(binary, codec)
    binary.seek(start)
    if bad is None:
        return codec, False, None
    # cp1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D); latin-1 takes anything.
    fallback = "cp1252" if _first_invalid(binary, "cp1252") is None else "latin-1"
    binary.seek(start)
    return fallback, True, bad


def decode_stream(binary: BinaryIO) -> DecodedText:
    """Wrap an uploaded file (opened in binary mode) in a text stream of the right encoding.

    Raises :class:`ImportFormatError` for an empty or plainly binary file. The returned stream
    reads the whole file from its current position; it owns ``binary`` (closing the stream
    closes the file; call ``stream.detach()`` to get the file back).
    """
    binary = _seekable(binary)
    start = binary.tell()
    head = binary.read(CHUNK_SIZE)
    binary.seek(start)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise ImportFormatError("the file is empty")
    what = describe_binary(head)
    if what:
        raise ImportFormatError(f"the file is {what}, not a bibliographic export")
    codec, fell_back, bad = detect_encoding(binary)
    # newline="" : iter_lines() handles CR, LF and CRLF itself, so the csv module and our line
    # readers see the same text whichever way the stream was made.
    stream = io.TextIOWrapper(binary, encoding=codec, errors="replace", newline="")  # type: ignore[arg-type]
    return DecodedText(stream=stream, encoding=codec, fell_back=fell_back, first_bad_byte=bad)


def decode_head(head: bytes) -> str:
    """Best-effort text of the first bytes of a file, for sniffing (never raises)."""
    if head.startswith(codecs.BOM_UTF8):
        return head[3:].decode("utf-8", errors="replace")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    guessed = _utf16_without_bom(head)
    if guessed:
        return head.decode(guessed, errors="replace")
    # A multi-byte character may be cut at the end of the head: "replace" hides that.
    return head.decode("utf-8", errors="replace")


def iter_chunks(stream: TextIO) -> Iterator[str]:
    """Yield the text of ``stream`` in chunks, line ends made ``\\n``, control characters gone.

    For readers that do not work line by line (XML), where a file may be one 3 MB line
    (``asysd__zotero_endnote_export.xml``).
    """
    read = stream.read
    while True:
        chunk = read(CHUNK_SIZE)
        if not chunk:
            return
        if chunk[-1] == "\r":
            # Do not split a CRLF across two chunks (it would count as two line ends).
            chunk += read(1)
        if "\r" in chunk:
            chunk = chunk.replace("\r\n", "\n").replace("\r", "\n")
        # Every character the regex removes is non-printable, and the regex scans a 64 kB chunk
        # three times slower than isprintable() (a third of the whole parse of a RIS file).
        # Line ends and no-break spaces (common in Scopus abstracts) are the non-printables
        # that real chunks hold; without them a printable chunk needs no search.
        printable = chunk.replace("\n", " ").replace("\xa0", " ").isprintable()
        if not printable and CONTROL_CHARS_RE.search(chunk):
            chunk = CONTROL_CHARS_RE.sub("", chunk)
        yield chunk


def iter_lines(stream: TextIO) -> Iterator[str]:
    """Yield the lines of ``stream`` without their line ends, cleaned for storage.

    CR, LF and CRLF (mixed in one file, as in ASySD's ``wos_test.ris``) all end a line; control
    characters and stray BOMs are dropped; a line longer than :data:`MAX_LINE_CHARS` is cut
    there. Reads in chunks, so memory stays flat whatever the file size.
    """
    for lines in iter_line_lists(stream):
        yield from lines


def iter_line_lists(stream: TextIO) -> Iterator[list[str]]:
    """The lines of :func:`iter_lines`, a chunk's worth in each list.

    For readers whose loop over lines is the hot path (RIS): a ``for`` over a list is cheaper
    than a generator's step per line.
    """
    carry = ""
    overlong = False
    for chunk in iter_chunks(stream):
        lines = chunk.split("\n")
        if len(lines) == 1:
            if not overlong:
                carry += chunk
                if len(carry) > MAX_LINE_CHARS:
                    carry = carry[:MAX_LINE_CHARS]
                    overlong = True
            continue
        if overlong:
            lines[0] = carry
            overlong = False
        else:
            line = carry + lines[0]
            lines[0] = line[:MAX_LINE_CHARS] if len(line) > MAX_LINE_CHARS else line
        carry = lines.pop()
        yield lines
    if carry:
        yield [carry]
