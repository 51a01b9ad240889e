"""Logging filters for the site's log (``LOGGING`` in ``config/settings/base.py``).

Django's ``django.request`` logger records every refused request as a warning, and a 403 from
``PermissionDenied`` (a member without the role, an expected answer) with its traceback. A
traceback there is noise that hides real errors: this filter keeps one line for any answer
under 500 and adds the reason the view gave. Server errors (500 and up) keep their traceback.
"""

from __future__ import annotations

import logging


class ExpectedRefusalFilter(logging.Filter):
    """One line, without traceback, for a request refused with a 4xx status."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500 and record.exc_info:
            exc = record.exc_info[1]
            reason = str(exc) if exc is not None else ""
            if reason:
                record.msg = f"{record.msg} ({reason.replace('%', '%%')})"
            record.exc_info = None
            record.exc_text = None
        return True
