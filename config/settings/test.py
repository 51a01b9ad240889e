"""Tests: fast hashing, temporary media, eager Celery unless a test asks for a worker."""

import tempfile

from .base import *  # noqa: F403
from .env import env_bool, env_str

SECRET_KEY = env_str("SECRET_KEY") or "evident-test-key-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A fresh directory per run, unless given: .ci/run gives the tests and its Celery worker the
# same one, so that the worker finds the files the tests upload.
MEDIA_ROOT = env_str("MEDIA_ROOT") or tempfile.mkdtemp(prefix="evident-test-media-")
ALLOWED_HOSTS = ["*"]
# Even when a broker is configured (the PostgreSQL CI run), tests run jobs eagerly by default;
# the worker tests switch this off for themselves and go through the real broker and worker.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# Eager jobs run inside the request that submits them, so a test finds them finished when the
# request returns (tests/identification/test_background_jobs.py tries the after-response way).
EVIDENT_JOBS_IN_REQUEST = env_bool("EVIDENT_JOBS_IN_REQUEST", True)
# Login rate limits count in this process's memory, whatever CACHE_URL says; tests clear it.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from static/ without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
