"""What the review's navigation may link to, from the checks the views make
(:func:`reviews.access.pages_open_to`)."""

from django import template

from reviews.access import pages_open_to

register = template.Library()


@register.simple_tag(takes_context=True)
def review_pages(context, review) -> dict[str, bool]:
    """``{% review_pages review as may %}``: ``may.settings``, ``may.audit``, … for this user."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if review is None or user is None:
        return {}
    return pages_open_to(user=user, review=review)
