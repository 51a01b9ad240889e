"""An expected refusal (a member without the role gets 403) logs one line without traceback;
a server error keeps its traceback; and nothing is printed twice."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import client_for

ROOT = Path(__file__).resolve().parents[2]


def request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("django.request")]


def test_an_expected_403_logs_one_line_without_traceback(review, reviewer_a, caplog):
    caplog.set_level(logging.INFO)
    response = client_for(reviewer_a).get(f"/reviews/{review.slug}/audit/")
    assert response.status_code == 403
    records = request_records(caplog)
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and record.exc_text is None
    message = record.getMessage()
    assert "\n" not in message
    assert f"/reviews/{review.slug}/audit/" in message
    assert "read the audit log" in message  # the reason the view gave
    assert "Traceback" not in caplog.text


@pytest.mark.urls("tests.core.logging_urls")
def test_a_server_error_keeps_its_traceback(db, caplog):
    caplog.set_level(logging.INFO)
    response = Client(raise_request_exception=False).get("/test-logging/fail/")
    assert response.status_code == 500
    (record,) = request_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "Traceback" in caplog.text and "the database went away" in caplog.text


SCRIPT = textwrap.dedent(
    """
    import django
    from django.test import Client
    from django.test.utils import override_settings

    django.setup()
    with override_settings(ROOT_URLCONF="tests.core.logging_urls"):
        client = Client(raise_request_exception=False, SERVER_NAME="localhost")
        print("403" if client.get("/test-logging/refuse/").status_code == 403 else "?")
        print("500" if client.get("/test-logging/fail/").status_code == 500 else "?")
    """
)


@pytest.mark.parametrize("debug", ["true", "false"])
def test_the_development_server_prints_each_refusal_once_and_each_error_once(debug, tmp_path):
    """What `make run` prints (local settings, DEBUG on or off): Django's "django" logger had a
    console handler of its own besides the root's, so every traceback came out twice."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": debug,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "LOG_LEVEL": "INFO",
    }
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert run.stdout.split() == ["403", "500"], run.stderr
    err = run.stderr
    assert err.count("Forbidden (Permission denied): /test-logging/refuse/") == 1, err
    assert err.count("Internal Server Error: /test-logging/fail/") == 1, err
    # One traceback in all: the 500's.
    assert err.count("Traceback (most recent call last)") == 1, err
    assert err.count("RuntimeError: the database went away") == 1, err
