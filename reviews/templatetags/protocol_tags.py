"""The protocol at work on other steps' pages: ``{% protocol_criteria review as criteria %}``
(the eligibility criteria beside a record on the screening page) and the ``protocol_markdown``
filter (the team's Markdown as escaped HTML)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from reviews.protocol import selectors
from reviews.protocol.documents import markdown_html

register = template.Library()


@register.simple_tag
def protocol_criteria(review) -> dict[str, Any] | None:
    """The current protocol's eligibility criteria (``selectors.eligibility_criteria``), or
    None without a protocol or without criteria."""
    if review is None:
        return None
    criteria = selectors.eligibility_criteria(review)
    if not criteria or not (criteria["inclusion"] or criteria["exclusion"] or criteria["notes"]):
        return None
    return criteria


@register.filter
def protocol_markdown(text: str) -> SafeString:
    return markdown_html(text or "")
