"""Site-wide pages: home, sign-up, health check, the 403 page. Login, logout and password change
are Django's own views (see config/urls.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core import services
from core.forms import SignupForm


def home(request):
    if request.user.is_authenticated:
        return redirect("reviews:list")
    return redirect("login")


@require_http_methods(["GET", "POST"])
def signup(request):
    if not settings.EVIDENT_SIGNUP_OPEN:
        return render(request, "registration/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect("reviews:list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.account_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, f"Welcome, {user.get_username()}. Create your first review below."
        )
        return redirect("reviews:list")
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )


def permission_denied(request, exception=None):
    message = str(exception) if isinstance(exception, PermissionDenied) and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)


def health(request):
    return HttpResponse("ok", content_type="text/plain")
