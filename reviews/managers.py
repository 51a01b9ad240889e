"""QuerySets with named filters."""

from __future__ import annotations

from django.db import models


class ReviewQuerySet(models.QuerySet):
    def for_user(self, user) -> ReviewQuerySet:
        """Reviews the user belongs to, in any role. Anonymous users belong to none."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(memberships__user=user).distinct()


class MembershipQuerySet(models.QuerySet):
    def of_review(self, review) -> MembershipQuerySet:
        return self.filter(review=review)

    def with_role(self, role: str) -> MembershipQuerySet:
        return self.filter(role=role)
