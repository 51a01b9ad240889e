"""Hostile review archives, generated: a real archive mutated at random (issue 13).

The archive is one ``reporting.archive.archive_bytes`` makes of a small review (two searches
with their files, records, a duplicate cluster, screening votes). Each example damages it: bytes
flipped, inserted or deleted anywhere in the zip, the zip cut short; a row's field replaced by a
hostile value (wrong types, huge integers, nested objects, NUL, lone surrogates, unknown users),
rows dropped, duplicated or renumbered, lines replaced by what is not a JSON object; entries
dropped, duplicated, renamed, stored with another compression, lying about their size, or
unpacking to far more than they hold (bombs); the manifest edited.

The property: ``review_import`` either imports a review with as many rows of every kind as the
original, or raises ``ArchiveError`` (a ValidationError with a message); never another
exception, and a refusal leaves no new review, record or user and no new file in MEDIA_ROOT.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from identification.models import Record
from reporting import archive
from reviews.models import Review
from tests.identification.test_hostile_properties import PROPERTY, examples, mutation
from tests.reporting.test_archive import populated

#: Rows an import adds of its own (the importer's membership and the "imported" event), or that
#: the archive may carry otherwise: not compared.
NOT_COMPARED = {"reviews.membership", "reviews.auditevent"}
#: The limits, lowered so that a bomb is refused after megabytes, not gigabytes.
LINE_LIMIT = 2**20
ENTRY_LIMIT = 8 * 2**20


@pytest.fixture
def original(
    lead, review, reviewer_a, reviewer_b, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    populated(lead, review, reviewer_a, reviewer_b, django_capture_on_commit_callbacks)
    data = archive.archive_bytes(review=review)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = {info.filename: zf.read(info) for info in zf.infolist()}
    return data, entries, counts(review)


def event(name: str) -> None:
    """Count ``name`` in hypothesis's statistics (the plain tests below call this too)."""
    if currently_in_test_context():
        hypothesis_event(name)


def counts(review: Review) -> dict[str, int]:
    return {
        spec.label: spec.rows(review).count()
        for spec in archive.ARCHIVED
        if spec.label not in NOT_COMPARED
    }


def zipped(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


# --- hostile values -----------------------------------------------------------------------------

HUGE_INTS = [2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**100, -1, 0]
HOSTILE_TEXT = ["", "\x00", "a\x00b", "\ud800", "x" * 100_000, "../../etc/passwd", "2020-13-45"]


def nested(depth: int) -> object:
    value: object = {}
    for _ in range(depth):
        value = {"a": value}
    return value


hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(HUGE_INTS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=20),
    st.sampled_from([{"user": "nobody"}, {"user": 5}, {"local": 2**70}, {"local": 1}, [1], []]),
    st.sampled_from([nested(3), nested(200)]),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
HOSTILE_LINES = [
    b"",
    b"{",
    b"[]",
    b"null",
    b"1",
    b'"text"',
    b'{"id": 1, "id": 2}',
    b"[" * 100_000,
    b'{"id": 1, "title": "\xff\xfe"}',
    b'{"id": 1, "title": "\x00"}',
    b'{"id": 1e400}',
    b'{"id": NaN}',
    b"\xef\xbb\xbf{}",
]


def _rows(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.split(b"\n") if line.strip()]


def _lines(rows: list[dict]) -> bytes:
    # ensure_ascii: a lone surrogate becomes "\ud800", which json.loads gives back as one.
    return "".join(json.dumps(row, ensure_ascii=True) + "\n" for row in rows).encode()


@st.composite
def row_change(draw, entries: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The entries with the rows of one data file changed."""
    names = sorted(n for n in entries if n.startswith("data/") and entries[n].strip())
    name = draw(st.sampled_from(names))
    rows = _rows(entries[name])
    at = draw(st.integers(0, len(rows) - 1))
    kind = draw(st.sampled_from(["value", "value", "drop", "duplicate", "renumber", "line", "key"]))
    content: bytes
    if kind == "value":
        field = draw(st.sampled_from(sorted(rows[at])))
        rows[at] = rows[at] | {field: draw(hostile_values)}
        content = _lines(rows)
    elif kind == "key":
        rows[at] = rows[at] | {draw(st.text(min_size=1, max_size=10)): draw(hostile_values)}
        content = _lines(rows)
    elif kind == "drop":
        del rows[at]
        content = _lines(rows)
    elif kind == "duplicate":
        rows.insert(at, rows[at])
        content = _lines(rows)
    elif kind == "renumber":
        rows[at] = rows[at] | {"id": draw(st.sampled_from([*HUGE_INTS, "1", 1.0, None]))}
        content = _lines(rows)
    else:
        lines = _lines(rows).split(b"\n")
        lines[at] = draw(st.sampled_from(HOSTILE_LINES))
        content = b"\n".join(lines)
    event(f"row {kind}")
    return [(n, content if n == name else data) for n, data in entries.items()]


@st.composite
def entry_change(draw, entries: dict[str, bytes]) -> bytes:
    """The zip rebuilt with one entry-level trick."""
    items = list(entries.items())
    names = [n for n, _ in items]
    kind = draw(
        st.sampled_from(
            ["drop", "duplicate", "rename", "replace_file", "bomb", "method", "lie", "manifest"]
        )
    )
    event(f"entry {kind}")
    name = draw(st.sampled_from(names))
    if kind == "drop":
        return zipped([(n, d) for n, d in items if n != name])
    if kind == "duplicate":
        other = draw(st.sampled_from(names))
        return zipped([*items, (name, entries[other])])
    if kind == "rename":
        new = draw(st.sampled_from(["../evil", "/abs", "data/x.jsonl", name + "/", name.upper()]))
        return zipped([(new if n == name else n, d) for n, d in items])
    if kind == "replace_file":
        return zipped([(n, draw(st.binary(max_size=64)) if n == name else d) for n, d in items])
    if kind == "bomb":
        # Unpacks to 1.5 times the line limit (a line with no end) or to more than an entry
        # may (zeros, in a few kilobytes of deflate).
        size = draw(st.sampled_from([LINE_LIMIT * 3 // 2, ENTRY_LIMIT + 1]))
        fill = draw(st.sampled_from([b"0", b"\n", b"{"]))
        return zipped([(n, fill * size if n == name else d) for n, d in items])
    if kind == "method":
        method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
        return zipped(items, method)
    if kind == "lie":
        from tests.reporting.test_archive_hostile import declare_size

        size = draw(st.sampled_from([0, 1, 2**31, 2**32 - 1]))
        return declare_size(zipped(items), name, size)
    manifest = json.loads(entries["manifest.json"])
    key = draw(st.sampled_from(["format", "version", "models", "files", "review", "exported_at"]))
    if key in ("models", "files") and manifest[key] and draw(st.booleans()):
        inner = draw(st.sampled_from(sorted(manifest[key])))
        manifest[key] = manifest[key] | {inner: draw(hostile_values)}
    else:
        manifest[key] = draw(hostile_values)
    return zipped([(n, _lines([manifest]) if n == "manifest.json" else d) for n, d in items])


@st.composite
def hostile_archive(draw, data: bytes, entries: dict[str, bytes]) -> bytes:
    kind = draw(st.sampled_from(["bytes", "rows", "rows", "rows", "entries", "entries"]))
    if kind == "bytes":
        for _ in range(draw(st.integers(1, 3))):
            data = draw(mutation(data))
        event("zip bytes")
        return data
    if kind == "rows":
        return zipped(draw(row_change(entries)))
    return draw(entry_change(entries))


# --- the property -------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def media_files() -> set[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def _check_import(data: bytes, lead, expected: dict[str, int]) -> None:
    reviews = set(Review.objects.values_list("pk", flat=True))
    users = get_user_model().objects.count()
    records = Record.objects.count()
    files = media_files()
    try:
        imported = archive.review_import(stream=io.BytesIO(data), slug="imported", actor=lead)
    except archive.ArchiveError as exc:
        event("refused")
        assert "".join(exc.messages).strip(), "a refusal without a message"
        assert set(Review.objects.values_list("pk", flat=True)) == reviews
        assert Record.objects.count() == records
        assert get_user_model().objects.count() == users
        assert media_files() == files, "a refused archive left files"
        return
    event("imported")
    assert imported.pk not in reviews
    assert counts(imported) == expected, "imported a review that differs from the original"


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=examples(40), **PROPERTY)
@given(case=st.data())
def test_a_damaged_archive_imports_whole_or_is_refused_with_a_message(
    original, lead, monkeypatch, case
):
    monkeypatch.setattr(archive, "MAX_LINE_BYTES", LINE_LIMIT)
    monkeypatch.setattr(archive, "MAX_ENTRY_BYTES", ENTRY_LIMIT)
    data, entries, expected = original
    hostile = case.draw(hostile_archive(data, entries), label="archive")
    before = media_files()
    try:
        with transaction.atomic():
            _check_import(hostile, lead, expected)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        root = Path(django_settings.MEDIA_ROOT)
        for leftover in media_files() - before:
            (root / leftover).unlink()


def test_the_archive_imports_unchanged(original, lead):
    data, _entries, expected = original
    _check_import(data, lead, expected)


def test_an_archive_missing_a_data_file_is_refused(original, lead):
    # Found by the property: an archive without data/screening.vote.jsonl (or any other data
    # file) imported a review without those rows.
    _data, entries, expected = original
    assert expected["screening.vote"] > 0
    damaged = zipped([(n, d) for n, d in entries.items() if n != "data/screening.vote.jsonl"])
    with pytest.raises(archive.ArchiveError, match=r"lacks data/screening\.vote\.jsonl"):
        archive.review_import(stream=io.BytesIO(damaged), slug="imported", actor=lead)
    _check_import(damaged, lead, expected)


def test_an_archive_missing_rows_is_refused(original, lead):
    # Found by the property: a data file cut at a line imported a review without its last rows.
    _data, entries, expected = original
    rows = _rows(entries["data/reviews.record.jsonl"])
    damaged = zipped(
        [
            (n, _lines(rows[:-1]) if n == "data/reviews.record.jsonl" else d)
            for n, d in entries.items()
        ]
    )
    message = f"holds {len(rows) - 1} rows where the manifest says {len(rows)}"
    with pytest.raises(archive.ArchiveError, match=message):
        archive.review_import(stream=io.BytesIO(damaged), slug="imported", actor=lead)
    _check_import(damaged, lead, expected)
