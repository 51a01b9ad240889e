"""``manage.py meta``: a CSV in, a metafor-style summary or JSON out, CommandError on bad input."""

from __future__ import annotations

import json
import math
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from synthesis.stats import meta_fit

from .oracle import cases_of

BCG = next(c for c in cases_of("rma") if c["name"] == "bcg_RR__REML__knha")


def _bcg_csv(tmp_path, *, sep=",", variance="vi"):
    raw = BCG["inputs"]["raw"]
    lines = [sep.join(["study", "yi", variance, "ablat", "alloc"])]
    for i, (y, v) in enumerate(zip(BCG["inputs"]["yi"], BCG["inputs"]["vi"], strict=True)):
        var = v if variance == "vi" else math.sqrt(v)
        lines.append(sep.join([f"Trial {i + 1}", repr(y), repr(var), str(raw["ablat"][i]),
                               raw["alloc"][i]]))  # fmt: skip
    path = tmp_path / "bcg.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def run(*args) -> str:
    out = StringIO()
    call_command("meta", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_it_prints_a_metafor_style_summary(tmp_path):
    text = run(_bcg_csv(tmp_path), "--test", "knha")
    assert "Random-Effects Model (k = 13; tau^2 estimator: REML)" in text
    assert "-3.9522" in text  # metafor's t statistic
    assert "Prediction interval (95%): [-1.9960, 0.5670]" in text


def test_it_prints_json_with_metafors_numbers(tmp_path):
    out = json.loads(run(_bcg_csv(tmp_path), "--test", "knha", "--json"))
    e = BCG["expected"]
    for key, ref in (
        ("estimate", e["estimate"]),
        ("zval", e["zval"]),
        ("tau2", e["tau2"]),
        ("i2", e["I2"]),
        ("qe", e["QE"]),
        ("tau2_ci_ub", e["confint"]["tau2"][2]),
        ("pi_lb", e["predict"]["pi.lb"][0]),
        ("egger_p", BCG["analyses"]["regtest_rma"]["pval"]),
    ):
        assert math.isclose(out[key], ref, rel_tol=1e-8), key
    assert out["k"] == 13 and out["method"] == "REML" and out["test"] == "knha"


@pytest.mark.parametrize("method", ["FE", "DL", "PM", "ML", "HE", "SJ", "EB"])
def test_it_honours_the_method_option(tmp_path, method):
    out = json.loads(run(_bcg_csv(tmp_path), "--method", method.lower(), "--json"))
    ref = meta_fit(BCG["inputs"]["yi"], BCG["inputs"]["vi"], method=method)
    assert out["method"] == method
    assert math.isclose(out["estimate"], ref.estimate, rel_tol=1e-12)
    assert ("tau2_ci_lb" in out) == (method != "FE")


def test_it_reads_standard_errors_and_semicolons(tmp_path):
    out = json.loads(run(_bcg_csv(tmp_path, sep=";", variance="sei"), "--json"))
    assert math.isclose(out["tau2"], BCG["expected"]["tau2"], rel_tol=1e-8)


def test_it_fits_moderators_subgroups_and_leave_one_out(tmp_path):
    out = json.loads(
        run(_bcg_csv(tmp_path), "--moderator", "ablat", "--moderator", "alloc",
            "--subgroup", "alloc", "--leave-one-out", "--level", "90", "--json")
    )  # fmt: skip
    names = [c["name"] for c in out["moderators"]["coefficients"]]
    assert names == ["intercept", "ablat", "alloc[random]", "alloc[systematic]"]
    assert [g["group"] for g in out["subgroups"]["groups"]] == ["alternate", "random", "systematic"]
    assert len(out["leave_one_out"]) == 13 and out["leave_one_out"][0]["study"] == "Trial 1"
    assert out["level"] == 90.0


def test_it_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        run(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("study,effect,vi\nA,0.1,0.01\nB,0.2,0.02\n", "Column 'yi' not found"),
        ("yi,weight\n0.1,1\n0.2,2\n", "'vi' .* or 'sei'"),
        ("yi,vi\n0.1,0.01\nabc,0.02\n", "Row 3: yi = 'abc' is not a number"),
        ("yi,vi\n0.1,0.01\n0.2,\n", "Row 3: vi is missing"),
        ("yi,vi\n0.1,0.01\n", "At least 2 studies"),
        ("yi,vi\n", "no study rows"),
        ("yi,vi\n0.1,0.01\n0.2,-0.02\n", "must be positive"),
        ("yi,vi\n0.1,0.01\n0.2,nan\n", "not a finite number"),
        ("yi,vi\n0.1,0.01\n0.2\n", "Row 3 has 1 cells"),
    ],
)
def test_it_turns_bad_input_into_a_clear_command_error(tmp_path, text, message):
    with pytest.raises(CommandError, match=message):
        run(_write(tmp_path, text))


def test_it_refuses_an_unknown_moderator_column(tmp_path):
    with pytest.raises(CommandError, match="Column 'dose' not found"):
        run(_bcg_csv(tmp_path), "--moderator", "dose")


def test_it_refuses_an_unknown_method(tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        run(_bcg_csv(tmp_path), "--method", "GENQ")


def test_it_refuses_too_many_moderators_for_the_studies(tmp_path):
    path = _write(tmp_path, "yi,vi,a,b\n0.1,0.01,1,5\n0.3,0.02,2,3\n0.2,0.03,4,4\n")
    with pytest.raises(CommandError, match="Number of parameters"):
        run(path, "--moderator", "a", "--moderator", "b")


def test_it_refuses_a_file_that_is_not_text(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x81yi,vi")
    with pytest.raises(CommandError, match="UTF-8"):
        run(path)
