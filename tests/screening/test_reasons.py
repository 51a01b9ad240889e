"""Exclusion reasons: seeded, ordered, edited by a lead, and retired rather than deleted once used."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from screening import selectors, services
from screening.constants import Stage
from screening.models import Vote

from .factories import ta_items, vote


def test_reasons_are_seeded_ordered_and_editable(review, lead, reviewer_a, records):
    ta_items(review)
    labels = [r.label for r in selectors.reasons_for(review, Stage.FULL_TEXT)]
    assert labels[0] == "Wrong population" and len(labels) >= 5
    added = services.reason_add(
        actor=lead, review=review, stage="title_abstract", label=" Animal  study "
    )
    assert added.label == "Animal study"
    with pytest.raises(ValidationError, match="already"):
        services.reason_add(actor=lead, review=review, stage="title_abstract", label="animal study")
    services.reason_move(actor=lead, review=review, reason=added, offset=-1)
    order = [r.label for r in selectors.reasons_for(review, Stage.TITLE_ABSTRACT)]
    assert order[-2] == "Animal study"
    services.reason_update(actor=lead, review=review, reason=added, label="Animals only")
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "exclude", reason=added.pk)
    with pytest.raises(ValidationError, match="retire"):
        services.reason_delete(actor=lead, review=review, reason=added)
    services.reason_update(actor=lead, review=review, reason=added, active=False)
    assert added not in selectors.reasons_for(review, Stage.TITLE_ABSTRACT)
    assert Vote.objects.get(item=item).reason.label == "Animals only"
    with pytest.raises(PermissionDenied):
        services.reason_add(actor=reviewer_a, review=review, stage="title_abstract", label="X")
