"""Plain-language statements (GRADE guidelines 26, Santesso et al. 2020)."""

from __future__ import annotations

import pytest

from synthesis.grade import effect_size_class, statement
from synthesis.grade.errors import GradeInputError
from synthesis.grade.statements import statement_of

from .grade_results import log, model, result

X, Y = "exercise", "pain"


@pytest.mark.parametrize(
    ("certainty", "size", "estimate", "expected"),
    [
        ("high", "important", -1, "Exercise reduces pain."),
        ("high", "small", -1, "Exercise reduces pain slightly."),
        ("high", "trivial", -1, "Exercise results in little to no difference in pain."),
        ("high", "important", 1, "Exercise increases pain."),
        ("moderate", "important", -1, "Exercise probably reduces pain."),
        ("moderate", "small", 1, "Exercise probably increases pain slightly."),
        ("moderate", "trivial", 1, "Exercise probably results in little to no difference in pain."),
        ("low", "important", -1, "Exercise may reduce pain."),
        ("low", "small", 1, "Exercise may increase pain slightly."),
        ("low", "trivial", -1, "Exercise may result in little to no difference in pain."),
        ("very low", "important", -1, "The evidence is very uncertain about the effect of exercise on pain."),
        ("very low", "small", 1, "The evidence is very uncertain about the effect of exercise on pain."),
        ("very low", "trivial", -1, "The evidence is very uncertain about the effect of exercise on pain."),
    ],
)  # fmt: skip
def test_statements_table(certainty, size, estimate, expected):
    assert statement(certainty, X, Y, size=size, estimate=estimate) == expected


@pytest.mark.parametrize(
    ("estimate", "lb", "ub", "kwargs", "size"),
    [
        (8, 6, 10, {"mid": 5}, "important"),  # whole CI beyond the MID
        (6, 2, 10, {"mid": 5}, "small"),  # estimate beyond the MID, CI reaches below it
        (-6, -10, -2, {"mid": 5}, "small"),
        (3, 1, 5, {"mid": 5}, "trivial"),  # estimate below the MID
        (6, 5.5, 7, {"mid": 5, "large": 10}, "small"),  # between the MID and "large"
        (12, 5.5, 15, {"mid": 5, "large": 10}, "important"),
        (1, 0.2, 2, {}, "important"),  # no MID: the null is the threshold
        (1, -0.2, 2, {}, "trivial"),
        (log(0.6), log(0.5), log(0.7), {"mid": 1.25, "ratio": True}, "important"),
        (log(0.9), log(0.8), log(1.0), {"mid": 0.8, "ratio": True}, "trivial"),
    ],
)
def test_effect_size_class(estimate, lb, ub, kwargs, size):
    assert effect_size_class(estimate, lb, ub, **kwargs) == size


def test_statement_from_a_results_dict():
    r = result(model(log(0.6), log(0.5), log(0.7)))
    text = statement_of(r, "moderate", "Early mobilisation", "delirium", mid=1.25)
    assert text == "Early mobilisation probably reduces delirium."


@pytest.mark.parametrize(
    "call",
    [
        lambda: statement("certain", X, Y, size="important"),
        lambda: statement("high", X, Y, size="huge"),
        lambda: statement("high", "", Y, size="important"),
        lambda: effect_size_class(None, 0, 1),
        lambda: effect_size_class(0.1, 0, 1, mid=0),
        lambda: effect_size_class(0.1, 0, 1, mid=1, ratio=True),
    ],
)
def test_bad_input_gets_a_clear_message(call):
    with pytest.raises(GradeInputError):
        call()
