from __future__ import annotations

import dataclasses

import pytest

from reporting.prisma import OTHER_METHODS_BOXES, Box, OtherMethods, Template

from .factories import databases_only, other_methods, update, with_other_methods


def test_it_picks_the_template_from_what_the_review_has(request):
    templates = {
        name: request.getfixturevalue(name).template
        for name in ("new_review", "new_review_other", "updated_review", "updated_review_other")
    }

    assert templates == {
        "new_review": Template.NEW_DATABASES,
        "new_review_other": Template.NEW_OTHER,
        "updated_review": Template.UPDATED_DATABASES,
        "updated_review_other": Template.UPDATED_OTHER,
    }


def test_it_derives_totals_from_the_per_source_lists(new_review_other):
    c = new_review_other

    assert (c.databases_total, c.registers_total, c.identified) == (1_171, 59, 1_230)
    assert c.removed_before_screening == 348
    assert c.reports_excluded_total == 87
    assert c.other_methods.identified == 57
    assert c.other_methods.sources == (
        ("Websites", 14),
        ("Organisations", 7),
        ("Citation searching", 36),
    )


def test_it_is_frozen_hashable_and_keeps_list_order(new_review):
    assert new_review.databases == (
        ("MEDLINE (Ovid)", 611),
        ("Embase", 433),
        ("CINAHL & PsycINFO", 127),
    )
    assert hash(new_review) == hash(databases_only())
    with pytest.raises(dataclasses.FrozenInstanceError):
        new_review.records_screened = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"records_screened": -1}, ValueError),
        ({"records_screened": True}, TypeError),
        ({"records_screened": 882.0}, TypeError),
        ({"databases": [("MEDLINE", -3)]}, ValueError),
        ({"databases": [("  ", 3)]}, ValueError),
        ({"reports_excluded": "Wrong population, 3"}, TypeError),
        ({"meta_analysis_reports": 3}, ValueError),
        ({"hand_entered": {Box.OTHER_SOUGHT}}, ValueError),
        ({"hand_entered": {Box.TOTAL}}, ValueError),
    ],
)
def test_it_refuses_impossible_counts(overrides, error):
    with pytest.raises(error):
        databases_only(**overrides)


def test_it_refuses_an_other_methods_column_without_any_source():
    with pytest.raises(ValueError, match="at least one"):
        other_methods(websites=None, organisations=None, citation_searching=None)


def test_it_leaves_out_sources_that_were_not_searched():
    column = other_methods(websites=None, organisations=None)

    assert column.sources == (("Citation searching", 36),)
    assert isinstance(column, OtherMethods)


def test_it_accepts_hand_entered_boxes_by_name(new_review_other):
    counts = with_other_methods(hand_entered={"other_sought", "other_identified"})

    assert counts.hand_entered == {Box.OTHER_SOUGHT, Box.OTHER_IDENTIFIED}
    assert new_review_other.hand_entered == OTHER_METHODS_BOXES


def test_it_lists_the_boxes_each_diagram_draws(updated_review):
    assert updated_review.boxes - databases_only().boxes == {
        Box.PREVIOUS,
        Box.TOTAL,
        Box.META_ANALYSIS,
    }
    assert with_other_methods(update=update(37, 42)).boxes >= OTHER_METHODS_BOXES
