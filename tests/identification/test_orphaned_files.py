"""Nothing of a failed upload remains, in the database or in MEDIA_ROOT (issue 13, item 7).

A file is stored before its row is committed; when the transaction rolls back (a later file of
the same upload is refused, the job cannot be queued), the row goes and so must the file. A
failed import *job* is different: its file was uploaded and committed with its row, and the
row stays (failed, with the error) and keeps its file: no file without a row, no row without
its file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.constants import JobStatus
from core.stored_files import atomic_with_files, track
from identification import services as imports
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record, Search
from tests.conftest import client_for
from tests.identification.conftest import RIS

OTHER_RIS = RIS.replace("Lottery play", "Scratch cards")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[str]:
    if not media.exists():
        return []
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def named(content: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(content)
    f.name = name
    return f


def test_a_refused_file_in_a_multi_file_upload_leaves_no_file_of_the_earlier_ones(
    lead, review, media
):
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    files = [named(RIS.encode(), "good.ris"), named(OTHER_RIS.encode(), "good2.ris")]
    files.append(named(b"", "empty.ris"))
    with pytest.raises(ValidationError) as refused:
        imports.batch_upload_all(actor=lead, search=search, files=files)
    assert "empty.ris" in str(refused.value)
    assert not ImportBatch.objects.exists()
    assert stored_files(media) == []


def test_a_search_recorded_with_its_files_leaves_nothing_when_one_is_refused(lead, review, media):
    files = [named(RIS.encode(), "good.ris"), named(b"not a bibliography\n" * 30, "notes.txt")]
    with pytest.raises(ValidationError):
        imports.search_create_with_files(actor=lead, review=review, files=files, database="Scopus")
    assert not Search.objects.exists() and not ImportBatch.objects.exists()
    assert stored_files(media) == []


def test_the_pages_leave_no_file_of_a_refused_multi_file_upload(lead, review, media):
    client = client_for(lead)
    response = client.post(
        "/reviews/exercise/searches/",
        {
            "database": "Scopus",
            "files": [named(RIS.encode(), "good.ris"), named(b"\x00\x01" * 400, "junk.ris")],
        },
    )
    assert response.status_code == 400 and "junk.ris" in response.content.decode()
    assert stored_files(media) == []

    search = imports.search_create(actor=lead, review=review, database="Scopus")
    response = client.post(
        f"/reviews/exercise/searches/{search.pk}/",
        {"files": [named(RIS.encode(), "good.ris"), named(b"\x00\x01" * 400, "junk.ris")]},
    )
    assert response.status_code == 400 and "junk.ris" in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert stored_files(media) == []


def test_a_file_stored_before_a_later_step_of_its_upload_failed_is_deleted(
    lead, review, media, monkeypatch
):
    def broken_submit(**kwargs):
        raise RuntimeError("the queue is down")

    monkeypatch.setattr(imports, "job_submit", broken_submit)
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    with pytest.raises(RuntimeError):
        imports.batch_upload(
            actor=lead, search=search, fileobj=io.BytesIO(RIS.encode()), filename="good.ris"
        )
    assert not ImportBatch.objects.exists()
    assert stored_files(media) == []


def test_an_upload_that_succeeds_keeps_its_file(lead, review, media, on_commit):
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    with on_commit():
        batches = imports.batch_upload_all(
            actor=lead,
            search=search,
            files=[named(RIS.encode(), "a.ris"), named(OTHER_RIS.encode(), "b.ris")],
        )
    assert stored_files(media) == sorted(b.file.name for b in batches)
    assert Record.objects.count() == 4


def test_a_file_that_breaks_halfway_keeps_its_failed_batch_row_and_its_file(
    lead, review, media, on_commit
):
    good = "".join(f"TY  - JOUR\nTI  - Record {i}\nPY  - 2001\nER  - \n\n" for i in range(500))
    broken = good + "TY  - JOUR\nTI  - Cut off in the middle\nAU  - Someone\n"
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    with on_commit():
        batch = imports.batch_upload(
            actor=lead, search=search, fileobj=io.BytesIO(broken.encode()), filename="cut.ris"
        )
    batch.refresh_from_db()
    assert batch.job.status == JobStatus.FAILED and batch.status == BatchStatus.FAILED
    assert not Record.objects.exists()
    assert stored_files(media) == [batch.file.name]


def test_a_failing_import_job_keeps_its_batch_row_and_its_file(
    lead, review, media, on_commit, monkeypatch
):
    from identification import import_job

    def parse_fails_halfway(batch, progress=None):
        Record.objects.create(review=batch.review, search=batch.search, batch=batch, title="x")
        raise import_job.JobError(f"{batch.original_name}: line 9: broken. Nothing was imported.")

    monkeypatch.setattr(import_job, "import_file", parse_fails_halfway)
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    with on_commit():
        batch = imports.batch_upload(
            actor=lead, search=search, fileobj=io.BytesIO(RIS.encode()), filename="half.ris"
        )
    batch.refresh_from_db()
    assert batch.job.status == JobStatus.FAILED and batch.status == BatchStatus.FAILED
    assert "line 9" in batch.error
    assert not Record.objects.exists()
    assert stored_files(media) == [batch.file.name]


# --- the helper ---------------------------------------------------------------------------------


def _store(name: str) -> str:
    stored = default_storage.save(name, ContentFile(b"data"))
    track(default_storage, stored)
    return stored


def test_files_stored_in_a_block_that_raises_are_deleted_and_others_kept(db, media):
    with atomic_with_files():
        kept = _store("kept")
    with pytest.raises(ZeroDivisionError), atomic_with_files():
        _store("gone")
        1 / 0  # noqa: B018
    assert stored_files(media) == [kept]


def test_an_inner_block_that_succeeds_leaves_its_files_to_the_outer_one(db, media):
    with pytest.raises(ValueError), atomic_with_files():
        with atomic_with_files():
            _store("inner")
        assert len(stored_files(media)) == 1
        raise ValueError("the outer block fails")
    assert stored_files(media) == []


def test_an_inner_block_that_fails_deletes_only_its_own_files(db, media):
    with atomic_with_files():
        outer = _store("outer")
        try:
            with atomic_with_files():
                _store("inner")
                raise ValueError("the inner block fails")
        except ValueError:
            pass
    assert stored_files(media) == [outer]


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_commit_deletes_nothing(media):
    # Really committed (no test transaction around it). A hook that raises after the commit (a
    # broker that is down when the job is queued) must not take the committed rows' files.
    def broker_down():
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError), atomic_with_files():
        committed = _store("committed")
        transaction.on_commit(broker_down)
    assert stored_files(media) == [committed]
    with pytest.raises(ValueError), atomic_with_files():
        _store("rolled-back")
        raise ValueError
    assert stored_files(media) == [committed]


def test_storing_outside_a_block_is_a_mistake(db, media):
    with pytest.raises(RuntimeError):
        _store("loose")
