"""gunicorn settings read from the working directory (gunicorn config.wsgi ...)."""

import gc


def post_fork(server, worker):
    # Move what the worker imported out of the collector's sight: with Django and the apps
    # loaded, full collections paused requests for ~170 ms (bench/screening_load.py).
    gc.freeze()
