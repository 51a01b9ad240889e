"""Parsed records as rows of PostgreSQL's binary COPY format, built without a connection.

Why not psycopg's ``Copy.write_row``: large imports build their rows in worker processes
(:mod:`.parallel`) that have no database connection, and psycopg's row formatter outside a
``Copy`` is private API. The format is small and stable (PostgreSQL documentation, "COPY",
"Binary Format"): a signature, then per row a 16-bit field count and, per field, a 32-bit
length (-1 for NULL) and the value in the type's binary send format; a 16-bit -1 ends the data.
Only the types a record needs are written here: text, 16/32/64-bit integers, boolean,
timestamptz, jsonb (a version byte, then JSON text), and JSON kept in a text column.

A :class:`RowFormat` is plain data (:meth:`RowFormat.to_json`), so the process that knows the
table (Django) can describe the columns once and hand the description to the workers.
"""

from __future__ import annotations

import datetime as dt
import json
import keyword
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
NULL = b"\xff\xff\xff\xff"
_EMPTY = b"\x00\x00\x00\x00"
_pack_length = struct.Struct("!i").pack
_POSTGRES_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

#: Kinds of column a record's own values go into.
VALUE_KINDS = ("text", "smallint_positive", "integer", "jsonb", "json_text")


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def jsonb_value(value: Any) -> bytes:
    """jsonb's binary form (version 1, then the JSON text); NUL, which jsonb refuses, dropped."""
    text = json.dumps(value)
    if "\\u0000" in text:
        text = json.dumps(_without_nul(value))
    return b"\x01" + text.encode()


def json_text_value(value: Any) -> bytes:
    """JSON kept as text, as :class:`core.fields.TextJSONField` writes it: ASCII, with
    ``\\u`` escapes (json's C encoder is a third faster so, and the value read back is the same).
    NUL becomes the six characters ``\\u0000``, which a text column may hold."""
    return json.dumps(value).encode()


def field(kind: str, value: Any) -> bytes:
    """One field of a row (length and value) for a constant column.

    ``kind`` is a value kind (see :data:`VALUE_KINDS`) or ``bigint``, ``boolean``,
    ``timestamptz``; ``None`` is NULL in every kind.
    """
    if value is None:
        return NULL
    if kind == "bigint":
        data = struct.pack("!q", value)
    elif kind == "integer":
        data = struct.pack("!i", value)
    elif kind == "smallint_positive":
        if not 0 < value < 32768:
            return NULL
        data = struct.pack("!h", value)
    elif kind == "boolean":
        data = b"\x01" if value else b"\x00"
    elif kind == "timestamptz":
        if value.tzinfo is None:
            raise ValueError("timestamptz needs an aware datetime")
        delta = value - _POSTGRES_EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        data = struct.pack("!q", micros)
    elif kind == "jsonb":
        data = jsonb_value(value)
    elif kind == "json_text":
        data = json_text_value(value)
    elif kind == "text":
        data = value.replace("\x00", "").encode()
    else:
        raise ValueError(f"unknown column kind {kind!r}")
    return _pack_length(len(data)) + data


@dataclass(frozen=True)
class Column:
    """One column of the table, in COPY order: a record's attribute or a constant.

    ``attribute``: the :class:`~.records.ParsedRecord` attribute it takes, with its ``kind``
    and, for text, the column's ``max_length`` in characters (0: none); longer values are cut.
    ``const``: the encoded field (see :func:`field`) written in every row instead.
    """

    attribute: str = ""
    kind: str = "text"
    max_length: int = 0
    const: bytes | None = None


class RowFormat:
    """Encodes records as binary COPY rows for a fixed list of columns."""

    def __init__(self, columns: Sequence[Column]) -> None:
        for column in columns:
            if column.const is None and column.kind not in VALUE_KINDS:
                raise ValueError(f"{column.attribute}: unknown column kind {column.kind!r}")
        self.columns = list(columns)
        self._header = struct.pack("!h", len(self.columns))
        self._encode_rows = self._compile()

    def _compile(self) -> Callable[[Iterable[Any], Callable[[bytes], None]], None]:
        """The row loop for these columns, written out as Python and compiled (as dataclasses
        write their methods): a loop over the columns took a sixth longer a record (69 against
        59 µs for a Scopus record with its references). Runs of constant columns become one
        piece of bytes."""
        env: dict[str, Any] = {
            "pack": _pack_length,
            "EMPTY": _EMPTY,
            "field": field,
            "jsonb_value": jsonb_value,
            "json_text_value": json_text_value,
        }
        body: list[str] = []
        pending = self._header
        for number, column in enumerate(self.columns):
            if column.const is not None:
                pending += column.const
                continue
            if pending:
                env[f"const{number}"] = pending
                body.append(f"append(const{number})")
                pending = b""
            name = column.attribute
            if not name.isidentifier() or keyword.iskeyword(name):
                raise ValueError(f"not an attribute name: {name!r}")
            if column.kind == "text":
                body += [f"value = record.{name}", "if value:"]
                if column.max_length:
                    limit = int(column.max_length)
                    body.append(f"    if len(value) > {limit}: value = value[:{limit}]")
                body += [
                    # PostgreSQL text cannot hold NUL.
                    "    if '\\x00' in value: value = value.replace('\\x00', '')",
                    "    data = value.encode()",
                    "    append(pack(len(data)))",
                    "    append(data)",
                    "else:",
                    "    append(EMPTY)",
                ]
            elif column.kind in ("jsonb", "json_text"):
                body += [
                    f"data = {column.kind}_value(record.{name})",
                    "append(pack(len(data)))",
                    "append(data)",
                ]
            else:
                body.append(f"append(field({column.kind!r}, record.{name}))")
        if pending:
            env["const_end"] = pending
            body.append("append(const_end)")
        source = "def encode_rows(records, append):\n    for record in records:\n" + "".join(
            f"        {line}\n" for line in body
        )
        exec(compile(source, "<pgcopy row format>", "exec"), env)  # noqa: S102 - our own source
        return env["encode_rows"]

    def encode(self, records: Iterable[Any]) -> bytes:
        """The rows of ``records`` (objects with the columns' attributes), without signature."""
        out: list[bytes] = []
        self._encode_rows(records, out.append)
        return b"".join(out)

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"const": column.const.hex()}
            if column.const is not None
            else {"attribute": column.attribute, "kind": column.kind, "max": column.max_length}
            for column in self.columns
        ]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> RowFormat:
        return cls(
            [
                Column(const=bytes.fromhex(item["const"]))
                if "const" in item
                else Column(
                    attribute=str(item["attribute"]),
                    kind=str(item["kind"]),
                    max_length=int(item.get("max") or 0),
                )
                for item in data
            ]
        )
