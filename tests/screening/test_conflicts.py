"""Conflicts: who may resolve them, what a resolution records, and what it needs."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from screening import selectors, services
from screening.constants import Stage
from screening.models import ScreeningItem

from .factories import full_text_item, reason, status, ta_items, vote


def test_a_resolution_records_who_and_when_and_moves_an_include_on(
    review, lead, reviewer_a, reviewer_b, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "maybe")
    resolution = services.conflict_resolve(
        user=lead, review=review, item=item, decision="include", note="Worth a look"
    )
    item.refresh_from_db()
    assert item.status == "included" and item.settled_at is not None
    assert resolution.resolved_by == lead and resolution.resolved_at is not None
    assert ScreeningItem.objects.filter(record=item.record, stage=Stage.FULL_TEXT).exists()
    with pytest.raises(ValidationError, match="not in conflict"):
        services.conflict_resolve(user=lead, review=review, item=item, decision="exclude")


def test_voters_may_not_resolve_their_own_conflict_by_default(
    review, lead, reviewer_a, reviewer_b, records
):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude")
    with pytest.raises(PermissionDenied):
        services.conflict_resolve(user=reviewer_a, review=review, item=item, decision="include")
    services.settings_update(actor=lead, review=review, resolvers="leads")
    assert not selectors.may_resolve_some(user=reviewer_a, review=review)
    services.settings_update(actor=lead, review=review, resolvers="any")
    services.conflict_resolve(user=reviewer_a, review=review, item=item, decision="include")
    assert status(item) == "included"


def test_a_resolution_to_exclude_needs_a_reason_where_required(
    review, lead, reviewer_a, reviewer_b, records
):
    item = full_text_item(review, reviewer_a, reviewer_b, attached_by=lead)
    vote(reviewer_a, review, item, "include")
    vote(reviewer_b, review, item, "exclude", reason=reason(review, Stage.FULL_TEXT).pk)
    with pytest.raises(ValidationError, match="reason"):
        services.conflict_resolve(user=lead, review=review, item=item, decision="exclude")
    with pytest.raises(ValidationError):
        services.conflict_resolve(user=lead, review=review, item=item, decision="maybe")
    assert status(item) == "conflict"
