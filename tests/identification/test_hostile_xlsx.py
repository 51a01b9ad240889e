"""Hostile Excel workbooks: damaged sheet XML, DOCTYPEs, entity bombs (issue 13, item 4).

Each is built from a valid workbook that openpyxl writes, with one part rewritten (zipfile).
Whatever the damage, the importers answer with their clear error (``ImportFormatError``): the
upload service turns it into a ValidationError naming the file, the page and the API into a
400 with that message, the import job into a failed job; nothing is stored, in the database or
in MEDIA_ROOT. A DOCTYPE (with or without entity declarations) in any part is refused before
openpyxl parses anything: no spreadsheet program writes one, and entities are how XML bombs and
external entities (XXE) work.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from core.constants import JobStatus
from identification import importers
from identification import services as imports
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record, Search
from tests.conftest import client_for
from tests.identification.conftest import upload

SHEET = "xl/worksheets/sheet1.xml"
ROWS = 30


def valid_xlsx(rows: int = ROWS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Title", "Authors", "Year"])
    for number in range(rows):
        sheet.append([f"Gambling harm study number {number}", "Smith, J; Doe, A", 2000 + number])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite(data: bytes, part: str, change) -> bytes:
    """``data`` with ``part`` replaced by ``change(its bytes)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    assert part in source.namelist(), source.namelist()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, change(body) if info.filename == part else body)
    return out.getvalue()


def with_doctype(doctype: bytes):
    """A change that puts ``doctype`` before the part's root element."""

    def change(body: bytes) -> bytes:
        if body.startswith(b"<?xml"):
            declaration, rest = body.split(b"?>", 1)
            return declaration + b"?>" + doctype + rest
        return doctype + body

    return change


LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + b"".join(
        b"<!ENTITY lol%d '%s'>" % (n, (b"&lol;" if n == 1 else b"&lol%d;" % (n - 1)) * 10)
        for n in range(1, 10)
    )
    + b"]>"
)


def _bomb(body: bytes) -> bytes:
    return with_doctype(LAUGHS)(body).replace(b"study number 3<", b"&lol9;<", 1)


def _xxe(body: bytes) -> bytes:
    doctype = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return with_doctype(doctype)(body).replace(b"study number 3<", b"&xxe;<", 1)


def _internal_entity(body: bytes) -> bytes:
    doctype = b'<!DOCTYPE worksheet [<!ENTITY who "Smith">]>'
    return with_doctype(doctype)(body).replace(b"study number 3<", b"&who;<", 1)


# (name, part, change, words the message must hold)
HOSTILE = [
    (
        "malformed sheet",
        SHEET,
        lambda body: body.replace(b"<sheetData>", b"<sheetData><<"),
        "damaged",
    ),
    ("truncated sheet", SHEET, lambda body: body[:200], "damaged"),
    ("garbage sheet", SHEET, lambda body: b"<worksheet><<<>", "damaged"),
    ("billion laughs", SHEET, _bomb, "DOCTYPE"),
    ("external entity", SHEET, _xxe, "DOCTYPE"),
    ("internal entity", SHEET, _internal_entity, "DOCTYPE"),
    ("bare doctype in the sheet", SHEET, with_doctype(b"<!DOCTYPE worksheet>"), "DOCTYPE"),
    ("doctype in the workbook", "xl/workbook.xml", with_doctype(b"<!DOCTYPE x>"), "DOCTYPE"),
    (
        "doctype in the styles",
        "xl/styles.xml",
        with_doctype(b'<!DOCTYPE x [<!ENTITY a "b">]>'),
        "DOCTYPE",
    ),
    (
        "doctype in the content types",
        "[Content_Types].xml",
        with_doctype(b"<!DOCTYPE Types>"),
        "DOCTYPE",
    ),
    ("malformed workbook part", "xl/workbook.xml", lambda body: body[:60], "damaged"),
    ("malformed content types", "[Content_Types].xml", lambda body: body[:60], "damaged"),
    (
        "doctype in utf-16",
        SHEET,
        lambda body: (
            (b'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w [<!ENTITY a "b">]>' + body)
            .decode("utf-8")
            .encode("utf-16")
        ),
        "DOCTYPE",
    ),
]
IDS = [case[0] for case in HOSTILE]


def hostile(part: str, change) -> bytes:
    return rewrite(valid_xlsx(), part, change)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """A MEDIA_ROOT of the test's own, to see what an upload left there."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def test_the_valid_workbook_the_cases_start_from_imports():
    data = valid_xlsx()
    assert importers.table_columns(io.BytesIO(data), filename="refs.xlsx") == [
        "Title",
        "Authors",
        "Year",
    ]
    records = list(
        importers.open_records(io.BytesIO(data), filename="refs.xlsx", mapping={"title": "Title"})
    )
    assert len(records) == ROWS


@pytest.mark.parametrize(("name", "part", "change", "words"), HOSTILE, ids=IDS)
def test_the_importers_give_their_clear_error_for_every_hostile_workbook(name, part, change, words):
    data = hostile(part, change)
    assert (
        importers.sniff(data[: importers.SNIFF_BYTES], "refs.xlsx").format is importers.Format.XLSX
    )
    with pytest.raises(importers.ImportFormatError) as columns:
        importers.table_columns(io.BytesIO(data), filename="refs.xlsx")
    assert words in str(columns.value)
    with pytest.raises(importers.ImportFormatError) as reading:
        list(
            importers.open_records(
                io.BytesIO(data), filename="refs.xlsx", mapping={"title": "Title"}
            )
        )
    assert words in str(reading.value)
    # Read as a known table (no mapping): the same answer.
    with pytest.raises(importers.ImportFormatError):
        list(importers.open_records(io.BytesIO(data), filename="refs.xlsx"))


@pytest.mark.parametrize(("name", "part", "change", "words"), HOSTILE, ids=IDS)
def test_the_upload_service_refuses_every_hostile_workbook_and_stores_nothing(
    lead, review, media, name, part, change, words
):
    search = imports.search_create(actor=lead, review=review, database="Hand search")
    with pytest.raises(ValidationError) as refused:
        upload(lead, review, hostile(part, change), name="refs.xlsx", search=search)
    message = " ".join(refused.value.messages)
    assert "refs.xlsx" in message and words in message
    assert not ImportBatch.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("name", "part", "change", "words"),
    [HOSTILE[0], HOSTILE[3], HOSTILE[4], HOSTILE[7]],
    ids=[IDS[0], IDS[3], IDS[4], IDS[7]],
)
def test_the_page_and_the_api_answer_400_with_the_message_and_store_nothing(
    lead, review, media, name, part, change, words
):
    client = client_for(lead)
    data = hostile(part, change)
    page_file = io.BytesIO(data)
    page_file.name = "refs.xlsx"
    page = client.post("/reviews/exercise/searches/", {"database": "Scopus", "files": page_file})
    assert page.status_code == 400
    assert "refs.xlsx" in page.content.decode() and words in page.content.decode()
    assert not Search.objects.exists()

    search = imports.search_create(actor=lead, review=review, database="Scopus")
    api_file = io.BytesIO(data)
    api_file.name = "refs.xlsx"
    api = client.post(f"/api/reviews/exercise/searches/{search.pk}/files/", {"file": api_file})
    assert api.status_code == 400
    assert "refs.xlsx" in str(api.json()) and words in str(api.json())
    assert not ImportBatch.objects.exists() and not Record.objects.exists()
    assert stored_files(media) == []


def test_a_sheet_damaged_after_its_header_fails_the_import_job_with_the_message(
    lead, review, on_commit
):
    # The header reads (the column-mapping step passes); the rows further down do not.
    data = rewrite(
        valid_xlsx(),
        SHEET,
        lambda body: body.replace(b'<row r="20"', b'<row r="20"><<', 1),
    )
    batch = upload(lead, review, data, name="refs.xlsx")
    assert batch.status == BatchStatus.NEEDS_MAPPING
    with on_commit():
        imports.batch_set_mapping(actor=lead, batch=batch, mapping={"title": "Title"})
    batch.refresh_from_db()
    job = batch.job
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("refs.xlsx: ") and "damaged" in job.error
    assert "Unexpected error" not in job.error and "Nothing was imported" in job.error
    assert batch.status == BatchStatus.FAILED and batch.error == job.error
    assert not Record.objects.exists()


def test_a_doctype_that_reaches_the_import_job_fails_it_with_the_message(lead, review, on_commit):
    # A file stored before this check existed (or changed on disk) meets it again when read.
    batch = upload(lead, review, valid_xlsx(), name="refs.xlsx")
    batch.file.storage.delete(batch.file.name)
    batch.file.storage.save(batch.file.name, io.BytesIO(hostile(SHEET, _bomb)))
    with on_commit():
        imports.batch_set_mapping(actor=lead, batch=batch, mapping={"title": "Title"})
    job = ImportBatch.objects.get(pk=batch.pk).job
    assert job.status == JobStatus.FAILED and "DOCTYPE" in job.error
    assert not Record.objects.exists()
