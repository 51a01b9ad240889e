"""Export and re-import: RIS gives back the same normalised records; CSV has the fixed columns."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from identification.importers import (
    CSV_COLUMNS,
    Format,
    ParsedRecord,
    iter_records,
    open_records,
    suggest_mapping,
    table_columns,
    write_csv,
    write_ris,
)
from tests.paths import DEMO_DATA, EXPORTS

from .helpers import parse_bytes

DATA = EXPORTS
DEMO = DEMO_DATA
FILES = sorted(p for p in DATA.iterdir() if not p.name.endswith(".md") and p.name[0] != ".")
FILES += sorted(DEMO.glob("*.ris"))


def read(path: Path) -> list[ParsedRecord]:
    with path.open("rb") as binary:
        return list(open_records(binary, filename=path.name))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_it_gives_back_the_same_normalised_records_after_a_ris_round_trip(path):
    records = read(path)
    out = io.StringIO()
    assert write_ris(records, out) == len(records)
    again = list(iter_records(io.StringIO(out.getvalue()), Format.RIS))
    assert [r.normalised() for r in again] == [r.normalised() for r in records]


def test_it_round_trips_a_record_with_every_field_filled():
    record = ParsedRecord(
        title="Full record",
        abstract="An abstract.",
        authors=["Smith, Jane", "Doe, J."],
        year=2021,
        journal="Journal of Tests",
        volume="12",
        issue="3",
        pages="123-129",
        doi="10.1000/full",
        pmid="12345678",
        issn="1234-5678",
        keywords=["one", "two"],
        language="English",
        publication_type="CHAP",
        url="https://example.org/full",
        accession_number="WOS:000000000000001",
    )
    out = io.StringIO()
    write_ris([record], out)
    (again,) = iter_records(io.StringIO(out.getvalue()), "ris")
    assert again.normalised() == record.normalised()


def test_it_writes_csv_with_the_columns_the_issue_names():
    records = read(DEMO / "20221207_gambling-harms_scopus_255.ris")[:3]
    out = io.StringIO(newline="")
    rows = [(r, {"id": i, "search": "S1", "database": "Scopus"}) for i, r in enumerate(records, 1)]
    assert write_csv(rows, out) == 3
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0][:16] == [
        "id",
        "search",
        "database",
        "accession_number",
        "title",
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
        "abstract",
    ]
    assert table[0][3:] == list(CSV_COLUMNS)
    first = dict(zip(table[0], table[1], strict=True))
    assert (first["id"], first["search"], first["database"]) == ("1", "S1", "Scopus")
    assert first["authors"] == "Tulloch, C.; Hing, N.; Browne, M.; Rockloff, M."
    assert first["accession_number"] == "2-s2.0-85141483180"
    assert first["year"] == "2023"


def test_it_defuses_spreadsheet_formulas_in_csv_cells():
    out = io.StringIO(newline="")
    write_csv([ParsedRecord(title='=HYPERLINK("http://x")', abstract="+1")], out)
    row = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert row[4] == '\'=HYPERLINK("http://x")'
    assert row[15] == "'+1"


def test_it_reads_its_own_csv_export_back_through_a_suggested_mapping():
    records = read(DEMO / "20221207_gambling-harms_psycinfo_124.ris")
    out = io.StringIO(newline="")
    write_csv(records, out, excel_safe=False)
    data = out.getvalue().encode("utf-8")
    columns = table_columns(io.BytesIO(data), filename="export.csv")
    mapping = suggest_mapping(columns)
    assert mapping["title"] == "title" and mapping["accession_number"] == "accession_number"
    _, again = parse_bytes(data, filename="export.csv", mapping=mapping)
    assert [r.normalised() for r in again] == [r.normalised() for r in records]


def test_it_suggests_mappings_for_common_headers():
    header = ["Article Title", "Author", "Publication Year", "Source Title", "DOI", "Abstract"]
    assert suggest_mapping(header) == {
        "title": "Article Title",
        "abstract": "Abstract",
        "authors": "Author",
        "year": "Publication Year",
        "journal": "Source Title",
        "doi": "DOI",
    }


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_it_reads_an_xlsx_sheet_through_a_column_mapping():
    data = _xlsx(
        [
            ["Heading", "People", "When", "Ident"],
            ["First paper", "Smith, J; Doe, A", 2019, "https://doi.org/10.1000/X1"],
            [None, None, None, None],
            ["Second paper", "Roe, R", 2020.0, "10.1000/x2"],
        ]
    )
    assert table_columns(io.BytesIO(data), filename="refs.xlsx") == [
        "Heading",
        "People",
        "When",
        "Ident",
    ]
    mapping = {"title": "Heading", "authors": "People", "year": "When", "doi": "Ident"}
    opened, records = parse_bytes(data, filename="refs.xlsx", mapping=mapping)
    assert opened.format is Format.XLSX
    assert [(r.title, r.authors, r.year, r.doi) for r in records] == [
        ("First paper", ["Smith, J", "Doe, A"], 2019, "10.1000/x1"),
        ("Second paper", ["Roe, R"], 2020, "10.1000/x2"),
    ]
    assert [r.source_line for r in records] == [2, 4]


def test_it_recognises_a_scopus_export_saved_as_xlsx():
    data = _xlsx(
        [
            ["Authors", "Title", "Year", "Source title", "DOI", "EID"],
            ["A B.", "T", 2020, "J", "", "2-s2.0-1"],
        ]
    )
    _, records = parse_bytes(data, filename="scopus.xlsx")
    assert (records[0].title, records[0].accession_number) == ("T", "2-s2.0-1")


def test_it_reads_a_tab_separated_table():
    data = b"Title\tAuthors\tYear\nTabbed\tSmith, J; Roe, R\t2001\n"
    mapping = {"title": "Title", "authors": "Authors", "year": "Year"}
    opened, records = parse_bytes(data, filename="refs.tsv", mapping=mapping)
    assert opened.detected.delimiter == "\t"
    assert (records[0].title, records[0].authors, records[0].year) == (
        "Tabbed",
        ["Smith, J", "Roe, R"],
        2001,
    )
