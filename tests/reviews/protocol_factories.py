"""Protocols for the tests: a small one, registered, amended."""

from __future__ import annotations

import copy
import datetime as dt

from reviews.protocol import services
from reviews.protocol.models import ProtocolVersion

CONTENT = {
    "administrative": {"title": "Exercise for depression"},
    "objectives": {"text": "To estimate the effect of exercise on depressive symptoms."},
    "eligibility": {
        "inclusion": ["Adults with depression", "Randomised trials"],
        "exclusion": ["Children only", "No control group"],
    },
    "information_sources": {"databases": ["MEDLINE", "Embase", "Scopus"]},
    "synthesis": {
        "effect_measure": "SMD",
        "model": "random",
        "tau2_estimator": "REML",
        "knapp_hartung": True,
        "subgroups": [{"name": "Exercise type", "variable": "type", "description": ""}],
        "sensitivity": [{"name": "Leave-one-out", "description": "Each trial in turn"}],
        "publication_bias": ["funnel", "egger"],
    },
}


def content(**changes) -> dict:
    """``CONTENT`` with sections replaced (``eligibility={...}``)."""
    out = copy.deepcopy(CONTENT)
    out.update(changes)
    return out


def register(review, lead, data: dict | None = None) -> ProtocolVersion:
    services.draft_save(actor=lead, review=review, content=data or CONTENT)
    return services.protocol_register(
        actor=lead,
        review=review,
        registry="prospero",
        registration_id="CRD42099000001",
        registration_url="https://www.crd.york.ac.uk/prospero/",
        registered_on=dt.date(2024, 3, 1),
    )


def amend_draft(review, lead, changes: dict) -> ProtocolVersion:
    """An amendment started (in draft) with ``changes`` (sections and fields)."""
    return services.draft_save(actor=lead, review=review, content=changes, partial=True)


def amend(review, lead, changes: dict, rationale: str = "A better plan.") -> ProtocolVersion:
    amend_draft(review, lead, changes)
    return services.amendment_publish(actor=lead, review=review, rationale=rationale)


def sample_version(review) -> int:
    """A frozen version of ``review`` (registered here if it has none), for the route walks."""
    version = ProtocolVersion.objects.filter(review=review).order_by("number").first()
    if version is None:
        lead = review.memberships.filter(role="lead").first().user
        version = register(review, lead)
    return version.pk
