"""Site-wide pages: home, sign-up, login (with its rate limits), the API's token, health check,
the 403 page. Logout and password change are Django's own views (see config/urls.py)."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from core import ratelimit, services
from core.forms import LoginForm, SignupForm


@require_safe
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
            # "" when the address is taken: the answer is the same (see SignupForm).
            email=form.account_email(),
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            f"Welcome, {user.get_username()}. Start a review with “New review” at the top of "
            "this page, or ask a review's lead to add you to theirs by your username or e-mail.",
        )
        return redirect("reviews:list")
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )


class LoginView(auth_views.LoginView):
    """Django's login page with the login rate limits (``core.ratelimit``): past them, the form
    says "Too many failed attempts; try again in N minutes" with status 429 and Retry-After."""

    form_class = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.blocked_for:
            response.status_code = 429
            response["Retry-After"] = str(form.blocked_for)
        return response


class ObtainAuthTokenView(ObtainAuthToken):
    """The API token for a username and password, under the same login rate limits as the
    login page (one count for both): past them, 429 with Retry-After and a message."""

    throttle_classes = [ratelimit.LoginThrottle]

    def throttled(self, request, wait):
        wait = math.ceil(wait or settings.EVIDENT_LOGIN_WINDOW_SECONDS)
        exc = exceptions.Throttled(detail=ratelimit.message(wait))
        exc.wait = wait  # for the Retry-After header, without DRF's own sentence
        raise exc

    @extend_schema(
        responses={
            200: inline_serializer("AuthTokenOut", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many failed attempts; try again later."),
        }
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        username = ratelimit.username_of(request.data)
        if not serializer.is_valid():
            # A guess is a username with a password; a half-filled request is not counted.
            password = request.data.get("password") if hasattr(request.data, "get") else None
            if username and password:
                ratelimit.failure_record(request, username)
            raise exceptions.ValidationError(serializer.errors)
        ratelimit.success_record(request, username)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def permission_denied(request, exception=None):
    message = str(exception) if isinstance(exception, PermissionDenied) and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)


@require_safe
def health(request):
    return HttpResponse("ok", content_type="text/plain")
