"""Fixtures for the four PRISMA 2020 templates; the numbers are explained in factories.py."""

from __future__ import annotations

import pytest

from reporting.prisma import Box, PrismaCounts

from .factories import databases_only, update, with_other_methods


@pytest.fixture
def new_review() -> PrismaCounts:
    """Template A."""
    return databases_only()


@pytest.fixture
def new_review_other() -> PrismaCounts:
    """Template B, other methods entered by hand."""
    return with_other_methods()


@pytest.fixture
def updated_review() -> PrismaCounts:
    """Template C, with the meta-analysis box."""
    return databases_only(
        update=update(28, 32),
        meta_analysis_studies=21,
        meta_analysis_reports=26,
        hand_entered={Box.PREVIOUS},
    )


@pytest.fixture
def updated_review_other() -> PrismaCounts:
    """Template D."""
    return with_other_methods(update=update(37, 42))


@pytest.fixture(params=["new_review", "new_review_other", "updated_review", "updated_review_other"])
def any_review(request) -> PrismaCounts:
    return request.getfixturevalue(request.param)
