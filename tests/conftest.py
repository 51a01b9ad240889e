"""Shared fixtures: the personas every test talks about.

``lead`` leads ``review``; ``reviewer_a`` and ``reviewer_b`` screen in it; ``outsider`` belongs to
another review only. Tests that need a real service (PostgreSQL, a Celery worker, Chromium) call
``require_service``: on a bare machine they skip with the reason; under ``.ci/run``
(``EVIDENT_REQUIRE_SERVICES`` names the services each stage provides) a missing service fails
the run instead of skipping quietly.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from reviews import services
from reviews.constants import Role

User = get_user_model()
PASSWORD = "correct horse battery staple"


def require_service(available: bool, reason: str, *, service: str) -> None:
    """Skip with ``reason`` unless ``available``; fail instead where the run requires it.

    ``EVIDENT_REQUIRE_SERVICES`` is a comma-separated list of services (``browser``,
    ``postgres``, ``worker``, ``rscript``: R with metafor) that the current run provides;
    ``.ci/run`` sets it, so under CI a missing service is a failure, never a quiet skip.
    """
    if available:
        return
    required = {s.strip() for s in os.environ.get("EVIDENT_REQUIRE_SERVICES", "").split(",")}
    if service in required or "all" in required:
        pytest.fail(f"required service {service!r} missing: {reason}")
    pytest.skip(reason)


def require_postgres(
    reason: str = "needs PostgreSQL (set DATABASE_URL=postgres://...; see .ci/run)",
) -> None:
    """:func:`require_service` for tests that only PostgreSQL can run (row locks, COPY)."""
    from django.db import connection

    require_service(connection.vendor == "postgresql", reason, service="postgres")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: the login rate limits count failures there."""
    cache.clear()
    yield


def make_user(username: str, email: str | None = None):
    return User.objects.create_user(
        username=username, email=email or f"{username}@example.org", password=PASSWORD
    )


@pytest.fixture
def lead(db):
    return make_user("lead")


@pytest.fixture
def reviewer_a(db):
    return make_user("reviewer_a")


@pytest.fixture
def reviewer_b(db):
    return make_user("reviewer_b")


@pytest.fixture
def outsider(db):
    user = make_user("outsider")
    # The outsider is a lead elsewhere: being a member of *some* review must not leak others.
    services.review_create(user=user, title="Someone else's review", slug="elsewhere")
    return user


@pytest.fixture
def review(lead, reviewer_a, reviewer_b):
    review = services.review_create(
        user=lead, title="Exercise for depression", slug="exercise", research_question="Does it?"
    )
    services.membership_add(
        actor=lead, review=review, identifier="reviewer_a", roles=[Role.REVIEWER]
    )
    services.membership_add(
        actor=lead, review=review, identifier="reviewer_b@example.org", roles=[Role.REVIEWER]
    )
    return review


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lead_client(lead):
    return client_for(lead)


@pytest.fixture
def reviewer_client(reviewer_a):
    return client_for(reviewer_a)


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider)
