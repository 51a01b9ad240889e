"""Several effect sizes per study (issue 20, app part): run() fits the three-level model and the
exported analysis.R (rma.mv, vcalc, robust) reproduces its numbers in R to 1e-6.

Data: metadat's dat.assink2016 (100 effect sizes in 17 studies) and dat.konstantopoulos2011
(56 schools in 11 districts), as committed in tests/fixtures/metafor/ by make_multilevel.R.
The committed reference (bundle_multilevel.json, made by make_bundle_multilevel.R) is checked
without R; the R-script tests run Rscript (metafor + clubSandwich) and skip with the reason
where it is missing (under .ci/run they fail instead).
"""

from __future__ import annotations

import csv
import functools
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from synthesis.bundle import data_csv, r_script, run
from synthesis.stats import StatsInputError
from tests.conftest import require_service
from tests.synthesis.test_bundle_rscript import run_in_r

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metafor"


def fixture_rows(name: str) -> list[dict]:
    with open(FIXTURES / f"multilevel_{name}.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cluster, es = ("study", "esid") if name == "assink" else ("district", "school")
        return [
            {"study": f"Study {r[cluster]}", "es_id": r[es], "yi": r["yi"], "vi": r["vi"]}
            for r in reader
        ]


CASES = {
    "assink_che_cr2": ("assink", {"method": "REML", "test": "knha"}, {"rho": 0.6, "robust": "cr2"}),
    "konstantopoulos_cr1": (
        "konstantopoulos", {"method": "REML", "test": "z"}, {"rho": None, "robust": "cr1"},
    ),
    "konstantopoulos_ml_cr2": (
        "konstantopoulos", {"method": "ML", "test": "knha"}, {"rho": None, "robust": "cr2"},
    ),
}  # fmt: skip


def case_result(name: str, leave_one_out: bool = False) -> dict:
    data, options, dep = CASES[name]
    spec = {
        "name": name,
        "measure": "SMD",
        **options,
        "sensitivity": {"leave_one_out": leave_one_out},
        "dependent": {"model": "three-level", **dep},
    }
    return run(spec, fixture_rows(data))


def close(actual, expected, what, abs_tol=1e-9):
    assert actual is not None and expected is not None, (what, actual, expected)
    assert math.isclose(actual, expected, rel_tol=1e-6, abs_tol=abs_tol), (what, actual, expected)


# ------------------------------------------------------------------ the committed R reference

REFERENCE = json.loads((FIXTURES / "bundle_multilevel.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_main_model_matches_committed_metafor_run(name):
    main = case_result(name)["main"]
    ref = REFERENCE[name]
    for key in ("estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "q", "q_p", "pi_lb", "pi_ub"):
        close(main[key], ref[key], f"{name} {key}")
    for j in range(2):
        close(main["sigma2"][j], ref["sigma2"][j], f"{name} sigma2 {j}")
        close(main["sigma2_ci_lb"][j], ref["sigma2_ci_lb"][j], f"{name} sigma2 lb {j}")
        close(main["sigma2_ci_ub"][j], ref["sigma2_ci_ub"][j], f"{name} sigma2 ub {j}")
        close(main["i2_levels"][j], ref["i2_levels"][j], f"{name} I2 {j}")
    for key in ("robust_se", "robust_stat", "robust_df", "robust_pval"):
        close(main[key], ref[key], f"{name} {key}")
    close(main["robust_ci_lb"], ref["robust_ci_lb"], f"{name} robust_ci_lb")
    close(main["robust_ci_ub"], ref["robust_ci_ub"], f"{name} robust_ci_ub")
    assert main["n_clusters"] == ref["n_clusters"] and main["k"] == ref["k"]
    assert main["robust_type"] == ref["robust_type"]


def test_results_shape_and_notes():
    res = case_result("assink_che_cr2", leave_one_out=True)
    assert res["main"]["model"] == "three-level"
    assert res["main"]["sigma2_levels"] == ["study", "study/es_id"]
    assert len(res["studies"]) == 100 and {"study", "es_id"} <= set(res["studies"][0])
    assert math.isclose(sum(s["weight"] for s in res["studies"]), 100.0)
    # leave one STUDY out: 17 studies, each refit without all of that study's effect sizes
    assert len(res["leave_one_out"]) == 17
    assert res["leave_one_out"][0]["k"] == 100 - sum(
        r["study"] == res["leave_one_out"][0]["study"] for r in res["rows"]
    )
    assert res["publication_bias"] is None and res["subgroups"] == []
    header = data_csv(res).splitlines()[0]
    assert header.startswith("study,es_id,yi,vi")


def test_publication_bias_asked_is_left_off_with_a_note():
    data, options, dep = CASES["konstantopoulos_cr1"]
    spec = {**options, "publication_bias": True, "subgroup": "x", "dependent": dep}
    rows = [{**r, "x": "a" if i % 2 else "b"} for i, r in enumerate(fixture_rows(data))]
    res = run(spec, rows)
    assert res["publication_bias"] is None
    assert any("assume independent" in n for n in res["notes"])
    assert any("not computed: subgroups" in n for n in res["notes"])


def test_duplicate_rows_without_option_stay_an_error_and_bad_options_are_refused():
    rows = fixture_rows("konstantopoulos")
    with pytest.raises(StatsInputError, match="labels must be unique"):
        run({"method": "REML"}, rows)
    with pytest.raises(StatsInputError, match="ids must be unique"):
        run({"dependent": {}}, [*rows, dict(rows[0])])
    for bad, msg in (
        ({"rho": 1.5}, r"\[0, 1\)"),
        ({"rho": "x"}, "must be a number"),
        ({"robust": "hc3"}, "'cr1' or 'cr2'"),
        ({"model": "four-level"}, "three-level"),
    ):
        with pytest.raises(StatsInputError, match=msg):
            run({"dependent": bad}, rows)
    with pytest.raises(StatsInputError, match="REML or ML"):
        run({"method": "DL", "dependent": {}}, rows)


def test_missing_es_id_numbers_rows_within_their_study():
    rows = [{k: v for k, v in r.items() if k != "es_id"} for r in fixture_rows("konstantopoulos")]
    res = run({"dependent": {}}, rows)
    first = [r["es_id"] for r in res["rows"] if r["study"] == res["rows"][0]["study"]]
    assert first == [str(i) for i in range(1, len(first) + 1)]


# ------------------------------------------------------------------ the exported R script


@functools.cache
def club_missing() -> str:
    if shutil.which("Rscript") is None:
        return "Rscript not found (apt-get install r-cran-metafor r-cran-clubsandwich)"
    proc = subprocess.run(
        [
            "Rscript",
            "-e",
            "suppressPackageStartupMessages({library(metafor); library(clubSandwich)})",
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return f"library(metafor)/library(clubSandwich) fails: {proc.stderr.strip()[-300:]}"
    return ""


@pytest.mark.parametrize("name", sorted(CASES))
def test_exported_r_script_reproduces_the_three_level_results(name, tmp_path):
    reason = club_missing()
    require_service(
        not reason, f"Rscript with metafor and clubSandwich is not installed: {reason}",
        service="rscript",
    )  # fmt: skip
    res = case_result(name, leave_one_out=name == "konstantopoulos_cr1")
    script = r_script(res)
    assert "rma.mv(" in script and "random = ~ 1 | study/es_id" in script
    assert "vcalc(" in script
    assert ("clubSandwich = TRUE" in script) == (res["spec"]["dependent"]["robust"] == "cr2")
    r = run_in_r(res, tmp_path)
    m, rm = res["main"], r["main"]
    for key in ("k", "n_clusters", "estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "i2"):
        close(rm[key], m[key], f"{name} {key}")
    for key in ("q", "q_p", "pi_lb", "pi_ub"):
        close(rm[key], m[key], f"{name} {key}")
    for j in (1, 2):
        close(rm[f"sigma2.{j}"], m["sigma2"][j - 1], f"{name} sigma2 {j}")
        close(rm[f"i2_levels.{j}"], m["i2_levels"][j - 1], f"{name} I2 {j}")
        close(rm[f"sigma2_ci_lb.{j}"], m["sigma2_ci_lb"][j - 1], f"{name} sigma2 lb {j}")
        close(rm[f"sigma2_ci_ub.{j}"], m["sigma2_ci_ub"][j - 1], f"{name} sigma2 ub {j}")
    for key in ("robust_se", "robust_stat", "robust_df", "robust_pval"):
        close(rm[key], m[key], f"{name} {key}")
    close(rm["robust_ci_lb"], m["robust_ci_lb"], f"{name} robust_ci_lb")
    close(rm["robust_ci_ub"], m["robust_ci_ub"], f"{name} robust_ci_ub")
    for i, study in enumerate(res["studies"], start=1):
        close(r[f"study.{i}"]["weight"], study["weight"], f"{name} weight {i}")
    for i, row in enumerate(res["leave_one_out"], start=1):
        # A CI bound near 0 is compared on the scale of its SE (1e-6 of it): relative to the
        # bound itself, 1e-6 of a bound of 0.005 would ask for agreement to 5e-9.
        for key in ("estimate", "se", "pval", "ci_lb", "ci_ub", "q"):
            close(
                r[f"leave1out.{i}"][key], row[key], f"{name} leave one study out {i} {key}",
                abs_tol=1e-6 * row["se"],
            )  # fmt: skip
