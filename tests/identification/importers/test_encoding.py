"""Encodings (BOM, UTF-16, cp1252 fallback reported) and line endings."""

from __future__ import annotations

import codecs
import io

import pytest

from identification.importers import decode_stream, iter_lines

from .helpers import parse_bytes, ris_record

TITLE = "Résumé of naïve “quoted” effects"


def test_it_reads_utf8_without_bom():
    opened, records = parse_bytes(ris_record(TITLE).encode("utf-8"))
    assert (opened.encoding, opened.fell_back) == ("utf-8", False)
    assert records[0].title == TITLE


def test_it_reads_utf8_with_bom_and_drops_the_bom():
    opened, records = parse_bytes(codecs.BOM_UTF8 + ris_record(TITLE).encode("utf-8"))
    assert (opened.encoding, opened.fell_back) == ("utf-8-sig", False)
    assert records[0].raw["TY"] == ["JOUR"]
    assert records[0].title == TITLE


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_it_reads_utf16_with_a_bom(codec):
    data = ris_record(TITLE).encode(codec)
    if codec != "utf-16":
        bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
        data = bom + data
    opened, records = parse_bytes(data)
    assert opened.encoding == "utf-16"
    assert not opened.fell_back
    assert records[0].title == TITLE


def test_it_reads_utf16_without_a_bom_from_its_nul_pattern():
    opened, records = parse_bytes(ris_record("Plain title").encode("utf-16-le"))
    assert opened.encoding == "utf-16-le"
    assert records[0].title == "Plain title"


def test_it_falls_back_to_cp1252_and_says_so():
    text = ris_record("Naïve “smart quotes” – and a euro €")
    opened, records = parse_bytes(text.encode("cp1252"))
    assert (opened.encoding, opened.fell_back) == ("cp1252", True)
    assert opened.report.as_dict()["encoding_fell_back"] is True
    assert records[0].title == "Naïve “smart quotes” – and a euro €"


def test_it_falls_back_to_latin1_when_cp1252_cannot_decode_either():
    # 0x81 is undefined in cp1252; latin-1 decodes every byte.
    data = ris_record("Caf\xe9 \x81").encode("latin-1")
    decoded = decode_stream(io.BytesIO(data))
    assert (decoded.encoding, decoded.fell_back) == ("latin-1", True)
    assert decoded.label == "Latin-1 (fallback)"


def test_it_reports_where_utf8_first_failed():
    data = ris_record("ok").encode() + "é".encode("cp1252")
    decoded = decode_stream(io.BytesIO(data))
    assert decoded.first_bad_byte == len(ris_record("ok").encode())


def test_it_validates_utf8_across_chunk_boundaries():
    # A multi-byte character split across the 64 KiB read boundary is still valid UTF-8.
    title = "x" * (65536 - 12) + "é" * 10
    decoded = decode_stream(io.BytesIO(ris_record(title).encode("utf-8")))
    assert (decoded.encoding, decoded.fell_back) == ("utf-8", False)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_it_reads_every_line_ending(newline):
    text = (ris_record("First") + ris_record("Second")).replace("\n", newline)
    _, records = parse_bytes(text.encode())
    assert [r.title for r in records] == ["First", "Second"]
    assert records[0].pages == "123-129"


def test_it_reads_mixed_line_endings_in_one_file():
    text = ris_record("First").replace("\n", "\r\n") + ris_record("Second").replace("\n", "\r")
    text += ris_record("Third")
    _, records = parse_bytes(text.encode())
    assert [r.title for r in records] == ["First", "Second", "Third"]
    assert [r.source_line for r in records] == [1, 11, 21]


def test_it_does_not_count_a_crlf_split_across_chunks_as_two_line_ends():
    first = "a" * (65536 - 1)
    lines = list(iter_lines(io.StringIO(first + "\r\nb\r\n", newline="")))
    assert lines == [first, "b"]


def test_it_keeps_line_numbers_right_after_a_bom_and_crlf():
    _, records = parse_bytes(codecs.BOM_UTF8 + (ris_record("A") * 3).replace("\n", "\r\n").encode())
    assert [r.source_line for r in records] == [1, 11, 21]
