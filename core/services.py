"""Site-wide state changes: accounts. One function per change, owning its transaction and
writing its audit event."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from core.audit import audit_record


def account_create(*, username: str, email: str, password: str):
    """A new account (sign-up); the form has checked the name, e-mail and password already."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password
        )
        audit_record(
            actor=user, review=None, verb="signed up", obj=user, object_repr=user.get_username()
        )
    return user
