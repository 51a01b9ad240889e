"""Small builders shared by the importer tests."""

from __future__ import annotations

import io

from identification.importers import open_records


def ris_record(title: str = "A title", *, doi: str = "10.1000/xyz", extra: str = "") -> str:
    return (
        f"TY  - JOUR\nTI  - {title}\nAU  - Smith, Jane\nAU  - Doe, John\nPY  - 2020\n"
        f"DO  - {doi}\nSP  - 123\nEP  - 9\n{extra}ER  - \n\n"
    )


def parse_bytes(data: bytes, filename: str = "upload.ris", **kwargs):
    """``(opened, records)`` for an in-memory upload."""
    opened = open_records(io.BytesIO(data), filename=filename, **kwargs)
    return opened, list(opened)


def decode_copy_rows(data: bytes, row_format) -> list[list[object]]:
    """The rows of binary COPY data (no signature) as Python values, per the row format's
    columns: what PostgreSQL would store. Written from the COPY documentation independently of
    ``pgcopy``, so that a mistake there shows up here."""
    import json
    import struct

    rows, at = [], 0
    while at < len(data):
        (count,) = struct.unpack_from("!h", data, at)
        at += 2
        assert count == len(row_format.columns), (count, len(row_format.columns))
        row: list[object] = []
        for column in row_format.columns:
            (length,) = struct.unpack_from("!i", data, at)
            at += 4
            if length == -1:
                row.append(None)
                continue
            value = data[at : at + length]
            at += length
            kind = "const" if column.const is not None else column.kind
            if kind == "const":
                row.append(value)
            elif kind == "text":
                row.append(value.decode("utf-8"))
            elif kind == "smallint_positive":
                row.append(struct.unpack("!h", value)[0])
            elif kind == "integer":
                row.append(struct.unpack("!i", value)[0])
            elif kind == "jsonb":
                assert value[:1] == b"\x01"
                row.append(json.loads(value[1:]))
            elif kind == "json_text":
                row.append(json.loads(value))
            else:
                raise AssertionError(kind)
        rows.append(row)
    return rows


def record_row_format():
    """A row format of every ParsedRecord column (as the records table has), after a constant."""
    from identification.importers import ParsedRecord, pgcopy

    kinds = {
        "year": "smallint_positive",
        "authors": "jsonb",
        "keywords": "jsonb",
        "raw": "json_text",
        "source_line": "integer",
    }
    columns = [pgcopy.Column(const=pgcopy.field("bigint", 42))]
    for name in (*ParsedRecord.NORMALISED_FIELDS, "raw", "source_line"):
        columns.append(pgcopy.Column(attribute=name, kind=kinds.get(name, "text")))
    return pgcopy.RowFormat(columns)
