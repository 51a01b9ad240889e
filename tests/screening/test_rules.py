"""The settle/conflict rules as a pure function, for one, two and three reviewers."""

import pytest

from screening.rules import CONFLICT, EXCLUDED, INCLUDED, PENDING, decide


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        (["include"], INCLUDED),
        (["exclude"], EXCLUDED),
        (["maybe"], CONFLICT),
    ],
)
def test_one_reviewer_settles_alone_except_on_maybe(decisions, expected):
    assert decide(decisions, required=1).status == expected


def test_one_reviewer_maybe_counts_as_include_when_the_review_says_so():
    assert decide(["maybe"], required=1, maybe_is_include=True).status == INCLUDED


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([], PENDING),
        (["include"], PENDING),
        (["include", "include"], INCLUDED),
        (["exclude", "exclude"], EXCLUDED),
        (["include", "exclude"], CONFLICT),
        (["exclude", "include"], CONFLICT),
        (["maybe", "include"], CONFLICT),
        (["maybe", "maybe"], CONFLICT),
        (["maybe", "exclude"], CONFLICT),
    ],
)
def test_two_reviewers_settle_only_when_they_agree(decisions, expected):
    assert decide(decisions, required=2).status == expected


def test_two_reviewers_with_maybe_as_include():
    assert decide(["maybe", "include"], required=2, maybe_is_include=True).status == INCLUDED
    assert decide(["maybe", "exclude"], required=2, maybe_is_include=True).status == CONFLICT


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        (["include", "include"], PENDING),
        (["include", "include", "include"], INCLUDED),
        (["exclude", "exclude", "exclude"], EXCLUDED),
        (["include", "include", "exclude"], CONFLICT),
        (["exclude", "exclude", "maybe"], CONFLICT),
    ],
)
def test_three_reviewers_need_all_three_to_agree(decisions, expected):
    assert decide(decisions, required=3).status == expected


def test_an_exclusion_keeps_the_one_reason_given_and_neither_of_two_different_ones():
    outcome = decide(["exclude", "exclude"], required=2, reasons=[None, 7])
    assert (outcome.status, outcome.reason) == (EXCLUDED, 7)
    outcome = decide(["exclude", "exclude"], required=2, reasons=[7, 7])
    assert (outcome.status, outcome.reason) == (EXCLUDED, 7)
    # Where reasons need not agree, the votes agree to exclude; neither voter's reason stands
    # for both (each stays on its vote).
    outcome = decide(["exclude", "exclude"], required=2, reasons=[3, 7])
    assert (outcome.status, outcome.reason) == (EXCLUDED, None)
    assert "different reasons" in outcome.why


def test_differing_reasons_are_a_conflict_where_reasons_are_required():
    outcome = decide(["exclude", "exclude"], required=2, reasons=[3, 7], reasons_must_agree=True)
    assert outcome.status == CONFLICT
    assert "reasons" in outcome.why
    same = decide(["exclude", "exclude"], required=2, reasons=[3, 3], reasons_must_agree=True)
    assert (same.status, same.reason) == (EXCLUDED, 3)


def test_it_rejects_nonsense():
    with pytest.raises(ValueError):
        decide(["include"], required=0)
    with pytest.raises(ValueError):
        decide(["delete"], required=1)
    with pytest.raises(ValueError):
        decide(["include"], required=1, reasons=[])
