from __future__ import annotations

import pytest

from reviews import services as review_services
from reviews.constants import Role
from tests.conftest import make_user

from .factories import make_records


@pytest.fixture
def reviewer_c(review):
    user = make_user("reviewer_c")
    review_services.membership_add(
        actor=review.created_by, review=review, identifier="reviewer_c", roles=[Role.REVIEWER]
    )
    return user


@pytest.fixture
def viewer(review):
    user = make_user("viewer")
    review_services.membership_add(
        actor=review.created_by, review=review, identifier="viewer", roles=[Role.VIEWER]
    )
    return user


@pytest.fixture
def records(review):
    return make_records(review, 6)
