"""Absolute effects per 1,000 against hand calculations (Cochrane Handbook 5.1, 11.5.5)."""

from __future__ import annotations

import math

import pytest

from synthesis.grade import absolute_effect, control_risk
from synthesis.grade.absolute import absolute_effect_of
from synthesis.grade.errors import GradeInputError

from .grade_results import model, result


def test_risk_ratio_hand_calculation():
    # RR 0.75 (0.60 to 0.94), assumed control risk 0.20:
    #   corresponding risk = 0.20 x 0.75 = 0.150 -> 150 per 1,000
    #   limits 0.20 x 0.60 = 0.120 -> 120; 0.20 x 0.94 = 0.188 -> 188
    #   difference 150 - 200 = 50 fewer (from 80 fewer to 12 fewer)
    e = absolute_effect("RR", math.log(0.75), math.log(0.60), math.log(0.94), 0.20)
    assert e.control_per_1000 == pytest.approx(200)
    assert e.risk_per_1000 == pytest.approx(150)
    assert (e.risk_lb_per_1000, e.risk_ub_per_1000) == pytest.approx((120, 188))
    assert e.difference_per_1000 == pytest.approx(-50)
    assert (e.difference_lb_per_1000, e.difference_ub_per_1000) == pytest.approx((-80, -12))
    assert e.notes == []
    assert e.text() == "150 per 1,000 (120 to 188); 50 fewer per 1,000 (from 80 fewer to 12 fewer)"


def test_handbook_example_same_risk_ratio_different_control_risks():
    # Cochrane Handbook 5.1, 11.5.5: RR 0.75 takes a control risk of 80 % to 60 % and one of
    # 20 % to 15 % (20 and 5 percentage points fewer).
    for acr, risk in ((0.80, 600), (0.20, 150)):
        e = absolute_effect("RR", math.log(0.75), math.log(0.75), math.log(0.75), acr)
        assert e.risk_per_1000 == pytest.approx(risk)


def test_odds_ratio_hand_calculation():
    # OR 0.60 (0.40 to 0.90), ACR 0.20; corresponding risk = OR x ACR / (1 - ACR + OR x ACR):
    #   0.60 x 0.2 / (0.8 + 0.12) = 0.12 / 0.92 = 0.130435 -> 130.4 per 1,000
    #   0.40 x 0.2 / (0.8 + 0.08) = 0.08 / 0.88 = 0.090909 -> 90.9
    #   0.90 x 0.2 / (0.8 + 0.18) = 0.18 / 0.98 = 0.183673 -> 183.7
    #   differences: -69.6 (-109.1 to -16.3)
    e = absolute_effect("OR", math.log(0.60), math.log(0.40), math.log(0.90), 0.20)
    assert e.risk_per_1000 == pytest.approx(130.4348, abs=1e-3)
    assert e.risk_lb_per_1000 == pytest.approx(90.9091, abs=1e-3)
    assert e.risk_ub_per_1000 == pytest.approx(183.6735, abs=1e-3)
    assert e.difference_per_1000 == pytest.approx(-69.5652, abs=1e-3)
    assert e.difference_lb_per_1000 == pytest.approx(-109.0909, abs=1e-3)
    assert e.difference_ub_per_1000 == pytest.approx(-16.3265, abs=1e-3)
    assert e.text() == "130 per 1,000 (91 to 184); 70 fewer per 1,000 (from 109 fewer to 16 fewer)"


def test_odds_ratio_on_the_ratio_scale():
    e = absolute_effect("OR", 0.60, 0.40, 0.90, 0.20, log_scale=False)
    assert e.risk_per_1000 == pytest.approx(130.4348, abs=1e-3)


def test_risk_difference_hand_calculation():
    # RD -0.05 (-0.08 to -0.02), ACR 0.20: 0.20 - 0.05 = 0.15 -> 150 (120 to 180) per 1,000;
    # difference 50 fewer (80 fewer to 20 fewer).
    e = absolute_effect("RD", -0.05, -0.08, -0.02, 0.20)
    assert (e.risk_per_1000, e.risk_lb_per_1000, e.risk_ub_per_1000) == pytest.approx(
        (150, 120, 180)
    )
    assert (
        e.difference_per_1000,
        e.difference_lb_per_1000,
        e.difference_ub_per_1000,
    ) == pytest.approx((-50, -80, -20))


def test_risk_difference_below_zero_is_clipped_with_a_note():
    # RD -0.10 (-0.25 to 0.05), ACR 0.15: 0.05 -> 50; 0.15 - 0.25 = -0.10 -> clipped to 0;
    # 0.15 + 0.05 = 0.20 -> 200.
    e = absolute_effect("RD", -0.10, -0.25, 0.05, 0.15)
    assert (e.risk_per_1000, e.risk_lb_per_1000, e.risk_ub_per_1000) == pytest.approx((50, 0, 200))
    assert e.difference_lb_per_1000 == pytest.approx(-150)
    assert len(e.notes) == 1
    assert "lower limit" in e.notes[0]
    assert "-100 per 1,000" in e.notes[0]


def test_risk_ratio_above_one_is_clipped_with_a_note():
    # RR 3.0 (1.5 to 6.0), ACR 0.25: 750 (375 to 1,500 -> clipped to 1,000).
    e = absolute_effect("RR", math.log(3), math.log(1.5), math.log(6), 0.25)
    assert (e.risk_per_1000, e.risk_lb_per_1000, e.risk_ub_per_1000) == pytest.approx(
        (750, 375, 1000)
    )
    assert "upper limit" in e.notes[0]
    assert e.text().endswith("(from 125 more to 750 more)")


def test_from_a_results_dict():
    r = result(model(math.log(0.75), math.log(0.60), math.log(0.94)), measure="RR")
    assert absolute_effect_of(r, 0.2).risk_per_1000 == pytest.approx(150)


def test_control_risk_is_the_median_of_the_control_arms():
    # risks 0.10, 0.20, 0.05 -> median 0.10; with an even count the mean of the middle two.
    assert control_risk([10, 20, 5], [100, 100, 100]) == pytest.approx(0.10)
    assert control_risk([1, 3], [10, 10]) == pytest.approx(0.20)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: control_risk([], []), "No control arms"),
        (lambda: control_risk([5], [4]), "not a risk"),
        (lambda: control_risk([1, 2], [10]), "as many"),
        (lambda: absolute_effect("MD", 1, 0, 2, 0.2), "binary measure"),
        (lambda: absolute_effect("RR", 0, -1, 1, 1.5), "proportion"),
        (lambda: absolute_effect("RR", None, -1, 1, 0.2), "missing"),
        (lambda: absolute_effect("OR", 0.5, -0.1, 1, 0.2, log_scale=False), "positive"),
    ],
)
def test_bad_input_gets_a_clear_message(call, message):
    with pytest.raises(GradeInputError, match=message):
        call()
