"""Login rate limits: failed logins are counted by account and by client address, on the login
page and the token API alike, and past the limit even the right password is refused for a while.

Issue 13, item 5: 100 wrong passwords on /accounts/login/ and 60 on /api/auth/token/, then the
right one worked.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import PASSWORD, make_user
from tests.test_settings import run_manage

LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token/"
LIMITS = {
    "EVIDENT_LOGIN_ATTEMPTS": 3,
    "EVIDENT_LOGIN_ADDRESS_ATTEMPTS": 6,
    "EVIDENT_LOGIN_WINDOW_SECONDS": 900,
    "EVIDENT_NUM_PROXIES": 0,
}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def page_login(username, password, *, address="10.0.0.1", client=None, **headers):
    client = client or Client()
    response = client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )
    return client, response


def token_login(username, password, *, address="10.0.0.1"):
    return Client().post(
        TOKEN,
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return client.get("/reviews/").status_code == 200


def test_the_issue_as_found_a_hundred_wrong_passwords_then_the_right_one_is_refused(lead):
    # Default limits: whatever they are, 100 guesses are far beyond them.
    for _ in range(100):
        page_login("lead", "wrong")
    client, response = page_login("lead", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts; try again in" in response.content.decode()
    assert not logged_in(client)


def test_the_issue_as_found_sixty_wrong_tokens_then_the_right_one_is_refused(lead):
    for _ in range(60):
        token_login("lead", "wrong")
    response = token_login("lead", PASSWORD)
    assert response.status_code == 429
    assert "token" not in response.json()


@override_settings(**LIMITS)
def test_the_login_page_refuses_the_right_password_after_too_many_failures(lead):
    for _ in range(3):
        _, response = page_login("lead", "wrong")
        assert response.status_code == 200  # an ordinary failed login until the limit
    client, response = page_login("lead", PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed attempts; try again in 15 minutes." in text
    assert 'role="alert"' in text and 'name="username"' in text  # the form, with the message
    assert response["Retry-After"] == "900"
    assert not logged_in(client)


@override_settings(**LIMITS)
def test_the_token_api_refuses_the_right_password_after_too_many_failures(lead):
    for _ in range(3):
        assert token_login("lead", "wrong").status_code == 400
    response = token_login("lead", PASSWORD)
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many failed attempts; try again in 15 minutes."}
    assert int(response["Retry-After"]) == 900


@override_settings(**LIMITS)
def test_the_page_and_the_api_share_one_count(lead):
    page_login("lead", "wrong")
    token_login("lead", "wrong")
    page_login("lead", "wrong")
    assert token_login("lead", PASSWORD).status_code == 429
    assert page_login("lead", PASSWORD)[1].status_code == 429


@override_settings(**LIMITS)
def test_an_account_is_counted_whatever_the_address(lead):
    for n in range(3):
        page_login("lead", "wrong", address=f"10.0.1.{n}")
    assert page_login("lead", PASSWORD, address="10.0.2.1")[1].status_code == 429
    # Usernames are counted without regard to case or surrounding spaces.
    cache.clear()
    for name in ("Lead", " lead", "LEAD"):
        token_login(name, "wrong", address="10.0.3.1")
    assert token_login("lead", PASSWORD, address="10.0.3.2").status_code == 429


@override_settings(**LIMITS)
def test_another_account_is_not_blocked_by_failures_on_a_locked_one(lead, reviewer_a):
    for _ in range(5):
        page_login("lead", "wrong", address="10.0.0.1")
    # From another address, and from the same one while it is under the address limit.
    client, response = page_login("reviewer_a", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302 and logged_in(client)
    client, response = page_login("reviewer_a", PASSWORD, address="10.0.0.1")
    assert response.status_code == 302 and logged_in(client)
    assert token_login("reviewer_a", PASSWORD, address="10.0.0.1").status_code == 200


@override_settings(**LIMITS)
def test_an_address_that_tries_many_accounts_is_blocked_but_others_are_not(lead):
    # Six guesses, two per made-up account: no account reaches its limit, the address does.
    for n in range(6):
        page_login(f"someone{n % 3}", "guess", address="10.9.9.9")
    client, response = page_login("lead", PASSWORD, address="10.9.9.9")
    assert response.status_code == 429 and not logged_in(client)
    assert token_login("lead", PASSWORD, address="10.9.9.9").status_code == 429
    client, response = page_login("lead", PASSWORD, address="10.9.9.10")
    assert response.status_code == 302 and logged_in(client)


@override_settings(**LIMITS)
def test_a_successful_login_clears_the_accounts_failures(lead):
    for _ in range(2):
        page_login("lead", "wrong")
    assert page_login("lead", PASSWORD)[1].status_code == 302
    for _ in range(2):
        token_login("lead", "wrong")
    assert token_login("lead", PASSWORD).status_code == 200


@override_settings(**LIMITS)
def test_the_block_ends_with_the_window(lead, monkeypatch):
    for _ in range(3):
        page_login("lead", "wrong")
    assert page_login("lead", PASSWORD)[1].status_code == 429
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 600)
    _, response = page_login("lead", PASSWORD)
    assert response.status_code == 429
    assert "try again in 5 minutes" in response.content.decode()
    monkeypatch.setattr(time, "time", lambda: now + 901)
    client, response = page_login("lead", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


@override_settings(**LIMITS)
def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(lead):
    for n in range(6):
        page_login(f"someone{n}", "guess", address="10.9.9.9", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
    _, response = page_login("lead", PASSWORD, address="10.9.9.9", HTTP_X_FORWARDED_FOR="5.6.7.8")
    assert response.status_code == 429


@override_settings(**{**LIMITS, "EVIDENT_NUM_PROXIES": 1})
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(lead):
    proxy = "127.0.0.1"
    for n in range(6):
        page_login(
            f"someone{n}", "guess", address=proxy, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 10.9.9.9"
        )
    _, response = page_login("lead", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429
    # Another client behind the same proxy is not blocked.
    _, response = page_login("lead", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="10.1.1.1")
    assert response.status_code == 302


@override_settings(**LIMITS)
def test_odd_token_payloads_are_not_a_server_error(db):
    client = Client()
    for body in ("[]", '"x"', "null", '{"username": ["a"], "password": 5}', "{bad json"):
        response = client.post(TOKEN, body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)


def test_the_views_keep_their_addresses_and_names(db):
    assert reverse("login") == LOGIN
    assert reverse("api-token") == TOKEN
    make_user("fresh")
    assert token_login("fresh", PASSWORD).json()["token"]


def test_bad_limits_in_the_environment_stop_start_up_with_their_name():
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.local", EVIDENT_LOGIN_ATTEMPTS="lots"
    )
    assert result.returncode != 0
    assert "EVIDENT_LOGIN_ATTEMPTS must be an integer" in result.stderr
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.local", EVIDENT_LOGIN_WINDOW_SECONDS="0"
    )
    assert result.returncode != 0
    assert "EVIDENT_LOGIN_WINDOW_SECONDS must be at least 1" in result.stderr


@override_settings(**LIMITS)
def test_the_admin_login_obeys_the_same_limits_and_count(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    for _ in range(2):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    page_login("root", "wrong", address="127.0.0.1")
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert "Too many failed attempts; try again in 15 minutes." in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still not logged in


def test_a_shared_cache_for_the_counts_is_configured_from_the_environment():
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    shared = run_manage(
        "shell",
        "-c",
        show,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    assert shared.stdout.strip().splitlines()[-1].endswith("RedisCache"), shared.stderr
    refused = run_manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.local", CACHE_URL="memcached://x"
    )
    assert refused.returncode != 0 and "CACHE_URL must be a redis://" in refused.stderr
