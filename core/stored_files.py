"""Files stored inside a transaction stay only if the transaction commits.

Storage is not part of the database transaction: an upload stores its file, then saves the row
that names it, and when the transaction rolls back (a later file of the same upload is refused,
the job cannot be queued) the row goes and the file stays, an orphan in MEDIA_ROOT. Django 5.2
has ``transaction.on_commit`` but no rollback hook, so the block that stores files says so::

    with atomic_with_files():
        batch.file.save(name, content, save=False)
        track(batch.file.storage, batch.file.name)   # or: save_file(batch.file, name, content)
        batch.save()

:func:`atomic_with_files` is ``transaction.atomic()`` that deletes the files tracked inside it
when an exception leaves it, unless the transaction had committed by then (a commit hook that
raises afterwards, a broker that is down, leaves the committed rows their files: the block's
first commit hook marks it committed). A block that succeeds inside another
:func:`atomic_with_files` hands its files to that one, which deletes them if it fails in turn;
one inner block that fails deletes its own files only (its savepoint rolled back). A block
nested in a transaction opened by plain ``transaction.atomic()`` deletes its files if it fails
itself; if that outer transaction fails later, wrap it in :func:`atomic_with_files` too.

Names come from ``storage.save``, which never overwrites (it picks a free name), so a file
deleted here is always one this transaction wrote.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import Storage
from django.db import DEFAULT_DB_ALIAS, transaction

log = logging.getLogger(__name__)
_local = threading.local()


class FileScope:
    """The files one :func:`atomic_with_files` block stored, and whether it committed."""

    def __init__(self) -> None:
        self.files: list[tuple[Storage, str]] = []
        self.committed = False

    def mark_committed(self) -> None:
        self.committed = True

    def delete(self) -> None:
        for storage, name in reversed(self.files):
            try:
                storage.delete(name)
            except Exception:  # a file we cannot delete must not hide the original error
                log.exception("could not delete %s after a rolled-back transaction", name)
        self.files.clear()


def _scopes(using: str) -> list[FileScope]:
    stacks = getattr(_local, "stacks", None)
    if stacks is None:
        stacks = _local.stacks = {}
    return stacks.setdefault(using, [])


@contextmanager
def atomic_with_files(using: str | None = None) -> Iterator[FileScope]:
    """``transaction.atomic()`` whose tracked files (:func:`track`) go if it does not commit."""
    alias = using or DEFAULT_DB_ALIAS
    scopes = _scopes(alias)
    scope = FileScope()
    scopes.append(scope)
    try:
        with transaction.atomic(using=alias):
            # The first hook of this block: runs right after the commit, before hooks that may
            # raise (an inner block's hooks and this block's own come later in the list).
            transaction.on_commit(scope.mark_committed, using=alias)
            yield scope
    except BaseException:
        scopes.pop()
        if not scope.committed:
            scope.delete()
        raise
    scopes.pop()
    if scopes and not scope.committed:
        scopes[-1].files.extend(scope.files)


def track(storage: Storage, name: str, *, using: str | None = None) -> None:
    """Delete ``name`` from ``storage`` if the enclosing :func:`atomic_with_files` fails."""
    scopes = _scopes(using or DEFAULT_DB_ALIAS)
    if not scopes:
        raise RuntimeError(
            "store files inside atomic_with_files(), so that a rollback deletes them"
        )
    scopes[-1].files.append((storage, name))


def save_file(field_file, name: str, content, *, using: str | None = None) -> str:
    """Save ``content`` into a model's ``FieldFile`` (not the row) and :func:`track` it."""
    field_file.save(name, content, save=False)
    track(field_file.storage, field_file.name, using=using)
    return field_file.name
