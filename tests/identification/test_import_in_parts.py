"""Large files on PostgreSQL read in parts by worker processes: the rows stored are exactly
those one process stores (identification/importers/parallel.py, identification/import_job.py)."""

from __future__ import annotations

import pytest

from core.constants import JobStatus
from core.models import Job
from identification import import_job
from identification import services as imports
from identification.constants import BatchStatus
from identification.importers import ParsedRecord
from identification.models import ImportBatch, Record
from tests.conftest import require_postgres
from tests.identification.conftest import upload
from tests.paths import EXPORTS

READ_IN_PARTS = (
    "reading in parts is for PostgreSQL's COPY (set DATABASE_URL=postgres://...; see .ci/run)"
)
RECORD_FIELDS = [*ParsedRecord.NORMALISED_FIELDS, "raw", "source_line"]


@pytest.fixture
def in_parts(settings, monkeypatch):
    """Every file read in parts (tiny ones), by three workers; yields the readers made."""
    settings.EVIDENT_IMPORT_PARALLEL_MIN_MB = 0
    settings.EVIDENT_IMPORT_PROCESSES = 3
    monkeypatch.setattr(import_job, "PART_MIN_BYTES", 1)
    made = []
    real = import_job._parts_reader

    def spy(*args, **kwargs):
        reader = real(*args, **kwargs)
        made.append(reader)
        return reader

    monkeypatch.setattr(import_job, "_parts_reader", spy)
    return made


def _ris_exports() -> list[str]:
    from identification.importers import Format, sniff

    names = []
    for path in sorted(EXPORTS.iterdir()):
        if "__" in path.name:  # not SOURCES.md
            with path.open("rb") as fh:
                if sniff(fh.read(65536), path.name).format is Format.RIS:
                    names.append(path.name)
    return names


RIS_EXPORTS = _ris_exports()


@pytest.mark.parametrize("name", RIS_EXPORTS)
def test_a_file_read_in_parts_stores_exactly_what_one_process_stores(
    lead, review, on_commit, in_parts, settings, name
):
    require_postgres(READ_IN_PARTS)
    content = (EXPORTS / name).read_bytes()
    with on_commit():
        parts = upload(lead, review, content, name=name)
    settings.EVIDENT_IMPORT_PROCESSES = 1
    with on_commit():
        whole = upload(lead, review, content, name=name, confirm_duplicate=True)
    assert [reader is not None for reader in in_parts] == [True, False], name
    parts.refresh_from_db()
    whole.refresh_from_db()
    assert parts.format == "ris" and parts.status == BatchStatus.IMPORTED
    assert Job.objects.get(pk=parts.job_id).result["processes"] == 3
    assert Job.objects.get(pk=whole.job_id).result["processes"] == 1
    stored = [
        list(Record.objects.filter(batch=batch).order_by("pk").values_list(*RECORD_FIELDS))
        for batch in (parts, whole)
    ]
    assert stored[0] == stored[1] and len(stored[0]) == parts.imported > 0
    assert (parts.parsed, parts.skipped, parts.encoding) == (
        whole.parsed,
        whole.skipped,
        whole.encoding,
    )


def test_a_file_cut_short_read_in_parts_imports_nothing_and_names_the_line(
    lead, review, on_commit, in_parts
):
    require_postgres(READ_IN_PARTS)
    good = "".join(f"TY  - JOUR\nTI  - Record {i}\nPY  - 2001\nER  - \n\n" for i in range(3000))
    broken = good + "TY  - JOUR\nTI  - Cut off in the middle\nAU  - Someone\n"
    with on_commit():
        batch = upload(lead, review, broken.encode(), name="truncated.ris")
    assert in_parts and in_parts[0] is not None and len(in_parts[0].parts) > 10
    batch.refresh_from_db()
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == JobStatus.FAILED
    assert "line 15003: the file ends inside the record that starts at line 15001" in job.error
    assert "Nothing was imported" in job.error
    assert not Record.objects.exists()


def test_copy_in_many_statements_stores_the_same_and_leaves_the_keys_deferred(
    lead, review, monkeypatch, settings, in_parts
):
    """Rows from import workers go in many COPY statements, each checking its rows' foreign
    keys as it ends; afterwards the rest of the job's transaction (deduplication, screening)
    has Django's deferred keys back."""
    from django.db import transaction

    require_postgres(READ_IN_PARTS)
    settings.EVIDENT_IMPORT_PROCESSES = 1  # the first import in one process, one statement
    content = (EXPORTS / "asreview__scopus.ris").read_bytes()
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    one = upload(lead, review, content, name="a.ris", search=search, enqueue=False)
    many = upload(
        lead, review, content, name="b.ris", search=search, enqueue=False, confirm_duplicate=True
    )
    with transaction.atomic():
        import_job.import_file(ImportBatch.objects.get(pk=one.pk))
    settings.EVIDENT_IMPORT_PROCESSES = 2
    monkeypatch.setattr(import_job, "COPY_STATEMENT_BYTES", 1)  # a statement per frame of rows
    statements = []
    real_end = import_job._CopyStatements.end

    def end(self):
        if self._open is not None:
            statements.append(self._written)  # bytes of rows the statement carried
        real_end(self)

    monkeypatch.setattr(import_job._CopyStatements, "end", end)
    with pytest.raises(RuntimeError, match="rolled back on purpose"), transaction.atomic():
        import_job.import_file(ImportBatch.objects.get(pk=many.pk))
        assert [reader is not None for reader in in_parts] == [False, True]
        # Many statements, and none opened for nothing (a part's end brings no rows).
        assert len(statements) > 5 and all(statements), statements
        stored = list(Record.objects.filter(batch=many).order_by("pk").values_list(*RECORD_FIELDS))
        assert stored == list(
            Record.objects.filter(batch=one).order_by("pk").values_list(*RECORD_FIELDS)
        )
        # A dangling key is not refused by its INSERT: the keys are deferred to commit again
        # (left IMMEDIATE, the INSERT itself would raise).
        Record.objects.create(review=review, search=search, batch_id=10**9, title="dangling")
        raise RuntimeError("rolled back on purpose")
    assert not Record.objects.filter(batch=many).exists()
    assert not Record.objects.filter(title="dangling").exists()


def test_a_key_left_immediate_would_have_been_caught(lead, review):
    """The check above can fail: with the keys IMMEDIATE, the same INSERT raises."""
    require_postgres(READ_IN_PARTS)
    from django.db import IntegrityError, connection, transaction

    search = imports.search_create(actor=lead, review=review, database="Scopus")
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Record.objects.create(review=review, search=search, batch_id=10**9, title="dangling")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_values_longer_than_their_column_are_cut_to_it(lead, review, on_commit):
    """The same cut on SQLite (bulk_create) and PostgreSQL (COPY rows), from the model's sizes."""
    ris = (
        f"TY  - JOUR\nTI  - Long values\nVL  - {'7' * 150}\nIS  - {'i' * 130}\n"
        f"LA  - {'English ' * 20}\nAN  - {'A' * 250}\nER  - \n"
    )
    with on_commit():
        batch = upload(lead, review, ris.encode(), name="long.ris")
    record = Record.objects.get(batch=batch)
    assert (len(record.volume), len(record.issue), len(record.accession_number)) == (100, 100, 200)
    assert record.volume == "7" * 100 and record.language == ("English " * 20)[:100]
    assert record.raw["VL"] == ["7" * 150]  # the file's own value stays in the raw record
