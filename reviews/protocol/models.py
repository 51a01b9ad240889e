"""The protocol's versions. ``reviews/models.py`` imports this module so that Django finds the
model; its app label is ``reviews`` and its migrations live in ``reviews/migrations/``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from reviews.models import Review
from reviews.protocol.constants import Registry, VersionKind


class ProtocolFrozenError(ValidationError):
    """A registered version or a published amendment was about to change."""


class ProtocolVersion(models.Model):
    """One version of a review's protocol.

    A review has at most one draft (``frozen_at`` empty), which its leads edit. Registering the
    first version freezes it (``kind`` original, with the registry's details); after that, an
    edit starts a new draft (``kind`` amendment) that is published with a rationale and frozen
    in turn. A frozen version never changes: :meth:`save` and :meth:`delete` refuse, and
    ``fingerprint`` (SHA-256 of the content's canonical JSON, ``sections.fingerprint``) shows
    any change made around them (``manage.py verify_protocol``).
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="protocol_versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=VersionKind.choices)
    content = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    # Registration (the first version).
    registry = models.CharField(max_length=20, choices=Registry.choices, blank=True)
    registry_name = models.CharField(max_length=100, blank=True)  # for "other"
    registration_id = models.CharField(max_length=100, blank=True)
    registration_url = models.URLField(max_length=500, blank=True)
    registered_on = models.DateField(null=True, blank=True)
    # Amendments.
    amended_on = models.DateField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    sections_changed = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    frozen_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "reviews"
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="protocol_version_number"),
            models.UniqueConstraint(
                fields=["review"],
                condition=models.Q(frozen_at__isnull=True),
                name="protocol_one_draft",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=VersionKind.values), name="protocol_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Protocol version {self.number}"

    def save(self, *args, **kwargs):
        self._refuse_if_frozen("changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_frozen("deleted")
        return super().delete(*args, **kwargs)

    def _refuse_if_frozen(self, what: str) -> None:
        if self.pk is not None and (
            type(self)._base_manager.filter(pk=self.pk, frozen_at__isnull=False).exists()
        ):
            raise ProtocolFrozenError(
                f"Version {self.number} of the protocol is frozen (registered or published); "
                f"it cannot be {what}. Changes are amendments: edit the protocol to start one."
            )

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_draft(self) -> bool:
        return self.frozen_at is None

    @property
    def state(self) -> str:
        """draft, registered (the first version, frozen) or amendment (published)."""
        if self.frozen_at is None:
            return "draft"
        return "registered" if self.kind == VersionKind.ORIGINAL else "amendment"

    @property
    def date(self):
        """The version's date: registered on, amended on; a draft has none."""
        if self.frozen_at is None:
            return None
        if self.kind == VersionKind.ORIGINAL:
            return self.registered_on or self.frozen_at.date()
        return self.amended_on or self.frozen_at.date()

    @property
    def author(self) -> str:
        """Who registered or published the version (who started it, for a draft)."""
        if self.frozen_at is not None:
            return self.frozen_by.get_username() if self.frozen_by else self.frozen_by_name
        return self.created_by.get_username() if self.created_by else self.created_by_name

    @property
    def registry_label(self) -> str:
        if self.registry == Registry.OTHER and self.registry_name:
            return self.registry_name
        return self.get_registry_display() if self.registry else ""
