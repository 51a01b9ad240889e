"""Playwright driving Debian's Chromium (/usr/bin/chromium). Never downloads a browser."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.conftest import require_service

CHROMIUM = os.environ.get("EVIDENT_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling out to Google, which this
# machine's closed network refuses, many connections at a time.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    require_service(
        os.path.exists(CHROMIUM),
        f"no Chromium at {CHROMIUM} (apt-get install chromium)",
        service="browser",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev requirements install it
        require_service(
            False,
            "playwright is not installed (pip install -r requirements-dev.txt)",
            service="browser",
        )
    profile = tempfile.mkdtemp(prefix="evident-chromium-")
    # Playwright's sync API keeps an event loop running in this thread for as long as it is
    # open; the tests' own ORM calls (and pytest-django's database set-up and flushes) are
    # plain synchronous code, which Django would otherwise refuse next to a running loop.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
