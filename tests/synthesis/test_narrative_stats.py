"""Synthesis without meta-analysis (synthesis.stats.narrative) against base R.

The reference values come from ``tests/fixtures/metafor/make_narrative.R`` (base R 4.2.2:
``binom.test``, ``prop.test``, ``pchisq``, ``pnorm``/``qnorm``, ``quantile``, ``median``; the
``metap`` formulas written out). They are closed forms or R's own special functions, so the
comparison is relative 1e-10; a value R gives as exactly 0 (an underflowed p-value) must be 0.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from synthesis import stats
from synthesis.stats import (
    CombinedP,
    EffectSummary,
    SignTest,
    StatsInputError,
    combine_p,
    effect_direction,
    sign_test,
    summarise_effects,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "metafor"
CASES_FILE = FIXTURES / "narrative_cases.json"
RTOL = 1e-10
EXPECTED_COUNTS = {"sign_test": 17, "combine_p": 20, "summary": 8}


@cache
def load_cases() -> tuple[dict, ...]:
    with CASES_FILE.open() as fh:
        return tuple(json.load(fh))


def cases_of(kind: str) -> list[dict]:
    return [c for c in load_cases() if c["kind"] == kind]


def ids(cases: list[dict]) -> list[str]:
    return [c["name"] for c in cases]


def assert_close(got: float, expected: float, what: str, *, atol: float = 0.0) -> None:
    if expected == 0.0:
        assert abs(got) <= atol, f"{what}: got {got!r}, R gives 0"
        return
    assert math.isclose(got, expected, rel_tol=RTOL, abs_tol=atol), (
        f"{what}: got {got!r}, R gives {expected!r} "
        f"(relative difference {abs(got - expected) / abs(expected):.2e})"
    )


def test_the_reference_file_holds_every_case_and_its_generator():
    counts: dict[str, int] = {}
    for case in load_cases():
        counts[case["kind"]] = counts.get(case["kind"], 0) + 1
    assert counts == EXPECTED_COUNTS
    assert len({c["name"] for c in load_cases()}) == len(load_cases())
    assert (FIXTURES / "make_narrative.R").is_file()


# ----------------------------------------------------------------------------- sign test


@pytest.mark.parametrize("case", cases_of("sign_test"), ids=ids(cases_of("sign_test")))
def test_sign_test_matches_binom_test(case):
    inp, exp = case["inputs"], case["expected"]
    res = sign_test(inp["n_beneficial"], inp["n_harmful"], level=inp["level"])
    assert isinstance(res, SignTest)
    assert (res.n, res.k) == (exp["n"], exp["k"])
    assert res.interval == "clopper-pearson"
    assert_close(res.proportion, exp["proportion"], "proportion")
    assert_close(res.p_value, exp["p_value"], "p-value")
    assert_close(res.ci_lb, exp["ci_lb"], "Clopper-Pearson lower bound")
    assert_close(res.ci_ub, exp["ci_ub"], "Clopper-Pearson upper bound")


@pytest.mark.parametrize("case", cases_of("sign_test"), ids=ids(cases_of("sign_test")))
def test_wilson_interval_matches_prop_test(case):
    inp, exp = case["inputs"], case["expected"]
    res = sign_test(inp["n_beneficial"], inp["n_harmful"], level=inp["level"], interval="wilson")
    assert res.interval == "wilson"
    assert_close(res.p_value, exp["p_value"], "p-value")
    assert_close(res.ci_lb, exp["wilson_ci_lb"], "Wilson lower bound")
    assert_close(res.ci_ub, exp["wilson_ci_ub"], "Wilson upper bound")


def test_sign_test_reproduces_hilton_boon_and_thomson():
    # Their re-analysis of the housing review: 9 of 9 studies improved housing condition
    # (P = 0.0039); 5 of 6 improved general health (P = 0.2188).
    assert sign_test(9, 0).p_value == pytest.approx(0.0039, abs=5e-5)
    assert sign_test(5, 1).p_value == pytest.approx(0.2188, abs=5e-5)


def test_sign_test_is_symmetric_in_benefit_and_harm():
    a, b = sign_test(12, 5), sign_test(5, 12)
    assert a.p_value == pytest.approx(b.p_value, rel=1e-14)
    assert a.ci_lb == pytest.approx(1 - b.ci_ub, rel=1e-12)
    assert a.ci_ub == pytest.approx(1 - b.ci_lb, rel=1e-12)


def test_sign_test_accepts_whole_floats_and_keeps_the_counts():
    res = sign_test(4.0, 2)
    assert (res.n_beneficial, res.n_harmful, res.n, res.k) == (4, 2, 6, 4)
    assert res.level == 95.0


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0, 0), {}, "at least one study with a direction"),
        ((-1, 3), {}, "cannot be negative"),
        ((2.5, 3), {}, "whole number"),
        (("three", 3), {}, "whole number"),
        ((True, 3), {}, "whole number"),
        ((float("nan"), 3), {}, "whole number"),
        ((3, 3), {"level": 100}, "percentage"),
        ((3, 3), {"level": 0}, "percentage"),
        ((3, 3), {"interval": "wald"}, "Unknown interval"),
    ],
)
def test_sign_test_refuses_bad_input(args, kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        sign_test(*args, **kwargs)


# ----------------------------------------------------------------------------- combined p


@pytest.mark.parametrize("case", cases_of("combine_p"), ids=ids(cases_of("combine_p")))
def test_combine_p_matches_metap_formulas(case):
    inp, exp = case["inputs"], case["expected"]
    res = combine_p(
        inp["p_values"],
        method=inp["method"],
        weights=inp["weights"],
        one_sided=inp["one_sided"],
        directions=inp["directions"],
    )
    assert isinstance(res, CombinedP)
    assert res.method == inp["method"]
    assert res.k == len(inp["p_values"])
    assert res.df == exp["df"]
    np.testing.assert_allclose(res.p_one_sided, exp["p_one_sided"], rtol=RTOL, atol=0)
    assert_close(res.statistic, exp["statistic"], "statistic", atol=1e-15)
    assert_close(res.p_value, exp["p_value"], "combined p-value")
    if inp["method"] == "stouffer":
        expected_w = inp["weights"] if inp["weights"] is not None else [1.0] * res.k
        np.testing.assert_array_equal(res.weights, expected_w)
    else:
        assert res.weights is None


def test_combined_results_cannot_be_changed():
    res = combine_p([0.1, 0.2], method="stouffer", weights=[1, 2])
    with pytest.raises(ValueError):
        res.p_one_sided[0] = 0.5
    with pytest.raises(ValueError):
        res.weights[0] = 3.0


def test_equal_weights_give_the_unweighted_stouffer():
    p = [0.01, 0.2, 0.5, 0.04]
    a = combine_p(p, method="stouffer")
    b = combine_p(p, method="stouffer", weights=[7, 7, 7, 7])
    assert a.statistic == pytest.approx(b.statistic, rel=1e-14)


def test_method_names_are_case_insensitive():
    assert combine_p([0.1, 0.2], method="Fisher").method == "fisher"


@pytest.mark.parametrize(
    ("p", "kwargs", "message"),
    [
        ([0.1, 0.2], {"method": "tippett"}, "Unknown method"),
        ([0.1], {"method": "fisher"}, "at least two"),
        ([], {"method": "stouffer"}, "at least two"),
        ([0.1, 0.0], {"method": "fisher"}, r"\(0, 1\]; study \(1-based\) 2 has 0"),
        ([0.1, 1.2], {"method": "fisher"}, r"\(0, 1\]"),
        ([-0.1, 0.2], {"method": "stouffer"}, r"\(0, 1\]"),
        ([0.1, float("nan")], {"method": "fisher"}, r"\(0, 1\]"),
        ([0.1, "x"], {"method": "fisher"}, "numbers only"),
        ([[0.1, 0.2]], {"method": "fisher"}, "one-dimensional"),
        ([0.1, 1.0], {"method": "stouffer"}, "one-sided p-value of 1"),
        ([0.1, 0.2], {"method": "fisher", "weights": [1, 2]}, "takes no weights"),
        ([0.1, 0.2], {"method": "stouffer", "weights": [1]}, "2 p-values but 1 weights"),
        ([0.1, 0.2], {"method": "stouffer", "weights": [1, 0]}, "positive finite"),
        ([0.1, 0.2], {"method": "stouffer", "weights": [1, -2]}, "positive finite"),
        ([0.1, 0.2], {"method": "stouffer", "weights": [1, np.inf]}, "positive finite"),
        ([0.1, 0.2], {"method": "fisher", "one_sided": False}, "need each study's direction"),
        (
            [0.1, 0.2],
            {"method": "fisher", "one_sided": False, "directions": ["beneficial"]},
            "2 p-values but 1 directions",
        ),
        (
            [0.1, 0.2],
            {"method": "fisher", "one_sided": False, "directions": "beneficial"},
            "one direction per study",
        ),
        (
            [0.1, 0.2],
            {"method": "fisher", "one_sided": False, "directions": ["beneficial", "none"]},
            "study 2",
        ),
        (
            [0.1, 0.2],
            {
                "method": "fisher",
                "one_sided": False,
                "directions": ["beneficial", "no clear difference"],
            },
            "direction of its effect is known",
        ),
        ([0.1, 0.2], {"method": "fisher", "directions": [1, -1]}, "already one-sided"),
        (
            [0.1, 0.2],
            {"method": "fisher", "one_sided": False, "directions": 1},
            "2 p-values but 1 directions",
        ),
    ],
)
def test_combine_p_refuses_bad_input(p, kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        combine_p(p, **kwargs)


def test_directions_may_be_signs():
    by_word = combine_p(
        [0.04, 0.3], method="fisher", one_sided=False, directions=["beneficial", "harmful"]
    )
    by_sign = combine_p([0.04, 0.3], method="fisher", one_sided=False, directions=[1, -1])
    np.testing.assert_array_equal(by_word.p_one_sided, [0.02, 0.85])
    assert by_sign.p_value == by_word.p_value
    by_generator = combine_p(
        [0.04, 0.3], method="fisher", one_sided=False, directions=(d for d in ("beneficial", -1))
    )
    assert by_generator.p_value == by_word.p_value


# ----------------------------------------------------------------------------- summaries


@pytest.mark.parametrize("case", cases_of("summary"), ids=ids(cases_of("summary")))
def test_summarise_effects_matches_quantile_type_7(case):
    exp = case["expected"]
    res = summarise_effects(case["inputs"]["yi"])
    assert isinstance(res, EffectSummary)
    assert res.k == exp["k"]
    for field in ("median", "q1", "q3", "min", "max"):
        assert_close(getattr(res, field), exp[field], field, atol=1e-15)


def test_summarise_effects_ignores_input_order():
    a = summarise_effects([3.0, -1.0, 2.0, 0.5])
    b = summarise_effects([0.5, 2.0, 3.0, -1.0])
    assert (a.median, a.q1, a.q3, a.min, a.max) == (b.median, b.q1, b.q3, b.min, b.max)


@pytest.mark.parametrize(
    ("yi", "message"),
    [
        ([], "no effect estimates"),
        ([0.1, float("nan")], r"study \(1-based\) 2"),
        ([0.1, float("inf"), 0.3], r"study \(1-based\) 2"),
        ([0.1, None], "study"),
        (["a"], "numbers only"),
    ],
)
def test_summarise_effects_refuses_bad_input(yi, message):
    with pytest.raises(StatsInputError, match=message):
        summarise_effects(yi)


# ----------------------------------------------------------------------------- direction


@pytest.mark.parametrize(
    ("yi", "lb", "ub", "favourable", "basis", "expected"),
    [
        # a lower value is good (log risk ratio of death)
        (-0.3, -0.6, -0.05, "lower", "sign", "beneficial"),
        (-0.3, -0.6, -0.05, "lower", "ci", "beneficial"),
        (-0.2, -0.5, 0.1, "lower", "sign", "beneficial"),
        (-0.2, -0.5, 0.1, "lower", "ci", "no clear difference"),
        (0.4, 0.1, 0.7, "lower", "sign", "harmful"),
        (0.4, 0.1, 0.7, "lower", "ci", "harmful"),
        (0.0, -0.3, 0.3, "lower", "sign", "no clear difference"),
        # a higher value is good (mean difference in a quality-of-life score)
        (2.5, 0.4, 4.6, "higher", "ci", "beneficial"),
        (2.5, -0.4, 5.4, "higher", "sign", "beneficial"),
        (2.5, -0.4, 5.4, "higher", "ci", "no clear difference"),
        (-1.0, -1.9, -0.1, "higher", "ci", "harmful"),
        (-1.0, -1.9, -0.1, "higher", "sign", "harmful"),
        # a bound exactly at the null: the interval includes it
        (-0.3, -0.6, 0.0, "lower", "ci", "no clear difference"),
        (0.3, 0.0, 0.6, "higher", "ci", "no clear difference"),
        # an estimate at its bound is inside the interval
        (-0.3, -0.3, -0.1, "lower", "ci", "beneficial"),
    ],
)
def test_effect_direction(yi, lb, ub, favourable, basis, expected):
    assert effect_direction(yi, lb, ub, favourable=favourable, basis=basis) == expected


def test_effect_direction_counts_on_the_sign_by_default_and_needs_no_interval():
    assert effect_direction(-0.01, favourable="lower") == "beneficial"
    assert effect_direction(0.01, favourable="lower") == "harmful"
    assert effect_direction(0, favourable="higher") == "no clear difference"


def test_effect_direction_on_a_ratio_scale_uses_the_given_null():
    assert effect_direction(0.8, 0.6, 1.1, favourable="lower", null=1.0) == "beneficial"
    assert effect_direction(0.8, 0.6, 1.1, favourable="lower", basis="ci", null=1.0) == (
        "no clear difference"
    )
    assert effect_direction(1.0, 0.7, 1.4, favourable="lower", null=1.0) == "no clear difference"


def test_effect_direction_options_are_case_insensitive():
    assert effect_direction(0.2, 0.1, 0.3, favourable=" Higher ", basis="CI") == "beneficial"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0.1,), {"favourable": "up"}, "Unknown favourable side"),
        ((0.1,), {"favourable": "lower", "basis": "p"}, "Unknown basis"),
        ((0.1,), {"favourable": "lower", "basis": "ci"}, "needs the confidence interval"),
        ((0.1, 0.0), {"favourable": "lower"}, "both confidence limits"),
        ((0.1, None, 0.3), {"favourable": "lower"}, "both confidence limits"),
        ((0.1, 0.3, 0.0), {"favourable": "lower"}, "above the upper one"),
        ((0.5, 0.0, 0.3), {"favourable": "lower"}, "outside its confidence interval"),
        ((float("nan"),), {"favourable": "lower"}, "finite"),
        ((0.1, float("-inf"), 0.3), {"favourable": "lower"}, "finite"),
        (("big",), {"favourable": "lower"}, "must be a number"),
        ((True,), {"favourable": "lower"}, "must be a number"),
        ((0.1,), {"favourable": "lower", "null": None}, "null value"),
    ],
)
def test_effect_direction_refuses_bad_input(args, kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        effect_direction(*args, **kwargs)


def test_directions_feed_the_sign_test():
    rows = [(-0.3, -0.6, 0.1), (-0.1, -0.4, 0.2), (0.2, -0.1, 0.5), (-0.5, -0.9, -0.1), (0, -1, 1)]
    directions = [effect_direction(*r, favourable="lower") for r in rows]
    assert directions.count("no clear difference") == 1
    res = sign_test(directions.count("beneficial"), directions.count("harmful"))
    assert (res.k, res.n) == (3, 4)


def test_everything_is_exported_from_the_package():
    for name in (
        "CombinedP",
        "EffectSummary",
        "SignTest",
        "combine_p",
        "effect_direction",
        "sign_test",
        "summarise_effects",
    ):
        assert name in stats.__all__
