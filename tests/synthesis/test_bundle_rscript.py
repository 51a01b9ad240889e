"""The exported analysis.R, run by Rscript on the exported data.csv, reproduces run()'s numbers.

Skips (with the reason) only where Rscript or metafor is missing; ``.ci/run`` installs
r-cran-metafor and lists ``rscript`` in EVIDENT_REQUIRE_SERVICES, so under CI it never skips.
"""

from __future__ import annotations

import functools
import math
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from synthesis.bundle import data_csv, r_script, results_json, run
from tests.conftest import require_service
from tests.synthesis.test_bundle import bcg_rows, bcg_spec

KEYS = ("estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "i2", "h2", "q", "q_p", "pi_lb")
KEYS += ("pi_ub", "tau2_ci_lb", "tau2_ci_ub", "i2_ci_lb", "i2_ci_ub", "k")

HOSTILE_LABELS = [
    'Aronson, "BCG" 1948',
    "Ferguson & Simes,\n1949 (two lines)",
    "Rosenthal et al, 1960 \u2014 caf\u00e9 na\u00efve",
    "NA",
    '=HYPERLINK("x")',
    "Stein \\ Aronson, 1953 \t tab",
    "\u5c71\u7530 et al \U0001f489",
    "# not a comment",
    "  leading and trailing  ",
    "'single quotes'",
    "1e5",
    "Comstock & Webster, 1969; r\u00e9sum\u00e9",
    "\u00c5ngstr\u00f6m, 1976\r\n",
]


@functools.cache
def metafor_missing() -> str:
    """Why Rscript with metafor cannot run here ("" when it can)."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (apt-get install r-cran-metafor)"
    proc = subprocess.run(
        ["Rscript", "-e", "suppressPackageStartupMessages(library(metafor))"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return f"library(metafor) fails: {proc.stderr.strip()[-300:]}"
    return ""


def run_in_r(
    result: dict, folder: Path, *, env: dict | None = None, all_computed: bool = True
) -> dict[str, dict]:
    """Write data.csv and analysis.R, run Rscript, return the EVIDENT lines as name -> key ->
    value (float, None for NA, or the text)."""
    reason = metafor_missing()
    require_service(
        not reason, f"Rscript with metafor is not installed: {reason}", service="rscript"
    )
    (folder / "data.csv").write_text(data_csv(result), encoding="utf-8")
    (folder / "analysis.R").write_text(r_script(result), encoding="ascii")
    (folder / "results.json").write_text(results_json(result), encoding="utf-8")
    proc = subprocess.run(
        ["Rscript", "analysis.R"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    if all_computed:
        assert "not computed" not in proc.stdout, proc.stdout[-3000:]
    out: dict[str, dict] = {}
    for line in proc.stdout.splitlines():
        if not line.startswith("EVIDENT "):
            continue
        _, name, key, value = line.split(" ", 3)
        if value == "NA":
            parsed = None
        else:
            try:
                parsed = float(value)
            except ValueError:
                parsed = value
        out.setdefault(name, {})[key] = parsed
    return out


def close(actual, expected, what):
    if expected is None:
        assert actual is None, (what, actual)
        return
    assert actual is not None, (what, "R gives NA")
    assert math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9), (what, actual, expected)


def compare_model(r: dict, model: dict, what: str) -> None:
    for key in KEYS:
        if key.startswith(("tau2_ci", "i2_ci")) and model[key] is None:
            continue  # FE models and k = 1 fits have no heterogeneity CI
        close(r[key], model[key], f"{what} {key}")


def compare_all(res: dict, r: dict) -> None:
    compare_model(r["main"], res["main"], "main")
    for i, study in enumerate(res["studies"], start=1):
        close(r[f"study.{i}"]["weight"], study["weight"], f"weight {i}")
    for i, sub in enumerate(res["subgroups"], start=1):
        compare_model(r[f"subgroup.{i}"], sub, sub["subset"])
    if res["subgroup_test"] is not None:
        t = res["subgroup_test"]
        close(r["subgroup_test"]["qm"], t["qm"], "QM")
        close(r["subgroup_test"]["pval"], t["pval"], "QM p")
        close(r["subgroup_test"]["df2"], t["df2"], "QM df2")
        close(r["subgroup_test"]["separate_q"], t["separate"]["q"], "Q-between")
    for i, sens in enumerate(res["sensitivity"], start=1):
        if sens.get("error"):
            assert f"sensitivity.{i}" not in r
        else:
            compare_model(r[f"sensitivity.{i}"], sens, sens["subset"])
    for i, row in enumerate(res["leave_one_out"], start=1):
        for key in ("estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "i2", "q", "qp"):
            close(r[f"leave1out.{i}"][key], row[key], f"leave-one-out {i} {key}")
    pb = res["publication_bias"] or {"egger": None, "rank": None, "trimfill": None}
    if pb["egger"] is not None:  # (k < 3: the results have none; metafor's FE fit may give one)
        close(r["egger"]["stat"], pb["egger"]["stat"], "Egger")
        close(r["egger"]["pval"], pb["egger"]["pval"], "Egger p")
        for key in ("limit_estimate", "limit_ci_lb", "limit_ci_ub"):
            close(r["egger"][key], pb["egger"][key], f"Egger {key}")
    if pb["rank"] is not None:
        close(r["rank"]["tau"], pb["rank"]["tau"], "Kendall tau")
        close(r["rank"]["pval"], pb["rank"]["pval"], "Begg p")
    if pb["trimfill"] is not None:
        tf = pb["trimfill"]
        assert r["trimfill"]["k0"] == tf["k0"] and r["trimfill"]["side"] == tf["side"]
        for key in ("estimate", "ci_lb", "ci_ub"):
            close(r["trimfill"][key], tf[key], f"trim-and-fill {key}")
        for i, filled in enumerate(tf["filled"], start=1):
            close(r[f"filled.{i}"]["yi"], filled["yi"], "filled yi")
    mr = res["metareg"]
    if mr is not None:
        assert r["metareg"]["k"] == mr["k"]
        for j, coef in enumerate(mr["coefficients"], start=1):
            for key in ("estimate", "se", "pval", "ci_lb", "ci_ub"):
                close(r["metareg"][f"coef.{j}.{key}"], coef[key], f"{coef['name']} {key}")
        for key in ("qm", "qm_p", "tau2", "i2", "r2", "qe", "qe_p"):
            close(r["metareg"][key], mr[key], f"metareg {key}")


@pytest.mark.parametrize(("method", "test"), [("REML", "z"), ("REML", "knha"), ("DL", "z")])
def test_exported_script_reproduces_every_number(tmp_path, method, test):
    res = run(bcg_spec(method, test), bcg_rows())
    r = run_in_r(res, tmp_path)
    compare_all(res, r)
    # The three the issue names, spelled out: a main, a subgroup and a sensitivity analysis.
    for name, model in (
        ("main", res["main"]),
        ("subgroup.2", res["subgroups"][1]),
        ("sensitivity.1", res["sensitivity"][0]),
    ):
        for key in ("estimate", "ci_lb", "ci_ub", "tau2", "i2", "pi_lb", "pi_ub"):
            close(r[name][key], model[key], f"{name} {key}")


def test_common_effect_model_at_90_percent(tmp_path):
    spec = bcg_spec("FE", "z")
    spec["level"] = 90
    res = run(spec, bcg_rows())
    compare_all(res, run_in_r(res, tmp_path))


def test_hostile_labels_and_values_survive_the_csv_to_r_path(tmp_path):
    rows = bcg_rows()
    for row, label in zip(rows, HOSTILE_LABELS, strict=True):
        row["study"] = label
    # Subgroup values with commas, quotes and non-ASCII text; one subgroup of one study; a
    # study without a subgroup value; one without a judgement; a numeric-looking text column.
    swap = {"random": 'random, "concealed"', "alternate": "altern\u00e9", "systematic": "NA"}
    for row in rows:
        row["alloc"] = swap[row["alloc"]]
    rows[0]["alloc"] = "seul \u00e9tude"
    rows[1]["alloc"] = None
    rows[2]["rob"] = None
    hostile = 'Allocation, "method" \u00e9'
    for i, row in enumerate(rows):
        row["site"] = ["01", "1", "x"][i % 3]
        row[hostile] = row.pop("alloc")
    spec = bcg_spec("REML", "knha")
    spec["subgroup"] = hostile
    spec["moderators"] = ["ablat", "site"]
    spec["sensitivity"]["filters"].append(
        {"name": 'without "site" 01', "field": "site", "op": "eq", "value": "01"}
    )
    res = run(spec, rows)
    assert res["subgroups"][-1]["k"] == 1  # "seul étude" sorts last
    folder = tmp_path
    r = run_in_r(res, folder, env={"LC_ALL": "C", "LANG": "C"})
    compare_all(res, r)
    assert r["main"]["k"] == 13
    assert r["sensitivity.3"]["k"] == 13 - len(res["sensitivity"][2]["excluded"]) == 8
    # R reads exactly the labels Python wrote (as UTF-8 bytes, whatever the locale).
    probe = folder / "labels.R"
    probe.write_text(
        'd <- read.csv("data.csv", stringsAsFactors = FALSE, check.names = FALSE,\n'
        '              na.strings = "", encoding = "UTF-8", colClasses = "character")\n'
        "for (s in d$study) cat(paste(as.character(charToRaw(enc2utf8(s))), collapse = ''),"
        ' "\\n", sep = "")\n'
        "for (s in d[[4]]) cat(if (is.na(s)) 'NA' else"
        " paste(as.character(charToRaw(enc2utf8(s))), collapse = ''), '\\n', sep = '')\n",
        encoding="ascii",
    )
    out = subprocess.run(
        ["Rscript", "labels.R"], cwd=folder, capture_output=True, text=True, check=True,
        env={**os.environ, "LC_ALL": "C", "LANG": "C"},
    ).stdout.split()  # fmt: skip
    labels = [bytes.fromhex(h).decode("utf-8") for h in out[:13]]
    assert labels == [row["study"] for row in res["rows"]]
    allocs = [None if h == "NA" else bytes.fromhex(h).decode("utf-8") for h in out[13:]]
    assert allocs == [row[hostile] for row in res["rows"]]
    assert (
        data_csv(res).splitlines()[0]
        == 'study,yi,vi,"Allocation, ""method"" \u00e9",ablat,site,year,rob'
    )


@pytest.mark.parametrize("k", [2, 3])
def test_smallest_analyses(tmp_path, k):
    """k = 2 and 3: a subgroup of one study, a sensitivity subset of one study (an error entry
    in the results, skipped by the script), Egger's test undefined at k = 2 in both."""
    rows = bcg_rows()[:k]
    rows[0]["alloc"] = "alternate"
    for row in rows:
        row["rob"] = "High" if row is not rows[0] else "Low"
    spec = bcg_spec("REML", "z")
    spec["moderators"] = []
    res = run(spec, rows)
    assert [s["k"] for s in res["subgroups"]] == [1, k - 1]
    assert res["sensitivity"][0]["k"] == 1 and res["sensitivity"][0]["error"]
    assert (res["publication_bias"]["egger"] is None) == (k == 2)
    r = run_in_r(res, tmp_path, all_computed=False)
    compare_all(res, r)
    assert "sensitivity.1" not in r


def synthetic_rows(k: int, seed: int) -> list[dict]:
    """Seeded made-up studies (not evidence of anything): text subgroups that look like
    numbers ("9" sorts after "10"), a numeric and a text moderator, missing judgements."""
    rng = random.Random(seed)
    return [
        {
            "study": f'Study {i}, "{rng.choice("xyz")}"',
            "yi": round(rng.gauss(0.3, 0.5), 4),
            "vi": round(rng.uniform(0.01, 0.3), 4),
            "g": rng.choice(["a", "B", "10", "9", None]),
            "dose": rng.choice([1, 2.5, 3, 7, 10]),
            "setting": rng.choice(["clinic", "home", "school"]),
            "rob": rng.choice(["Low", "High", None, "Some concerns"]),
        }
        for i in range(k)
    ]


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM", "ML", "HE", "SJ", "EB"])
def test_every_estimator_on_made_up_data(tmp_path, method):
    test, level = ("knha", 90) if method in ("PM", "ML", "SJ") else ("z", 99)
    spec = {
        "name": f"{method} check",
        "method": method,
        "test": test,
        "level": level,
        "subgroup": "g",
        "moderators": ["dose", "setting"],
        "sensitivity": {
            "leave_one_out": True,
            "without_high_rob": True,
            "filters": [
                {"name": "dose in 1, 2.5", "field": "dose", "op": "in", "value": [1, 2.5]},
                {"name": "not at home", "field": "setting", "op": "ne", "value": "home"},
            ],
        },
        "publication_bias": True,
        "high_rob": ["High"],
    }
    res = run(spec, synthetic_rows(14, seed=len(method)))
    compare_all(res, run_in_r(res, tmp_path, all_computed=False))
