"""Importing an archive in two steps, as the import page does: the archive is uploaded and
checked (``archive.archive_check``), and kept while its importer says who is who; then it is
imported with their mapping of people to accounts (``archive.review_import``).

A checked archive waits in the site's storage under ``archive-imports/<user id>/<token>.zip``:
only the user who uploaded it can import it (the path holds their id; the token, 128 random
bits, is all the page carries), each user has at most one waiting (a new upload replaces it),
and any left for more than a day is deleted when someone uploads the next. It goes once imported,
and when the import refuses the archive itself (a new upload is needed); a refused address or
mapping keeps it, so the importer only corrects their choice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from reporting import archive
from reviews.models import Review

log = logging.getLogger(__name__)

FOLDER = "archive-imports"
MAX_AGE = dt.timedelta(days=1)
TOKEN = re.compile(r"[0-9a-f]{32}")
GONE = "This upload is no longer waiting (archives wait a day at most); upload the archive again."


def _name(user, token: str) -> str:
    return f"{FOLDER}/{user.pk}/{token}.zip"


def pending_check(*, user, upload, slug: str | None = None) -> tuple[str, archive.ArchiveCheck]:
    """Check ``upload`` (an uploaded file) and keep it for its importer: the token that names
    it, and what the check found. Raises ``ArchiveError`` (nothing kept) if it is refused."""
    check = archive.archive_check(stream=upload, slug=slug)
    _sweep(user)
    token = secrets.token_hex(16)
    upload.seek(0)
    default_storage.save(_name(user, token), upload)
    return token, check


def pending_people(*, user, token: str) -> archive.ArchiveCheck:
    """The check of ``user``'s waiting archive again (the people the import page asks about)."""
    with _open(user, token) as stream:
        return archive.archive_check(stream=stream, check_address=False)


def pending_import(
    *, user, token: str, slug: str | None, mapping: Mapping[str, str] | None
) -> Review:
    """Import ``user``'s waiting archive with their choices (see ``archive.review_import``)."""
    with _open(user, token) as stream:
        try:
            review = archive.review_import(stream=stream, slug=slug, actor=user, mapping=mapping)
        except archive.ArchiveChoiceError:
            raise  # the archive waits for a better choice
        except ValidationError:
            stream.close()
            pending_discard(user=user, token=token)
            raise
    pending_discard(user=user, token=token)
    return review


def pending_discard(*, user, token: str) -> None:
    if TOKEN.fullmatch(token or ""):
        default_storage.delete(_name(user, token))


def _open(user, token: str):
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise ValidationError(GONE)
    try:
        return default_storage.open(_name(user, token), "rb")
    except (FileNotFoundError, OSError):
        raise ValidationError(GONE) from None


def _sweep(user) -> None:
    """Delete ``user``'s waiting archive and anyone's older than ``MAX_AGE``."""
    now = timezone.now()
    try:
        folders, _files = default_storage.listdir(FOLDER)
    except (FileNotFoundError, NotImplementedError, OSError):
        return
    for folder in folders:
        try:
            _dirs, files = default_storage.listdir(f"{FOLDER}/{folder}")
        except (FileNotFoundError, OSError):
            continue
        for name in files:
            path = f"{FOLDER}/{folder}/{name}"
            try:
                stale = (
                    folder == str(user.pk)
                    or now - default_storage.get_modified_time(path) > MAX_AGE
                )
                if stale:
                    default_storage.delete(path)
            except (FileNotFoundError, NotImplementedError, OSError):
                log.warning("could not sweep the waiting archive %s", path)
