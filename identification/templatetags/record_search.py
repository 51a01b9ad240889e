"""Marking the record list's search terms in a record: ``highlight`` and ``excerpt``.

Every piece of the record's text is escaped; only the ``<mark>`` tags around the matches are
markup. The patterns come from ``identification.query.Highlighter``.
"""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from identification.query import segments, snippet

register = template.Library()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):  # authors, keywords
        return "; ".join(str(v) for v in value)
    return str(value)


def _marked(text: str, pattern) -> SafeString:
    html = "".join(
        f"<mark>{escape(piece)}</mark>" if hit else escape(piece)
        for piece, hit in segments(text, pattern or None)
    )
    return mark_safe(html)  # noqa: S308 - every piece of the text is escaped above


@register.filter
def highlight(value, pattern) -> SafeString:
    """``value`` (a list is joined with "; ") escaped, with the matches of ``pattern`` (may be
    empty) in ``<mark>``. Give it raw text: text escaped already would be escaped twice."""
    return _marked(_text(value), pattern)


@register.filter
def excerpt(value, pattern) -> SafeString:
    """The part of ``value`` around the first match of ``pattern``, marked; empty without one."""
    before, text, after = snippet(_text(value), pattern or None)
    if not text:
        return mark_safe("")
    return mark_safe(escape(before) + _marked(text, pattern) + escape(after))  # noqa: S308
