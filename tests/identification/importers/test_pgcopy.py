"""Binary COPY rows built without a connection (checked against an independent decoder here,
and against PostgreSQL itself in tests/identification/test_imports.py)."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from identification.importers import ParsedRecord, pgcopy
from tests.identification.importers.helpers import decode_copy_rows, record_row_format


def test_constant_fields_use_postgresql_binary_forms():
    assert pgcopy.field("bigint", 5) == struct.pack("!i", 8) + struct.pack("!q", 5)
    assert pgcopy.field("boolean", False) == b"\x00\x00\x00\x01\x00"
    assert pgcopy.field("text", None) == pgcopy.NULL
    assert pgcopy.field("jsonb", {}) == b"\x00\x00\x00\x03\x01{}"
    # timestamptz: microseconds since 2000-01-01 UTC.
    moment = dt.datetime(2000, 1, 2, 0, 0, 1, 5, tzinfo=dt.UTC)
    assert pgcopy.field("timestamptz", moment)[4:] == struct.pack("!q", 86_401_000_005)
    with pytest.raises(ValueError, match="aware"):
        pgcopy.field("timestamptz", dt.datetime(2020, 1, 1))
    with pytest.raises(ValueError, match="unknown column kind"):
        pgcopy.field("money", 1)


def test_record_values_are_cleaned_for_the_columns_they_go_into():
    row_format = pgcopy.RowFormat(
        [
            pgcopy.Column(const=pgcopy.field("bigint", 9)),
            pgcopy.Column(attribute="title", kind="text"),
            pgcopy.Column(attribute="volume", kind="text", max_length=5),
            pgcopy.Column(attribute="year", kind="smallint_positive"),
            pgcopy.Column(attribute="authors", kind="jsonb"),
            pgcopy.Column(attribute="raw", kind="json_text"),
        ]
    )
    records = [
        ParsedRecord(
            title="Nul\x00 in the middle",
            volume="123456789",
            year=2020,
            authors=["A\x00B"],
            raw={"TI": ["Nul\x00 kept as JSON"]},
        ),
        ParsedRecord(title="", year=40000),
        ParsedRecord(title="Ünïcödé ✓", year=0),
    ]
    rows = decode_copy_rows(row_format.encode(records), row_format)
    assert rows[0][1:] == [
        "Nul in the middle",
        "12345",
        2020,
        ["AB"],
        {"TI": ["Nul\x00 kept as JSON"]},
    ]
    assert rows[1][1:4] == ["", "", None]  # no year fits a smallint: NULL, not an error
    assert rows[2][1] == "Ünïcödé ✓" and rows[2][3] is None
    assert rows[0][0] == struct.pack("!q", 9)


def test_a_row_format_survives_its_trip_to_a_worker():
    row_format = record_row_format()
    again = pgcopy.RowFormat.from_json(row_format.to_json())
    records = [ParsedRecord(title="T", authors=["A"], year=1999, raw={"X": ["y"]}, source_line=7)]
    assert again.encode(records) == row_format.encode(records)
    assert again.columns == row_format.columns
    with pytest.raises(ValueError, match="unknown column kind"):
        pgcopy.RowFormat([pgcopy.Column(attribute="title", kind="money")])
