"""Login rate limits: failed logins counted by account and by client address, in Django's cache.

The login page (``core.views.LoginView``) and the token API (``core.views.ObtainAuthTokenView``,
through the DRF throttles below) share one count, so a guesser gets no more tries by switching
between them. For each failed login, two counters go up:

* the **account**'s (the username as typed, case and surrounding spaces ignored, whether or not
  the account exists, so that the limit tells nothing about which accounts exist);
* the **client address**'s (``client_address``), which catches one machine guessing across many
  accounts. It is higher than the account limit because a lab or a campus may share an address.

Once a counter reaches its limit (``EVIDENT_LOGIN_ATTEMPTS``, ``EVIDENT_LOGIN_ADDRESS_ATTEMPTS``),
every login for that account or from that address is refused, the right password included,
without checking the password, until ``EVIDENT_LOGIN_WINDOW_SECONDS`` after the first failure
of the window; refused attempts are not counted. A successful login clears its account's count
(a guesser cannot log in, so cannot clear it) but never the address's (an attacker with one
account of their own could otherwise reset it between guesses).

The price of an account limit is that anyone may lock an account for a window by failing on
purpose; the window bounds it. The counts live in the default cache: per process with the
default local-memory cache (each gunicorn worker counts for itself, so the effective limit is
the worker count times the setting), shared across processes with ``CACHE_URL=redis://…``.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

PREFIX = "evident:login-failures"


def client_address(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``EVIDENT_NUM_PROXIES`` trusted proxies
    the address the outermost trusted proxy saw (as DRF's ``NUM_PROXIES``). With no proxy
    configured ``X-Forwarded-For`` is ignored: a client could write anything there."""
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.EVIDENT_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))] or remote


def normalise_username(username) -> str:
    return username.strip().casefold() if isinstance(username, str) else ""


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int


def _counters(request, username) -> list[_Counter]:
    counters = [
        _Counter(
            f"{PREFIX}:address:{_digest(client_address(request))}",
            settings.EVIDENT_LOGIN_ADDRESS_ATTEMPTS,
        )
    ]
    name = normalise_username(username)
    if name:
        counters.append(
            _Counter(f"{PREFIX}:account:{_digest(name)}", settings.EVIDENT_LOGIN_ATTEMPTS)
        )
    return counters


def _digest(value: str) -> str:
    # Cache keys of a fixed, safe shape, whatever the user typed.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def blocked_for(request, username) -> int:
    """Seconds until a login for ``username`` from this request's client is allowed again;
    0 if it is allowed now."""
    window = settings.EVIDENT_LOGIN_WINDOW_SECONDS
    now = time.time()
    wait = 0.0
    for counter in _counters(request, username):
        count = cache.get(f"{counter.key}:n") or 0
        if count < counter.limit:
            continue
        started = cache.get(f"{counter.key}:t")
        left = window if started is None else started + window - now
        if left <= 0:  # a backend that outlived the window: the window is over
            cache.delete_many([f"{counter.key}:n", f"{counter.key}:t"])
            continue
        wait = max(wait, left)
    return math.ceil(wait)


def failure_record(request, username) -> None:
    """Count one failed login for the account and the client address."""
    window = settings.EVIDENT_LOGIN_WINDOW_SECONDS
    for counter in _counters(request, username):
        # The window starts at the first failure; add() leaves a running window alone.
        cache.add(f"{counter.key}:t", time.time(), window)
        if not cache.add(f"{counter.key}:n", 1, window):
            try:
                cache.incr(f"{counter.key}:n")
            except ValueError:  # expired between add() and incr()
                cache.set(f"{counter.key}:n", 1, window)


def success_record(request, username) -> None:
    """A successful login clears its account's failures (never the address's: see above)."""
    name = normalise_username(username)
    if name:
        key = f"{PREFIX}:account:{_digest(name)}"
        cache.delete_many([f"{key}:n", f"{key}:t"])


def message(wait_seconds: int) -> str:
    minutes = max(1, math.ceil(wait_seconds / 60))
    return f"Too many failed attempts; try again in {minutes} minute{'' if minutes == 1 else 's'}."


def username_of(data) -> str:
    """The username a login request names (form or JSON), or "" if it names none."""
    value = data.get("username") if hasattr(data, "get") else None
    return value if isinstance(value, str) else ""


class LoginThrottle(BaseThrottle):
    """DRF throttle for the token API: refuses (429) while the account or the client address
    has too many failed logins. The view counts the failures (``failure_record``)."""

    def allow_request(self, request, view) -> bool:
        self._wait = blocked_for(request, username_of(request.data))
        return self._wait == 0

    def wait(self) -> float | None:
        return self._wait or None
