"""A whole review as one zip, and back: searches and files, records, clusters, screening,
reports, audit log, and every later capability's data as it registers here.

Layout of an archive::

    manifest.json                 format, version, review, row counts, file digests
    data/<app>.<model>.jsonl      one JSON object per row, ordered by primary key
    files/<app>.<model>/<n>       the stored file of row n (uploads, full-text PDFs)

Rows carry archive-local ids (1, 2, 3... within each model, in primary-key order), never the
database's own, and foreign keys point at those local ids; users are named by username. So an
archive imported into another database and exported again gives the same data files, and a
review can move between sites without clashing ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from core.audit import audit_record
from reviews.constants import Role
from reviews.models import Membership, Review

FORMAT = "evident-review-archive"
VERSION = 1
MAX_ARCHIVE_BYTES = 4 * 2**30  # uncompressed; a guard against zip bombs


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
# out in NOT_ARCHIVED); tests/reporting/test_archive.py checks that nothing is forgotten.
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


def register(model: ArchivedModel) -> None:
    """Let a capability add its models (after the ones its rows point at)."""
    if model.label not in {m.label for m in ARCHIVED}:
        ARCHIVED.append(model)


def register_via(label: str, path: str) -> None:
    register(_via(label, path))


def register_by_review(label: str) -> None:
    register(_by_review(label))


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


class ArchiveError(ValidationError):
    pass


def _read_json_lines(
    zf: zipfile.ZipFile, name: str, *, need_id: bool = True
) -> list[dict[str, Any]]:
    try:
        raw = zf.read(name)
    except KeyError:
        return []
    rows = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other separators.
    for n, line in enumerate(raw.decode("utf-8").split("\n"), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ArchiveError(f"{name}, line {n}: not JSON ({exc.msg}).") from None
            if not isinstance(row, dict) or (need_id and not isinstance(row.get("id"), int)):
                raise ArchiveError(f"{name}, line {n}: a row needs an integer id.")
            rows.append(row)
    return rows


def review_import(*, stream: IO[bytes], slug: str | None = None, actor=None) -> Review:
    """Create a new review from an archive, all or nothing."""
    try:
        zf = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        raise ArchiveError("This is not a zip file, so not an Evident review archive.") from None
    with zf:
        if sum(i.file_size for i in zf.infolist()) > MAX_ARCHIVE_BYTES:
            raise ArchiveError("The archive unpacks to more than 4 GB; it is refused.")
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (KeyError, json.JSONDecodeError):
            raise ArchiveError("The archive has no readable manifest.json.") from None
        if manifest.get("format") != FORMAT:
            raise ArchiveError("This zip is not an Evident review archive.")
        if manifest.get("version") != VERSION:
            raise ArchiveError(f"Archive version {manifest.get('version')!r} is not supported.")
        known = {m.label for m in ARCHIVED}
        unknown = set(manifest.get("models", {})) - known - {"users"}
        if unknown:
            raise ArchiveError(
                f"The archive holds data this site cannot store: {', '.join(sorted(unknown))}."
            )
        for name, digest in manifest.get("files", {}).items():
            try:
                data = zf.read(name)
            except KeyError:
                raise ArchiveError(f"The archive lacks {name}.") from None
            if hashlib.sha256(data).hexdigest() != digest:
                raise ArchiveError(f"{name} is damaged (its checksum does not match).")
        with transaction.atomic():
            review = _load(zf, manifest, slug=slug)
            _ensure_importer_leads(review, actor)
            audit_record(
                actor=actor,
                review=review,
                verb="imported archive",
                obj=review,
                changes={
                    "from_slug": manifest["review"]["slug"],
                    "exported_at": manifest.get("exported_at"),
                },
            )
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


def _load(zf: zipfile.ZipFile, manifest: dict[str, Any], *, slug: str | None) -> Review:
    User = get_user_model()
    user_label = _user_model_label()
    users: dict[str, int] = {}
    for row in _read_json_lines(zf, "data/users.jsonl", need_id=False):
        username = str(row.get("username") or "")[:150]
        if not username:
            raise ArchiveError("data/users.jsonl: a user without a username.")
        user = User.objects.filter(username=username).first()
        if user is None:
            # People keep their names on what they did; they set a password to log in.
            user = User(
                username=username,
                email=str(row.get("email") or "")[:254],
                first_name=str(row.get("first_name") or "")[:150],
                last_name=str(row.get("last_name") or "")[:150],
            )
            user.set_unusable_password()
            user.save()
        users[username] = user.pk

    new_ids: dict[str, dict[int, int]] = {}
    deferred: list[tuple[type[models.Model], int, str, str, int]] = []
    event_refs: list[tuple[int, str, int]] = []
    for spec in ARCHIVED:
        model = apps.get_model(spec.label)
        rows = _read_json_lines(zf, f"data/{spec.label}.jsonl")
        new_ids[spec.label] = {}
        objs, order = [], []
        for row in rows:
            obj = model()
            for field in _fields(model):
                if field.name not in row:
                    continue
                value = row[field.name]
                if field.is_relation and field.related_model is not None:
                    target = field.related_model._meta.label_lower
                    if value is None:
                        setattr(obj, field.attname, None)
                    elif target == user_label:
                        name = value.get("user") if isinstance(value, dict) else None
                        if name not in users:
                            raise ArchiveError(f"{spec.label} row {row['id']}: unknown user.")
                        setattr(obj, field.attname, users[name])
                    elif target == spec.label or target not in new_ids:
                        # Self references and rows of models loaded later (a record's
                        # cluster) are filled in once every row exists.
                        setattr(obj, field.attname, None)
                        deferred.append((model, row["id"], field.attname, target, value))
                    else:
                        if value not in new_ids[target]:
                            raise ArchiveError(
                                f"{spec.label} row {row['id']}: {field.name} points at a "
                                f"missing {target} row."
                            )
                        setattr(obj, field.attname, new_ids[target][value])
                elif isinstance(field, models.FileField):
                    setattr(obj, field.attname, "")
                else:
                    try:
                        setattr(obj, field.attname, field.to_python(value))
                    except ValidationError as exc:
                        raise ArchiveError(
                            f"{spec.label} row {row['id']}, {field.name}: {'; '.join(exc.messages)}"
                        ) from None
            if spec.label == "reviews.review":
                obj.slug = slug or obj.slug
                if Review.objects.filter(slug=obj.slug).exists():
                    raise ArchiveError(
                        f"A review with the address '{obj.slug}' exists; import under another."
                    )
            objs.append(obj)
            order.append(row)
        _insert_raw(model, objs)
        for obj, row in zip(objs, order, strict=True):
            new_ids[spec.label][row["id"]] = obj.pk
            for field in _fields(model):
                if isinstance(field, models.FileField) and row.get(field.name):
                    name = row[field.name]
                    getattr(obj, field.name).save(
                        name.rsplit("/", 1)[-1], ContentFile(zf.read(name)), save=False
                    )
                    model.objects.filter(pk=obj.pk).update(
                        **{field.attname: getattr(obj, field.attname)}
                    )
            if spec.label == "reviews.auditevent" and isinstance(row.get("object_id"), dict):
                event_refs.append((obj.pk, obj.object_type, row["object_id"].get("local")))
    for model, local_id, attname, target, value in deferred:
        label = model._meta.label_lower
        if value not in new_ids.get(target, {}):
            raise ArchiveError(
                f"{label} row {local_id}: {attname} points at a missing {target} row."
            )
        model.objects.filter(pk=new_ids[label][local_id]).update(
            **{attname: new_ids[target][value]}
        )
    # The objects audit events name, once every row has its new id.
    AuditEvent = apps.get_model("reviews.auditevent")
    for event_pk, target, ref in event_refs:
        mapped = new_ids.get(target, {}).get(ref)
        AuditEvent.objects.filter(pk=event_pk).update(
            object_id="" if mapped is None else str(mapped)
        )
    review_ids = list(new_ids["reviews.review"].values())
    if len(review_ids) != 1:
        raise ArchiveError("The archive must hold exactly one review.")
    return Review.objects.get(pk=review_ids[0])


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
