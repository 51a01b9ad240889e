"""``manage.py meta --model three-level``: CSV in, metafor's numbers out, CommandError on bad input."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from .test_multilevel_cases import CASES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "metafor"
ASSINK = FIXTURES / "multilevel_assink.csv"
KONST = FIXTURES / "multilevel_konstantopoulos.csv"


def case(name: str) -> dict:
    return next(c for c in CASES if c["name"] == name)["expected"]


def run(*args) -> str:
    out = StringIO()
    call_command("meta", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def run_json(*args) -> dict:
    return json.loads(run(*args, "--json"))


def close(a, b, rtol=1e-6):
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-12)


def test_json_keeps_todays_keys_and_adds_the_levels():
    out = run_json(KONST, "--model", "three-level", "--cluster", "district")
    e = case("konstantopoulos__REML__z")
    for key in ("k", "method", "test", "estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "qe",
                "qe_df", "qep", "sigma2", "n_clusters"):  # fmt: skip
        assert key in out, key
    assert (out["k"], out["method"], out["test"], out["n_clusters"]) == (56, "REML", "z", 11)
    assert out["model"] == "three-level" and out["sigma2_levels"] == ["district", "district/es_id"]
    for key, ref in (("estimate", e["b"][0]), ("se", e["se"][0]), ("zval", e["zval"][0]),
                     ("pval", e["pval"][0]), ("ci_lb", e["ci.lb"][0]), ("ci_ub", e["ci.ub"][0]),
                     ("qe", e["QE"]), ("qep", e["QEp"]), ("i2", e["I2"]["total"])):  # fmt: skip
        assert close(out[key], ref), key
    assert out["qe_df"] == 55 and "tval" not in out and "robust_se" not in out
    assert all(close(a, b) for a, b in zip(out["sigma2"], e["sigma2"], strict=True))
    assert all(close(a, b) for a, b in zip(out["i2_levels"], e["I2"]["levels"], strict=True))
    ci = e["confint"]
    assert all(close(out["sigma2_ci_lb"][j], ci[j]["ci.lb"]) for j in range(2))
    assert all(close(out["sigma2_ci_ub"][j], ci[j]["ci.ub"]) for j in range(2))


def test_che_with_cr2_and_a_t_test_gives_metafors_and_clubsandwichs_numbers():
    out = run_json(ASSINK, "--model", "three-level", "--cluster", "study", "--es-id", "esid",
                   "--rho", "0.6", "--robust", "cr2", "--test", "t")  # fmt: skip
    e = case("assink_che_rho0.6__REML__t")
    r = e["robust_CR2"]
    assert out["rho"] == 0.6 and out["df"] == 99 and out["robust_type"] == "CR2"
    assert out["sigma2_levels"] == ["study", "study/esid"]
    for key, ref in (("estimate", e["b"][0]), ("se", e["se"][0]), ("tval", e["zval"][0]),
                     ("zval", e["zval"][0]), ("pval", e["pval"][0]), ("ci_lb", e["ci.lb"][0]),
                     ("qe", e["QE"]), ("robust_se", r["se"][0]), ("robust_df", r["df"][0]),
                     ("robust_pval", r["pval"][0]), ("robust_ci_lb", r["ci.lb"][0]),
                     ("robust_ci_ub", r["ci.ub"][0]), ("robust_tval", r["tval"][0])):  # fmt: skip
        assert close(out[key], ref), key
    assert out["n_clusters"] == 17


def test_cr1_and_ml():
    out = run_json(KONST, "--model", "three-level", "--cluster", "district", "--es-id", "school",
                   "--robust", "CR1", "--method", "ml")  # fmt: skip
    e = case("konstantopoulos__ML__z")
    assert out["method"] == "ML" and out["robust_type"] == "CR1"
    assert close(out["estimate"], e["b"][0]) and close(out["robust_se"], e["robust_CR1"]["se"][0])
    assert out["robust_df"] == 10


def test_moderators_get_their_own_block_with_robust_columns():
    out = run_json(ASSINK, "--model", "three-level", "--cluster", "study", "--es-id", "esid",
                   "--rho", "0.6", "--test", "t", "--moderator", "year", "--moderator", "deltype",
                   "--robust", "cr2")  # fmt: skip
    e = case("assink_che_rho0.6_mods__REML__t")
    mods = out["moderators"]
    assert [c["name"] for c in mods["coefficients"]] == [
        "intercept", "year", "deltype[general]", "deltype[overt]"
    ]  # fmt: skip
    for j, c in enumerate(mods["coefficients"]):
        assert close(c["estimate"], e["b"][j]) and close(c["se"], e["se"][j])
        assert close(c["robust_se"], e["robust_CR2"]["se"][j])
        assert close(c["robust_df"], e["robust_CR2"]["df"][j])
    assert close(mods["qm"], e["QM"]) and mods["qm_df"] == [3, 96]
    assert close(mods["robust_qm"], e["robust_CR2"]["QM"])
    assert close(mods["robust_qm_df"][1], e["robust_CR2"]["QMdf"][1])
    assert close(mods["sigma2"][0], e["sigma2"][0])


def test_text_output_reads_like_metafor():
    text = run(ASSINK, "--model", "three-level", "--cluster", "study", "--robust", "cr1")
    assert "Three-Level Meta-Analysis Model (k = 100; method: REML)" in text
    assert "Q(df = 99) = " in text and "sigma^2.1" in text and "sigma^2.2" in text
    assert "Cluster-robust inference (CR1" in text and "17 clusters" in text


def test_rho_one_is_accepted_and_reported_without_a_q_test(tmp_path):
    out = run_json(ASSINK, "--model", "three-level", "--cluster", "study", "--rho", "1")
    e = case("assink_che_rho1__REML__z")
    assert out["qe"] is None and out["qep"] is None
    assert close(out["estimate"], e["b"][0])
    assert any("not positive definite" in n for n in out["notes"])


@pytest.mark.parametrize("rho", ["-1", "-0.5"])
def test_a_working_v_that_is_not_positive_definite_still_fits_without_a_q_test(rho):
    # vcalc accepts any rho in [-1, 1]; assink's larger studies need rho > -1/21 for a
    # positive definite V, but V + sigma2 terms is positive definite at the estimates.
    out = run_json(ASSINK, "--model", "three-level", "--cluster", "study", f"--rho={rho}",
                   "--robust", "cr2")  # fmt: skip
    assert out["qe"] is None and out["n_clusters"] == 17
    assert all(x is not None and x > 0 for x in out["sigma2"] + out["sigma2_ci_ub"])
    assert "not positive definite" in out["notes"][0]


def test_the_standard_model_is_unchanged(tmp_path):
    plain = run_json(ASSINK)
    assert "sigma2" not in plain and "model" not in plain and plain["k"] == 100


def _write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


GOOD = "study,yi,vi\nA,0.1,0.01\nA,0.3,0.02\nB,0.2,0.01\nB,0.5,0.03\nC,0.4,0.02\n"


@pytest.mark.parametrize(
    "text, args, message",
    [
        (GOOD, ["--cluster", "school"], "Column 'school' not found; the file has: study, yi, vi"),
        (GOOD, [], "needs --cluster COL"),
        (GOOD.replace("B,0.2", ",0.2"), ["--cluster", "study"], r"Row 4: the cluster \(study\)"),
        (GOOD.replace("0.5,", "abc,"), ["--cluster", "study"], "Row 5: yi = 'abc' is not a number"),
        (GOOD.replace("0.03", "x"), ["--cluster", "study"], "Row 5: vi = 'x' is not a number"),
        (GOOD, ["--cluster", "study", "--rho", "1.5"], "--rho must be a correlation between -1"),
        (GOOD, ["--cluster", "study", "--rho", "-2"], "--rho must be a correlation between -1"),
        (GOOD, ["--cluster", "study", "--rho", "abc"], "invalid float value: 'abc'"),
        ("study,yi,vi\nA,0.1,0.01\nB,0.3,0.02\nC,0.2,0.01\n", ["--cluster", "study"],
         "Every cluster has a single effect size"),
        ("study,yi,vi\nA,0.1,0.01\nA,0.3,0.02\nA,0.2,0.01\n", ["--cluster", "study"],
         "one cluster"),
        (GOOD.replace("yi,vi", "yi,vi,es").replace("0.01\n", "0.01,1\n").replace("0.02\n", "0.02,1\n")
         .replace("0.03\n", "0.03,2\n"), ["--cluster", "study", "--es-id", "es"],
         r"Rows 2 and 3: es = '1' appears twice in study = 'A'"),
        (GOOD, ["--cluster", "study", "--method", "DL"], "fitted by REML or ML"),
        (GOOD, ["--cluster", "study", "--test", "knha"], "takes --test z or t"),
        (GOOD, ["--cluster", "study", "--subgroup", "study"], "not available for three levels"),
        (GOOD, ["--cluster", "study", "--moderator", "study"], "cannot also be moderators"),
        ("study,yi,vi,x\nA,0.1,0.01,1\nA,0.3,0.02,2\nB,0.2,0.01,3\nB,0.5,0.03,1\n",
         ["--cluster", "study", "--moderator", "x", "--robust", "cr2"],
         r"more clusters \(2\) than coefficients \(2\)"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_message(tmp_path, text, args, message):
    with pytest.raises(CommandError, match=message):
        run(_write(tmp_path, text), "--model", "three-level", *args)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cluster", "study"], "--cluster: only with --model three-level"),
        (["--robust", "cr1", "--rho", "0.5"], "--rho, --robust: only with --model three-level"),
        (["--test", "t"], "--test t is for --model three-level"),
    ],
)
def test_three_level_options_need_the_three_level_model(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        run(_write(tmp_path, GOOD), *args)


def test_a_cluster_with_a_single_effect_size_is_fine(tmp_path):
    out = run_json(_write(tmp_path, GOOD), "--model", "three-level", "--cluster", "study")
    assert out["k"] == 5 and out["n_clusters"] == 3
