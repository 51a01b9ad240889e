"""Every change of the protocol. Leads only; each function owns its transaction, locks the review
row (so that two leads cannot make two drafts or register twice at once) and records an audit
event. A frozen version is never changed: edits after registration start an amendment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.audit import audit_record
from core.text import clean_input_text
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review
from reviews.protocol import sections
from reviews.protocol.constants import Registry, VersionKind
from reviews.protocol.models import ProtocolVersion
from reviews.services import review_lock

MAX_RATIONALE = 5000


def _lead(actor, review: Review, action: str) -> None:
    require_role(user=actor, review=review, roles=[Role.LEAD], action=action)


def _draft(review: Review) -> ProtocolVersion | None:
    return ProtocolVersion.objects.filter(review=review, frozen_at__isnull=True).first()


def _latest_frozen(review: Review) -> ProtocolVersion | None:
    return (
        ProtocolVersion.objects.filter(review=review, frozen_at__isnull=False)
        .order_by("-number")
        .first()
    )


def draft_save(*, actor, review: Review, content: Any, partial: bool = False) -> ProtocolVersion:
    """Save the protocol's draft; start one if there is none.

    Before registration the draft is the protocol itself (version 1); after it, the first edit
    starts an amendment, a new version holding the latest frozen content with the edit. With
    ``partial`` the fields ``content`` leaves out keep their value; otherwise they are emptied.
    """
    _lead(actor, review, "edit the protocol")
    with transaction.atomic():
        review_lock(review)
        draft = _draft(review)
        frozen = _latest_frozen(review)
        if draft is not None:
            base = draft.content
        else:
            base = frozen.content if frozen is not None else None
        cleaned = sections.clean_content(content, base=base if partial else None)
        if draft is None:
            number = (
                ProtocolVersion.objects.filter(review=review).aggregate(n=Max("number"))["n"] or 0
            ) + 1
            draft = ProtocolVersion.objects.create(
                review=review,
                number=number,
                kind=VersionKind.AMENDMENT if frozen is not None else VersionKind.ORIGINAL,
                content=cleaned,
                created_by=actor,
            )
            changed = sections.sections_changed(base, cleaned) if frozen else []
            audit_record(
                actor=actor,
                review=review,
                verb="started protocol amendment" if frozen else "started protocol",
                obj=draft,
                changes={"number": number, "sections": changed},
            )
            return draft
        changed = sections.sections_changed(draft.content, cleaned)
        if changed:
            draft.content = cleaned
            draft.save(update_fields=["content", "updated_at"])
            audit_record(
                actor=actor,
                review=review,
                verb="edited protocol draft",
                obj=draft,
                changes={"number": draft.number, "sections": changed},
            )
    return draft


def _clean_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({field: "Give a date as YYYY-MM-DD."}) from None
    if not isinstance(value, dt.date):
        raise ValidationError({field: "Give a date as YYYY-MM-DD."})
    if value > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError({field: "The date cannot be in the future."})
    return value


def _clean_url(value: Any) -> str:
    url = clean_input_text(value, field="registration_url", max_length=500)
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationError(
                {"registration_url": "Give the record's web address (http or https)."}
            ) from None
    return url


def protocol_register(
    *,
    actor,
    review: Review,
    registry: Any,
    registration_id: Any,
    registered_on: Any,
    registration_url: Any = "",
    registry_name: Any = "",
) -> ProtocolVersion:
    """Register the protocol's draft: it becomes version 1, frozen and fingerprinted."""
    _lead(actor, review, "register the protocol")
    if registry not in Registry.values:
        raise ValidationError({"registry": f"Choose a registry: {', '.join(Registry.values)}."})
    registry_name = clean_input_text(registry_name, field="registry_name", max_length=100)
    if registry == Registry.OTHER and not registry_name:
        raise ValidationError({"registry_name": "Name the registry."})
    if registry != Registry.OTHER:
        registry_name = ""
    registration_id = clean_input_text(
        registration_id, field="registration_id", max_length=100, required=True
    )
    registration_url = _clean_url(registration_url)
    registered_on = _clean_date(registered_on, "registered_on")
    with transaction.atomic():
        review_lock(review)
        registered = ProtocolVersion.objects.filter(
            review=review, kind=VersionKind.ORIGINAL, frozen_at__isnull=False
        ).first()
        if registered is not None:
            raise ValidationError(
                f"The protocol is registered already (version {registered.number}, "
                f"{registered.registry_label} {registered.registration_id}); changes since are "
                "amendments."
            )
        draft = _draft(review)
        if draft is None:
            raise ValidationError("Write the protocol before registering it.")
        content = sections.clean_content(draft.content, strict=False)
        draft.content = content
        draft.fingerprint = sections.fingerprint(content)
        draft.registry = registry
        draft.registry_name = registry_name
        draft.registration_id = registration_id
        draft.registration_url = registration_url
        draft.registered_on = registered_on
        draft.frozen_at = timezone.now()
        draft.frozen_by = actor
        draft.save()
        audit_record(
            actor=actor,
            review=review,
            verb="registered protocol",
            obj=draft,
            changes={
                "number": draft.number,
                "registry": draft.registry_label,
                "registration_id": registration_id,
                "registration_url": registration_url,
                "registered_on": registered_on.isoformat(),
                "fingerprint": draft.fingerprint,
            },
        )
    return draft


def amendment_publish(
    *, actor, review: Review, rationale: Any, amended_on: Any = None
) -> ProtocolVersion:
    """Publish the amendment draft: dated (``amended_on``, today if not given), authored, with
    its rationale and the sections it changes (computed against the version before it), frozen
    and fingerprinted."""
    _lead(actor, review, "amend the protocol")
    rationale = clean_input_text(
        rationale, field="rationale", max_length=MAX_RATIONALE, required=True
    )
    if amended_on in (None, ""):
        amended_on = timezone.localdate()
    amended_on = _clean_date(amended_on, "amended_on")
    with transaction.atomic():
        review_lock(review)
        draft = _draft(review)
        previous = _latest_frozen(review)
        if previous is None:
            raise ValidationError("Register the protocol first; amendments come after it.")
        if draft is None:
            raise ValidationError("There is no amendment to publish: edit the protocol first.")
        if previous.date and amended_on < previous.date:
            raise ValidationError(
                {"amended_on": f"An amendment cannot be dated before version {previous.number} "
                 f"({previous.date:%Y-%m-%d})."}
            )  # fmt: skip
        content = sections.clean_content(draft.content, strict=False)
        changed = sections.sections_changed(previous.content, content)
        if not changed:
            raise ValidationError(
                f"The draft is the same as version {previous.number}: change a section first, "
                "or discard the draft."
            )
        draft.content = content
        draft.kind = VersionKind.AMENDMENT
        draft.rationale = rationale
        draft.amended_on = amended_on
        draft.sections_changed = changed
        draft.fingerprint = sections.fingerprint(content)
        draft.frozen_at = timezone.now()
        draft.frozen_by = actor
        draft.save()
        audit_record(
            actor=actor,
            review=review,
            verb="amended protocol",
            obj=draft,
            changes={
                "number": draft.number,
                "rationale": rationale,
                "amended_on": amended_on.isoformat(),
                "sections": changed,
                "fingerprint": draft.fingerprint,
            },
        )
    return draft


def draft_discard(*, actor, review: Review) -> None:
    """Throw the draft away (an amendment not wanted after all, or a protocol never registered)."""
    _lead(actor, review, "edit the protocol")
    with transaction.atomic():
        review_lock(review)
        draft = _draft(review)
        if draft is None:
            raise ValidationError("There is no draft to discard.")
        audit_record(
            actor=actor,
            review=review,
            verb="discarded protocol draft",
            obj=draft,
            changes={"number": draft.number},
        )
        draft.delete()
