"""Input that is not a usable export: a clear ImportFormatError naming the line, or a skip."""

from __future__ import annotations

import io
import os

import pytest

from identification.importers import ImportFormatError, iter_records, sniff
from identification.importers.encoding import MAX_LINE_CHARS

from .helpers import parse_bytes, ris_record


@pytest.mark.parametrize("data", [b"", b"   \r\n\n\t", b"\xef\xbb\xbf", b"\x00\x00"])
def test_it_refuses_an_empty_file(data):
    with pytest.raises(ImportFormatError, match="empty"):
        parse_bytes(data)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"PK\x03\x04\x14\x00\x00\x00word/document.xml", "ZIP"),
        (b"\x1f\x8b\x08\x00" + bytes(100), "gzip"),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_it_refuses_binary_files_and_says_what_they_are(data, what):
    with pytest.raises(ImportFormatError, match=what):
        parse_bytes(data, filename="upload.ris")


def test_it_refuses_random_bytes():
    with pytest.raises(ImportFormatError):
        parse_bytes(os.urandom(4096) + bytes(512))


def test_it_refuses_a_text_file_that_is_not_bibliographic():
    prose = b"Dear colleagues,\nplease find the minutes of our meeting attached.\nBest wishes\n"
    with pytest.raises(ImportFormatError, match="not a bibliographic export we recognise"):
        parse_bytes(prose, filename="notes.ris")


def test_it_refuses_xml_that_is_not_endnote_xml():
    with pytest.raises(ImportFormatError, match="not EndNote XML"):
        parse_bytes(b'<?xml version="1.0"?>\n<html><body>hi</body></html>', filename="a.xml")


def test_it_names_the_line_and_the_record_of_a_truncated_ris_file():
    text = ris_record("Complete") + "TY  - JOUR\nTI  - Cut short\nAU  - Smith, J\n"
    with pytest.raises(ImportFormatError) as raised:
        parse_bytes(text.encode())
    message = str(raised.value)
    assert message.startswith("line 13: ")
    assert "record that starts at line 11" in message
    assert "ER" in message
    assert raised.value.line == 13


def test_it_names_the_record_of_a_truncated_web_of_science_file():
    text = "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Li, W\nTI A title\nER\n\n"
    text += "PT J\nAU Ma, X\nTI Another\n   title cut"
    with pytest.raises(ImportFormatError, match="record that starts at line 8"):
        parse_bytes(text.encode(), filename="savedrecs.txt")


def test_it_names_the_line_of_truncated_endnote_xml():
    text = '<?xml version="1.0"?>\n<xml><records><record><titles><title>A</title></titles>'
    text += "</record>\n<record><titles><title>B</ti"
    with pytest.raises(ImportFormatError, match=r"^line 3: .*cut short"):
        parse_bytes(text.encode(), filename="export.xml")


def test_it_reports_a_ris_file_without_records():
    with pytest.raises(ImportFormatError, match="no RIS records"):
        list(iter_records(io.StringIO("Provider: nobody\n\n"), "ris"))


def test_it_strips_nul_bytes_and_control_characters_instead_of_crashing():
    text = ris_record("Nul\x00 in\x07 the\x1b title", extra="AB  - Bell\x07 and\x00 NUL\n")
    _, records = parse_bytes(text.encode())
    assert records[0].title == "Nul in the title"
    assert records[0].abstract == "Bell and NUL"
    assert all("\x00" not in value for values in records[0].raw.values() for value in values)


def test_it_survives_a_huge_line_and_cuts_it():
    huge = "word " * (MAX_LINE_CHARS // 5 + 100_000)
    text = ris_record("Huge abstract", extra=f"AB  - {huge}\n") + ris_record("Next one")
    _, records = parse_bytes(text.encode())
    assert [r.title for r in records] == ["Huge abstract", "Next one"]
    assert len(records[0].raw["AB"][0]) <= MAX_LINE_CHARS


def test_it_survives_a_huge_file_that_has_no_line_end_at_all():
    with pytest.raises(ImportFormatError):
        parse_bytes(b"TY  - JOUR" + b"x" * (MAX_LINE_CHARS + 10))


def test_it_skips_records_with_neither_title_nor_doi_and_says_why():
    text = ris_record("Good") + "TY  - JOUR\nAU  - Nobody, N\nPY  - 2001\nER  - \n\n"
    text += ris_record("Also good")
    opened, records = parse_bytes(text.encode())
    assert [r.title for r in records] == ["Good", "Also good"]
    assert opened.report.as_dict()["parsed"] == 2
    assert opened.report.as_dict()["skipped"] == ["line 11: no title and no DOI"]


def test_it_keeps_a_record_that_has_a_doi_but_no_title():
    _, records = parse_bytes(b"TY  - JOUR\nDO  - 10.1000/abc\nER  - \n")
    assert records[0].doi == "10.1000/abc"


def test_it_caps_the_number_of_skip_reasons_kept():
    bad = "TY  - JOUR\nPY  - 2001\nER  - \n" * 1500
    opened, records = parse_bytes(bad.encode())
    summary = opened.report.as_dict()
    assert records == []
    assert summary["skipped_count"] == 1500
    assert len(summary["skipped"]) == 1001
    assert summary["skipped"][-1] == "... and 500 more"


def test_it_skips_an_unreadable_bibtex_entry_but_keeps_the_others():
    text = "@article{a, title={Good one}, year={2020}}\n\n@article{b, title={Broken, year=2020\n"
    text += "\n@article{c, title={Good two}, year={2021}}\n"
    _, records = parse_bytes(text.encode(), filename="refs.bib")
    assert "Good one" in [r.title for r in records]
    assert "Good two" in [r.title for r in records]


def test_it_asks_for_a_column_mapping_for_an_unknown_table():
    with pytest.raises(ImportFormatError, match="column mapping"):
        parse_bytes(b"Name,Heading\nx,y\n", filename="list.csv")


def test_it_refuses_a_mapping_that_names_missing_columns():
    with pytest.raises(ImportFormatError, match="Nope"):
        parse_bytes(b"Heading\ny\n", filename="l.csv", fmt="csv", mapping={"title": "Nope"})


def test_sniff_refuses_empty_bytes():
    with pytest.raises(ImportFormatError, match="empty"):
        sniff(b"", "x.ris")
