"""Helpers shared by the management commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from reviews.models import Review


def review_or_error(slug: str) -> Review:
    """The review with this address, or a CommandError that names it."""
    review = Review.objects.filter(slug=slug).first()
    if review is None:
        raise CommandError(f"No review {slug!r}.")
    return review
