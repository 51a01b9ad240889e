"""Numbers of a stored result as the results page shows them."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pvalue(value) -> str:
    """A p-value: four decimals, "< 0.0001" below that, "—" when there is none."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    if value < 0.0001:
        return "< 0.0001"
    return f"{value:.4f}"


@register.filter
def p_is(value) -> str:
    """ "p = 0.0123", or "p < 0.0001"."""
    shown = pvalue(value)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"
