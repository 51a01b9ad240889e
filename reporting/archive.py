"""A whole review as one zip, and back: searches and files, records, clusters, screening,
reports, audit log, and every later capability's data, listed in ``ARCHIVED``.

Layout of an archive::

    manifest.json                 format, version, review, row counts, file digests
    data/<app>.<model>.jsonl      one JSON object per row, ordered by primary key
    files/<app>.<model>/<n>       the stored file of row n (uploads, full-text PDFs)

Rows carry archive-local ids (1, 2, 3... within each model, in primary-key order), never the
database's own, and foreign keys point at those local ids; users are named by username. So an
archive imported into another database and exported again gives the same data files, and a
review can move between sites without clashing ids.

Anyone signed in may import an archive, so the importer treats it as hostile (see "import"
below): it refuses zip bombs before unpacking them, reads entries in pieces, checks every value
as the database would, and on any refusal leaves neither rows nor stored files behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, DataError, IntegrityError, models
from django.utils import timezone

from core.audit import audit_record
from core.stored_files import atomic_with_files, track
from reviews.constants import Role
from reviews.models import Membership, Review, slug_validator
from reviews.services import RESERVED_SLUGS

FORMAT = "evident-review-archive"
VERSION = 1
SLUG_LENGTH = Review._meta.get_field("slug").max_length


class _Encoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds: an archive loses nothing."""

    def default(self, o):
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


@dataclass(frozen=True)
class ArchivedModel:
    label: str  # "app.model"
    rows: Callable[[Review], models.QuerySet]


def _by_review(label: str) -> ArchivedModel:
    return ArchivedModel(label, lambda review: apps.get_model(label).objects.filter(review=review))


def _via(label: str, path: str) -> ArchivedModel:
    return ArchivedModel(
        label, lambda review: apps.get_model(label).objects.filter(**{path: review})
    )


# In dependency order. Every model with data of a review must be listed (or deliberately left
# out in NOT_ARCHIVED); tests/reporting/test_archive.py checks that nothing is forgotten. The
# archive sits above every app (reporting), so a new capability adds its models here; a lower app
# could not call a registration function of this module.
ARCHIVED: list[ArchivedModel] = [
    ArchivedModel("reviews.review", lambda review: Review.objects.filter(pk=review.pk)),
    _by_review("reviews.membership"),
    _by_review("reviews.search"),
    _by_review("reviews.job"),
    _by_review("reviews.importbatch"),
    _by_review("reviews.record"),
    _by_review("reviews.duplicatecluster"),
    _by_review("reviews.duplicatepair"),
    _by_review("reviews.prismaentry"),
    _by_review("reviews.auditevent"),
    _by_review("screening.screeningsettings"),
    _by_review("screening.exclusionreason"),
    _by_review("screening.screeningitem"),
    _by_review("screening.assignment"),
    _by_review("screening.vote"),
    _by_review("screening.voteevent"),
    _via("screening.resolution", "item__review"),
    _by_review("screening.fulltextreport"),
]
NOT_ARCHIVED: set[str] = set()

USER_FIELDS = ("username", "email", "first_name", "last_name")


# --- export ---------------------------------------------------------------------------------


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _user_model_label() -> str:
    return get_user_model()._meta.label_lower


def review_export(*, review: Review, stream: IO[bytes]) -> dict[str, Any]:
    """Write ``review`` as an archive to ``stream``; return the manifest."""
    local: dict[str, dict[int, int]] = {}
    rows_by_model: dict[str, list[models.Model]] = {}
    for spec in ARCHIVED:
        rows = list(spec.rows(review).order_by("pk"))
        rows_by_model[spec.label] = rows
        local[spec.label] = {row.pk: n for n, row in enumerate(rows, start=1)}
    user_label = _user_model_label()
    users: dict[int, str] = {}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "review": {"slug": review.slug, "title": review.title},
        "models": {},
        "files": {},
    }
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for spec in ARCHIVED:
            model = apps.get_model(spec.label)
            lines = []
            for row in rows_by_model[spec.label]:
                lines.append(
                    json.dumps(
                        _row_out(row, model, local, users, user_label, zf, manifest),
                        cls=_Encoder,
                        ensure_ascii=False,
                        sort_keys=True,
                    )
                )
            zf.writestr(f"data/{spec.label}.jsonl", "".join(line + "\n" for line in lines))
            manifest["models"][spec.label] = len(lines)
        user_rows = []
        User = get_user_model()
        for user in User.objects.filter(pk__in=users).order_by("username"):
            user_rows.append(
                json.dumps(
                    {f: getattr(user, f) for f in USER_FIELDS}, ensure_ascii=False, sort_keys=True
                )
            )
        zf.writestr("data/users.jsonl", "".join(line + "\n" for line in user_rows))
        manifest["models"]["users"] = len(user_rows)
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def _row_out(row, model, local, users, user_label, zf, manifest) -> dict[str, Any]:
    spec_label = model._meta.label_lower
    out: dict[str, Any] = {"id": local[spec_label][row.pk]}
    for field in _fields(model):
        value = getattr(row, field.attname)
        if field.is_relation and field.related_model is not None:
            target = field.related_model._meta.label_lower
            if value is None:
                out[field.name] = None
            elif target == user_label:
                if value not in users:
                    users[value] = (
                        field.related_model.objects.filter(pk=value)
                        .values_list("username", flat=True)
                        .first()
                    )
                out[field.name] = {"user": users[value]}
            elif target in local:
                out[field.name] = local[target].get(value)
            else:
                raise ValidationError(
                    f"{spec_label}.{field.name} points at {target}, which archives do not carry."
                )
        elif isinstance(field, models.FileField):
            out[field.name] = None
            if value:
                name = f"files/{spec_label}/{out['id']}"
                try:
                    with getattr(row, field.name).open("rb") as fh:
                        data = fh.read()
                except FileNotFoundError:
                    # The row survives without its file; the manifest says what was missing.
                    manifest.setdefault("missing_files", []).append(f"{spec_label} {out['id']}")
                else:
                    zf.writestr(name, data)
                    manifest["files"][name] = hashlib.sha256(data).hexdigest()
                    out[field.name] = name
        else:
            out[field.name] = value
    if spec_label == "reviews.auditevent":
        # The object an event names, as an archive reference where the archive holds it.
        target = row.object_type
        if target in local and row.object_id.isdigit() and int(row.object_id) in local[target]:
            out["object_id"] = {"local": local[target][int(row.object_id)]}
    return out


# --- import ---------------------------------------------------------------------------------
#
# An archive comes from anyone who can log in, so the importer reads it as hostile: every
# limit below is checked against the zip's own directory before a byte is unpacked, and again
# against the bytes actually read, because a header may lie. Entries are read in pieces, never
# whole (rows line by line, stored files copied in chunks), so memory stays flat whatever an
# archive unpacks to; the limits bound the disk and the time one upload can claim. Tests lower
# them to keep hostile archives small.

MAX_ARCHIVE_BYTES = 4 * 2**30  # everything the archive unpacks to
MAX_ENTRY_BYTES = 2 * 2**30  # one entry (the rows of 200,000 records are well under 1 GB)
MAX_ENTRIES = 100_000
# zipfile reads the whole central directory into memory before anything can be checked, so its
# size is read from the zip's last bytes first: 100,000 entries with plain names fit in 32 MB.
MAX_DIRECTORY_BYTES = 32 * 2**20
MAX_MANIFEST_BYTES = 64 * 2**20
MAX_LINE_BYTES = 16 * 2**20  # one row of data/*.jsonl
# Each row's new id is kept until the import ends (8 bytes a row), for the rows pointing at it.
MAX_ROWS = 50_000_000
BATCH_ROWS = 500  # rows inserted at once; fewer when they are large
BATCH_BYTES = 4 * 2**20
READ_CHUNK = 256 * 2**10
# zipfile unpacks bzip2 and lzma without a bound on one read's output (a few compressed bytes
# may become gigabytes at once); Evident writes deflate, so stored and deflated are all it reads.
READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
FILE_NAME = re.compile(r"files/[a-z0-9_]+\.[a-z0-9_]+/[0-9]+")
SHA256 = re.compile(r"[0-9a-f]{64}")
# What a damaged entry raises inside zipfile and zlib; each becomes an ArchiveError naming it.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    struct.error,
)


class ArchiveError(ValidationError):
    """Why an archive is refused, in words for people. Messages quote the archive, so they are
    made printable here: a lone surrogate in one would break the page that shows it."""

    def __init__(self, message: Any, *args: Any, **kwargs: Any):
        super().__init__(_printable(message), *args, **kwargs)


def _printable(message: Any) -> Any:
    if isinstance(message, str):
        text = message.encode("utf-8", "backslashreplace").decode("utf-8")
        text = text.replace("\x00", "\\x00")
        return text if len(text) <= 1000 else text[:999] + "…"
    if isinstance(message, list):
        return [_printable(m) for m in message]
    if isinstance(message, dict):
        return {key: _printable(value) for key, value in message.items()}
    return message


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GB"
    if n >= 2**20:
        return f"{n / 2**20:.0f} MB"
    if n >= 2**10:
        return f"{n / 2**10:.0f} KB"
    return f"{n} bytes"


def _shown(value: Any, limit: int = 80) -> str:
    """A value from the archive as a message may quote it: repr escapes control characters
    and lone surrogates, which would otherwise break the page that shows the message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _entry_name(name: str) -> str:
    return name if len(name) <= 200 else name[:199] + "…"


@contextlib.contextmanager
def _reading(name: str) -> Iterator[None]:
    try:
        yield
    except ZIP_ERRORS as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ArchiveError(
            f"{_entry_name(name)} is damaged, so the archive cannot be read ({detail})."
        ) from None


class _Entry:
    """One entry of the archive, read in pieces.

    It never yields more than the entry's header declares: zipfile stops there too, but the
    importer does not rely on it. Every failure of a damaged entry is an ArchiveError naming it.
    """

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, digest: bool = False):
        self.name = _entry_name(info.filename)
        self.declared = info.file_size
        self.done = 0
        self.sha256 = hashlib.sha256() if digest else None
        with _reading(self.name):
            self._fh = zf.open(info)

    def __enter__(self) -> _Entry:
        return self

    def __exit__(self, *exc_info) -> None:
        with contextlib.suppress(*ZIP_ERRORS):
            self._fh.close()

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (``size`` is required: an entry is never read whole)."""
        with _reading(self.name):
            data = self._fh.read(max(1, size))
        self.done += len(data)
        if self.done > self.declared:
            raise ArchiveError(
                f"{self.name} unpacks to more than its header says ({_size(self.declared)}); "
                "the archive is damaged or forged, so it is refused."
            )
        if self.sha256 is not None:
            self.sha256.update(data)
        return data

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """The entry's lines, numbered from 1, each at most MAX_LINE_BYTES. Split on "\\n"
        only: JSON strings may hold U+2028 and other characters splitlines() would cut at."""
        pending = bytearray()
        number = 0
        while chunk := self.read(READ_CHUNK):
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                number += 1
                if pending:
                    pending += chunk[start : end + 1]
                    line, pending = bytes(pending), bytearray()
                else:
                    line = chunk[start : end + 1]
                self._check_line(number, len(line))
                yield number, line
                start = end + 1
            pending += chunk[start:]
            self._check_line(number + 1, len(pending))
        if pending:
            yield number + 1, bytes(pending)

    def _check_line(self, number: int, size: int) -> None:
        if size > MAX_LINE_BYTES:
            raise ArchiveError(
                f"{self.name}, line {number}: longer than {_size(MAX_LINE_BYTES)}; "
                "the archive is refused."
            )


def _open_zip(stream: IO[bytes]) -> zipfile.ZipFile:
    # The end of the zip says how many entries it has and how large its directory is; read it
    # before zipfile reads (and keeps in memory) the directory itself.
    end_record = getattr(zipfile, "_EndRecData", None)
    end = None
    if end_record is not None:
        with contextlib.suppress(*ZIP_ERRORS):
            end = end_record(stream)
    if end:
        entries, directory = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
        if entries > MAX_ENTRIES:
            raise ArchiveError(
                f"The archive holds {entries:,} entries; more than {MAX_ENTRIES:,} entries "
                "are refused."
            )
        if directory > MAX_DIRECTORY_BYTES:
            raise ArchiveError(
                f"The archive's list of entries takes more than {_size(MAX_DIRECTORY_BYTES)}; "
                "it is refused."
            )
    try:
        return zipfile.ZipFile(stream)
    except ZIP_ERRORS:
        raise ArchiveError("This is not a zip file, so not an Evident review archive.") from None


def _entries(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by name, once each is known to be readable within the limits."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ArchiveError(
            f"The archive holds {len(infos):,} entries; more than {MAX_ENTRIES:,} entries "
            "are refused."
        )
    total = 0
    for info in infos:
        name = _entry_name(info.filename)
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{name} is encrypted; Evident's archives never are.")
        if info.compress_type not in READABLE_METHODS:
            raise ArchiveError(
                f"{name} uses a compression method Evident does not read (it reads stored and "
                "deflated entries, as it writes them)."
            )
        if info.file_size > MAX_ENTRY_BYTES:
            raise ArchiveError(
                f"{name} unpacks to {_size(info.file_size)}, more than the "
                f"{_size(MAX_ENTRY_BYTES)} allowed for one entry; the archive is refused."
            )
        total += info.file_size
        if total > MAX_ARCHIVE_BYTES:
            raise ArchiveError(
                f"The archive unpacks to more than {_size(MAX_ARCHIVE_BYTES)}; it is refused."
            )
    # Where a name occurs twice, the last entry is the one zipfile reads, as here.
    return {info.filename: info for info in infos}


def _manifest(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    info = infos.get("manifest.json")
    if info is None:
        raise ArchiveError("The archive has no readable manifest.json.")
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ArchiveError(
            f"manifest.json is larger than {_size(MAX_MANIFEST_BYTES)}; the archive is refused."
        )
    parts = []
    with _Entry(zf, info) as entry:
        while part := entry.read(READ_CHUNK):
            parts.append(part)
    try:
        manifest = json.loads(b"".join(parts).decode("utf-8"))
    except (ValueError, RecursionError):
        raise ArchiveError("The archive has no readable manifest.json.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("This zip is not an Evident review archive.")
    if manifest.get("version") != VERSION:
        raise ArchiveError(f"Archive version {_shown(manifest.get('version'))} is not supported.")
    models_, files, review = (manifest.get(k, {}) for k in ("models", "files", "review"))
    if not (
        isinstance(models_, dict)
        and isinstance(review, dict)
        and isinstance(files, dict)
        and all(isinstance(d, str) and SHA256.fullmatch(d) for d in files.values())
    ):
        raise ArchiveError("manifest.json is not in the expected form; the archive is damaged.")
    if not all(type(count) is int and 0 <= count <= MAX_ROWS for count in models_.values()):
        raise ArchiveError("manifest.json is not in the expected form; the archive is damaged.")
    known = {m.label for m in ARCHIVED}
    unknown = set(models_) - known - {"users"}
    if unknown:
        shown = ", ".join(_shown(label, 60) for label in sorted(unknown)[:10])
        raise ArchiveError(f"The archive holds data this site cannot store: {shown}.")
    for name in files:
        if name not in infos:
            raise ArchiveError(f"The archive lacks {_entry_name(name)}.")
    return manifest


def _slug_given(slug: str | None) -> str | None:
    """The address typed for the import, normalised and checked as reviews.services checks a
    new review's; None when none was given."""
    slug = (slug or "").strip().lower()
    if not slug:
        return None
    if len(slug) > SLUG_LENGTH:
        raise ArchiveError({"slug": f"At most {SLUG_LENGTH} characters."})
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise ArchiveError({"slug": exc.messages}) from None
    if slug in RESERVED_SLUGS:
        raise ArchiveError({"slug": f"'{slug}' is reserved; choose another address."})
    if Review.objects.filter(slug=slug).exists():
        raise ArchiveError(
            {"slug": f"A review with the address '{slug}' exists; import under another address."}
        )
    return slug


def _slug_problem(slug: Any) -> str | None:
    """Why the archive's own address cannot be a review's address here, or None."""
    if not isinstance(slug, str) or not slug:
        return "it is empty"
    if len(slug) > SLUG_LENGTH:
        return f"it is longer than {SLUG_LENGTH} characters"
    try:
        slug_validator(slug)
    except ValidationError:
        return "an address holds only lower-case letters, digits and single hyphens"
    if slug in RESERVED_SLUGS:
        return "it is the address of one of the site's own pages"
    return None


def _plain(value: Any, limit: int) -> str | None:
    """``value`` if it is text any database stores as it is, else None."""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def review_import(*, stream: IO[bytes], slug: str | None = None, actor=None) -> Review:
    """Create a new review from an archive, all or nothing.

    A refusal is always an ArchiveError with a message for people, and leaves nothing behind:
    the rows roll back with the transaction and the files stored so far are deleted
    (``core.stored_files``; a caller with its own outer transaction wraps it in
    ``atomic_with_files`` too, or files stay if that one rolls back later).
    """
    slug = _slug_given(slug)
    zf = _open_zip(stream)
    with zf:
        infos = _entries(zf)
        manifest = _manifest(zf, infos)
        loader = _Loader(zf, infos, manifest)
        try:
            # Files stored by the loader are deleted if the rows do not commit.
            with atomic_with_files():
                review = loader.load(slug=slug)
                _ensure_importer_leads(review, actor)
                audit_record(
                    actor=actor,
                    review=review,
                    verb="imported archive",
                    obj=review,
                    changes={
                        "from_slug": loader.original_slug,
                        "exported_at": _plain(manifest.get("exported_at"), 40),
                    },
                )
        except (IntegrityError, DataError) as exc:
            raise loader.refusal(exc) from None
    return review


def _ensure_importer_leads(review: Review, actor) -> None:
    """Whoever imports a review must be able to open it: they become a lead if they are not."""
    if not getattr(actor, "is_authenticated", False):
        return
    if Membership.objects.filter(review=review, user=actor).exists():
        return
    membership = Membership.objects.create(
        review=review, user=actor, role=Role.LEAD, added_by=actor
    )
    audit_record(
        actor=actor,
        review=review,
        verb="added member",
        obj=membership,
        changes={"user": actor.get_username(), "role": Role.LEAD.value},
    )


def _lookup(ids: array | None, local: int) -> int | None:
    """The new primary key of the row numbered ``local`` (rows are numbered 1, 2, 3...)."""
    if ids is None or not 1 <= local <= len(ids):
        return None
    return ids[local - 1]


def _value(field: models.Field, value: Any, where: str) -> Any:
    """An archive's value for a plain (not related, not file) field, checked as the database
    would check it, so that a bad value is a message here rather than an error there."""
    try:
        python = field.to_python(value)
    except ValidationError as exc:
        raise ArchiveError(f"{where}: {'; '.join(exc.messages)}") from None
    except (TypeError, ValueError, OverflowError):
        raise ArchiveError(f"{where}: {_shown(value)} is not a valid value.") from None
    if isinstance(value, dict | list) and isinstance(python, str):
        raise ArchiveError(f"{where}: {_shown(value)} is not a valid value.")
    if python is None:
        if not field.null:
            raise ArchiveError(f"{where}: a value is required.")
        return None
    if isinstance(python, str):
        if "\x00" in python:
            raise ArchiveError(f"{where}: contains a NUL character, which no database stores.")
        try:
            python.encode("utf-8")
        except UnicodeEncodeError:
            raise ArchiveError(f"{where}: is not valid Unicode text.") from None
    if isinstance(python, dt.datetime) and timezone.is_aware(python):
        try:
            python.astimezone(dt.UTC)
        except OverflowError:
            raise ArchiveError(f"{where}: {_shown(value)} is not a valid value.") from None
    if field.choices and python not in field.empty_values:
        allowed = [str(choice) for choice, _label in field.flatchoices]
        if str(python) not in allowed:
            raise ArchiveError(f"{where}: {_shown(python)} is not one of {', '.join(allowed)}.")
    if field.name == "sha256" and not (
        SHA256.fullmatch(str(python)) or (python == "" and field.blank)
    ):
        # It names the stored file (imports/.../<sha256>): a path here would leave the folder.
        raise ArchiveError(f"{where}: not a SHA-256 digest.")
    try:
        field.run_validators(python)
    except ValidationError as exc:
        raise ArchiveError(f"{where}: {'; '.join(exc.messages)}") from None
    return python


class _Loader:
    """Rows of an archive into the database, model by model, a batch at a time.

    Rows are numbered 1, 2, 3... in each model's file, so a row's new primary key is kept in
    an array at its number (8 bytes a row, the only thing kept per row); foreign keys name
    those numbers. Files are copied to storage as their rows are inserted, and their names are
    kept so that a failed import can delete them.
    """

    def __init__(
        self, zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], manifest: dict[str, Any]
    ):
        self.zf = zf
        self.infos = infos
        self.digests: dict[str, str] = manifest.get("files", {})
        # How many rows each data file holds, as the manifest says (0 for a model the archive
        # predates): a data file dropped or cut short at a line would otherwise import a
        # review with rows missing.
        self.declared: dict[str, int] = manifest.get("models", {})
        self.user_label = _user_model_label()
        self.users: dict[str, int] = {}
        self.new_ids: dict[str, array] = {}
        # (model, field, target) -> (row numbers, the numbers they point at)
        self.deferred: dict[tuple[str, str, str], tuple[array, array]] = {}
        # object type -> (audit event pks, the numbers of the rows they name)
        self.event_refs: dict[str, tuple[array, array]] = {}
        self.used_files: set[str] = set()
        self.rows_read = 0
        self.slug: str | None = None
        self.original_slug: str | None = None

    # --- reading

    def rows(self, label: str, *, numbered: bool = True) -> Iterator[tuple[dict[str, Any], int]]:
        """The rows of ``data/<label>.jsonl`` with the size of each line, one line in memory
        at a time; exactly as many as the manifest declares."""
        name = f"data/{label}.jsonl"
        declared = self.declared.get(label, 0)
        info = self.infos.get(name)
        if info is None:
            if declared:
                raise ArchiveError(f"The archive lacks {name}.")
            return
        count = 0
        with _Entry(self.zf, info) as entry:
            for number, line in entry.lines():
                if not line.strip():
                    continue
                where = f"{name}, line {number}"
                try:
                    row = json.loads(line.decode("utf-8"))
                except UnicodeDecodeError:
                    raise ArchiveError(f"{where}: not UTF-8 text.") from None
                except json.JSONDecodeError as exc:
                    raise ArchiveError(f"{where}: not JSON ({exc.msg}).") from None
                except (ValueError, RecursionError):
                    raise ArchiveError(f"{where}: not JSON this site can read.") from None
                if not isinstance(row, dict):
                    raise ArchiveError(f"{where}: a row must be a JSON object.")
                count += 1
                if numbered and (type(row.get("id")) is not int or row["id"] != count):
                    raise ArchiveError(
                        f"{where}: rows must be numbered 1, 2, 3… in order; this one's id is "
                        f"{_shown(row.get('id'))}, not {count}."
                    )
                self.rows_read += 1
                if self.rows_read > MAX_ROWS:
                    raise ArchiveError(
                        f"The archive holds more than {MAX_ROWS:,} rows; it is refused."
                    )
                yield row, len(line)
        if count != declared:
            raise ArchiveError(
                f"{name} holds {count:,} rows where the manifest says {declared:,}; the archive "
                "is damaged, so nothing was imported."
            )

    # --- loading

    def load(self, *, slug: str | None) -> Review:
        self.load_users()
        for spec in ARCHIVED:
            self.load_model(spec.label, slug=slug)
        self.resolve_deferred()
        review_ids = self.new_ids.get("reviews.review")
        if review_ids is None or len(review_ids) != 1:
            raise ArchiveError("The archive must hold exactly one review.")
        return Review.objects.get(pk=review_ids[0])

    def load_users(self) -> None:
        User = get_user_model()
        for row, _line_size in self.rows("users", numbered=False):
            username = str(row.get("username") or "")[:150]
            if not username:
                raise ArchiveError("data/users.jsonl: a user without a username.")
            details = {
                "email": str(row.get("email") or "")[:254],
                "first_name": str(row.get("first_name") or "")[:150],
                "last_name": str(row.get("last_name") or "")[:150],
            }
            for text in (username, *details.values()):
                if _plain(text, 254) is None:
                    raise ArchiveError(
                        f"data/users.jsonl: {_shown(username)} holds characters no database stores."
                    )
            user = User.objects.filter(username=username).first()
            if user is None:
                # People keep their names on what they did; they set a password to log in.
                user = User(username=username, **details)
                user.set_unusable_password()
                user.save()
            self.users[username] = user.pk

    def load_model(self, label: str, *, slug: str | None) -> None:
        model = apps.get_model(label)
        fields = _fields(model)
        self.new_ids[label] = array("q")
        objs: list[models.Model] = []
        rows: list[dict[str, Any]] = []
        size = 0
        for row, line_size in self.rows(label):
            obj = self.build(model, label, fields, row)
            if label == "reviews.review":
                self.place_review(obj, row, slug)
            objs.append(obj)
            rows.append(row)
            size += line_size
            if len(objs) >= BATCH_ROWS or size >= BATCH_BYTES:
                self.flush(model, label, fields, objs, rows)
                objs, rows, size = [], [], 0
        self.flush(model, label, fields, objs, rows)

    def build(
        self, model: type[models.Model], label: str, fields: list[models.Field], row: dict
    ) -> models.Model:
        obj = model()
        row_id = row["id"]
        for field in fields:
            if field.name not in row:
                continue
            value = row[field.name]
            where = f"{label} row {row_id}, {field.name}"
            if (label, field.name) == ("reviews.auditevent", "object_id") and isinstance(
                value, dict
            ):
                value = ""  # the archive's own reference to a row: mapped at the end
            if field.is_relation and field.related_model is not None:
                self.relate(obj, label, row_id, field, value, where)
            elif isinstance(field, models.FileField):
                setattr(obj, field.attname, "")  # copied once the row exists
            elif label == "reviews.review" and field.name == "slug":
                setattr(obj, field.attname, value)  # checked by place_review
            else:
                setattr(obj, field.attname, _value(field, value, where))
        return obj

    def relate(self, obj, label: str, row_id: int, field, value: Any, where: str) -> None:
        target = field.related_model._meta.label_lower
        if value is None:
            setattr(obj, field.attname, None)
        elif target == self.user_label:
            name = value.get("user") if isinstance(value, dict) else None
            if not isinstance(name, str) or name not in self.users:
                raise ArchiveError(f"{label} row {row_id}: unknown user.")
            setattr(obj, field.attname, self.users[name])
        elif type(value) is not int:
            raise ArchiveError(f"{where}: must be a row number, not {_shown(value)}.")
        elif target == label or target not in self.new_ids:
            # Self references and rows of models loaded later (a record's cluster) are
            # filled in once every row exists.
            if not 0 < value < 2**63:
                raise ArchiveError(
                    f"{label} row {row_id}: {field.name} points at a missing {target} row."
                )
            setattr(obj, field.attname, None)
            numbers, values = self.deferred.setdefault(
                (label, field.attname, target), (array("q"), array("q"))
            )
            numbers.append(row_id)
            values.append(value)
        else:
            pk = _lookup(self.new_ids[target], value)
            if pk is None:
                raise ArchiveError(
                    f"{label} row {row_id}: {field.name} points at a missing {target} row."
                )
            setattr(obj, field.attname, pk)

    def place_review(self, obj: Review, row: dict, slug: str | None) -> None:
        """The review's address: the one given, else the archive's own, checked as a new
        review's is, before anything of the review is stored."""
        if row["id"] != 1:
            raise ArchiveError("The archive must hold exactly one review.")
        original = obj.slug
        self.original_slug = original if _slug_problem(original) is None else _shown(original)
        if slug:
            obj.slug = slug
            taken = f"A review with the address '{slug}' exists; import under another address."
        else:
            problem = _slug_problem(original)
            if problem:
                raise ArchiveError(
                    {
                        "slug": f"The archive's own address {_shown(original)} is not a valid "
                        f"address ({problem}). Give the new review an address."
                    }
                )
            taken = (
                f"A review with the address '{original}' exists; give the new review another "
                "address."
            )
        if Review.objects.filter(slug=obj.slug).exists():
            raise ArchiveError({"slug": taken})
        self.slug = obj.slug

    def flush(self, model, label: str, fields, objs: list, rows: list[dict]) -> None:
        if not objs:
            return
        _insert_raw(model, objs)
        ids = self.new_ids[label]
        for obj, row in zip(objs, rows, strict=True):
            ids.append(obj.pk)
            for field in fields:
                if isinstance(field, models.FileField) and row.get(field.name):
                    self.store_file(model, label, obj, row["id"], field, row[field.name])
            ref = row.get("object_id") if label == "reviews.auditevent" else None
            if isinstance(ref, dict) and type(ref.get("local")) is int:
                local = ref["local"]
                if 0 < local < 2**63:
                    events, targets = self.event_refs.setdefault(
                        obj.object_type, (array("q"), array("q"))
                    )
                    events.append(obj.pk)
                    targets.append(local)

    def store_file(self, model, label: str, obj, row_id: int, field, name: Any) -> None:
        """Copy the row's file from the archive to storage in chunks, checking its checksum."""
        where = f"{label} row {row_id}"
        if not isinstance(name, str) or not FILE_NAME.fullmatch(name):
            raise ArchiveError(f"{where}: {_shown(name)} is not a file of this archive.")
        info = self.infos.get(name)
        if info is None:
            raise ArchiveError(f"{where}: its file {name} is missing from the archive.")
        digest = self.digests.get(name)
        if digest is None:
            raise ArchiveError(f"{where}: its file {name} has no checksum in the manifest.")
        if name in self.used_files:
            raise ArchiveError(f"{name} is used by two rows; each row has its own file.")
        self.used_files.add(name)
        storage = field.storage
        outside = f"{where}: its file would be stored outside the site's files; refused."
        try:
            target = field.generate_filename(obj, name.rsplit("/", 1)[-1])
            target = storage.get_available_name(target, max_length=field.max_length)
        except SuspiciousFileOperation:
            raise ArchiveError(outside) from None
        # Tracked before writing: a copy that fails halfway leaves a partial file under this name.
        track(storage, target)
        with _Entry(self.zf, info, digest=True) as entry:
            content = File(entry, name=target.rsplit("/", 1)[-1])
            content.size = info.file_size
            try:
                saved = storage.save(target, content, max_length=field.max_length)
            except SuspiciousFileOperation:
                raise ArchiveError(outside) from None
        if saved != target:
            track(storage, saved)
        if entry.done != info.file_size or entry.sha256.hexdigest() != digest:
            raise ArchiveError(f"{name} is damaged (its checksum does not match).")
        setattr(obj, field.attname, saved)
        model._base_manager.filter(pk=obj.pk).update(**{field.attname: saved})

    def resolve_deferred(self) -> None:
        for (label, attname, target), (numbers, values) in self.deferred.items():
            model = apps.get_model(label)
            ids, target_ids = self.new_ids[label], self.new_ids.get(target)
            for number, value in zip(numbers, values, strict=True):
                pk = _lookup(target_ids, value)
                if pk is None:
                    raise ArchiveError(
                        f"{label} row {number}: {attname} points at a missing {target} row."
                    )
                model._base_manager.filter(pk=ids[number - 1]).update(**{attname: pk})
        # The objects audit events name, once every row has its new id.
        AuditEvent = apps.get_model("reviews.auditevent")
        for target, (events, refs) in self.event_refs.items():
            target_ids = self.new_ids.get(target)
            for event_pk, ref in zip(events, refs, strict=True):
                mapped = _lookup(target_ids, ref)
                AuditEvent.objects.filter(pk=event_pk).update(
                    object_id="" if mapped is None else str(mapped)
                )

    # --- failing

    def refusal(self, exc: DatabaseError) -> ArchiveError:
        """A database rule the checks above did not foresee, as a message for people."""
        if self.slug and Review.objects.filter(slug=self.slug).exists():
            # Another import or a new review took the address meanwhile.
            return ArchiveError(
                {"slug": f"A review with the address '{self.slug}' exists; choose another."}
            )
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return ArchiveError(
            f"The archive's rows break a rule of the database ({detail}); nothing was imported."
        )


def _insert_raw(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert rows exactly as given: ``raw`` keeps auto_now values (created_at and so on) from
    being overwritten with the time of the import, as Django's loaddata does row by row."""
    if not objs:
        return
    fields = _fields(model)
    manager = model._base_manager
    for start in range(0, len(objs), 500):
        chunk = objs[start : start + 500]
        # QuerySet._insert is Django's internal bulk insert; it is the only bulk path that
        # honours raw=True. Primary keys come back through RETURNING (PostgreSQL, SQLite).
        returned = manager._insert(
            chunk, fields=fields, returning_fields=[model._meta.pk], raw=True
        )
        for obj, values in zip(chunk, returned, strict=True):
            obj.pk = values[0]
            obj._state.adding = False


def archive_bytes(*, review: Review) -> bytes:
    buffer = io.BytesIO()
    review_export(review=review, stream=buffer)
    return buffer.getvalue()
