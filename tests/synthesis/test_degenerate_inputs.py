"""Degenerate inputs give a clear StatsInputError or metafor's answer, never a crash."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthesis.stats import (
    StatsError,
    StatsInputError,
    cumulative,
    egger_test,
    escalc,
    heterogeneity_confint,
    leave_one_out,
    meta_analyse,
    meta_fit,
    metareg_fit,
    moderator_design,
    rank_test,
    subgroup_analyse,
    trim_and_fill,
)
from synthesis.stats._inputs import METHODS

Y = [0.1, 0.4, -0.2, 0.3, 0.25]
V = [0.04, 0.02, 0.05, 0.03, 0.01]


def test_the_error_is_a_value_error():
    assert issubclass(StatsInputError, StatsError)
    assert issubclass(StatsError, ValueError)


@pytest.mark.parametrize("method", METHODS)
def test_it_rejects_a_single_study(method):
    with pytest.raises(StatsInputError, match="At least 2 studies"):
        meta_fit([0.3], [0.01], method=method)


def test_it_rejects_no_studies():
    with pytest.raises(StatsInputError):
        meta_fit([], [])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None])
def test_it_rejects_missing_or_infinite_effects_and_names_the_study(bad):
    y = [0.1, bad, 0.3]
    with pytest.raises(StatsInputError, match="study \\(1-based\\) 2"):
        meta_fit(y, [0.01, 0.02, 0.03])


def test_it_rejects_nan_variances():
    with pytest.raises(StatsInputError, match="non-finite"):
        meta_fit([0.1, 0.2, 0.3], [0.01, float("nan"), 0.03])


@pytest.mark.parametrize("v", [0.0, -0.01])
def test_it_rejects_zero_or_negative_variances(v):
    with pytest.raises(StatsInputError, match="must be positive"):
        meta_fit([0.1, 0.2, 0.3], [0.01, v, 0.03], method="DL")


def test_it_rejects_negative_standard_errors():
    with pytest.raises(StatsInputError, match="sei"):
        meta_fit([0.1, 0.2, 0.3], sei=[0.1, -0.2, 0.3])


def test_it_accepts_standard_errors_instead_of_variances():
    a = meta_fit(Y, sei=np.sqrt(V), method="REML")
    b = meta_fit(Y, V, method="REML")
    assert math.isclose(a.estimate, b.estimate, rel_tol=1e-14)


def test_it_rejects_mismatched_lengths():
    with pytest.raises(StatsInputError, match="pair up"):
        meta_fit([0.1, 0.2, 0.3], [0.01, 0.02])


def test_it_rejects_text_where_numbers_are_needed():
    with pytest.raises(StatsInputError, match="numbers"):
        meta_fit(["a", "b"], [0.1, 0.2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "GENQ"}, "Unknown method"),
        ({"test": "hksj"}, "Unknown test"),
        ({"level": 100}, "percentage"),
        ({"level": 0}, "percentage"),
        ({"level": "high"}, "number"),
    ],
)
def test_it_rejects_unknown_options(kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        meta_fit(Y, V, **kwargs)


@pytest.mark.parametrize("method", METHODS)
def test_identical_effects_give_metafors_answer(method):
    y = [0.5] * 5
    v = [0.01, 0.02, 0.03, 0.04, 0.05]
    fit = meta_fit(y, v, method=method)
    assert fit.estimate == 0.5
    assert fit.tau2 == 0.0
    assert fit.qe == 0.0
    assert fit.qep == 1.0
    assert fit.i2 == 0.0
    # Under Knapp-Hartung the weighted RSS is 0, so metafor sets s2w = 0: se = 0, t = Inf.
    knha = meta_fit(y, v, method=method, test="knha")
    assert knha.s2w == 0.0 and knha.se == 0.0
    assert knha.zval == math.inf and knha.pval == 0.0
    assert knha.ci_lb == knha.ci_ub == 0.5
    if method != "FE":
        ci = heterogeneity_confint(fit)
        assert ci.ci_null and (ci.tau2_lb, ci.tau2_ub) == (0.0, 0.0)
    rank = rank_test(fit)
    assert math.isnan(rank.tau) and math.isnan(rank.pval)
    with pytest.raises(StatsInputError, match="R0"):
        trim_and_fill(fit, estimator="R0")
    assert trim_and_fill(fit).k0 == 0
    assert egger_test(fit).slope == 0.0
    assert np.all(leave_one_out(knha).se == 0.0)
    assert np.all(cumulative(fit).tau2 == 0.0)


def test_two_studies_fit_but_random_effects_egger_and_trimfill_refuse():
    fit = meta_fit([0.1, 0.9], [0.04, 0.09], method="REML")
    assert fit.k == 2
    with pytest.raises(StatsInputError, match="at least 3"):
        egger_test(fit)
    with pytest.raises(StatsInputError, match="Number of parameters"):
        trim_and_fill(fit)
    ci = heterogeneity_confint(fit)
    assert ci.ub_sign == ">"  # capped at tau2_max, as metafor
    assert heterogeneity_confint(fit, tau2_max=1e6).ub_sign == ""


def test_equal_standard_errors_make_egger_and_the_trimfill_side_undefined():
    fit = meta_fit(Y, [0.02] * 5, method="DL")
    with pytest.raises(StatsInputError, match="same standard error"):
        egger_test(fit)
    with pytest.raises(StatsInputError, match="side="):
        trim_and_fill(fit)
    assert trim_and_fill(fit, side="left").side == "left"


def test_a_common_effect_model_has_no_heterogeneity_interval():
    with pytest.raises(StatsInputError, match="FE"):
        heterogeneity_confint(meta_fit(Y, V, method="FE"))


def test_the_bundle_notes_what_it_could_not_compute():
    analysis = meta_analyse([0.1, 0.9], [0.04, 0.09], method="DL")
    assert analysis.egger is None and analysis.trimfill is None
    assert any("Egger" in n for n in analysis.notes)
    assert any("Trim-and-fill" in n for n in analysis.notes)


def test_extreme_variance_ratios_still_fit_and_are_flagged():
    v = [0.0004, 0.02, 0.03, 20000.0, 0.05, 0.01]
    analysis = meta_analyse([0.1, -0.3, 0.5, 2.0, 0.0, 0.2], v, method="REML")
    assert np.isfinite(analysis.fit.estimate)
    assert any("ratio" in n for n in analysis.notes)


def test_a_large_meta_analysis_converges():
    rng = np.random.default_rng(7)
    v = rng.uniform(0.01, 0.2, 10_000)
    y = rng.normal(0.2, np.sqrt(v + 0.05))
    fit = meta_fit(y, v, method="REML")
    assert fit.converged and 0.03 < fit.tau2 < 0.07


# ------------------------------------------------------------------ meta-regression


def test_metaregression_needs_more_studies_than_coefficients():
    with pytest.raises(StatsInputError, match="Number of parameters"):
        metareg_fit(Y[:3], V[:3], [[1, 2], [2, 1], [3, 5]], method="REML")


def test_metaregression_rejects_a_constant_moderator():
    with pytest.raises(StatsInputError, match="full rank"):
        metareg_fit(Y, V, [1.0] * 5, method="REML")


def test_metaregression_rejects_missing_moderator_values():
    with pytest.raises(StatsInputError, match="non-finite"):
        metareg_fit(Y, V, [1.0, np.nan, 3.0, 4.0, 5.0])
    with pytest.raises(StatsInputError, match="missing in study"):
        moderator_design({"dose": [1, "", 3, 4, 5]})


def test_metaregression_needs_factors_to_be_encoded():
    with pytest.raises(StatsInputError, match="moderator_design"):
        metareg_fit(Y, V, ["a", "b", "a", "b", "a"])


def test_a_factor_with_one_level_is_rejected():
    with pytest.raises(StatsInputError, match="single level"):
        moderator_design({"arm": ["x"] * 5})


def test_factors_get_treatment_coding_with_the_first_level_as_reference():
    design = moderator_design({"dose": [1, 2, 3, 4, 5], "arm": ["b", "a", "c", "a", "b"]})
    assert design.names == ("dose", "arm[b]", "arm[c]")
    assert design.X[:, 1].tolist() == [1, 0, 0, 0, 1]
    fit = metareg_fit(Y, V, design, method="FE")
    assert fit.coef_names == ("intercept", "dose", "arm[b]", "arm[c]")


def test_numeric_codes_can_be_forced_to_be_a_factor():
    design = moderator_design({"site": [1, 2, 1, 2, 3]}, categorical=["site"])
    assert design.names == ("site[2]", "site[3]")


# ----------------------------------------------------------------------- subgroups


def test_subgroups_need_two_groups_and_a_label_for_every_study():
    with pytest.raises(StatsInputError, match="two subgroups"):
        subgroup_analyse(Y, V, ["a"] * 5)
    with pytest.raises(StatsInputError, match="label"):
        subgroup_analyse(Y, V, ["a", "b", None, "a", "b"])
    with pytest.raises(StatsInputError, match="one subgroup label per study"):
        subgroup_analyse(Y, V, ["a", "b"])


def test_a_subgroup_of_one_study_is_fitted_as_metafor_does():
    res = subgroup_analyse(Y, V, ["a", "a", "a", "a", "b"], method="REML")
    lone = res.separate[1]
    assert lone.k == 1 and lone.tau2 == 0.0 and lone.estimate == Y[4]
    assert math.isclose(lone.se, math.sqrt(V[4]))


# -------------------------------------------------------------------------- escalc


@pytest.mark.parametrize(
    "measure, kwargs, message",
    [
        ("OR", {"ai": [1, -1], "bi": [5, 5], "ci": [2, 2], "di": [5, 5]}, "negative"),
        ("OR", {"ai": [1, 7], "n1i": [5, 5], "ci": [2, 2], "n2i": [5, 5]}, "negative"),
        ("ZCOR", {"ri": [0.2, 1.2], "ni": [20, 30]}, "Correlations"),
        ("SMD", {"m1i": [1], "sd1i": [-1], "n1i": [10], "m2i": [0], "sd2i": [1], "n2i": [10]},
         "Standard deviations"),
        ("PLO", {"xi": [12], "ni": [10]}, "Event counts"),
        ("XYZ", {}, "Unknown measure"),
        ("OR", {"ai": [1], "ci": [1]}, "bi"),
    ],
)  # fmt: skip
def test_escalc_rejects_impossible_data(measure, kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        escalc(measure, **kwargs)


def test_escalc_turns_infinite_results_into_nan():
    res = escalc("OR", ai=[0, 3], bi=[10, 7], ci=[3, 4], di=[7, 6], add=0)
    assert math.isnan(res.yi[0]) and math.isnan(res.vi[0])
    assert np.isfinite(res.yi[1])


def test_a_fit_that_does_not_converge_says_so(monkeypatch):
    from synthesis.stats import StatsConvergenceError, _batch

    fit = meta_fit(Y, V, method="REML")
    monkeypatch.setattr(_batch, "MAXITER", 1)
    with pytest.raises(StatsConvergenceError, match="did not converge"):
        meta_fit(Y, V, method="REML")
    res = leave_one_out(fit)
    assert not res.converged.all()
    assert np.isnan(res.estimate[~res.converged]).all()  # metafor reports NA for these
    assert np.isfinite(res.estimate[res.converged]).all()
