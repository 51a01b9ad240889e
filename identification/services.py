"""Services for searches and their files: record, correct and delete a search, upload its files,
map a table's columns.

Each upload starts an ``import_records`` job (``identification/import_job.py``) that turns the
file into records inside one transaction. The parsing itself is pure (``identification/importers``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction

from core.audit import audit_record
from core.constants import JobStatus
from core.stored_files import atomic_with_files, save_file
from core.text import clean_input_text
from identification import hooks, importers, rounds
from identification.constants import BatchStatus, SourceKind
from identification.models import ImportBatch, Record, Search
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review
from reviews.services import job_submit

IMPORT_ROLES = (Role.LEAD,)
log = logging.getLogger(__name__)


#: The fields of a search that people record and may correct later.
SEARCH_FIELDS = ("database", "kind", "platform", "date_searched", "query", "reported_hits", "notes")


def _clean_search(
    *,
    database: str,
    kind: str = SourceKind.DATABASE,
    platform: str = "",
    date_searched: dt.date | str | None = None,
    query: str = "",
    reported_hits: int | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """A search's fields checked and cleaned, or a ValidationError naming the field."""
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
    if reported_hits is not None and (
        not isinstance(reported_hits, int)
        or isinstance(reported_hits, bool)
        or not 0 <= reported_hits <= 2_147_483_647
    ):
        raise ValidationError({"reported_hits": "Give a whole number of records, 0 or more."})
    return {
        "database": database,
        "kind": kind,
        "platform": platform,
        "date_searched": date_searched,
        "query": query,
        "reported_hits": reported_hits,
        "notes": notes,
    }


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
    round_number: int | str | None = None,
) -> Search:
    """Record a search; it belongs to round ``round_number`` (by default the current round)."""
    require_role(user=actor, review=review, roles=IMPORT_ROLES, action="record a search")
    search_round = rounds.search_round(review, round_number)
    values = _clean_search(
        database=database,
        kind=kind,
        platform=platform,
        date_searched=date_searched,
        query=query,
        reported_hits=reported_hits,
        notes=notes,
    )
    with transaction.atomic():
        search = Search.objects.create(
            review=review, created_by=actor, round=search_round, **values
        )
        date_searched = values["date_searched"]
        audit_record(
            actor=actor,
            review=review,
            verb="recorded search",
            obj=search,
            changes={
                "database": values["database"],
                "kind": values["kind"],
                "platform": values["platform"],
                "date_searched": date_searched.isoformat() if date_searched else None,
                "reported_hits": values["reported_hits"],
                "round": search.round_number,
            },
        )
    return search


def _audited(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000] + "…"
    return value


def search_update(*, actor, search: Search, **changes: Any) -> Search:
    """Correct what was recorded of a search; fields not given keep their value.

    Its files and records stay as they are. The audit event names each field that changed,
    with its old and new value.
    """
    review = search.review
    require_role(user=actor, review=review, roles=IMPORT_ROLES, action="edit a search")
    unknown = sorted(set(changes) - set(SEARCH_FIELDS))
    if unknown:
        raise ValidationError(f"A search has no field {', '.join(unknown)[:80]}.")
    with transaction.atomic():
        search = Search.objects.select_for_update().get(pk=search.pk, review=review)
        current = {name: getattr(search, name) for name in SEARCH_FIELDS}
        values = _clean_search(**(current | changes))
        changed = {
            name: {"from": _audited(current[name]), "to": _audited(value)}
            for name, value in values.items()
            if value != current[name]
        }
        if not changed:
            return search
        for name, value in values.items():
            setattr(search, name, value)
        search.save(update_fields=list(changed))
        audit_record(actor=actor, review=review, verb="edited search", obj=search, changes=changed)
    return search


def search_delete_refusal(search: Search) -> str:
    """Why ``search`` may not be deleted now, as a sentence for people; "" when it may.

    A search may be deleted with its files and records until a later step has started work on
    any of its records (``hooks.records_in_use``: screening votes, a full text), and not while
    one of its files is being imported.
    """
    importing = (
        ImportBatch.objects.filter(
            search=search, job__status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        )
        .order_by("pk")
        .first()
    )
    if importing is not None:
        return (
            f"Its file {importing.original_name} is still being imported; wait until the "
            "import has ended, then delete the search."
        )
    records = Record.objects.filter(search=search)
    used = hooks.records_in_use.collect(review=search.review, records=records)
    if used:
        n = len(used)
        return (
            f"{n:,} of its records {'has' if n == 1 else 'have'} been screened already (a vote "
            "cast or a full text attached). Deleting the search would take those decisions out "
            "of the review, so a search can be deleted only before any of its records is "
            "screened. Correct its details instead."
        )
    return ""


#: Records deleted per statement when a search goes.
_DELETE_CHUNK = 2000


def search_delete(*, actor, search: Search) -> dict[str, Any]:
    """Delete ``search`` with its files and records, if nothing has been screened yet.

    Later steps let go of the records first, in this transaction (``hooks.records_removed``):
    deduplication drops their pairs and mends their clusters, screening drops their items. The
    stored files go once the deletion has committed. Returns what was deleted (also the audit
    event's changes); a refusal is a ValidationError that says why.
    """
    review = search.review
    require_role(user=actor, review=review, roles=IMPORT_ROLES, action="delete a search")
    with transaction.atomic():
        search = Search.objects.select_for_update().get(pk=search.pk, review=review)
        reason = search_delete_refusal(search)
        if reason:
            raise ValidationError(f"“{search}” cannot be deleted: {reason}")
        batches = list(ImportBatch.objects.filter(search=search).order_by("pk"))
        records = Record.objects.filter(search=search)
        ids = list(records.order_by("pk").values_list("pk", flat=True))
        summary: dict[str, Any] = {
            "database": search.database,
            "platform": search.platform,
            "date_searched": _audited(search.date_searched),
            "files": [b.original_name for b in batches],
            "records": len(ids),
        }
        if ids:
            for answer in hooks.records_removed.send(
                review=review, records=records, actor=actor
            ).values():
                summary.update(answer or {})
            for start in range(0, len(ids), _DELETE_CHUNK):
                Record.objects.filter(pk__in=ids[start : start + _DELETE_CHUNK]).only("pk").delete()
        audit_record(actor=actor, review=review, verb="deleted search", obj=search, changes=summary)
        search.delete()
        stored = [(b.file.storage, b.file.name) for b in batches if b.file.name]
        transaction.on_commit(lambda: _delete_stored(stored))
    return summary


def _delete_stored(files: list[tuple[Any, str]]) -> None:
    """Delete the stored files of deleted import batches that no other batch names."""
    for storage, name in files:
        if ImportBatch.objects.filter(file=name).exists():
            continue
        try:
            storage.delete(name)
        except Exception:  # the deletion has committed; a file left behind is only space
            log.exception("could not delete %s of a deleted search", name)


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
        same = (
            f"{name} was already imported"
            if earlier.original_name == name
            else f"{name} is identical to {earlier.original_name}, already imported"
        )
        raise ValidationError(
            {
                "file": (
                    f"{same} into search “{earlier.search}” on {earlier.created_at:%Y-%m-%d}. "
                    "Tick “import anyway” to import it again."
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
