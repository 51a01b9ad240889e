"""A whole review as one zip, and back: searches and files, records, clusters, screening,
reports, audit log, and every later capability's data, listed in ``ARCHIVED``.

Layout of an archive::

    manifest.json                 format, version, review, row counts, file digests
    data/<app>.<model>.jsonl      one JSON object per row, ordered by primary key
    files/<app>.<model>/<n>       the stored file of row n (uploads, full-text PDFs)

Rows carry archive-local ids (1, 2, 3... within each model, in primary-key order), never the
database's own, and foreign keys point at those local ids; people are named by username
(``{"user": "jdoe"}``), each listed once in ``data/users.jsonl``. So an archive imported into
another database and exported again gives the same data files, and a review can move between
sites without clashing ids.

People are names, not accounts. An import never creates an account, never takes a person of
the archive for the account of the same username, and never makes anyone a member: the
imported review belongs to its importer alone (its only member, as lead). Every row that names a
person keeps that person as a name (the reference's ``<field>_name``; an audit event's
``actor_username``) with no account behind it, unless the importer maps that person to an
account of this site, explicitly (``mapping``; the import page asks after checking the
archive). The archive's team is kept as names on the review (``Review.archived_people``), and
an export writes the people kept as names back as people, so they survive another round trip.

Anyone signed in may import an archive, so the importer treats it as hostile (see "import"
below): it refuses zip bombs before unpacking them, reads entries in pieces, checks every value
as the database would, and on any refusal leaves neither rows nor stored files behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, SuspiciousFileOperation, ValidationError
from django.core.files.base import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, DataError, IntegrityError, models
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from core.audit import audit_record
from core.stored_files import atomic_with_files, track
from core.text import is_digits
from reviews.constants import Role
from reviews.models import Membership, Review, slug_validator
from reviews.services import RESERVED_SLUGS, user_find
from screening.models import Assignment, ScreeningItem, Vote

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
    _by_review("reviews.protocolversion"),
    _by_review("reviews.round"),
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
    _by_review("screening.rankingmodel"),
    _by_review("screening.stopdecision"),
    _by_review("extraction.study"),
    _by_review("extraction.studyreport"),
    _by_review("extraction.extractionform"),
    _by_review("extraction.formversion"),
    _by_review("extraction.extraction"),
    _by_review("extraction.extractionsnapshot"),
    _by_review("extraction.robsettings"),
    _by_review("extraction.robassessment"),
    _by_review("synthesis.analysis"),
    _by_review("synthesis.analysisresult"),
    _by_review("synthesis.narrativesynthesis"),
    _by_review("synthesis.narrativedirection"),
    _by_review("synthesis.softable"),
    _by_review("synthesis.sofrow"),
    _by_review("synthesis.sofjudgement"),
]
# Invitations are open links to join this site's copy of the review (their token is a secret
# of the site that sent them): they do not travel with the review.
# A synthesis figure is drawn again from its stored result when first asked for.
# Ranking features (and their stored parts) are term counts of the records, rebuilt from them
# by the next retrain.
NOT_ARCHIVED: set[str] = {
    "reviews.invitation",
    "synthesis.analysisfigure",
    "screening.rankingfeatures",
    "screening.rankingfeaturespart",
}

USER_FIELDS = ("username", "email", "first_name", "last_name")
#: People one archive may name (data/users.jsonl): the import page asks about each of them.
MAX_PEOPLE = 1000
#: The archived team: read into ``Review.archived_people`` on import, never made memberships.
TEAM = "reviews.membership"


@functools.cache
def _person_fields(model: type[models.Model]) -> list[tuple[models.Field, str | None]]:
    """The model's references to a user, each with the text field that keeps, as a name, the
    person it names when that person has no account here (``<field>_name``; an audit event's
    ``actor_username``), or None where the model keeps no name (the team's rows)."""
    user_model = get_user_model()
    found = []
    for field in _fields(model):
        if not (field.is_relation and field.related_model is user_model):
            continue
        if model._meta.label_lower == "reviews.auditevent" and field.name == "actor":
            found.append((field, "actor_username"))
            continue
        name = f"{field.name}_name"
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            name = None
        found.append((field, name))
    return found


@functools.cache
def _name_only_fields(model: type[models.Model]) -> set[str]:
    """The ``<field>_name`` fields: written to an archive only as the reference they go with
    (never as columns of their own), and set on import only from that reference."""
    return {name for _field, name in _person_fields(model) if name and name.endswith("_name")}


def _archived_people(value: Any) -> dict[str, dict[str, Any]]:
    """``Review.archived_people`` (as stored, or as a hostile archive's review row gives it)
    by username; entries that are not in the expected form are left out."""
    people: dict[str, dict[str, Any]] = {}
    if not isinstance(value, list):
        return people
    for entry in value[:MAX_PEOPLE]:
        if not isinstance(entry, dict):
            continue
        username = _plain(entry.get("username"), 150)
        if not username:
            continue
        roles = entry.get("roles")
        people[username] = {
            "first_name": _plain(entry.get("first_name"), 150) or "",
            "last_name": _plain(entry.get("last_name"), 150) or "",
            "roles": sorted(
                {r for r in roles if isinstance(r, str) and r in Role.values}
                if isinstance(roles, list)
                else set()
            ),
        }
    return people


# --- export ---------------------------------------------------------------------------------


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def review_export(*, review: Review, stream: IO[bytes]) -> dict[str, Any]:
    """Write ``review`` as an archive to ``stream``; return the manifest."""
    local: dict[str, dict[int, int]] = {}
    rows_by_model: dict[str, list[models.Model]] = {}
    for spec in ARCHIVED:
        rows = list(spec.rows(review).order_by("pk"))
        rows_by_model[spec.label] = rows
        local[spec.label] = {row.pk: n for n, row in enumerate(rows, start=1)}
    people = _ExportPeople(review, rows_by_model)
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
                        _row_out(row, model, local, people, zf, manifest),
                        cls=_Encoder,
                        ensure_ascii=False,
                        sort_keys=True,
                    )
                )
            zf.writestr(f"data/{spec.label}.jsonl", "".join(line + "\n" for line in lines))
            manifest["models"][spec.label] = len(lines)
        user_rows = [
            json.dumps(person, ensure_ascii=False, sort_keys=True) for person in people.rows()
        ]
        zf.writestr("data/users.jsonl", "".join(line + "\n" for line in user_rows))
        manifest["models"]["users"] = len(user_rows)
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


class _ExportPeople:
    """Everyone the review's rows name, as the archive names them: accounts by username, and
    people kept as names (from an earlier import) by their name. A name that is also the
    username of an account in the same archive is written as "name (name only)", so that the
    two stay two people when the archive is imported again."""

    def __init__(self, review: Review, rows_by_model: dict[str, list[models.Model]]):
        ids: set[int] = set()
        names: set[str] = set()
        for label, rows in rows_by_model.items():
            for field, name_field in _person_fields(apps.get_model(label)):
                for row in rows:
                    value = getattr(row, field.attname)
                    if value is not None:
                        ids.add(value)
                    elif name_field and getattr(row, name_field):
                        names.add(getattr(row, name_field))
        self.accounts = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids)}
        self.archived = _archived_people(review.archived_people)
        taken = {user.get_username() for user in self.accounts.values()}
        self.names: dict[str, str] = {}
        for name in sorted(names | set(self.archived)):
            written, n = name, 1
            while written in taken:
                written = f"{name} (name only)" if n == 1 else f"{name} (name only {n})"
                n += 1
            taken.add(written)
            self.names[name] = written

    def reference(self, value: int | None, name: str) -> dict[str, str] | None:
        if value is not None:
            return {"user": self.accounts[value].get_username()}
        return {"user": self.names[name]} if name else None

    def archived_out(self) -> list[dict[str, Any]]:
        """``Review.archived_people`` as the archive writes it (under the names it uses)."""
        return [
            {"username": self.names[username]} | details
            for username, details in sorted(self.archived.items())
        ]

    def rows(self) -> list[dict[str, str]]:
        """data/users.jsonl, by username. A person kept as a name has no e-mail address."""
        rows = [{f: getattr(user, f) for f in USER_FIELDS} for user in self.accounts.values()]
        for name, written in self.names.items():
            details = self.archived.get(name, {})
            rows.append(
                {
                    "username": written,
                    "email": "",
                    "first_name": details.get("first_name", ""),
                    "last_name": details.get("last_name", ""),
                }
            )
        return sorted(rows, key=lambda row: row["username"])


def _row_out(row, model, local, people: _ExportPeople, zf, manifest) -> dict[str, Any]:
    spec_label = model._meta.label_lower
    out: dict[str, Any] = {"id": local[spec_label][row.pk]}
    name_only = _name_only_fields(model)
    persons = {field.name: name_field for field, name_field in _person_fields(model)}
    for field in _fields(model):
        value = getattr(row, field.attname)
        if field.name in name_only:
            continue  # written as the reference it goes with
        if field.name in persons:
            name_field = persons[field.name]
            out[field.name] = people.reference(
                value, getattr(row, name_field) if name_field else ""
            )
        elif field.is_relation and field.related_model is not None:
            target = field.related_model._meta.label_lower
            if value is None:
                out[field.name] = None
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
        elif (spec_label, field.name) == ("reviews.review", "archived_people"):
            out[field.name] = people.archived_out()
        else:
            out[field.name] = value
    if spec_label == "reviews.auditevent":
        # The object an event names, as an archive reference where the archive holds it.
        target = row.object_type
        if target in local and is_digits(row.object_id) and int(row.object_id) in local[target]:
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


class ArchiveChoiceError(ArchiveError):
    """A choice of the importer's is refused (the new review's address, the accounts people are
    mapped to), not the archive: the same archive imports with another choice."""


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
        raise ArchiveChoiceError({"slug": f"At most {SLUG_LENGTH} characters."})
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise ArchiveChoiceError({"slug": exc.messages}) from None
    if slug in RESERVED_SLUGS:
        raise ArchiveChoiceError({"slug": f"'{slug}' is reserved; choose another address."})
    if Review.objects.filter(slug=slug).exists():
        raise ArchiveChoiceError(
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


@dataclass
class ArchivedPerson:
    """One person an archive names, and what they did in it."""

    username: str
    first_name: str = ""
    last_name: str = ""
    roles: list[str] = dataclasses.field(default_factory=list)  # in the archived team
    votes: int = 0
    audit_events: int = 0

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class ArchiveCheck:
    """What an archive holds, read before importing it: the review and its people."""

    title: str
    original_slug: str
    slug: str | None  # the address given for the import, checked (None: the archive's own)
    people: list[ArchivedPerson]


def archive_check(
    *, stream: IO[bytes], slug: str | None = None, check_address: bool = True
) -> ArchiveCheck:
    """Read an archive's review and people without storing anything: the people it names (with
    their roles in the archived team, votes and audit events), for the importer to map to
    accounts or keep as names. Refuses, as ``review_import`` would, an archive that is not one,
    breaks the limits, or names people it does not list, and (``check_address``) an address
    the new review cannot have. Rows not read here are checked by the import itself."""
    slug = _slug_given(slug) if check_address else None
    zf = _open_zip(stream)
    with zf:
        infos = _entries(zf)
        loader = _Loader(zf, infos, _manifest(zf, infos))
        title = loader.check_review(slug, check_address)
        loader.load_people()
        loader.load_team()
        votes = loader.count_people("screening.vote", "reviewer")
        events = loader.count_people("reviews.auditevent", "actor")
    people = [
        ArchivedPerson(
            username,
            details["first_name"],
            details["last_name"],
            loader.roles_of(username),
            votes.get(username, 0),
            events.get(username, 0),
        )
        for username, details in sorted(loader.people.items())
    ]
    return ArchiveCheck(title, loader.original_slug or "", slug, people)


def review_import(
    *,
    stream: IO[bytes],
    slug: str | None = None,
    actor=None,
    mapping: Mapping[str, str] | None = None,
) -> Review:
    """Create a new review from an archive, all or nothing.

    The importer (``actor``) is its only member, as lead. The people the archive names get no
    account and no membership: each is kept as a name on what they did, unless ``mapping``
    maps them (by their username in the archive) to an account of this site, named by
    username or e-mail; such a person's rows then point at that account, which is still not
    made a member. An account is mapped to one person at most.

    A refusal is always an ArchiveError with a message for people (an ArchiveChoiceError when
    the address or the mapping is refused, not the archive), and leaves nothing behind:
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
                review = loader.load(slug=slug, mapping=mapping)
                _ensure_importer_leads(review, actor)
                audit_record(
                    actor=actor,
                    review=review,
                    verb="imported archive",
                    obj=review,
                    changes={
                        "from_slug": loader.original_slug,
                        "exported_at": _plain(manifest.get("exported_at"), 40),
                        # Who is who: the people mapped to accounts by the importer, and those
                        # kept as names (no account, no membership).
                        "people_mapped": dict(sorted(loader.mapped.items())),
                        "people_kept_as_names": sorted(set(loader.people) - set(loader.mapped)),
                    },
                )
        except (IntegrityError, DataError) as exc:
            raise loader.refusal(exc) from None
    return review


def _ensure_importer_leads(review: Review, actor) -> None:
    """The importer is the imported review's only member, as lead (the archive's team is kept
    as names only), so that they can open it."""
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
        # The people the archive names (data/users.jsonl), by their username there; those the
        # importer mapped to an account, with its primary key and username; and the archived
        # team's roles (its membership rows, and the review row's own archived people).
        self.people: dict[str, dict[str, str]] = {}
        self.accounts: dict[str, int] = {}
        self.mapped: dict[str, str] = {}
        self.team: dict[str, set[str]] = {}
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

    def load(self, *, slug: str | None, mapping: Mapping[str, str] | None = None) -> Review:
        self.load_people()
        self.map_people(mapping)
        for spec in ARCHIVED:
            if spec.label == TEAM:
                self.load_team()
            else:
                self.load_model(spec.label, slug=slug)
        self.resolve_deferred()
        review_ids = self.new_ids.get("reviews.review")
        if review_ids is None or len(review_ids) != 1:
            raise ArchiveError("The archive must hold exactly one review.")
        review = Review.objects.get(pk=review_ids[0])
        self.drop_stranded_claims(review)
        self.keep_people(review)
        return review

    def load_people(self) -> None:
        """data/users.jsonl: who the archive names. Nobody becomes an account: a person is a
        username and a name (an e-mail address in the archive is not kept)."""
        for row, _line_size in self.rows("users", numbered=False):
            username = row.get("username")
            if not isinstance(username, str) or not username:
                raise ArchiveError("data/users.jsonl: a user without a username.")
            if len(username) > 150:
                raise ArchiveError(
                    f"data/users.jsonl: the username {_shown(username)} is longer than 150 "
                    "characters."
                )
            details = {
                "first_name": str(row.get("first_name") or "")[:150],
                "last_name": str(row.get("last_name") or "")[:150],
            }
            for text in (username, *details.values()):
                if _plain(text, 150) is None:
                    raise ArchiveError(
                        f"data/users.jsonl: {_shown(username)} holds characters no database stores."
                    )
            self.people[username] = details
            if len(self.people) > MAX_PEOPLE:
                raise ArchiveError(
                    f"The archive names more than {MAX_PEOPLE:,} people; it is refused."
                )

    def map_people(self, mapping: Mapping[str, str] | None) -> None:
        """The importer's choice of accounts for people of the archive (by username in the
        archive: username or e-mail here; blank keeps the person as a name)."""
        if not mapping:
            return
        problems: list[str] = []
        chosen: dict[int, str] = {}
        for person, identifier in mapping.items():
            if identifier is None or (isinstance(identifier, str) and not identifier.strip()):
                continue
            if not isinstance(person, str) or person not in self.people:
                problems.append(f"The archive names nobody called {_shown(person)}.")
                continue
            try:
                user = user_find(identifier)
            except ValidationError as exc:
                problems.append(f"{person}: {' '.join(exc.messages)}")
                continue
            if user.pk in chosen:
                problems.append(
                    f"{chosen[user.pk]} and {person} are both mapped to {user.get_username()}; "
                    "an account stands for one person of the archive at most."
                )
                continue
            chosen[user.pk] = person
            self.accounts[person] = user.pk
            self.mapped[person] = user.get_username()
        if problems:
            raise ArchiveChoiceError({"people": [*problems, "Nothing was imported."]})

    def person(self, value: Any, label: str, row_id: int) -> str | None:
        """The archive's username a reference names (None for none); refused if unknown."""
        if value is None:
            return None
        name = value.get("user") if isinstance(value, dict) else None
        if not isinstance(name, str) or name not in self.people:
            raise ArchiveError(f"{label} row {row_id}: unknown user.")
        return name

    def load_team(self) -> None:
        """The archived team's rows: read and checked, and kept as roles of people (names on
        the review), never as memberships: nobody joins the review through an archive."""
        role = Membership._meta.get_field("role")
        for row, _line_size in self.rows(TEAM):
            username = self.person(row.get("user"), TEAM, row["id"])
            self.person(row.get("added_by"), TEAM, row["id"])
            value = _value(role, row.get("role"), f"{TEAM} row {row['id']}, role")
            if username is None:
                raise ArchiveError(f"{TEAM} row {row['id']}, user: a value is required.")
            self.team.setdefault(username, set()).add(value)

    def roles_of(self, username: str) -> list[str]:
        return sorted(self.team.get(username, ()))

    def count_people(self, label: str, field_name: str) -> dict[str, int]:
        """How many rows of ``label`` each person is ``field_name`` of."""
        counts: dict[str, int] = {}
        for row, _line_size in self.rows(label):
            person = self.person(row.get(field_name), label, row["id"])
            if person is not None:
                counts[person] = counts.get(person, 0) + 1
        return counts

    def check_review(self, slug: str | None, check_address: bool) -> str:
        """The review row's title; its address checked as the import checks it."""
        title: Any = None
        for row, _line_size in self.rows("reviews.review"):
            if row["id"] != 1:
                raise ArchiveError("The archive must hold exactly one review.")
            original = row.get("slug")
            self.original_slug = original if _slug_problem(original) is None else _shown(original)
            if check_address:
                review = Review()
                review.slug = original
                self.place_review(review, row, slug)
            self.team_hint(row)
            title = row.get("title")
        if self.original_slug is None:
            raise ArchiveError("The archive must hold exactly one review.")
        return _plain(title, 300) or _shown(title)

    def team_hint(self, row: dict[str, Any]) -> None:
        """The roles of the review row's archived people: an archive of a review that was
        itself imported carries its archived team that way."""
        for username, details in _archived_people(row.get("archived_people")).items():
            self.team.setdefault(username, set()).update(details["roles"])

    def drop_stranded_claims(self, review: Review) -> None:
        """Claims of people kept as names that they never voted on are dropped (they hold a
        slot for someone who cannot come back to it), and their records' claims recounted."""
        voted = Vote.objects.filter(
            item=OuterRef("item_id"), reviewer__isnull=True, reviewer_name=OuterRef("reviewer_name")
        )
        stranded = Assignment.objects.filter(
            review=review, reviewer__isnull=True, voted_at__isnull=True
        ).exclude(Exists(voted))
        on_item = stranded.filter(item=OuterRef("pk")).order_by().values("item")
        ScreeningItem.objects.filter(pk__in=stranded.values("item_id")).update(
            claims=Greatest(
                F("claims") - Coalesce(Subquery(on_item.annotate(n=Count("pk")).values("n")), 0),
                0,
            )
        )
        stranded.delete()

    def keep_people(self, review: Review) -> None:
        """The people kept as names, with their roles in the archived team, on the review."""
        people = [
            {"username": username, **details, "roles": self.roles_of(username)}
            for username, details in sorted(self.people.items())
            if username not in self.accounts
        ]
        Review.objects.filter(pk=review.pk).update(archived_people=people)
        review.archived_people = people

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
                self.team_hint(row)
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
        name_only = _name_only_fields(model)
        persons = dict(_person_fields(model))
        names: list[tuple[str, str]] = []
        for field in fields:
            if field.name not in row or field.name in name_only:
                continue  # a name is set from its reference only (below)
            value = row[field.name]
            where = f"{label} row {row_id}, {field.name}"
            if (label, field.name) == ("reviews.auditevent", "object_id") and isinstance(
                value, dict
            ):
                value = ""  # the archive's own reference to a row: mapped at the end
            if field in persons:
                # A person: the account the importer mapped them to, else their name.
                person = self.person(value, label, row_id)
                setattr(obj, field.attname, self.accounts.get(person))
                if person is not None and person not in self.accounts:
                    names.append((persons[field], person))
            elif field.is_relation and field.related_model is not None:
                self.relate(obj, label, row_id, field, value, where)
            elif isinstance(field, models.FileField):
                setattr(obj, field.attname, "")  # copied once the row exists
            elif label == "reviews.review" and field.name == "slug":
                setattr(obj, field.attname, value)  # checked by place_review
            else:
                setattr(obj, field.attname, _value(field, value, where))
        for name_field, person in names:
            # An audit event keeps the name it was written with, where it has one.
            if name_field is not None and not getattr(obj, name_field):
                setattr(obj, name_field, person)
        return obj

    def relate(self, obj, label: str, row_id: int, field, value: Any, where: str) -> None:
        target = field.related_model._meta.label_lower
        if value is None:
            setattr(obj, field.attname, None)
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
                raise ArchiveChoiceError(
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
            raise ArchiveChoiceError({"slug": taken})
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
            return ArchiveChoiceError(
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
