"""Setting screening up: a review's settings, refused when bad or changed by anyone but a lead."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from screening import selectors, services

from .factories import status, ta_items, vote


@pytest.mark.parametrize(
    "values",
    [
        {"reviewers_per_record": 4},
        {"reviewers_per_record": 0},
        {"reviewers_per_record": "two"},
        {"reviewers_per_record": True},
        {"blinded": "yes"},
        {"maybe_policy": "ignore"},
        {"resolvers": "anyone"},
        {"include_keywords": "<img src=x onerror=alert(1)>"},
        {"exclude_keywords": "\n".join(f"word{i}" for i in range(201))},
        {"colour": "red"},
    ],
)
def test_bad_settings_are_refused(review, lead, values):
    with pytest.raises(ValidationError):
        services.settings_update(actor=lead, review=review, **values)
    s = selectors.settings_for(review)
    assert (s.reviewers_per_record, s.blinded, s.include_keywords) == (2, True, "")


def test_only_a_lead_changes_settings(review, reviewer_a):
    with pytest.raises(PermissionDenied):
        services.settings_update(actor=reviewer_a, review=review, blinded=False)


def test_lowering_the_reviewers_needed_settles_waiting_records(review, lead, reviewer_a, records):
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")
    assert status(item) == "pending"
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    assert status(item) == "included"
