"""Settings shared by every environment. The environment is read here and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY") or ""
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Evident, in the order of the PRISMA flow: each app imports only the ones above it here
    # (tests/test_dependencies.py). Site-wide plumbing first, reporting and the demo last.
    "core",
    "reviews",
    "identification",
    "deduplication",
    "screening",
    "extraction",
    "synthesis",
    "reporting",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.UploadLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL, e.g. postgres://user:pass@127.0.0.1:5432/evident; SQLite when unset.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web request and an eager job share one writer: wait for the lock instead of failing,
    # take it when the transaction starts (no lock upgrades that deadlock), and use WAL so
    # readers never wait for the writer. synchronous=NORMAL is safe with WAL.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reviews:list"
LOGOUT_REDIRECT_URL = "login"
# Site setting: whether anyone may create an account. Closed sites add users in the admin.
EVIDENT_SIGNUP_OPEN = env_bool("EVIDENT_SIGNUP_OPEN", True)
# A lead's invitation to a review (an e-mailed link) works for this many days.
EVIDENT_INVITATION_DAYS = env_int("EVIDENT_INVITATION_DAYS", 14, minimum=1)

# --- E-mail (invitations) -------------------------------------------------------------------
# SMTP unless EMAIL_BACKEND says otherwise; the development settings print mail to the console.
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Evident <evident@localhost>"
# Login rate limits (core/ratelimit.py; the login page, the admin's and the API token share
# them): this many failed logins for one account, or from one client address, within the
# window refuse every login for it, the right password included, until the window ends.
EVIDENT_LOGIN_ATTEMPTS = env_int("EVIDENT_LOGIN_ATTEMPTS", 10, minimum=1)
EVIDENT_LOGIN_ADDRESS_ATTEMPTS = env_int("EVIDENT_LOGIN_ADDRESS_ATTEMPTS", 50, minimum=1)
EVIDENT_LOGIN_WINDOW_SECONDS = env_int("EVIDENT_LOGIN_WINDOW_SECONDS", 15 * 60, minimum=1)
# Trusted proxies in front of the application: 0 takes the client's address from the
# connection and ignores X-Forwarded-For (which clients can forge); N takes the address the
# N-th proxy from the application saw. Production expects one (its TLS proxy).
EVIDENT_NUM_PROXIES = env_int("EVIDENT_NUM_PROXIES", 0, minimum=0)

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Upload limits. Database exports reach 200,000 records (several hundred MB of RIS), so the
# per-file limit is large; Django's own request-body limit guards non-file form fields only.
EVIDENT_MAX_UPLOAD_MB = env_int("EVIDENT_MAX_UPLOAD_MB", 512, minimum=1)
EVIDENT_MAX_UPLOAD_BYTES = EVIDENT_MAX_UPLOAD_MB * 1024 * 1024
# Large imports (PostgreSQL) parse their file in this many worker processes at once; files
# under EVIDENT_IMPORT_PARALLEL_MIN_MB are read in the importing process. 1 turns it off.
# The CPUs this process may run on (its affinity, where the system says), not the machine's.
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
EVIDENT_IMPORT_PROCESSES = env_int("EVIDENT_IMPORT_PROCESSES", min(_CPUS, 4), minimum=1)
EVIDENT_IMPORT_PARALLEL_MIN_MB = env_int("EVIDENT_IMPORT_PARALLEL_MIN_MB", 8, minimum=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# --- Cache ----------------------------------------------------------------------------------
# The login rate limits count failures here. Without CACHE_URL each process counts for itself
# (local memory); CACHE_URL=redis://host:6379/1 shares the count between gunicorn's workers.
CACHE_URL = env_str("CACHE_URL") or ""
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"CACHE_URL must be a redis://, rediss:// or unix:// URL, got {CACHE_URL!r}"
    )
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL") or ""
# Without a broker, tasks run in the calling process (the zero-setup default).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A worker that dies mid-task must not lose it: re-queue on worker loss (tasks are idempotent).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60 * 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60 + 120, minimum=1)
# Redis hands an unacknowledged message to another worker after its visibility timeout. Longer
# than the hard time limit, so a message comes back only when its worker died, never while its
# job may still run (core.jobs.job_run reclaims a "running" job from a redelivered message).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
# Without a broker, a job a web request submits runs in a thread of the web process once the
# response is sent (core/background.py), and the browser polls its page; True runs it inside
# the request instead, before the response (the tests, which wait for their jobs that way).
EVIDENT_JOBS_IN_REQUEST = env_bool("EVIDENT_JOBS_IN_REQUEST", False)
# A job whose worker was killed this many times (redelivered each time) ends failed.
EVIDENT_JOB_MAX_ATTEMPTS = env_int("EVIDENT_JOB_MAX_ATTEMPTS", 3, minimum=1)
# A job running on a worker writes a heartbeat this often; one whose heartbeat is older than
# EVIDENT_JOB_HEARTBEAT_STALE seconds is taken for dead and queued again when a worker starts
# (core/recovery.py).
EVIDENT_JOB_HEARTBEAT_SECONDS = env_int("EVIDENT_JOB_HEARTBEAT_SECONDS", 30, minimum=1)
EVIDENT_JOB_HEARTBEAT_STALE = env_int(
    "EVIDENT_JOB_HEARTBEAT_STALE", 4 * EVIDENT_JOB_HEARTBEAT_SECONDS, minimum=2
)
CELERY_TASK_IGNORE_RESULT = True  # job state lives in reviews.Job, not in a result backend
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated API call gets 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    # DRF's limit/offset with a ceiling on ?limit= (core/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "core.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "NUM_PROXIES": EVIDENT_NUM_PROXIES,
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Evident API",
    "DESCRIPTION": "Systematic reviews from protocol to pooled results, PRISMA 2020 end to end.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every choice field is an enum in the schema, named after its choices (not after the field
    # that happens to use them first), so a generated client gets one type per choice set.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "reviews.constants.Role",
        "ReviewStatusEnum": "reviews.constants.ReviewStatus",
        "JobStatusEnum": "core.constants.JobStatus",
        "ImportBatchStatusEnum": "identification.constants.BatchStatus",
        "SourceKindEnum": "identification.constants.SourceKind",
        "PairStatusEnum": "deduplication.constants.PairStatus",
        "DuplicateDecisionEnum": ["same", "different"],
        "FieldComparisonStatusEnum": ["same", "similar", "different", "missing"],
        "StageEnum": "screening.constants.Stage",
        "DecisionEnum": "screening.constants.Decision",
        "ResolutionDecisionEnum": ["include", "exclude"],
        "ItemStatusEnum": "screening.constants.ItemStatus",
        "MaybePolicyEnum": "screening.constants.MaybePolicy",
        "ReasonPolicyEnum": "screening.constants.ReasonPolicy",
        "ResolverPolicyEnum": "screening.constants.ResolverPolicy",
        "RankingModeEnum": "screening.prioritisation.models.RankingMode",
        "PrismaBoxEnum": "reporting.prisma.Box",
        "PrismaTemplateEnum": "reporting.prisma.Template",
        "StudyFilterOpEnum": "synthesis.constants.FILTER_OPS",
        "RobToolEnum": "extraction.rob.models.RobTool",
        "StudyStatusEnum": ["not started", "in progress", "done", "consensus"],
        "EffectDirectionEnum": "synthesis.narrative.models.DIRECTION_CHOICES",
    },
}

# One handler, on the root logger. Django's own "django" logger is redefined without handlers
# (by default it has a console handler of its own while DEBUG is on, so every message, a
# traceback included, was printed twice). Refused requests (4xx, an expected 403 among them)
# log one line without traceback (core/logfilters.py); 500s keep theirs.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"expected_refusals": {"()": "core.logfilters.ExpectedRefusalFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["expected_refusals"]},
        # matplotlib's PDFs subset their fonts with fontTools, which logs every step at INFO.
        "fontTools": {"level": "WARNING"},
    },
}
