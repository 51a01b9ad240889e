"""Sign-up. Login, logout and password change are Django's own views (see config/urls.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.audit import audit_record
from core.forms import SignupForm


@require_http_methods(["GET", "POST"])
def signup(request):
    if not settings.EVIDENT_SIGNUP_OPEN:
        return render(request, "registration/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect("reviews:list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            audit_record(
                actor=user, review=None, verb="signed up", obj=user, object_repr=user.get_username()
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, f"Welcome, {user.get_username()}. Create your first review below."
        )
        return redirect("reviews:list")
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )
