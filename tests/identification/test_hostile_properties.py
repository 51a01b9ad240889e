"""Hostile files, generated: the real exports mutated every way a file gets damaged (issue 13).

Each example takes one real export (``tests/data/exports``, and a workbook openpyxl writes) and
applies one to three mutations: truncation at any byte, flipped, inserted and deleted bytes,
re-encoding (UTF-16 with and without BOM, Latin-1, cp1252, UTF-8 with BOM), a 5 MB field, NUL
bytes, lone surrogates and invalid UTF-8, CR/LF mixes, deep nesting. The properties:

* the pure importers (``sniff``, ``table_columns``, ``open_records`` and its records) either
  read the file or raise ``ImportFormatError`` with a message for people; never another
  exception, and every record they give is one a database stores (no NUL, no lone surrogate);
* the upload service and the import job either import exactly the records the pure importers
  read, or refuse the file (a ValidationError) or fail the job with a message of their own
  (never "Unexpected error"); a failed import leaves no record, and no file is stored in
  MEDIA_ROOT without its ImportBatch row.

The number of examples is small for ``make test``; ``EVIDENT_HYPOTHESIS_EXAMPLES`` raises it
(``.ci/run`` may). Examples are derandomized: a run is the same run every time.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from core.constants import JobStatus
from identification import importers
from identification import services as imports
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record
from tests.identification.test_hostile_xlsx import valid_xlsx
from tests.paths import EXPORTS


def examples(default: int) -> int:
    """``default`` examples, or as many as ``EVIDENT_HYPOTHESIS_EXAMPLES`` asks for."""
    return int(os.environ.get("EVIDENT_HYPOTHESIS_EXAMPLES") or default)


PROPERTY = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# --- the real exports ---------------------------------------------------------------------------

EXPORT_FILES: dict[str, bytes] = {
    path.name: path.read_bytes()
    for path in sorted(EXPORTS.iterdir())
    if path.is_file() and not path.name.startswith(".") and path.name != "SOURCES.md"
}
EXPORT_FILES["workbook.xlsx"] = valid_xlsx(12)
#: For the database property: the small exports (each example imports one, with deduplication
#: and screening; the large ones are mutated by the pure property).
SMALL_FILES = {name: data for name, data in EXPORT_FILES.items() if len(data) <= 60_000}

HUGE = 5 * 2**20
HOSTILE_BYTES = [
    b"\x00",
    b"\x00" * 64,
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xef\xbb\xbf",
    b"\xed\xa0\x80",  # a lone surrogate, as UTF-8 would write it
    b"\xc3",
    b"\x80\x80",
    b"\r",
    b"\r\n",
    b"\n\n\n",
    b'"',
    b"{",
    b"}",
    b"<",
    b"&",
    b"&#0;",
    b"&#xD800;",
    b"]]>",
    b"\x1a",
    b"\xe2\x80\xa8",  # U+2028, a line separator to str.splitlines()
    b"TY  - JOUR\n",
    b"ER  - \n",
    b"PMID- 1\n",
    b"@article{",
    b"</record>",
    b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]>",
    b"=cmd|' /C calc'!A0",
]
CODECS = ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "latin-1", "cp1252", "utf-32"]
BOMS = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}


def _at(draw, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


@st.composite
def mutation(draw, data: bytes) -> bytes:
    kind = draw(
        st.sampled_from(
            [
                "truncate",
                "flip",
                "insert",
                "delete",
                "reencode",
                "huge",
                "newlines",
                "nesting",
                "random",
            ]
        )
    )
    if kind == "truncate":
        return data[: _at(draw, data)]
    if kind == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        bit = 1 << draw(st.integers(0, 7))
        return data[:at] + bytes([data[at] ^ bit]) + data[at + 1 :]
    if kind == "insert":
        at = _at(draw, data)
        return data[:at] + draw(st.sampled_from(HOSTILE_BYTES)) + data[at:]
    if kind == "delete" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + data[at + draw(st.integers(1, 64)) :]
    if kind == "reencode":
        codec = draw(st.sampled_from(CODECS))
        text = data.decode("utf-8", "surrogateescape")
        encoded = text.encode(codec, "replace" if "utf" not in codec else "surrogatepass")
        if codec in BOMS and draw(st.booleans()):
            encoded = BOMS[codec] + encoded
        return encoded
    if kind == "huge":
        # A 5 MB field: a line of one tag, a line made long, or a cell without an end.
        lines = data.split(b"\n")
        at = draw(st.integers(0, len(lines)))
        prefix = draw(st.sampled_from([b"TI  - ", b"AB  - ", b"TI ", b"  title = {", b"", b'"']))
        word = draw(st.sampled_from([b"x", b"gambling harm ", b"\xc3\xa9", b"\x00"]))
        filler = word * (HUGE // len(word))
        if draw(st.booleans()) and at < len(lines):
            lines[at] = lines[at] + filler
        else:
            lines.insert(at, prefix + filler)
        return b"\n".join(lines)
    if kind == "newlines":
        style = draw(st.sampled_from([b"\r\n", b"\r", b"\n\r", b"\r\r\n"]))
        half = draw(st.sampled_from(["all", "first", "second"]))
        at = len(data) // 2
        if half == "all":
            return data.replace(b"\n", style)
        if half == "first":
            return data[:at].replace(b"\n", style) + data[at:]
        return data[:at] + data[at:].replace(b"\n", style)
    if kind == "nesting":
        at = _at(draw, data)
        unit = draw(st.sampled_from([b"{", b"<a>", b"[", b'"', b"(", b"\\"]))
        return data[:at] + unit * draw(st.sampled_from([1000, 100_000])) + data[at:]
    at = _at(draw, data)
    return data[:at] + draw(st.binary(min_size=1, max_size=32)) + data[at:]


@st.composite
def hostile_file(draw, files: dict[str, bytes]) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(files)))
    data = files[name]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    # Sometimes the name says nothing, so that only the bytes decide the format.
    if draw(st.integers(0, 3)) == 0:
        name = "export.txt"
    return name, data


# --- reading them -------------------------------------------------------------------------------


def _storable(value) -> None:
    """A value any database stores: text without NUL and without lone surrogates."""
    if isinstance(value, str):
        assert "\x00" not in value, f"NUL in {value[:80]!r}"
        value.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
    elif isinstance(value, list | tuple):
        for item in value:
            _storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)


def read(data: bytes, name: str) -> tuple[list[importers.ParsedRecord], dict | None]:
    """The records the pure importers read from ``data`` and the mapping used for a table.

    Raises ImportFormatError (with a message) when the file cannot be read; any other exception
    is a bug and fails the property.
    """
    detected = importers.sniff(data[: importers.SNIFF_BYTES], name)
    mapping = None
    if detected.format.needs_mapping:
        columns = importers.table_columns(io.BytesIO(data), filename=name)
        assert isinstance(columns, list)
        mapping = importers.suggest_mapping(columns) or None
        if not mapping or not ({"title", "doi"} & set(mapping)):
            return [], None
    stream = importers.open_records(io.BytesIO(data), filename=name, mapping=mapping)
    records = list(stream)
    for record in records:
        assert isinstance(record, importers.ParsedRecord)
        for field in importers.ParsedRecord.NORMALISED_FIELDS:
            _storable(getattr(record, field))
        _storable(record.raw)
    report = stream.report.as_dict()
    assert report["parsed"] == len(records)
    return records, mapping


def read_or_error(data: bytes, name: str):
    try:
        return read(data, name)
    except importers.ImportFormatError as exc:
        assert str(exc).strip(), "an ImportFormatError without a message"
        return exc


# --- (a) the pure importers ---------------------------------------------------------------------


def test_every_real_export_reads_before_any_mutation():
    for name, data in EXPORT_FILES.items():
        records, _mapping = read(data, name)
        assert records, name


@settings(max_examples=examples(60), **PROPERTY)
@given(hostile_file(EXPORT_FILES))
@example(("synthesisr__Scopus_bib_example.bib", b"@article{" + b"{" * 100_000))
@example(
    (
        "asreview__scopus.ris",
        "TY  - JOUR\nTI  - \ud800 x\nER  - \n".encode("utf-8", "surrogatepass"),
    )
)
def test_the_importers_read_a_damaged_export_or_say_why(case):
    name, data = case
    outcome = read_or_error(data, name)
    event("refused" if isinstance(outcome, Exception) else "read")


# --- (b) the upload service and the import job --------------------------------------------------


class _Rollback(Exception):
    """Ends an example: its rows roll back, so the next example starts from the same review."""


def media_files() -> set[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _check_upload(lead, review, name: str, data: bytes, capture) -> None:
    expected = read_or_error(data, name)
    search = imports.search_create(actor=lead, review=review, database="Hostile")
    files_before, records_before = media_files(), Record.objects.count()
    try:
        with capture(execute=True):
            batch = imports.batch_upload(
                actor=lead,
                search=search,
                fileobj=io.BytesIO(data),
                filename=name,
                confirm_duplicate=True,
            )
    except ValidationError as exc:
        assert "".join(exc.messages).strip()
        event("upload refused")
        assert not ImportBatch.objects.filter(search=search).exists()
        assert media_files() == files_before, "a refused upload left its file"
        assert Record.objects.count() == records_before
        return
    batch.refresh_from_db()
    if batch.status == BatchStatus.NEEDS_MAPPING:
        columns = batch.column_mapping["columns"]
        mapping = importers.suggest_mapping(columns)
        try:
            with capture(execute=True):
                imports.batch_set_mapping(actor=lead, batch=batch, mapping=mapping)
        except ValidationError as exc:
            assert "".join(exc.messages).strip()
            assert not Record.objects.filter(batch=batch).exists()
            return
        batch.refresh_from_db()
    # Every stored file has its row, and the row its file.
    stored = media_files()
    named = set(ImportBatch.objects.exclude(file="").values_list("file", flat=True))
    assert stored - files_before <= named, "a file without its ImportBatch row"
    assert batch.file.name in stored
    job = batch.job
    assert job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED), job.status
    records = Record.objects.filter(batch=batch).count()
    event(f"import {batch.status}")
    if batch.status == BatchStatus.IMPORTED:
        assert job.status == JobStatus.SUCCEEDED
        assert records == batch.imported == batch.parsed
        assert not isinstance(expected, Exception), (
            f"imported what the importers refuse: {expected}"
        )
        assert records == len(expected[0])
    else:
        assert batch.status == BatchStatus.FAILED, batch.status
        assert job.status == JobStatus.FAILED
        assert job.error.strip() and batch.error.strip()
        assert "Unexpected error" not in job.error, job.error
        assert records == 0, "a failed import left records"
        assert Record.objects.count() == records_before


@settings(max_examples=examples(30), **PROPERTY)
@given(case=hostile_file(SMALL_FILES))
def test_an_upload_of_a_damaged_export_imports_it_whole_or_fails_with_a_message(
    lead, review, media, django_capture_on_commit_callbacks, case
):
    name, data = case
    before = media_files()
    try:
        with transaction.atomic():
            _check_upload(lead, review, name, data, django_capture_on_commit_callbacks)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        # Rows roll back with the example; files stored by an import that succeeded go too.
        root = Path(django_settings.MEDIA_ROOT)
        for leftover in media_files() - before:
            (root / leftover).unlink()
