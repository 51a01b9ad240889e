"""The one error the GRADE functions raise for unusable input."""

from __future__ import annotations


class GradeInputError(ValueError):
    """Input the GRADE functions cannot use; the message says what is wrong, for the page."""
