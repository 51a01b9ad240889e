"""Hostile review archives: zip bombs, rows that lie, bad addresses, files left behind.

Every archive here is refused with a message a person can act on, in the service, on the
import page and in the command; nothing of it stays in the database or in MEDIA_ROOT, and the
server's memory does not grow with what the archive unpacks to.
"""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command
from django.db import transaction

from core.models import AuditEvent
from identification.models import ImportBatch, Record
from reporting import archive
from reviews.models import Membership, Review
from tests.conftest import client_for
from tests.deduplication.test_services import PUBMED, SCOPUS, import_file
from tests.reporting.test_archive import import_in_browser

# --- building archives ----------------------------------------------------------------------


@pytest.fixture
def files(lead, review, django_capture_on_commit_callbacks) -> dict[str, bytes]:
    """The entries of a real archive: two searches with their files, records, a cluster."""
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    with zipfile.ZipFile(io.BytesIO(archive.archive_bytes(review=review))) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def rows(entries: dict[str, bytes], label: str) -> list[dict]:
    text = entries[f"data/{label}.jsonl"].decode()
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def with_rows(entries: dict[str, bytes], label: str, new_rows: list[dict]) -> dict[str, bytes]:
    """The rows of ``label`` replaced, and the manifest's count of them with them."""
    text = "".join(json.dumps(row) + "\n" for row in new_rows)
    manifest = json.loads(entries["manifest.json"])
    manifest["models"][label] = len(new_rows)
    return entries | {
        f"data/{label}.jsonl": text.encode(),
        "manifest.json": json.dumps(manifest).encode(),
    }


def edited(entries: dict[str, bytes], label: str, row_id: int, **changes) -> dict[str, bytes]:
    return with_rows(
        entries, label, [r | changes if r["id"] == row_id else r for r in rows(entries, label)]
    )


def manifest_of(entries: dict[str, bytes]) -> dict:
    return json.loads(entries["manifest.json"])


def with_manifest(entries: dict[str, bytes], manifest: dict) -> dict[str, bytes]:
    return entries | {"manifest.json": json.dumps(manifest).encode()}


def with_file(entries: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    """Replace a stored file and its digest, so that only its size is unusual."""
    import hashlib

    manifest = manifest_of(entries)
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    return with_manifest(entries | {name: data}, manifest)


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the size the central directory declares for ``name`` (the size zipfile trusts)."""
    data = bytearray(data)
    end = data.rfind(b"PK\x05\x06")
    (count,) = struct.unpack_from("<H", data, end + 10)
    (pos,) = struct.unpack_from("<I", data, end + 16)
    for _ in range(count):
        assert data[pos : pos + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46 : pos + 46 + name_len].decode() == name:
            struct.pack_into("<I", data, pos + 24, size)
            return bytes(data)
        pos += 46 + name_len + extra_len + comment_len
    raise AssertionError(f"{name} is not in the archive")


# --- observing the site ---------------------------------------------------------------------


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def state() -> tuple:
    return (
        Review.objects.count(),
        Membership.objects.count(),
        Record.objects.count(),
        ImportBatch.objects.count(),
        AuditEvent.objects.count(),
        get_user_model().objects.count(),
        frozenset(media_files()),
    )


def upload(data: bytes):
    fh = io.BytesIO(data)
    fh.name = "archive.zip"
    return fh


def refused_everywhere(data: bytes, message: str, *, user, tmp_path, slug="copy") -> None:
    """The service, the page and the command each refuse ``data`` with ``message``."""
    with pytest.raises(archive.ArchiveError, match=message):
        archive.review_import(stream=io.BytesIO(data), slug=slug, actor=user)
    # Refused when it is checked, or, for what only importing finds, when it is imported.
    response = import_in_browser(client_for(user), data, slug=slug or "")
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    path = tmp_path / "hostile.zip"
    path.write_bytes(data)
    args = [str(path), "--user", user.username] + (["--slug", slug] if slug else [])
    with pytest.raises(CommandError, match=message):
        call_command("import_review", *args)


@pytest.fixture
def stores(monkeypatch) -> list[str]:
    """The names the file storage was asked to write, in order."""
    names: list[str] = []
    save = FileSystemStorage._save

    def spy(self, name, content):
        names.append(name)
        return save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", spy)
    return names


# --- zip bombs (issue 13, item 3) -----------------------------------------------------------


def test_an_entry_declaring_more_than_the_entry_cap_is_refused_before_anything_is_unpacked(
    files, lead, monkeypatch
):
    monkeypatch.setattr(archive, "MAX_ENTRY_BYTES", 100_000, raising=False)
    data = zipped(files | {"files/extra": bytes(200_000)})
    before = state()
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or real_open(self, *a, **k)
    )
    with pytest.raises(archive.ArchiveError, match="files/extra unpacks to 195 KB, more than"):
        archive.review_import(stream=io.BytesIO(data), slug="copy", actor=lead)
    assert opened == []
    assert state() == before


def test_a_huge_declared_size_is_refused_early(files, lead, tmp_path):
    # 3 GB declared: under the old 4 GB total, so the old importer went on to unpack it.
    data = declare_size(zipped(files), "files/reviews.importbatch/1", 3 * 2**30)
    before = state()
    refused_everywhere(data, "unpacks to 3.0 GB, more than", user=lead, tmp_path=tmp_path)
    assert state() == before


def test_the_total_an_archive_unpacks_to_is_capped(files, lead, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 150_000)
    data = zipped(files | {"files/a": bytes(80_000), "files/b": bytes(80_000)})
    with pytest.raises(archive.ArchiveError, match="unpacks to more than 146 KB"):
        archive.review_import(stream=io.BytesIO(data), slug="copy", actor=lead)


def test_an_archive_of_too_many_entries_is_refused(files, lead, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ENTRIES", 100, raising=False)
    data = zipped(files | {f"files/x/{n}": b"" for n in range(200)})
    before = state()
    with pytest.raises(archive.ArchiveError, match="more than 100 entries"):
        archive.review_import(stream=io.BytesIO(data), slug="copy", actor=lead)
    assert state() == before


def test_a_header_that_understates_its_entry_is_refused_as_damaged(files, lead, tmp_path):
    """A 10 MB entry declared as 1,000 bytes: zipfile stops at the declared size, then the
    checksum fails; that must be a clear refusal, not a crash."""
    name = "files/reviews.importbatch/1"
    data = declare_size(zipped(with_file(files, name, bytes(10 * 2**20))), name, 1000)
    before = state()
    refused_everywhere(data, f"{name} is damaged", user=lead, tmp_path=tmp_path)
    assert state() == before


@pytest.mark.parametrize("name", ["files/reviews.importbatch/2", "data/reviews.record.jsonl"])
def test_an_entry_yielding_more_bytes_than_its_header_declares_is_refused(
    files, lead, monkeypatch, stores, name
):
    """The importer counts what it reads and does not rely on zipfile to stop at the declared
    size: an entry that gives more than its header said is refused as it is read."""
    data = zipped(files)
    real_open = zipfile.ZipFile.open

    def overflowing(self, member, *args, **kwargs):
        info = member if isinstance(member, zipfile.ZipInfo) else self.getinfo(member)
        fh = real_open(self, member, *args, **kwargs)
        if info.filename != name:
            return fh
        return io.BytesIO(fh.read() + b"\n" * (info.file_size + 10))

    monkeypatch.setattr(zipfile.ZipFile, "open", overflowing)
    before = state()
    with pytest.raises(archive.ArchiveError, match=f"{name} unpacks to more than its header"):
        archive.review_import(stream=io.BytesIO(data), slug="copy", actor=lead)
    assert state() == before


def test_a_data_line_longer_than_the_line_cap_is_refused(files, lead, monkeypatch):
    monkeypatch.setattr(archive, "MAX_LINE_BYTES", 4096, raising=False)
    data = zipped(edited(files, "reviews.record", 1, abstract="x" * 10_000))
    before = state()
    with pytest.raises(
        archive.ArchiveError, match=r"data/reviews.record.jsonl, line 1: longer than 4 KB"
    ):
        archive.review_import(stream=io.BytesIO(data), slug="copy", actor=lead)
    assert state() == before


def test_entries_compressed_with_bzip2_or_lzma_are_refused(files, lead):
    """bzip2 and lzma entries are unpacked by zipfile without a bound on one read's output, so
    only stored and deflated entries (what Evident writes) are read."""
    before = state()
    for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        with pytest.raises(archive.ArchiveError, match="compression method"):
            archive.review_import(stream=io.BytesIO(zipped(files, method)), slug="copy")
    assert state() == before


def test_importing_large_entries_keeps_memory_flat(files, lead, review):
    """A 32 MB stored file and 8 MB of records pass through in pieces: the peak of Python's
    allocations is about one batch of rows (some 8 MB here, whatever the file's size or the
    number of records), where reading entries whole peaked near 80 MB."""
    name = "files/reviews.importbatch/1"
    big_rows = rows(files, "reviews.record")
    template = big_rows[0]
    big_rows += [
        template | {"id": n, "abstract": f"{n} " + "y" * 4000, "cluster": None}
        for n in range(len(big_rows) + 1, 2001)
    ]
    entries = with_rows(with_file(files, name, bytes(32 * 2**20)), "reviews.record", big_rows)
    data = zipped(entries)
    tracemalloc.start()
    try:
        imported = archive.review_import(stream=io.BytesIO(data), slug="big", actor=lead)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Record.objects.filter(review=imported).count() == 2000
    batch = ImportBatch.objects.get(review=imported, search__database="Scopus")
    assert batch.file.size == 32 * 2**20
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MB"


# --- hostile rows (item 4) ------------------------------------------------------------------


def _without_file(entries):
    name = "files/reviews.importbatch/1"
    manifest = manifest_of(entries)
    del manifest["files"][name]
    return with_manifest({k: v for k, v in entries.items() if k != name}, manifest)


def _traversal_file(entries):
    name = "files/../../../evil"
    entries = with_file(entries, name, b"TY  - JOUR\nER  - \n")
    return edited(entries, "reviews.importbatch", 1, file=name)


HOSTILE = {
    "a row whose file is missing": (_without_file, "is missing from the archive"),
    "a foreign key given as a dict": (
        lambda f: edited(f, "reviews.record", 1, search={"id": 1}),
        "reviews.record row 1, search: must be a row number",
    ),
    "an unknown role": (
        lambda f: edited(f, "reviews.membership", 2, role="overlord"),
        "reviews.membership row 2, role: 'overlord' is not one of",
    ),
    "an unknown screening status": (
        lambda f: edited(f, "screening.screeningitem", 1, status="bogus"),
        "screening.screeningitem row 1, status: 'bogus' is not one of",
    ),
    "an unknown review status": (
        lambda f: edited(f, "reviews.review", 1, status="bogus"),
        "reviews.review row 1, status: 'bogus' is not one of",
    ),
    "a traversal path in sha256": (
        lambda f: edited(f, "reviews.importbatch", 1, sha256="../../../../../tmp/evident-evil"),
        "reviews.importbatch row 1, sha256: not a SHA-256 digest",
    ),
    "a traversal path as a file name": (_traversal_file, "not a file of this archive"),
    "a time given as a number": (
        lambda f: edited(f, "reviews.record", 2, created_at=12345),
        "reviews.record row 2, created_at: 12345 is not a valid value",
    ),
    "a NUL character in text": (
        lambda f: edited(f, "reviews.record", 1, title="a\x00b"),
        "reviews.record row 1, title: contains a NUL character",
    ),
    "a lone surrogate in text": (
        lambda f: edited(f, "reviews.record", 1, title="a\ud800b"),
        "reviews.record row 1, title: is not valid Unicode text",
    ),
    "a manifest whose review is not an object": (
        lambda f: with_manifest(f, manifest_of(f) | {"review": ["exercise"]}),
        "manifest.json is not in the expected form",
    ),
    "two rows with the same id": (
        lambda f: with_rows(f, "reviews.record", [*rows(f, "reviews.record"), {"id": 1}]),
        "data/reviews.record.jsonl, line 6: rows must be numbered 1, 2, 3",
    ),
    "two rows sharing one file": (
        lambda f: edited(f, "reviews.importbatch", 2, file="files/reviews.importbatch/1"),
        "files/reviews.importbatch/1 is used by two rows",
    ),
}


@pytest.mark.parametrize("case", HOSTILE.keys())
def test_a_hostile_archive_is_refused_clearly_by_the_service_the_page_and_the_command(
    files, lead, tmp_path, case
):
    damage, message = HOSTILE[case]
    data = zipped(damage(files))
    before = state()
    refused_everywhere(data, message, user=lead, tmp_path=tmp_path)
    assert state() == before


def test_a_damaged_zip_entry_is_refused_and_never_a_server_error(files, lead, tmp_path):
    data = bytearray(zipped(files))
    name = b"data/reviews.record.jsonl"
    start = data.find(name) - 30  # its local header, which comes before the central directory
    assert data[start : start + 4] == b"PK\x03\x04"
    body = start + 30 + len(name)
    data[body + 20 : body + 160] = bytes(140)  # zero part of the records' compressed bytes
    before = state()
    refused_everywhere(bytes(data), "is damaged", user=lead, tmp_path=tmp_path)
    assert state() == before


# --- addresses (item 1) ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["broken slug!", "../../admin", "import", "Exercise_2", "x" * 81])
def test_an_archive_whose_own_address_is_invalid_asks_for_a_new_one(files, lead, outsider, bad):
    """The archive's membership rows name ``lead``: a review committed under a broken address
    would break lead's own list of reviews for good."""
    data = zipped(edited(files, "reviews.review", 1, slug=bad))
    before = state()
    response = client_for(outsider).post("/reviews/import/", {"archive": upload(data)})
    assert response.status_code == 400
    assert "is not a valid address" in response.content.decode()
    assert "Give the new review an address" in response.content.decode()
    assert state() == before
    assert client_for(lead).get("/reviews/").status_code == 200
    # Given an address, the same archive imports.
    response = import_in_browser(client_for(outsider), data, slug="fixed")
    assert response.status_code == 302 and response.url == "/reviews/fixed/"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("bad slug", "Use lower-case letters, digits and single hyphens"),
        ("under_score", "Use lower-case letters, digits and single hyphens"),
        ("import", "'import' is reserved; choose another address."),
        ("new", "'new' is reserved; choose another address."),
        ("x" * 81, "At most 80 characters."),
        ("exercise", "A review with the address 'exercise' exists"),
    ],
)
def test_an_address_given_for_the_import_follows_the_rules_of_new_reviews(
    files, lead, tmp_path, slug, message
):
    data = zipped(files)
    before = state()
    with pytest.raises(archive.ArchiveError, match=message):
        archive.review_import(stream=io.BytesIO(data), slug=slug, actor=lead)
    path = tmp_path / "a.zip"
    path.write_bytes(data)
    with pytest.raises(CommandError, match=message):
        call_command("import_review", str(path), "--slug", slug)
    assert state() == before


def test_the_import_page_refuses_a_reserved_address(files, lead):
    data = zipped(files)
    before = state()
    response = client_for(lead).post("/reviews/import/", {"archive": upload(data), "slug": "new"})
    assert response.status_code == 400
    assert "is reserved; choose another address" in response.content.decode()
    assert state() == before


def test_an_address_in_capitals_is_lowered_as_for_a_new_review(files, lead):
    imported = archive.review_import(stream=io.BytesIO(zipped(files)), slug=" Mine-Now ")
    assert imported.slug == "mine-now"


# --- files left behind (item 7) -------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        # A record pointing at a missing search: found after both searches' files were stored.
        lambda f: edited(f, "reviews.record", 1, search=99),
        # The second file does not match its checksum: found once it is written.
        lambda f: f | {"files/reviews.importbatch/2": b"tampered"},
        # The second file is cut short by a lying header: found halfway through writing it.
        lambda f: declare_size(
            zipped(with_file(f, "files/reviews.importbatch/2", bytes(2**20))),
            "files/reviews.importbatch/2",
            100_000,
        ),
        # A database rule broken at the very end (the importer's own membership).
        lambda f: edited(f, "screening.screeningitem", 4, record=1),
    ],
    ids=["late bad row", "bad checksum", "cut short", "database rule"],
)
def test_a_failed_import_leaves_no_stored_files(files, lead, stores, damage):
    damaged = damage(files)
    data = damaged if isinstance(damaged, bytes) else zipped(damaged)
    before = media_files()
    with pytest.raises(archive.ArchiveError):
        archive.review_import(stream=io.BytesIO(data), slug="copy", actor=lead)
    assert stores, "the failure should come after a file was stored"
    assert media_files() == before


class _Imported(Exception):
    """Raised to roll an import that succeeded back, so that the next one starts clean."""


@pytest.mark.parametrize("value", [None, {"a": 1}, 2**70, "a\ud800"], ids=repr)
def test_no_value_in_any_field_of_any_row_crashes_the_import(files, lead, value):
    """Each field of each model's first row in turn gets ``value``: the import succeeds or is
    refused with an ArchiveError, never anything else."""
    before = state()
    refused = 0
    for name in sorted(n for n in files if n.startswith("data/") and files[n].strip()):
        label = name.removeprefix("data/").removesuffix(".jsonl")
        original = rows(files, label)
        for key in sorted(original[0]):
            changed = [original[0] | {key: value}, *original[1:]]
            data = zipped(with_rows(files, label, changed))
            try:
                with transaction.atomic():
                    archive.review_import(stream=io.BytesIO(data), slug="fuzz", actor=lead)
                    raise _Imported
            except archive.ArchiveError:
                refused += 1
            except _Imported:
                pass
    assert refused > 0
    # (The files of the imports this test rolled back itself stay: only the database is compared.)
    assert state()[:-1] == before[:-1]
