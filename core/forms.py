"""Forms of the site (sign-up, login) and helpers for Django forms shared by every app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from core import ratelimit

User = get_user_model()
T = TypeVar("T")


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where it names one it has."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def messages_of(exc: ValidationError, *, with_fields: bool = False) -> list[str]:
    """A service's ValidationError as a list of messages for a page (``with_fields``: each
    field's message after the field's name)."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    return [
        f"{field}: {m}" if with_fields and field != "__all__" else m
        for field, msgs in exc.message_dict.items()
        for m in msgs
    ]


def refuse(request, exc: ValidationError, *, with_fields: bool = False) -> None:
    """Each message of a service's ValidationError as an error message of the next page."""
    for message in messages_of(exc, with_fields=with_fields):
        messages.error(request, message)


def submit(form: forms.Form, save: Callable[[dict], T]) -> T | None:
    """A valid form's ``data_for_service()`` through ``save`` (a service call); the service's
    ValidationError back on the form (:func:`apply_errors`). What ``save`` returns, or None."""
    if not form.is_valid():
        return None
    try:
        return save(form.data_for_service())
    except ValidationError as exc:
        apply_errors(form, exc)
    return None


class SignupForm(UserCreationForm):
    """Sign-up that never tells whether an e-mail address is registered.

    Refusing a registered address ("an account with this e-mail exists", as before) answers the
    question "does X have an account here?" for anyone. A vaguer refusal ("we could not create
    your account") answers it too: send a free username and a good password with X's address,
    and the only reason left for refusing is the address. Without mail, the only answer that
    tells nothing is the same answer whether the address is free or not: the account is
    created, logged in and welcomed in both cases. The address stays unique all the same: when
    another account already uses it, the new account is created *without* an address
    (``account_email`` gives ""), so nobody can claim someone else's address and be added to a
    review under it. The help text below, shown to everybody, tells a person who signs up twice
    why their address may be missing from the new account.

    What this does not close: a signed-in user can still learn whether an address is registered
    by adding it to their own review's team (leads add members by username or e-mail); that
    needs invitations, which the person accepts, rather than adding people directly.
    """

    email = forms.EmailField(
        required=True,
        help_text=(
            "Leads add you to their reviews by this address or by your username. An address "
            "that another account already uses is not linked to a second account."
        ),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    def account_email(self) -> str:
        """The address to store on the new account: "" when another account already uses it."""
        email = self.cleaned_data["email"]
        return "" if User.objects.filter(email__iexact=email).exists() else email


class LoginLimitMixin:
    """Refuses a login while its account or client address has too many recent failures
    (``core.ratelimit``), without checking the password; counts failures and clears the
    account's count on success. ``blocked_for``: seconds the refused client must wait."""

    blocked_for = 0

    def clean(self):
        username = self.cleaned_data.get("username")
        wait = ratelimit.blocked_for(self.request, username)
        if wait:
            self.blocked_for = wait
            raise ValidationError(ratelimit.message(wait), code="too_many_attempts")
        try:
            cleaned = super().clean()
        except ValidationError:
            # A guess is a username with a password; a half-filled form is not counted.
            if username and self.cleaned_data.get("password"):
                ratelimit.failure_record(self.request, username)
            raise
        ratelimit.success_record(self.request, username)
        return cleaned


class LoginForm(LoginLimitMixin, AuthenticationForm):
    """The login page's form (``core.views.LoginView``)."""


class AdminLoginForm(LoginLimitMixin, AdminAuthenticationForm):
    """The admin site's login form: the same limits and the same count as the login page."""
