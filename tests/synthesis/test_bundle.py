"""synthesis.bundle.run on dat.bcg against metafor (tests/fixtures/metafor/make_bundle.R), its
input checks, and the export files data.csv and results.json."""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from synthesis.bundle import data_csv, r_script, results_json, run
from synthesis.stats import StatsInputError, escalc

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "metafor" / "bundle_bcg.json"
REFERENCE = json.loads(FIXTURE.read_text())
MODEL_FIELDS = ("k", "estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "tau2", "i2", "h2", "q")
MODEL_FIELDS += ("q_df", "q_p", "pi_lb", "pi_ub", "tau2_ci_lb", "tau2_ci_ub", "i2_ci_lb")
MODEL_FIELDS += ("i2_ci_ub",)


def close(actual, expected, what=""):
    assert actual is not None, what
    assert math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9), (what, actual, expected)


def bcg_rows() -> list[dict]:
    """The 13 BCG trials as the app would pass them: log RR from the engine's escalc, alloc,
    ablat and year as attributes, alternate and systematic allocation judged "High"."""
    with open(REPO / "demo_data" / "bcg" / "dat_bcg.tsv", encoding="utf-8") as fh:
        trials = list(csv.DictReader(fh, delimiter="\t"))
    es = escalc(
        "RR",
        ai=[float(t["tpos"]) for t in trials],
        bi=[float(t["tneg"]) for t in trials],
        ci=[float(t["cpos"]) for t in trials],
        di=[float(t["cneg"]) for t in trials],
    )
    return [
        {
            "study": f"{t['author']}, {t['year']}",
            "yi": float(y),
            "vi": float(v),
            "alloc": t["alloc"],
            "ablat": int(t["ablat"]),
            "year": int(t["year"]),
            "rob": "Some concerns" if t["alloc"] == "random" else "High",
        }
        for t, y, v in zip(trials, es.yi, es.vi, strict=True)
    ]


def bcg_spec(method: str = "REML", test: str = "z") -> dict:
    return {
        "name": "BCG vaccine: tuberculosis",
        "measure": "RR",
        "method": method,
        "test": test,
        "level": 95,
        "subgroup": "alloc",
        "moderators": ["ablat", "alloc"],
        "sensitivity": {
            "leave_one_out": True,
            "without_high_rob": True,
            "filters": [
                {"name": "without trials before 1950", "field": "year", "op": "lt", "value": 1950}
            ],
        },
        "publication_bias": True,
        "high_rob": ["High"],
    }


CASES = {f"{c['method']}/{c['test']}": c for c in REFERENCE["cases"]}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    ref = CASES[request.param]
    return ref, run(bcg_spec(ref["method"], ref["test"]), bcg_rows())


def compare_model(actual: dict, expected: dict, what: str) -> None:
    for key in MODEL_FIELDS:
        if key in expected:
            close(actual[key], expected[key], f"{what} {key}")


def test_effect_sizes_are_metafors():
    rows = bcg_rows()
    assert [r["study"] for r in rows] == REFERENCE["studies"]
    for r, y, v in zip(rows, REFERENCE["yi"], REFERENCE["vi"], strict=True):
        close(r["yi"], y)
        close(r["vi"], v)


def test_main_model(case):
    ref, res = case
    compare_model(res["main"], ref["main"], "main")
    assert res["main"]["method"] == ref["method"] and res["main"]["test"] == ref["test"]
    assert res["transform"] == "exp"
    for study, w, lb, ub in zip(
        res["studies"], ref["weights"], ref["study_ci_lb"], ref["study_ci_ub"], strict=True
    ):
        close(study["weight"], w, "weight")
        close(study["ci_lb"], lb, "study ci_lb")
        close(study["ci_ub"], ub, "study ci_ub")
    assert [s["subgroup"] for s in res["studies"]][:5] == ["random"] * 4 + ["alternate"]


def test_subgroups_and_test_of_differences(case):
    ref, res = case
    assert [s["value"] for s in res["subgroups"]] == [g["value"] for g in ref["subgroups"]]
    for got, want in zip(res["subgroups"], ref["subgroups"], strict=True):
        compare_model(got, want, f"subgroup {want['value']}")
        assert got["subset"] == f"alloc = {want['value']}"
        assert got["variable"] == "alloc"
        assert len(got["studies"]) == want["k"]
    t, want = res["subgroup_test"], ref["subgroup_test"]
    close(t["qm"], want["qm"], "QM")
    close(t["pval"], want["pval"], "QM p")
    assert t["df"] == want["df"]
    assert t["df2"] == want.get("df2")
    assert t["dist"] == ("F" if ref["test"] == "knha" else "chisq")


def test_sensitivity_without_high_rob_and_filter(case):
    ref, res = case
    rob, year = res["sensitivity"]
    assert rob["kind"] == "without_high_rob" and rob["subset"] == "without high risk of bias"
    assert year["kind"] == "filter" and year["subset"] == "without trials before 1950"
    for got, want in zip((rob, year), ref["sensitivity"], strict=True):
        compare_model(got, want, got["subset"])
        assert got["excluded"] == want["excluded"]
    assert rob["k"] == 7
    assert year["excluded"] == ["Aronson, 1948", "Ferguson & Simes, 1949"]


def test_leave_one_out(case):
    ref, res = case
    l1o = res["leave_one_out"]
    assert [r["study"] for r in l1o] == REFERENCE["studies"]
    for key, values in ref["leave_one_out"].items():
        for i, want in enumerate(values):
            close(l1o[i][key], want, f"leave-one-out {i} {key}")


def test_publication_bias(case):
    ref, res = case
    pb = res["publication_bias"]
    for key, want in ref["egger"].items():
        close(pb["egger"][key], want, f"egger {key}")
    for key, want in ref["rank"].items():
        close(pb["rank"][key], want, f"rank {key}")
    tf, want = pb["trimfill"], ref["trimfill"]
    assert tf["k0"] == want["k0"] and tf["side"] == want["side"]
    for key in ("estimate", "ci_lb", "ci_ub"):
        close(tf[key], want[key], f"trimfill {key}")
    filled_yi = want["filled_yi"] if isinstance(want["filled_yi"], list) else [want["filled_yi"]]
    assert len(tf["filled"]) == want["k0"] == len(filled_yi)
    for got, y in zip(tf["filled"], filled_yi, strict=True):
        close(got["yi"], y, "filled yi")


def test_meta_regression(case):
    ref, res = case
    mr, want = res["metareg"], ref["metareg"]
    assert mr["k"] == want["k"] == 13
    assert mr["coefficients"][0]["name"] == "intercept"
    for j, coef in enumerate(mr["coefficients"]):
        close(coef["estimate"], want["estimate"][j], f"coef {j}")
        close(coef["se"], want["se"][j], f"coef se {j}")
        close(coef["pval"], want["pval"][j], f"coef p {j}")
    for key in ("qm", "qm_p", "tau2", "i2", "qe", "qe_p"):
        close(mr[key], want[key], f"metareg {key}")
    if "r2" in want:
        close(mr["r2"], want["r2"], "R2")
    assert mr["moderators"] == [
        {"name": "ablat", "kind": "numeric"},
        {"name": "alloc", "kind": "factor", "levels": ["alternate", "random", "systematic"]},
    ]


def test_result_is_json_and_has_the_contract_keys():
    res = run(bcg_spec(), bcg_rows())
    assert json.loads(json.dumps(res, allow_nan=False)) == res
    assert set(res) >= {
        "spec", "rows", "main", "studies", "subgroups", "subgroup_test", "sensitivity",
        "leave_one_out", "metareg", "publication_bias", "transform", "notes", "engine",
    }  # fmt: skip
    assert res["engine"] == "synthesis.stats / metafor 3.8-1"
    assert res["rows"][0] == {
        "study": "Aronson, 1948",
        "yi": res["rows"][0]["yi"],
        "vi": res["rows"][0]["vi"],
        "alloc": "random",
        "ablat": 44,
        "year": 1948,
        "rob": "Some concerns",
    }
    assert set(res["studies"][0]) == {"study", "yi", "vi", "ci_lb", "ci_ub", "weight"} | {
        "subgroup",
        "rob",
    }
    for model in [res["main"], *res["subgroups"], *res["sensitivity"]]:
        assert set(model) >= {
            "method", "test", "level", "k", "estimate", "se", "stat", "pval", "ci_lb", "ci_ub",
            "tau2", "tau2_ci_lb", "tau2_ci_ub", "i2", "i2_ci_lb", "i2_ci_ub", "h2", "q",
            "q_df", "q_p", "pi_lb", "pi_ub",
        }  # fmt: skip
    assert res["spec"]["sensitivity"]["filters"][0]["op"] == "lt"


def test_optional_parts_are_empty_when_not_asked_for():
    spec = {"name": "plain", "measure": "SMD", "method": "DL"}
    res = run(spec, bcg_rows())
    assert res["subgroups"] == [] and res["subgroup_test"] is None
    assert res["sensitivity"] == [] and res["leave_one_out"] == []
    assert res["metareg"] is None and res["publication_bias"] is None
    assert res["transform"] is None
    assert res["spec"]["test"] == "z" and res["spec"]["level"] == 95.0


def test_fe_model_has_pi_equal_to_ci_and_no_tau2_ci():
    res = run({"method": "FE"}, bcg_rows())
    main = res["main"]
    assert main["pi_lb"] == main["ci_lb"] and main["pi_ub"] == main["ci_ub"]
    assert main["tau2"] == 0 and main["tau2_ci_lb"] is None and main["i2_ci_lb"] is None


# ------------------------------------------------------------------------ decisions


def test_study_without_rob_judgement_is_kept_with_a_note():
    rows = bcg_rows()
    rows[0]["rob"] = None
    rows[1]["rob"] = ""
    res = run(bcg_spec(), rows)
    rob = res["sensitivity"][0]
    assert "Aronson, 1948" not in rob["excluded"] and rob["k"] == 7
    assert any("2 studies have no risk-of-bias judgement" in n for n in res["notes"])
    assert res["studies"][0]["rob"] is None


def test_subgroup_of_one_study_reports_its_own_estimate():
    rows = bcg_rows()
    rows[0]["alloc"] = "quasi-random"
    res = run(bcg_spec(), rows)
    single = next(s for s in res["subgroups"] if s["value"] == "quasi-random")
    assert single["k"] == 1 and single["studies"] == ["Aronson, 1948"]
    assert single["estimate"] == rows[0]["yi"]
    close(single["se"], math.sqrt(rows[0]["vi"]))
    assert single["tau2"] == 0 and single["pi_lb"] == single["ci_lb"]
    assert single["note"].startswith("one study")
    assert res["subgroup_test"]["df"] == 3
    assert any("quasi-random has one study" in n for n in res["notes"])


def test_study_without_subgroup_value_is_in_no_subgroup():
    rows = bcg_rows()
    rows[2]["alloc"] = None
    res = run(bcg_spec(), rows)
    assert sum(s["k"] for s in res["subgroups"]) == 12
    assert res["subgroup_test"]["k"] == 12
    assert res["studies"][2]["subgroup"] is None
    assert any("1 study has no value of 'alloc'" in n for n in res["notes"])


def test_sensitivity_subset_with_fewer_than_two_studies_is_an_error_entry():
    spec = bcg_spec()
    spec["sensitivity"]["filters"] = [
        {"name": "only the oldest", "field": "year", "op": "gt", "value": 1948}
    ]
    res = run(spec, bcg_rows())
    entry = res["sensitivity"][1]
    assert entry["k"] == 1 and entry["estimate"] is None and entry["pi_lb"] is None
    assert entry["error"] == "only one study remains: nothing to pool"
    assert len(entry["excluded"]) == 12


@pytest.mark.parametrize(
    ("flt", "excluded"),
    [
        ({"field": "alloc", "op": "eq", "value": "random"}, 7),
        ({"field": "alloc", "op": "ne", "value": "random"}, 6),
        ({"field": "alloc", "op": "in", "value": ["random", "alternate"]}, 9),
        ({"field": "ablat", "op": "gt", "value": "40"}, 6),
        ({"field": "year", "op": "eq", "value": 1973.0}, 2),
        ({"field": "rob", "op": "eq", "value": "High"}, 6),
    ],
)
def test_filters(flt, excluded):
    spec = bcg_spec()
    spec["sensitivity"]["filters"] = [flt]
    res = run(spec, bcg_rows())
    assert len(res["sensitivity"][1]["excluded"]) == excluded
    assert res["sensitivity"][1]["subset"].startswith(f"without {flt['field']} ")


def unusable(spec=None, rows=None, **changes):
    spec = copy.deepcopy(spec or bcg_spec())
    spec.update(changes)
    with pytest.raises(StatsInputError) as info:
        run(spec, bcg_rows() if rows is None else rows)
    return str(info.value)


def test_unusable_input_has_clear_messages():
    rows = bcg_rows()
    assert unusable(rows=[]) == "No study has this outcome: nothing to pool."
    assert unusable(rows=rows[:1]) == "Only one study has this outcome: nothing to pool."
    bad = copy.deepcopy(rows)
    bad[3]["yi"] = float("nan")
    assert "Hart & Sutherland, 1977" in unusable(rows=bad) and "non-finite" in unusable(rows=bad)
    bad[3]["yi"] = None
    assert "no usable effect size" in unusable(rows=bad)
    bad = copy.deepcopy(rows)
    bad[4]["vi"] = 0.0
    assert "vi > 0" in unusable(rows=bad)
    bad[4]["vi"] = float("inf")
    assert "sampling variance" in unusable(rows=bad)
    assert "Unknown method 'XYZ'" in unusable(method="XYZ")
    assert "Unknown test" in unusable(test="t")
    assert "confidence level" in unusable(level=120)
    dup = copy.deepcopy(rows)
    dup[1]["study"] = dup[0]["study"]
    assert "labels must be unique" in unusable(rows=dup)
    spec = bcg_spec()
    spec["sensitivity"]["filters"] = [{"name": "f", "field": "country", "op": "eq", "value": 1}]
    assert unusable(spec) == "No study has the field 'country' that the analysis uses."
    spec["sensitivity"]["filters"] = [{"name": "f", "field": "alloc", "op": "lt", "value": 3}]
    assert "has values that are not numbers" in unusable(spec)
    spec["sensitivity"]["filters"] = [{"name": "f", "field": "alloc", "op": "like", "value": 3}]
    assert "choose one of eq, ne, in, lt, gt" in unusable(spec)
    assert "No study has the field 'region'" in unusable(subgroup="region")
    assert "No study has the field 'dose'" in unusable(moderators=["dose"])


def test_meta_regression_leaves_out_studies_without_a_moderator():
    rows = bcg_rows()
    rows[5]["ablat"] = None
    res = run(bcg_spec(), rows)
    assert res["metareg"]["k"] == 12
    assert res["metareg"]["excluded"] == ["Stein & Aronson, 1953"]


# ---------------------------------------------------------------------- export files


def test_data_csv_has_one_row_per_study_at_full_precision():
    rows = bcg_rows()
    rows[0]["study"] = 'Aronson, "the first", 1948\nline two, caf\u00e9'
    rows[1]["rob"] = None
    res = run(bcg_spec(), rows)
    text = data_csv(res)
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["study", "yi", "vi", "alloc", "ablat", "year", "rob"]
    assert len(table) == 14
    assert table[1][0] == rows[0]["study"]
    assert float(table[1][1]) == rows[0]["yi"] and float(table[1][2]) == rows[0]["vi"]
    assert table[1][3:] == ["random", "44", "1948", "Some concerns"]
    assert table[2][6] == ""


def test_results_json_is_sorted_full_precision_with_main_fields_on_top():
    res = run(bcg_spec(), bcg_rows())
    text = results_json(res)
    data = json.loads(text)
    for key in ("method", "test", "level", "k", "estimate", "se", "ci_lb", "ci_ub", "tau2"):
        assert data[key] == res["main"][key]
    assert data["i2"] == res["main"]["i2"] and data["pi_ub"] == res["main"]["pi_ub"]
    assert [s["subset"] for s in data["subgroups"]] == [
        "alloc = alternate",
        "alloc = random",
        "alloc = systematic",
    ]
    assert [s["subset"] for s in data["sensitivity"]] == [
        "without high risk of bias",
        "without trials before 1950",
    ]
    assert list(data) == sorted(data)
    assert "NaN" not in text and "Infinity" not in text


def test_r_script_is_ascii_and_names_every_part():
    rows = bcg_rows()
    rows[0]["study"] = "Caf\u00e9 \U0001f600 trial"
    script = r_script(run(bcg_spec(), rows))
    script.encode("ascii")
    for part in ('report("main"', 'report("subgroup.3"', 'report("sensitivity.2"', "leave1out(",
                 "regtest(", "ranktest(", "trimfill(", "mods = ~ evident_mod1 + evident_mod2"):  # fmt: skip
        assert part in script


def test_bundle_imports_without_django():
    code = (
        "import sys; import synthesis.bundle; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_nul_characters_are_refused():
    rows = bcg_rows()
    rows[0]["study"] = "Aronson\x00"
    assert "NUL" in unusable(rows=rows)
    rows = bcg_rows()
    rows[0]["alloc"] = "ran\x00dom"
    assert unusable(rows=rows) == "A value of 'alloc' contains a NUL character."


def test_carriage_returns_in_labels_become_line_feeds():
    rows = bcg_rows()
    rows[0]["study"] = "Aronson\r\n1948\rtrial"
    assert run(bcg_spec(), rows)["rows"][0]["study"] == "Aronson\n1948\ntrial"


def test_exports_are_the_same_from_the_stored_json():
    """The app stores the result as JSON and exports later: the files must not change."""
    rows = bcg_rows()
    rows[0]["ablat"] = 44.5
    rows[1]["year"] = 1949.0
    res = run(bcg_spec(), rows)
    stored = json.loads(json.dumps(res))
    assert data_csv(stored) == data_csv(res)
    assert r_script(stored) == r_script(res)
    assert results_json(stored) == results_json(res)


def test_undefined_test_of_subgroup_differences_is_none_with_a_note():
    rows = bcg_rows()[:3]
    for row, group in zip(rows, ("a", "b", "c"), strict=True):
        row["alloc"] = group
    spec = bcg_spec("FE", "knha")
    res = run(spec, rows)
    assert [s["k"] for s in res["subgroups"]] == [1, 1, 1]
    assert res["subgroup_test"] is None
    assert any("no residual degrees of freedom" in n for n in res["notes"])
    assert "not computed (see results.json notes)" in r_script(res)


def test_saturated_meta_regression_is_not_reported():
    spec = bcg_spec("FE", "knha")
    spec["moderators"] = ["ablat"]
    res = run(spec, bcg_rows()[:2])
    assert res["metareg"] is None
    assert any("leave no residual degrees of freedom" in n for n in res["notes"])
