"""The one permission-aware way to reach a review and anything under it.

Every view, API endpoint and command that touches review-scoped data goes through here. A user
who is not a member gets ``Http404`` for the review and everything under it, exactly as if it did
not exist, so review slugs and object ids leak nothing. A member who lacks the role for a write
gets ``PermissionDenied`` (403): they can already see the review, so there is nothing to hide.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from reviews.constants import Role
from reviews.models import Membership, Review

M = TypeVar("M", bound=models.Model)

_ROLES_ATTR = "_evident_roles"


def review_for_user(*, user, slug: str) -> Review:
    """The review with this slug if ``user`` is a member; ``Http404`` otherwise."""
    if not getattr(user, "is_authenticated", False) or not isinstance(slug, str):
        raise Http404("No such review.")
    roles = list(
        Membership.objects.filter(review__slug=slug, user=user).values_list("role", flat=True)
    )
    if not roles:
        raise Http404("No such review.")
    review = Review.objects.get(slug=slug)
    setattr(review, _ROLES_ATTR, (user.pk, frozenset(roles)))
    return review


def roles_of(*, user, review: Review) -> frozenset[str]:
    """The roles ``user`` holds in ``review`` (cached on the review object for one request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(review, _ROLES_ATTR, None)
    if cached is not None and cached[0] == user.pk:
        return cached[1]
    roles = frozenset(
        Membership.objects.filter(review=review, user=user).values_list("role", flat=True)
    )
    setattr(review, _ROLES_ATTR, (user.pk, roles))
    return roles


def has_role(*, user, review: Review, roles: Iterable[str]) -> bool:
    """True if the user holds any of ``roles``. A lead may do everything in the review."""
    held = roles_of(user=user, review=review)
    return bool(held & (set(roles) | {Role.LEAD}))


def require_member(*, user, review: Review) -> frozenset[str]:
    held = roles_of(user=user, review=review)
    if not held:
        raise Http404("No such review.")
    return held


def require_role(*, user, review: Review, roles: Iterable[str], action: str = "do this") -> None:
    """Refuse (403) unless ``user`` holds one of ``roles`` (or is a lead); 404 for outsiders."""
    require_member(user=user, review=review)
    if not has_role(user=user, review=review, roles=roles):
        wanted = ", ".join(sorted({str(r) for r in roles} | {Role.LEAD.value}))
        raise PermissionDenied(f"Only a member with one of these roles may {action}: {wanted}.")


#: The review's own pages that only some roles may open (a lead may open every page). The
#: views refuse with these lists and the review's navigation links a page only for whom
#: ``may_open`` allows, so a link never leads to a 403.
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "settings": (Role.LEAD,),
    "audit": (Role.LEAD,),
    "team_manage": (Role.LEAD,),
    "rob_settings": (Role.LEAD,),
    # Synthesis: defining and editing analyses (synthesis.constants.ANALYSIS_ROLES).
    "synthesis_define": (Role.STATISTICIAN,),
}


def may_open(*, user, review: Review, page: str) -> bool:
    """Whether ``user`` holds a role that opens ``page`` (a key of :data:`PAGE_ROLES`)."""
    return has_role(user=user, review=review, roles=PAGE_ROLES[page])


def pages_open_to(*, user, review: Review) -> dict[str, bool]:
    """:func:`may_open` for every page of :data:`PAGE_ROLES`, for the navigation."""
    return {page: may_open(user=user, review=review, page=page) for page in PAGE_ROLES}


def sees_emails(*, user, review: Review) -> bool:
    """Members' e-mail addresses are for the review's leads (who add people by them); other
    members see usernames and names only."""
    return Role.LEAD in roles_of(user=user, review=review)


def sees_job_details(*, user, review: Review, job) -> bool:
    """A job's parameters, and its error (which may repeat them: a bulk add names the address
    it could not find), are for the review's leads and for whoever started the job."""
    if job.created_by_id is not None and job.created_by_id == getattr(user, "pk", None):
        return True
    return Role.LEAD in roles_of(user=user, review=review)


def scoped_get(queryset: models.QuerySet[M], *, review: Review, pk, field: str = "review") -> M:
    """Fetch one object that belongs to ``review``; a forged or foreign id gives ``Http404``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such object.") from None
    try:
        return queryset.get(pk=pk, **{field: review})
    except queryset.model.DoesNotExist:
        raise Http404("No such object.") from None
