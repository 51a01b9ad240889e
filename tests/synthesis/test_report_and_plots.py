"""The reporting helper and the plot data: what a review page and the CLI show."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from synthesis.stats import (
    forest_data,
    funnel_data,
    meta_analyse,
    meta_fit,
    summary_dict,
    summary_text,
    trim_and_fill,
)

from .oracle import cases_of

REQUIRED_KEYS = {
    "k", "method", "test", "estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2",
    "tau2_ci_lb", "tau2_ci_ub", "i2", "i2_ci_lb", "i2_ci_ub", "h2", "qe", "qe_df", "qep",
    "pi_lb", "pi_ub", "egger_z", "egger_p",
}  # fmt: skip
RANDOM_ONLY = {"tau2_ci_lb", "tau2_ci_ub", "i2_ci_lb", "i2_ci_ub", "pi_lb", "pi_ub"}


def _bcg():
    case = next(c for c in cases_of("rma") if c["name"] == "bcg_RR__REML__knha")
    return case


def test_the_dict_has_every_required_key_and_metafors_numbers():
    case = _bcg()
    raw = case["inputs"]["raw"]
    analysis = meta_analyse(
        case["inputs"]["yi"], case["inputs"]["vi"], method="REML", test="knha",
        moderators={"ablat": raw["ablat"], "alloc": raw["alloc"]}, groups=raw["alloc"],
    )  # fmt: skip
    out = summary_dict(analysis)
    assert out.keys() >= REQUIRED_KEYS
    e = case["expected"]
    assert math.isclose(out["zval"], e["zval"], rel_tol=1e-8)  # the t statistic under knha
    assert out["df"] == 12
    assert math.isclose(out["tau2_ci_lb"], e["confint"]["tau2"][1], rel_tol=1e-8)
    assert math.isclose(out["pi_ub"], e["predict"]["pi.ub"][0], rel_tol=1e-8)
    assert math.isclose(out["egger_z"], case["analyses"]["regtest_rma"]["zval"], rel_tol=1e-8)
    assert {"moderators", "subgroups", "leave_one_out", "trimfill"} <= out.keys()
    assert len(out["leave_one_out"]) == 13
    json.dumps(out, allow_nan=False)  # standard JSON


def test_the_dict_leaves_out_what_metafor_does_not_have_for_fe_models():
    analysis = meta_analyse([0.1, 0.4, -0.2, 0.3], [0.04, 0.02, 0.05, 0.03], method="FE")
    out = summary_dict(analysis)
    assert not RANDOM_ONLY & out.keys()
    assert out["tau2"] == 0.0
    assert "egger_z" in out


def test_the_dict_leaves_out_egger_below_three_studies():
    out = summary_dict(meta_analyse([0.1, 0.9], [0.04, 0.09], method="REML"))
    assert "egger_z" not in out and "egger_p" not in out
    assert "pi_lb" in out


def test_infinite_statistics_become_null_in_the_dict():
    out = summary_dict(meta_analyse([0.5] * 4, [0.01, 0.02, 0.03, 0.04], test="knha"))
    assert out["zval"] is None and out["pval"] == 0.0
    json.dumps(out, allow_nan=False)


def test_the_text_summary_reads_like_metafor():
    case = _bcg()
    text = summary_text(meta_analyse(case["inputs"]["yi"], case["inputs"]["vi"], test="knha"))
    assert "Random-Effects Model (k = 13; tau^2 estimator: REML)" in text
    assert "Q(df = 12) = 152.2330, p-val < .0001" in text
    assert "-0.7145" in text and "-3.9522" in text
    assert "Prediction interval (95%): [-1.9960, 0.5670]" in text
    assert "Kendall's tau = 0.0256, p = 0.9524" in text
    assert "missing studies on the right side: 1" in text


def test_the_forest_data_has_study_intervals_weights_and_the_pooled_rows():
    fit = meta_fit([0.1, 0.4, -0.2], [0.04, 0.01, 0.09], method="DL")
    forest = forest_data(fit, labels=["A", "B", "C"])
    assert forest.labels == ("A", "B", "C")
    np.testing.assert_allclose(forest.ci_lb, forest.yi - 1.959963984540054 * forest.sei)
    assert math.isclose(float(np.sum(forest.weight_pct)), 100.0)
    assert forest.pi_lb is not None and forest.pi_lb <= forest.ci_lb_pooled
    assert forest.x_min <= float(forest.ci_lb.min()) and forest.x_max >= float(forest.ci_ub.max())
    assert forest_data(meta_fit([0.1, 0.4], [0.04, 0.01], method="FE")).pi_lb is None


def test_forest_labels_must_match_the_studies():
    fit = meta_fit([0.1, 0.4, -0.2], [0.04, 0.01, 0.09])
    with pytest.raises(ValueError, match="one label per study"):
        forest_data(fit, labels=["only one"])


def test_the_funnel_lines_are_the_pseudo_confidence_region():
    case = next(c for c in cases_of("rma") if c["name"] == "hackshaw_OR__FE__z")
    fit = meta_fit(case["inputs"]["yi"], case["inputs"]["vi"], method="FE")
    tf = trim_and_fill(fit)
    assert tf.k0 == 7 and tf.side == "left"
    funnel = funnel_data(fit, trimfill=tf, points=5)
    assert funnel.center == tf.fit.estimate
    assert funnel.se_grid[0] == 0.0
    assert funnel.se_grid[-1] == max(funnel.sei.max(), funnel.filled_sei.max())
    np.testing.assert_allclose(
        funnel.line_ub - funnel.center, 1.959963984540054 * funnel.se_grid, rtol=1e-12
    )
    assert funnel.filled_yi.size == 7
