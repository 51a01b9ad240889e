"""Importing searches through the services, the pages and the commands (Django side).

The parsers themselves are tested file by file in tests/identification/importers/.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.constants import JobStatus
from core.models import AuditEvent, Job
from identification import services as imports
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record, Search
from tests.conftest import client_for
from tests.identification.conftest import RIS, upload
from tests.paths import DEMO_DATA as DEMO
from tests.paths import EXPORTS


def test_it_imports_a_file_with_normalised_fields(lead, review, on_commit):
    with on_commit():
        batch = upload(lead, review, RIS.encode())
    batch.refresh_from_db()
    assert (batch.status, batch.format, batch.encoding, batch.imported) == (
        "imported",
        "ris",
        "utf-8",
        2,
    )
    first = Record.objects.filter(batch=batch).first()
    assert first.title == "Gambling and debt"
    assert first.doi == "10.1000/abc" and first.pages == "123-129"
    assert first.authors == ["Smith, J", "Doe, A"] and first.year == 2020
    assert first.raw["TI"] == ["Gambling and <i>debt</i>"]
    assert AuditEvent.objects.filter(verb="imported records", object_id=str(batch.pk)).exists()


def test_it_refuses_the_same_file_twice_unless_confirmed(lead, review, on_commit):
    with on_commit():
        upload(lead, review, RIS.encode())
    with pytest.raises(Exception) as exc:
        upload(lead, review, RIS.encode(), name="again.ris")
    assert "identical" in str(exc.value) and "import anyway" in str(exc.value)
    assert Record.objects.count() == 2
    with on_commit():
        upload(lead, review, RIS.encode(), name="again.ris", confirm_duplicate=True)
    assert Record.objects.count() == 4


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.ris", "is empty"),
        (bytes(range(256)) * 40, "photo.ris", ""),
        (b"%PDF-1.7\n" + b"\x00\x01binary" * 100, "paper.pdf", ""),
        (b"Dear colleague,\nplease find the minutes attached.\n" * 20, "letter.txt", ""),
    ],
)
def test_it_refuses_files_that_are_not_bibliographic_and_changes_nothing(
    lead, review, content, name, message
):
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    with pytest.raises(Exception) as exc:
        upload(lead, review, content, name=name, search=search)
    assert name in str(exc.value) and message in str(exc.value)
    assert not ImportBatch.objects.exists() and not Record.objects.exists()


@override_settings(EVIDENT_MAX_UPLOAD_BYTES=100)
def test_it_refuses_a_file_over_the_size_limit(lead, review):
    with pytest.raises(Exception) as exc:
        upload(lead, review, RIS.encode())
    assert "limit" in str(exc.value)
    assert not ImportBatch.objects.exists()


def test_a_file_that_breaks_halfway_imports_nothing_and_says_where(lead, review, on_commit):
    good = "".join(f"TY  - JOUR\nTI  - Record {i}\nPY  - 2001\nER  - \n\n" for i in range(5000))
    broken = good + "TY  - JOUR\nTI  - Cut off in the middle\nAU  - Someone\n"
    with on_commit():
        batch = upload(lead, review, broken.encode(), name="truncated.ris")
    batch.refresh_from_db()
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == JobStatus.FAILED
    assert (
        "truncated.ris" in job.error and "line" in job.error and "Nothing was imported" in job.error
    )
    assert batch.status == BatchStatus.FAILED and batch.error == job.error
    assert not Record.objects.exists()


def test_the_import_command_creates_the_review_and_prints_a_json_summary(db, capsys):
    path = DEMO / "20221207_gambling-harms_pubmed_176.ris"
    call_command(
        "import_records",
        str(path),
        "--review",
        "cli-review",
        "--create",
        "--database",
        "PubMed",
        "--date",
        "2022-12-07",
        "--query",
        "gambling AND harm*",
    )
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("format", "encoding", "parsed", "imported")} == {
        "format": "ris",
        "encoding": "utf-8",
        "parsed": 176,
        "imported": 176,
    }
    assert summary["skipped"] == []
    search = Search.objects.get(review__slug="cli-review")
    assert (search.database, str(search.date_searched), search.query) == (
        "PubMed",
        "2022-12-07",
        "gambling AND harm*",
    )


def test_the_import_command_explains_bad_input(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command(
            "import_records",
            str(tmp_path / "nope.ris"),
            "--review",
            "x",
            "--create",
            "--database",
            "Scopus",
        )
    with pytest.raises(CommandError, match="add --create"):
        call_command(
            "import_records",
            str(DEMO / "20221207_gambling-harms_lens_49.ris"),
            "--review",
            "missing",
            "--database",
            "Lens",
        )
    junk = tmp_path / "junk.ris"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    with pytest.raises(CommandError, match=r"junk\.ris"):
        call_command(
            "import_records", str(junk), "--review", "x", "--create", "--database", "Scopus"
        )
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command(
            "import_records",
            str(DEMO / "20221207_gambling-harms_lens_49.ris"),
            "--review",
            "x",
            "--create",
            "--database",
            "Lens",
            "--date",
            "07/12/2022",
        )
    assert not Record.objects.exists()


EXPORT_FILES = sorted(
    p
    for p in EXPORTS.iterdir()
    if p.suffix and p.name != "SOURCES.md" and not p.name.startswith(".")
)


@pytest.mark.parametrize("path", EXPORT_FILES, ids=lambda p: p.name)
def test_every_real_export_imports_through_the_command(db, capsys, path):
    call_command("import_records", str(path), "--review", "every", "--create", "--database", "Any")
    summary = json.loads(capsys.readouterr().out)
    assert summary["imported"] == Record.objects.count() > 0


def test_a_ris_export_reimports_to_the_same_normalised_records(db, capsys, tmp_path):
    for name in [
        "20221207_gambling-harms_psycinfo_124.ris",
        "20221207_gambling-harms_scopus_255.ris",
    ]:
        call_command(
            "import_records",
            str(DEMO / name),
            "--review",
            "round",
            "--create",
            "--database",
            name[26:30],
        )
    capsys.readouterr()
    out = tmp_path / "out.ris"
    call_command("export_records", "--review", "round", "--format", "ris", "-o", str(out))
    call_command(
        "import_records", str(out), "--review", "round-again", "--create", "--database", "Export"
    )
    fields = [
        "title",
        "abstract",
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
        "language",
        "publication_type",
        "url",
        "accession_number",
    ]
    before = list(Record.objects.filter(review__slug="round").order_by("pk").values(*fields))
    after = list(Record.objects.filter(review__slug="round-again").order_by("pk").values(*fields))
    assert len(before) == len(after) == 379
    assert before == after


def test_the_csv_export_has_the_agreed_columns(db, capsys, tmp_path):
    call_command(
        "import_records",
        str(DEMO / "20221207_gambling-harms_lens_49.ris"),
        "--review",
        "csvx",
        "--create",
        "--database",
        "Lens",
    )
    out = tmp_path / "out.csv"
    call_command("export_records", "--review", "csvx", "--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert len(rows) == 49
    assert list(rows[0])[:16] == [
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
    assert rows[0]["database"] == "Lens"
    with pytest.raises(CommandError):
        call_command("export_records", "--review", "nope", "--format", "csv")


def test_a_lead_records_a_search_and_uploads_in_the_browser(lead, review, on_commit):
    client = client_for(lead)
    data = {
        "database": "APA PsycInfo",
        "platform": "EBSCOhost",
        "date_searched": "2022-12-07",
        "query": "gambl* AND harm*",
        "reported_hits": "124",
        "files": io.BytesIO((DEMO / "20221207_gambling-harms_psycinfo_124.ris").read_bytes()),
    }
    data["files"].name = "psycinfo.ris"
    with on_commit():
        response = client.post("/reviews/exercise/searches/", data)
    assert response.status_code == 302
    job = Job.objects.get(kind="import_records")
    assert response.url == f"/reviews/exercise/jobs/{job.pk}/"
    assert job.status == "succeeded" and job.result["imported"] == 124
    page = client.get("/reviews/exercise/searches/").content.decode()
    assert "APA PsycInfo" in page and ">124<" in page


def test_a_refused_file_in_the_browser_records_nothing(lead, review):
    client = client_for(lead)
    bad = io.BytesIO(b"not a bibliography at all\n" * 50)
    bad.name = "notes.txt"
    response = client.post("/reviews/exercise/searches/", {"database": "Scopus", "files": bad})
    assert response.status_code == 400
    assert "notes.txt" in response.content.decode()
    assert not Search.objects.exists() and not ImportBatch.objects.exists()


def test_a_reviewer_cannot_import(review, reviewer_a):
    client = client_for(reviewer_a)
    f = io.BytesIO(RIS.encode())
    f.name = "x.ris"
    assert (
        client.post("/reviews/exercise/searches/", {"database": "Scopus", "files": f}).status_code
        == 403
    )
    assert not Search.objects.exists()


def test_a_generic_table_asks_for_a_column_mapping_then_imports(lead, review, on_commit):
    client = client_for(lead)
    table = "Paper title;Writers;Published;Identifier\nGambling harm;Smith, J;2020;10.1000/x\nLoot boxes;Lee, K;2021;\n"
    f = io.BytesIO(table.encode("utf-8"))
    f.name = "sheet.csv"
    response = client.post("/reviews/exercise/searches/", {"database": "Hand search", "files": f})
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.NEEDS_MAPPING
    assert response.url == f"/reviews/exercise/imports/{batch.pk}/mapping/"
    page = client.get(response.url).content.decode()
    assert "Paper title" in page
    bad = client.post(response.url, {"map_title": "No such column"})
    assert bad.status_code == 400 and not Record.objects.exists()
    with on_commit():
        ok = client.post(
            response.url,
            {
                "map_title": "Paper title",
                "map_authors": "Writers",
                "map_year": "Published",
                "map_doi": "Identifier",
            },
        )
    assert ok.status_code == 302
    assert list(Record.objects.order_by("pk").values_list("title", "year", "doi")) == [
        ("Gambling harm", 2020, "10.1000/x"),
        ("Loot boxes", 2021, ""),
    ]


def test_the_record_list_filters_and_exports_what_it_shows(lead, review, on_commit):
    with on_commit():
        upload(lead, review, RIS.encode())
    client = client_for(lead)
    page = client.get("/reviews/exercise/records/?q=lottery").content.decode()
    # The match is marked (identification/query.py highlights what the search found).
    assert "<mark>Lottery</mark> play" in page and "Gambling and debt" not in page
    page = client.get("/reviews/exercise/records/?has_doi=yes").content.decode()
    assert "Gambling and debt" in page and "Lottery play" not in page
    page = client.get("/reviews/exercise/records/?year_from=abc&search=-4").content.decode()
    assert "not understood" in page
    response = client.get("/reviews/exercise/records/export/?q=lottery&format=ris")
    text = b"".join(response.streaming_content).decode()
    assert "Lottery play" in text and "Gambling and debt" not in text
    record = Record.objects.get(title="Gambling and debt")
    detail = client.get(f"/reviews/exercise/records/{record.pk}/").content.decode()
    assert "10.1000/abc" in detail and "Smith, J; Doe, A" in detail


def test_a_hostile_file_name_is_neutralised(lead, review, on_commit):
    batch = upload(lead, review, RIS.encode(), name="../../etc/<script>alert(1)</script>\x00.ris")
    assert "/" not in batch.original_name and "\x00" not in batch.original_name
    assert ".." not in batch.file.name
    page = client_for(lead).get(f"/reviews/exercise/searches/{batch.search_id}/").content.decode()
    assert "<script>alert(1)" not in page


def test_the_dashboard_counts_identified_records(lead, review, on_commit):
    with on_commit():
        upload(lead, review, RIS.encode())
    page = client_for(lead).get("/reviews/exercise/").content.decode()
    assert 'aria-label="2 records identified"' in page


def test_the_api_records_a_search_imports_a_file_and_lists_records(lead, review, on_commit):
    client = client_for(lead)
    response = client.post(
        "/api/reviews/exercise/searches/",
        {
            "database": "Embase",
            "platform": "Ovid",
            "date_searched": "2024-01-31",
            "reported_hits": 2,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    search_id = response.json()["id"]
    f = io.BytesIO(RIS.encode())
    f.name = "embase.ris"
    with on_commit():
        response = client.post(f"/api/reviews/exercise/searches/{search_id}/files/", {"file": f})
    assert response.status_code == 202, response.content
    files = client.get(f"/api/reviews/exercise/searches/{search_id}/files/").json()["results"]
    assert files[0]["status"] == "imported" and files[0]["imported"] == 2
    records = client.get("/api/reviews/exercise/records/?has_doi=yes").json()["results"]
    assert [r["title"] for r in records] == ["Gambling and debt"]
    assert (
        client.get(f"/api/reviews/exercise/records/{records[0]['id']}/").json()["doi"]
        == "10.1000/abc"
    )


def test_the_api_answers_bad_imports_with_400(lead, review):
    client = client_for(lead)
    assert (
        client.post(
            "/api/reviews/exercise/searches/", {"database": ""}, content_type="application/json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/reviews/exercise/searches/",
            {"database": "X", "date_searched": "yesterday"},
            content_type="application/json",
        ).status_code
        == 400
    )
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    junk = io.BytesIO(b"\x00\x01\x02" * 500)
    junk.name = "junk.ris"
    response = client.post(f"/api/reviews/exercise/searches/{search.pk}/files/", {"file": junk})
    assert response.status_code == 400 and "junk.ris" in str(response.json())
    assert client.post(f"/api/reviews/exercise/searches/{search.pk}/files/", {}).status_code == 400
    assert not ImportBatch.objects.exists()


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(lead, review, settings):
    settings.EVIDENT_MAX_UPLOAD_BYTES = 1024
    client = client_for(lead)
    big = io.BytesIO(b"TY  - JOUR\nTI  - x\nER  - \n" * 200_000)
    big.name = "huge.ris"
    response = client.post("/reviews/exercise/searches/", {"database": "Scopus", "files": big})
    assert response.status_code == 413
    assert "accepts files up to" in response.content.decode()
    big.seek(0)
    api = client.post("/api/reviews/exercise/searches/1/files/", {"file": big})
    assert api.status_code == 413 and "accepts files up to" in api.json()["detail"]
    assert not Search.objects.exists()
