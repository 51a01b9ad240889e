"""``{% databases_against_plan review as plan %}``: the protocol's planned databases against the
searches (``identification.protocol_plan``), for the searches page."""

from __future__ import annotations

from django import template

from identification.protocol_plan import DatabasesAgainstPlan, databases_against_plan

register = template.Library()


@register.simple_tag
def protocol_databases(review) -> DatabasesAgainstPlan | None:
    return databases_against_plan(review) if review is not None else None
