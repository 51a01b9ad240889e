"""Each GRADE domain's suggestion on hand-built results dicts, upgrading and the certainty."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import synthesis.grade
from synthesis.grade import (
    certainty,
    imprecision,
    inconsistency,
    indirectness,
    ois_binary,
    publication_bias,
    risk_of_bias,
    upgrades,
)
from synthesis.grade.domains import suggestions
from synthesis.grade.errors import GradeInputError

from .grade_results import log, model, result, study, without_high_rob

# ----- risk of bias ----------------------------------------------------------------------


def rob_result(robs_weights, sens=None, *, high_rob=("High",)):
    studies = [
        study(f"S{i}", -0.3, -0.6, 0.0, w, rob) for i, (rob, w) in enumerate(robs_weights, 1)
    ]
    sensitivity = [sens] if sens else []
    return result(
        model(-0.30, -0.50, -0.10, k=len(studies)),
        studies,
        sensitivity=sensitivity,
        high_rob=high_rob,
    )


def test_a_high_rob_weighted_analysis_that_depends_on_them_is_very_serious():
    # 70 % of the weight at high risk; without them the CI includes the null.
    r = rob_result(
        [("High", 40), ("High", 30), ("Low", 30)],
        without_high_rob(-0.05, -0.40, 0.30, ["S1", "S2"], k=1),
    )
    s = risk_of_bias(r)
    assert s.suggestion == "very serious" and s.levels == 2
    assert "high risk of bias: 70 % (S1, S2)" in s.evidence
    assert "the conclusion changes" in s.evidence
    assert "5.2.1" in s.rule
    assert s.data["conclusion_changes"] is True


def test_a_minority_of_high_rob_weight_that_changes_the_conclusion_is_serious():
    r = rob_result([("High", 20), ("Low", 80)], without_high_rob(-0.10, -0.30, 0.10, ["S1"], k=1))
    assert risk_of_bias(r).suggestion == "serious"


def test_most_weight_at_high_risk_with_a_robust_conclusion_is_serious():
    r = rob_result([("High", 60), ("Low", 40)], without_high_rob(-0.35, -0.60, -0.10, ["S1"], k=1))
    s = risk_of_bias(r)
    assert s.suggestion == "serious"
    assert "does not change" in s.evidence


def test_little_high_rob_weight_and_most_at_low_risk_is_no_concern():
    r = rob_result(
        [("High", 10), ("Low", 60), ("Some concerns", 30)],
        without_high_rob(-0.32, -0.52, -0.12, ["S1"], k=2),
    )
    s = risk_of_bias(r)
    assert s.suggestion == "no concern" and s.levels == 0
    assert "some concerns: 30 %" in s.evidence


def test_estimate_crossing_the_null_counts_as_a_changed_conclusion():
    # Both CIs include the null, but the estimate changes side.
    r = result(
        model(-0.10, -0.30, 0.10),
        [study("S1", -0.3, -0.6, 0.0, 30, "High"), study("S2", 0.1, -0.2, 0.4, 70, "Low")],
        sensitivity=[without_high_rob(0.05, -0.20, 0.30, ["S1"], k=1)],
    )
    assert risk_of_bias(r).data["conclusion_changes"] is True


def test_most_weight_with_some_concerns_is_serious():
    s = risk_of_bias(rob_result([("Some concerns", 60), ("Low", 40)]))
    assert s.suggestion == "serious"
    assert "not from studies at low risk" in s.evidence


def test_unfitted_sensitivity_leaves_the_shares_to_decide():
    sens = {**without_high_rob(None, None, None, ["S1", "S2"]), "error": "only one study left"}
    sens.update(estimate=None, ci_lb=None, ci_ub=None)
    s = risk_of_bias(rob_result([("High", 40), ("High", 30), ("Low", 30)], sens))
    assert s.suggestion == "serious"
    assert "unknown" in s.evidence


def test_robins_i_judgements_use_the_tools_high_set():
    s = risk_of_bias(
        rob_result(
            [("Serious", 30), ("Critical", 30), ("Moderate", 40)],
            high_rob=("Serious", "Critical"),
        )
    )
    assert s.data["shares"]["high"] == pytest.approx(60)
    assert s.data["shares"]["some"] == pytest.approx(40)
    assert s.suggestion == "serious"


def test_no_judgements_gives_no_suggestion():
    s = risk_of_bias(rob_result([(None, 50), (None, 50)]))
    assert s.suggestion is None
    assert "team judges" in s.evidence


# ----- inconsistency -------------------------------------------------------------------------


def het_result(i2, studies, *, pi=None, q_p=0.5, i2_ci=(None, None)):
    return result(
        model(-0.30, -0.50, -0.10, k=len(studies), i2=i2, pi=pi, q_p=q_p, i2_ci=i2_ci), studies
    )


OVERLAPPING = [study("A", -0.3, -0.6, 0.0, 50), study("B", -0.2, -0.5, 0.1, 50)]
APART = [study("A", -0.9, -1.2, -0.6, 50), study("B", 0.3, 0.1, 0.5, 50)]


def test_considerable_i2_with_non_overlapping_cis_is_very_serious():
    s = inconsistency(het_result(80, APART, i2_ci=(55, 93), q_p=0.001))
    assert s.suggestion == "very serious"
    assert "I² = 80 % (95 % CI 55 % to 93 %)" in s.evidence
    assert "considerable heterogeneity" in s.evidence
    assert "A and B do not overlap" in s.evidence
    assert s.data["non_overlapping"] == ["A", "B"]


def test_substantial_i2_is_serious():
    assert inconsistency(het_result(55, OVERLAPPING)).suggestion == "serious"


def test_low_i2_with_overlapping_cis_is_no_concern():
    s = inconsistency(het_result(20, OVERLAPPING))
    assert s.suggestion == "no concern"
    assert "might not be important" in s.evidence
    assert "Every pair" in s.evidence


def test_a_prediction_interval_crossing_the_null_alone_is_no_concern_but_two_signals_are():
    one = inconsistency(het_result(30, OVERLAPPING, pi=(-0.9, 0.3)))
    assert one.data["pi_crosses_null"] is True
    assert "includes the null while the confidence interval does not" in one.evidence
    assert one.suggestion == "no concern"
    two = inconsistency(het_result(30, OVERLAPPING, pi=(-0.9, 0.3), q_p=0.05))
    assert two.suggestion == "serious"


def test_one_study_cannot_be_judged_for_inconsistency():
    r = result(model(-0.3, -0.5, -0.1, k=1), OVERLAPPING[:1])
    assert inconsistency(r).suggestion is None


# ----- indirectness --------------------------------------------------------------------------


def test_indirectness_is_left_to_the_team():
    s = indirectness()
    assert s.suggestion is None and "team" in s.evidence and "5.2.3" in s.rule


# ----- imprecision ---------------------------------------------------------------------------


def md_result(est, lb, ub):
    return result(model(est, lb, ub), measure="MD")


def test_a_ci_crossing_the_mid_is_serious():
    # MD 4 (1 to 7), MID 5: the interval holds both important (>= 5) and unimportant effects.
    s = imprecision(md_result(4, 1, 7), mid=5)
    assert s.suggestion == "serious" and s.levels == 1
    assert "crosses 5" in s.evidence
    assert "5.2.4" in s.rule


def test_a_ci_beyond_the_mid_is_no_concern():
    assert imprecision(md_result(8, 6, 10), mid=5).suggestion == "no concern"


def test_a_ci_crossing_both_mids_is_very_serious():
    s = imprecision(md_result(0.5, -6, 7), mid=5)
    assert s.suggestion == "very serious"
    assert "important benefit and important harm" in s.evidence


def test_a_precise_trivial_effect_is_no_concern_even_across_the_null():
    s = imprecision(md_result(1, -1, 2), mid=5)
    assert s.suggestion == "no concern"
    assert "includes the null" in s.evidence


def test_without_a_mid_the_null_is_the_threshold():
    assert imprecision(md_result(1, -1, 2)).suggestion == "serious"
    assert imprecision(md_result(1, 0.5, 2)).suggestion == "no concern"


def test_ratio_measures_default_to_grade_rough_guide():
    # RR 0.80 (0.60 to 1.05): crosses 0.75 only -> serious; RR 0.9 (0.6 to 1.4): both -> very.
    one = imprecision(result(model(log(0.8), log(0.6), log(1.05))))
    assert one.suggestion == "serious"
    assert "0.75" in one.evidence
    both = imprecision(result(model(log(0.9), log(0.6), log(1.4))))
    assert both.suggestion == "very serious"
    # A MID as a ratio either way round: 0.8 and 1.25 are the same threshold.
    a = imprecision(result(model(log(0.7), log(0.6), log(0.85))), mid=0.8)
    b = imprecision(result(model(log(0.7), log(0.6), log(0.85))), mid=1.25)
    assert a.suggestion == b.suggestion == "serious"


def test_participants_below_the_ois_are_serious():
    ois = ois_binary(0.2)
    s = imprecision(result(model(log(0.6), log(0.5), log(0.7))), ois=ois, participants=500)
    assert s.suggestion == "serious"
    assert "500 participants against an optimal information size of 1812" in s.evidence
    assert s.data["below_ois"] is True
    enough = imprecision(result(model(log(0.6), log(0.5), log(0.7))), ois=1812, participants=2500)
    assert enough.suggestion == "no concern"


def test_a_mid_of_one_for_a_ratio_is_refused():
    with pytest.raises(GradeInputError, match="ratio other than 1"):
        imprecision(result(model(log(0.8), log(0.6), log(1.05))), mid=1)


def test_an_analysis_without_an_estimate_is_refused():
    with pytest.raises(GradeInputError, match="no pooled estimate"):
        imprecision(md_result(None, None, None))


# ----- publication bias ----------------------------------------------------------------------


def pb_result(k, pb):
    return result(model(-0.30, -0.50, -0.10, k=k), publication_bias=pb)


def egger(p):
    return {"stat": 1.0, "pval": p, "limit_estimate": -0.1}


def trimfill(est, lb, ub, k0=3):
    return {"k0": k0, "side": "right", "estimate": est, "ci_lb": lb, "ci_ub": ub, "filled": []}


def test_fewer_than_ten_studies_gives_no_publication_bias_suggestion():
    s = publication_bias(pb_result(9, {"egger": egger(0.01), "trimfill": None, "rank": None}))
    assert s.suggestion is None and s.levels == 0
    assert "too few studies to judge" in s.evidence
    assert "5.2.5" in s.rule


def test_egger_below_010_is_serious():
    s = publication_bias(pb_result(12, {"egger": egger(0.04), "trimfill": None, "rank": None}))
    assert s.suggestion == "serious"
    assert "p = 0.04" in s.evidence


def test_trim_and_fill_that_changes_the_conclusion_is_serious():
    pb = {"egger": egger(0.3), "trimfill": trimfill(-0.1, -0.3, 0.1), "rank": None}
    s = publication_bias(pb_result(12, pb))
    assert s.suggestion == "serious"
    assert "the conclusion changes" in s.evidence


def test_no_signal_is_no_concern():
    pb = {"egger": egger(0.5), "trimfill": trimfill(-0.25, -0.45, -0.05, k0=0), "rank": None}
    assert publication_bias(pb_result(12, pb)).suggestion == "no concern"


def test_enough_studies_but_no_analyses_run():
    s = publication_bias(pb_result(12, None))
    assert s.suggestion is None and "not run" in s.evidence


# ----- rating up -----------------------------------------------------------------------------


def test_randomised_evidence_is_never_rated_up():
    rows = upgrades(result(model(log(0.1), log(0.05), log(0.2))), randomised=True)
    assert [u.levels for u in rows] == [0, 0]


@pytest.mark.parametrize(
    ("rr", "levels"), [(0.4, 1), (2.5, 1), (0.15, 2), (6.0, 2), (1.5, 0), (0.6, 0)]
)
def test_large_effects_rate_non_randomised_evidence_up(rr, levels):
    large, dose = upgrades(result(model(log(rr), log(rr) - 0.1, log(rr) + 0.1)), randomised=False)
    assert large.levels == levels
    assert dose.levels == 0


def test_dose_response_is_the_teams_call_and_non_ratio_measures_are_not_judged():
    large, dose = upgrades(md_result(4, 1, 7), randomised=False, dose_response=True)
    assert large.suggestion is None
    assert dose.levels == 1 and dose.suggestion == "upgrade one level"


# ----- certainty -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "down", "up", "expected"),
    [
        ("high", 0, 0, "high"),
        ("high", 1, 0, "moderate"),
        ("high", 2, 0, "low"),
        ("high", 3, 0, "very low"),
        ("high", 5, 0, "very low"),
        ("high", ["serious", "very serious", None, "no concern"], 0, "very low"),
        ("low", 0, 0, "low"),
        ("low", 1, 0, "very low"),
        ("low", 0, 1, "moderate"),
        ("low", 0, 2, "high"),
        ("low", 0, 3, "high"),
        ("low", 1, 1, "low"),
    ],
)
def test_certainty_arithmetic(start, down, up, expected):
    assert certainty(start, down, up) == expected


def test_certainty_refuses_upgrading_randomised_evidence_and_unknown_input():
    with pytest.raises(GradeInputError, match="non-randomised"):
        certainty("high", 0, 1)
    with pytest.raises(GradeInputError):
        certainty("moderate", 0)
    with pytest.raises(GradeInputError):
        certainty("high", ["bad"])
    with pytest.raises(GradeInputError):
        certainty("high", -1)


def test_certainty_from_the_suggestions_of_one_analysis():
    # RoB very serious (-2), inconsistency none, imprecision serious (CI crosses 0.75): very low.
    r = rob_result(
        [("High", 40), ("High", 30), ("Low", 30)],
        without_high_rob(-0.05, -0.40, 0.30, ["S1", "S2"], k=1),
    )
    r["main"].update(ci_lb=log(0.6), ci_ub=log(0.9))
    rows = suggestions(r)
    assert [s.domain for s in rows] == [
        "risk_of_bias",
        "inconsistency",
        "indirectness",
        "imprecision",
        "publication_bias",
        "large_effect",
        "dose_response",
    ]
    assert certainty("high", rows[:5]) == "very low"


# ----- purity --------------------------------------------------------------------------------

GRADE_DIR = Path(synthesis.grade.__file__).resolve().parent


def test_grade_imports_without_django():
    code = (
        "import sys, synthesis.grade; "
        "print(','.join(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=GRADE_DIR.parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""


def test_grade_has_no_django_import():
    offenders = []
    for path in sorted(GRADE_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "django"]
    assert offenders == []


def test_missing_optional_numbers_do_not_break_the_evidence():
    r = het_result(None, OVERLAPPING, q_p=None)
    r["main"].update(q=None, pi_lb=None, pi_ub=None)
    r["studies"][0].update(ci_lb=None, ci_ub=None)
    s = inconsistency(r)
    assert s.suggestion == "no concern"
    r["main"].update(q=None, q_p=0.2, i2=10)
    assert "Test of heterogeneity: p = 0.2." in inconsistency(r).evidence
