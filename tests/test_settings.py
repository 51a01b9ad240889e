"""Configuration comes only from the environment; production refuses to run unsafely."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-secret-for-the-deploy-check-0123456789"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "REDIS_URL",
            "DEBUG",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "EVIDENT_IMPORT_PROCESSES",  # .ci/run sets it for its second stage
        }
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_development_key():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="django-insecure-" + "x" * 60,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_passes_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="evident.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_bad_environment_value_stops_start_up_with_its_name():
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.local", EVIDENT_MAX_UPLOAD_MB="lots"
    )
    assert result.returncode != 0 and "EVIDENT_MAX_UPLOAD_MB must be an integer" in result.stderr
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.local", DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG must be one of" in result.stderr


def test_with_nothing_set_it_runs_on_sqlite_with_eager_celery():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["django.db.backends.sqlite3", "True"], out.stderr


@pytest.mark.parametrize(
    ("var", "value"),
    [("REDIS_URL", "redis://127.0.0.1:6379/9"), ("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")],
)
def test_a_broker_in_the_environment_turns_eager_mode_off(var, value):
    code = "import django; django.setup(); from django.conf import settings; print(settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER)"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", var: value})
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == [value, "False"], out.stderr


def test_import_processes_follow_the_cpus_this_process_may_use_and_the_environment():
    show = "from django.conf import settings; print(settings.EVIDENT_IMPORT_PROCESSES)"
    default = run_manage("shell", "-c", show, DJANGO_SETTINGS_MODULE="config.settings.local")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # The last line: Django's shell may first say what it imported.
    assert default.stdout.strip().splitlines()[-1] == str(min(cpus, 4)), default.stderr
    chosen = run_manage(
        "shell",
        "-c",
        show,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        EVIDENT_IMPORT_PROCESSES="3",
    )
    assert chosen.stdout.strip().splitlines()[-1] == "3", chosen.stderr
    refused = run_manage(
        "check", DJANGO_SETTINGS_MODULE="config.settings.local", EVIDENT_IMPORT_PROCESSES="0"
    )
    assert refused.returncode != 0
    assert "EVIDENT_IMPORT_PROCESSES must be at least 1" in refused.stderr
