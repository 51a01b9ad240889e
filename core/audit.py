"""Writing audit events. Called by services only, inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from core.models import AuditEvent


def audit_record(
    *,
    actor,
    review: models.Model | None,
    verb: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that ``actor`` did ``verb`` to ``obj`` (or the object named by type and id)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_repr = object_repr if object_repr is not None else str(obj)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        review=review,
        actor=actor if is_user else None,
        actor_username=actor.get_username() if is_user else "",
        verb=verb,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:300],
        changes=changes or {},
    )
