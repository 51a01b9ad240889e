"""Services for searches and their files: record a search, upload its files, map a table's columns.

Each upload starts an ``import_records`` job (``identification/import_job.py``) that turns the
file into records inside one transaction. The parsing itself is pure (``identification/importers``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction

from core.audit import audit_record
from core.stored_files import atomic_with_files, save_file
from core.text import clean_input_text
from identification import importers
from identification.constants import BatchStatus, SourceKind
from identification.models import ImportBatch, Search
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review
from reviews.services import job_submit

IMPORT_ROLES = (Role.LEAD,)


def search_create(
    *,
    actor,
    review: Review,
    database: str,
    kind: str = SourceKind.DATABASE,
    platform: str = "",
    date_searched: dt.date | str | None = None,
    query: str = "",
    reported_hits: int | None = None,
    notes: str = "",
) -> Search:
    require_role(user=actor, review=review, roles=IMPORT_ROLES, action="record a search")
    database = clean_input_text(database, field="database", max_length=200, required=True)
    if kind not in SourceKind.values:
        raise ValidationError({"kind": "Choose a bibliographic database or a study register."})
    platform = clean_input_text(platform, field="platform", max_length=200, required=False)
    query = clean_input_text(query, field="query", max_length=100_000, required=False)
    notes = clean_input_text(notes, field="notes", max_length=20_000, required=False)
    if isinstance(date_searched, str) and date_searched.strip():
        try:
            date_searched = dt.date.fromisoformat(date_searched.strip())
        except ValueError:
            raise ValidationError({"date_searched": "Give the date as YYYY-MM-DD."}) from None
    elif not date_searched:
        date_searched = None
    if date_searched and date_searched > dt.date.today() + dt.timedelta(days=1):
        raise ValidationError({"date_searched": "The search date is in the future."})
    if reported_hits is not None and (not isinstance(reported_hits, int) or reported_hits < 0):
        raise ValidationError({"reported_hits": "Give a whole number of records, 0 or more."})
    with transaction.atomic():
        search = Search.objects.create(
            review=review,
            database=database,
            kind=kind,
            platform=platform,
            date_searched=date_searched,
            query=query,
            reported_hits=reported_hits,
            notes=notes,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            review=review,
            verb="recorded search",
            obj=search,
            changes={
                "database": database,
                "kind": kind,
                "platform": platform,
                "date_searched": date_searched.isoformat() if date_searched else None,
                "reported_hits": reported_hits,
            },
        )
    return search


def _digest(fileobj: IO[bytes]) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    fileobj.seek(0)
    while chunk := fileobj.read(1 << 20):
        sha.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return sha.hexdigest(), size


def _safe_name(name: str) -> str:
    name = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or "upload"


def batch_upload(
    *,
    actor,
    search: Search,
    fileobj: IO[bytes],
    filename: str,
    confirm_duplicate: bool = False,
    enqueue: bool = True,
) -> ImportBatch:
    """Store one uploaded file of ``search`` and queue its import (or ask for a column mapping).

    Refuses empty files, files over the size limit, files that are not bibliographic, and a file
    already imported into this review unless ``confirm_duplicate``.
    """
    review = search.review
    require_role(user=actor, review=review, roles=IMPORT_ROLES, action="import records")
    name = _safe_name(filename)
    sha256, size = _digest(fileobj)
    if size == 0:
        raise ValidationError({"file": f"{name} is empty."})
    limit = settings.EVIDENT_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            {"file": f"{name} is {size / 2**20:.0f} MB; the limit is {limit / 2**20:.0f} MB."}
        )
    earlier = (
        ImportBatch.objects.filter(review=review, sha256=sha256)
        .exclude(status=BatchStatus.FAILED)
        .select_related("search")
        .first()
    )
    if earlier and not confirm_duplicate:
        raise ValidationError(
            {
                "file": (
                    f"{name} is identical to {earlier.original_name}, already imported into "
                    f"search “{earlier.search}”. Tick “import anyway” to import it again."
                )
            }
        )
    # Detect the format now, so a file that is not bibliographic is refused at the door.
    try:
        head = fileobj.read(importers.SNIFF_BYTES)
        fileobj.seek(0)
        detected = importers.sniff(head, name)
        columns = (
            importers.table_columns(fileobj, filename=name) if detected.format.needs_mapping else []
        )
    except importers.ImportFormatError as exc:
        raise ValidationError({"file": f"{name}: {exc}"}) from None
    needs_mapping = detected.format.needs_mapping
    # The file is stored before the row that names it is committed: if anything after fails,
    # here or in an enclosing upload of several files, atomic_with_files deletes it again.
    with atomic_with_files():
        batch = ImportBatch(
            review=review,
            search=search,
            original_name=name,
            size=size,
            sha256=sha256,
            status=BatchStatus.NEEDS_MAPPING if needs_mapping else BatchStatus.PENDING,
            format=detected.format.value,
            column_mapping={"columns": columns} if needs_mapping else {},
            created_by=actor,
        )
        fileobj.seek(0)
        save_file(batch.file, sha256, File(fileobj))
        batch.save()
        audit_record(
            actor=actor,
            review=review,
            verb="uploaded file",
            obj=batch,
            changes={
                "search": search.pk,
                "name": name,
                "size": size,
                "sha256": sha256,
                "format": detected.format.value,
                "duplicate_confirmed": bool(earlier),
            },
        )
        if not needs_mapping:
            batch.job = job_submit(
                actor=actor,
                review=review,
                kind="import_records",
                params={"batch_id": batch.pk},
                enqueue=enqueue,
            )
            batch.save(update_fields=["job"])
    return batch


def batch_upload_all(
    *, actor, search: Search, files: Iterable[Any], confirm_duplicate: bool = False
) -> list[ImportBatch]:
    """Upload several files of one search, all or none: one refused file stores nothing, and
    the files stored before it are deleted again."""
    with atomic_with_files():
        return [
            batch_upload(
                actor=actor,
                search=search,
                fileobj=upload,
                filename=upload.name,
                confirm_duplicate=confirm_duplicate,
            )
            for upload in files
        ]


def search_create_with_files(
    *,
    actor,
    review: Review,
    files: Iterable[Any],
    confirm_duplicate: bool = False,
    **search: Any,
) -> tuple[Search, list[ImportBatch]]:
    """Record a search and upload its files together, or nothing at all.

    ``search`` holds :func:`search_create`'s fields. A refused file (empty, not an export, a
    file imported before) leaves no search behind either, nor any file.
    """
    with atomic_with_files():
        created = search_create(actor=actor, review=review, **search)
        batches = batch_upload_all(
            actor=actor, search=created, files=files, confirm_duplicate=confirm_duplicate
        )
    return created, batches


def batch_set_mapping(*, actor, batch: ImportBatch, mapping: dict[str, str]) -> ImportBatch:
    """Map the columns of a generic table to record fields and queue its import."""
    review = batch.review
    require_role(user=actor, review=review, roles=IMPORT_ROLES, action="import records")
    if batch.status != BatchStatus.NEEDS_MAPPING:
        raise ValidationError("This file does not need a column mapping.")
    columns = batch.column_mapping.get("columns", [])
    chosen = {}
    for target, column in mapping.items():
        if not column:
            continue
        if target not in importers.TARGET_FIELDS:
            raise ValidationError({"mapping": f"Unknown record field {str(target)[:40]!r}."})
        if column not in columns:
            raise ValidationError({"mapping": f"The file has no column {str(column)[:80]!r}."})
        chosen[target] = column
    if "title" not in chosen and "doi" not in chosen:
        raise ValidationError({"mapping": "Map at least the title (or the DOI) column."})
    with transaction.atomic():
        batch.column_mapping = {"columns": columns, "mapping": chosen}
        batch.status = BatchStatus.PENDING
        batch.save(update_fields=["column_mapping", "status"])
        audit_record(actor=actor, review=review, verb="mapped columns", obj=batch, changes=chosen)
        batch.job = job_submit(
            actor=actor, review=review, kind="import_records", params={"batch_id": batch.pk}
        )
        batch.save(update_fields=["job"])
    return batch
