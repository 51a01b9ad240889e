"""Attaching a record's full text (a PDF or a link), or recording that it could not be obtained.

Same rules as every screening service: the actor's role is checked, each change owns its
transaction and records an audit event. Assessing the report is a vote at the full-text stage
(``screening.services.votes``), which needs a report attached first.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import transaction

from core.audit import audit_record
from core.text import clean_input_text
from reviews.access import require_role
from reviews.models import Review
from screening.constants import (
    MAX_NOT_RETRIEVED_REASON,
    MAX_PDF_BYTES,
    MAX_URL,
    PDF_MAGIC_WINDOW,
    ItemStatus,
    Stage,
)
from screening.fulltext.models import FullTextReport
from screening.models import ScreeningItem
from screening.services._common import SCREEN_ROLES, check_item, item_repr
from screening.services._status import set_status

#: A PDF header: ``%PDF-`` and a version (``1.7``, ``2.0``).
_PDF_HEADER = re.compile(rb"%PDF-(\d\.\d)?")
#: What marks a file as HTML (or SVG, XML) that a browser would render: not in front of a PDF.
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|\?xml)",
                     re.IGNORECASE)  # fmt: skip
#: Readers look for ``%%EOF`` within the last kilobyte; the cross-reference pointer and the
#: trailer come just before it.
PDF_TAIL_WINDOW = 1024
PDF_TRAILER_WINDOW = 16 * 1024


def _pdf_structure_error(head: bytes, tail: bytes, trailer: bytes) -> str | None:
    """Why a file is not a PDF, from its first kilobyte, last kilobyte and last 16 KB.

    A PDF starts with ``%PDF-`` at byte 0, or a little later (after junk some mailers add) but
    then with its version; nothing that makes it a web page (``<html``, ``<script`` ...) comes
    before that header; and it ends as a PDF does: ``%%EOF`` in its last kilobyte, after a
    ``startxref`` pointer or a ``trailer`` (or ``xref``) section. A file that merely contains
    ``%PDF-`` in its first kilobyte (an HTML page with the header in a comment) is not one.
    """
    header = _PDF_HEADER.search(head)
    if header is None or (header.start() > 0 and header.group(1) is None):
        return "This is not a PDF (it does not start with a %PDF header)."
    if _MARKUP.search(head, 0, header.start()):
        return "This is not a PDF: it starts as a web page (HTML) and only contains a PDF header."
    if b"%%EOF" not in tail:
        return "This is not a complete PDF: its end (%%EOF) is missing; the file may be cut off."
    if not any(marker in trailer for marker in (b"startxref", b"trailer", b"xref")):
        return "This is not a complete PDF: its end has no cross-reference table or trailer."
    return None


def _check_pdf(upload) -> tuple[str, int]:
    """Size, structure and SHA-256 of an uploaded file; ``ValidationError`` if not a PDF."""
    size = getattr(upload, "size", None)
    if size is None:
        raise ValidationError({"file": "No file was received."})
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if size > MAX_PDF_BYTES:
        raise ValidationError(
            {"file": f"The file is {size / 1024 / 1024:.1f} MB; the limit is "
                     f"{MAX_PDF_BYTES // 1024 // 1024} MB."}
        )  # fmt: skip
    upload.seek(0)
    head = upload.read(PDF_MAGIC_WINDOW)
    upload.seek(max(0, size - PDF_TRAILER_WINDOW))
    trailer = upload.read(PDF_TRAILER_WINDOW)
    error = _pdf_structure_error(head, trailer[-PDF_TAIL_WINDOW:], trailer)
    if error is not None:
        raise ValidationError({"file": error})
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    ):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


def _full_text_item(review: Review, item: ScreeningItem) -> None:
    check_item(review, item, None)
    if item.stage != Stage.FULL_TEXT:
        raise ValidationError("Full texts belong to records at the full-text stage.")


def report_attach(
    *, user, review: Review, item: ScreeningItem, upload=None, url: Any = ""
) -> FullTextReport:
    """Attach the full text of a record at the full-text stage: a PDF upload or a link.

    The file is checked (its size and a PDF's structure: see :func:`_pdf_structure_error`) and
    stored through Django's storage under a name made from its hash; a report marked not
    retrieved becomes available again.
    """
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="attach full texts")
    _full_text_item(review, item)
    url = clean_input_text(url, field="url", max_length=MAX_URL)
    if (upload is None) == (not url):
        raise ValidationError("Give either a PDF file or a link, not both and not neither.")
    sha = ""
    size = 0
    if upload is not None:
        sha, size = _check_pdf(upload)
    else:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationError(
                {"url": "Give a full web address starting with https://."}
            ) from None
    old_file = None
    with transaction.atomic():
        locked = ScreeningItem.objects.select_for_update().get(pk=item.pk)
        report, _ = FullTextReport.objects.select_for_update().get_or_create(
            record_id=locked.record_id, defaults={"review": review, "added_by": user}
        )
        if upload is not None:
            same_file = bool(report.file) and report.sha256 == sha
            if report.file and not same_file:
                old_file = report.file.name
            report.sha256, report.size = sha, size
            report.original_name = clean_input_text(
                (getattr(upload, "name", "") or "")[:255], field="file", max_length=255
            )
            report.url = ""
            if not same_file:
                report.file.save(f"{sha}.pdf", File(upload), save=False)
        else:
            if report.file:
                old_file = report.file.name
            report.file = ""
            report.original_name, report.size, report.sha256 = "", 0, ""
            report.url = url
        report.not_retrieved_reason = ""
        report.added_by = user
        report.save()
        if locked.status == ItemStatus.NOT_RETRIEVED:
            set_status(locked, ItemStatus.PENDING)
        audit_record(
            actor=user,
            review=review,
            verb="attached full text",
            obj=locked,
            object_repr=item_repr(locked),
            changes={"record": locked.record_id, "file": report.original_name, "url": report.url,
                     "sha256": report.sha256},
        )  # fmt: skip
        if old_file and not FullTextReport.objects.filter(file=old_file).exists():
            storage = report.file.storage
            transaction.on_commit(lambda: storage.delete(old_file))
    return report


def report_not_retrieved(
    *, user, review: Review, item: ScreeningItem, reason: Any
) -> FullTextReport:
    """Record that a report could not be obtained, and why (a PRISMA 2020 box)."""
    require_role(user=user, review=review, roles=SCREEN_ROLES, action="mark reports not retrieved")
    _full_text_item(review, item)
    reason = clean_input_text(
        reason, field="reason", max_length=MAX_NOT_RETRIEVED_REASON, required=True
    )
    with transaction.atomic():
        locked = ScreeningItem.objects.select_for_update().get(pk=item.pk)
        if locked.status != ItemStatus.PENDING:
            raise ValidationError(
                "Only a report still awaiting assessment can be marked not retrieved."
            )
        report, _ = FullTextReport.objects.select_for_update().get_or_create(
            record_id=locked.record_id, defaults={"review": review, "added_by": user}
        )
        if report.is_available:
            raise ValidationError("A full text is attached to this record already.")
        report.not_retrieved_reason = reason
        report.added_by = user
        report.save()
        set_status(locked, ItemStatus.NOT_RETRIEVED)
        audit_record(
            actor=user,
            review=review,
            verb="marked not retrieved",
            obj=locked,
            object_repr=item_repr(locked),
            changes={"record": locked.record_id, "reason": reason},
        )
    return report
