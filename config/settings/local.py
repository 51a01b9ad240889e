"""Development: SQLite and eager Celery unless the environment says otherwise."""

from .base import *  # noqa: F403
from .env import env_bool, env_str

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine for a laptop; production.py refuses to start without a real one.
SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-evident-local-development-only"

# Mail (a lead's invitations) is printed to the console of `make run`, links included.
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"

# Serve static files straight from static/ without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
