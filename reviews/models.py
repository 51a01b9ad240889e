"""The review and its team. (Audit events and background jobs are in ``core/models.py``.)

Models hold invariants (constraints, choices); workflows live in ``reviews/services.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from reviews.constants import ReviewStatus, Role
from reviews.managers import MembershipQuerySet, ReviewQuerySet

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lower-case letters, digits and single hyphens, e.g. 'gambling-harms-2026'.",
)


class Review(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    research_question = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PLANNING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    # The people named in the archive this review was imported from who are kept as names
    # (no account here): username, first and last name, and roles in the archived team.
    archived_people = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "pk"]

    def __str__(self) -> str:
        return self.title


class Membership(models.Model):
    """One role held by one user in one review; a user holding several roles has several rows."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["review", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "user", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.review}"


class Invitation(models.Model):
    """A lead's invitation to join a review, sent to an e-mail address as a link.

    The link holds a random token; only its SHA-256 is stored, so the table gives no usable
    link away. Whoever opens the link before it expires, signing up through it or logged in,
    joins the review with ``roles``; it works once (``accepted_at``) and a lead may withdraw
    it (``revoked_at``). See ``reviews/services.py`` (``invitation_*``).
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    #: Role values joined by commas ("reviewer,extractor").
    roles = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.review}"

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]

    @property
    def role_labels(self) -> str:
        return ", ".join(Role(r).label.lower() for r in self.role_list if r in Role.values)


# The protocol's versions live with the rest of the protocol in ``reviews/protocol/``; imported
# here (last: it needs Review) so that Django finds the model.
from reviews.protocol.models import ProtocolVersion  # noqa: E402, F401
