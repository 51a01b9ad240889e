"""``manage.py escalc``: a CSV of study rows in, the same rows with metafor's yi and vi out.

The reference files are ``tests/fixtures/metafor/escalc_random_<MEASURE>.csv`` (240 random rows
each, zero cells and double zeros included, written by ``make_escalc_random.R`` with metafor
3.8-1's yi and vi); the command gets them without the yi/vi columns and must give them back at
relative tolerance 1e-10.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.paths import ROOT

from .oracle import ATOL_CLOSED, FIXTURES, RTOL_CLOSED, assert_close
from .test_escalc_random import random_cases

MEASURES = ("OR", "RR", "RD", "MD", "SMD", "COR", "ZCOR", "PR", "PLO")
CLOSE = {"rtol": RTOL_CLOSED, "atol": ATOL_CLOSED}


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("escalc", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _reference(measure: str) -> tuple[list[str], list[list[str]], list[str], list[str]]:
    """Input header and rows of the reference file, and metafor's yi and vi (as text)."""
    with (FIXTURES / f"escalc_random_{measure}.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    keep = [i for i, name in enumerate(header) if name not in ("yi", "vi")]
    iy, iv = header.index("yi"), header.index("vi")
    body = rows[1:]
    return (
        [header[i] for i in keep],
        [[r[i] for i in keep] for r in body],
        [r[iy] for r in body],
        [r[iv] for r in body],
    )


def _write(path, header, rows, *, delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def _num(text: str) -> float | None:
    return float(text) if text != "" else None


def _parse(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _case(name: str) -> dict:
    return next(c for c in random_cases() if c["name"] == name)


def _case_csv(tmp_path, name: str, rename: dict[str, str] | None = None):
    """A JSON reference case's inputs as a CSV (NA as empty cells)."""
    case = _case(name)
    cols = {(rename or {}).get(k, k): v for k, v in case["inputs"].items()}
    header = list(cols)
    k = len(next(iter(cols.values())))
    rows = [[("" if cols[h][i] is None else repr(cols[h][i])) for h in header] for i in range(k)]
    return _write(tmp_path / f"{name}.csv", header, rows), case


# ----------------------------------------------------------------------------- good files


@pytest.mark.parametrize("measure", MEASURES)
def test_it_adds_metafors_yi_and_vi_to_every_row(tmp_path, measure):
    header, rows, yi, vi = _reference(measure)
    assert len(rows) == 240
    out, err = run(_write(tmp_path / "in.csv", header, rows), "--measure", measure)
    got_header, got_rows = _parse(out)
    assert got_header == [*header, "yi", "vi"]
    assert len(got_rows) == 240
    assert [r[: len(header)] for r in got_rows] == rows  # the input comes back unchanged
    assert_close([_num(r[-2]) for r in got_rows], [_num(y) for y in yi], "yi", **CLOSE)
    assert_close([_num(r[-1]) for r in got_rows], [_num(v) for v in vi], "vi", **CLOSE)
    assert err == ""


@pytest.mark.parametrize("measure", ["OR", "SMD", "PLO"])
def test_it_writes_json_records(tmp_path, measure):
    header, rows, yi, vi = _reference(measure)
    out, _ = run(_write(tmp_path / "in.csv", header, rows), "--measure", measure, "--json")
    records = json.loads(out)
    assert len(records) == 240
    assert list(records[0]) == [*header, "yi", "vi"]
    assert [[r[h] for h in header] for r in records] == rows
    assert all(isinstance(r["yi"], float) and isinstance(r["vi"], float) for r in records)
    assert_close([r["yi"] for r in records], [float(y) for y in yi], "yi", **CLOSE)
    assert_close([r["vi"] for r in records], [float(v) for v in vi], "vi", **CLOSE)


@pytest.mark.parametrize(
    "name, measure, options",
    [
        ("random_SMD_UB", "SMD", ["--vtype", "ub"]),
        ("random_SMD_AV", "SMD", ["--vtype", "AV"]),
        ("random_MD_HO", "MD", ["--vtype", "HO"]),
        ("random_RD_vtypeAV", "RD", ["--vtype", "AV"]),
        ("random_OR_to_if0all", "OR", ["--to", "if0all"]),
        ("random_RR_add1", "RR", ["--add", "1"]),
        ("random_RR_to_all", "RR", ["--to", "all"]),
        ("random_PR_UB", "PR", ["--vtype", "UB"]),
        ("random_COR_AV", "COR", ["--vtype", "AV"]),
        ("random_SMD_from_t", "SMD", []),
    ],
)
def test_it_honours_metafors_options(tmp_path, name, measure, options):
    path, case = _case_csv(tmp_path, name)
    out, _ = run(path, "--measure", measure, *options)
    _, rows = _parse(out)
    assert_close([_num(r[-2]) for r in rows], case["expected"]["yi"], "yi", **CLOSE)
    assert_close([_num(r[-1]) for r in rows], case["expected"]["vi"], "vi", **CLOSE)


def test_double_zero_studies_are_left_out_with_a_note_under_drop00(tmp_path):
    path, case = _case_csv(tmp_path, "random_OR_drop00")
    out, err = run(path, "--measure", "OR", "--drop00")
    _, rows = _parse(out)
    assert len(rows) == 240
    assert_close([_num(r[-2]) for r in rows], case["expected"]["yi"], "yi", **CLOSE)
    dropped = [i + 2 for i, y in enumerate(case["expected"]["yi"]) if y is None]
    assert len(dropped) >= 30
    for line in dropped:
        assert f"Note: Row {line}: a double-zero study, left out (drop00)." in err


def test_smd_from_signed_p_values_and_from_f_with_a_sign(tmp_path):
    p_case, f_case = _case("random_SMD_from_p"), _case("random_SMD_from_F")
    n1, n2 = p_case["inputs"]["n1i"], p_case["inputs"]["n2i"]
    header = ["n1i", "n2i", "pi", "fi", "sign"]
    rows = [
        [str(a), str(b), repr(p), "", ""]
        for a, b, p in zip(n1, n2, p_case["extra"]["pi"], strict=True)
    ]
    rows += [
        [str(a), str(b), "", repr(f), repr(s)]
        for a, b, f, s in zip(n1, n2, f_case["extra"]["fi"], f_case["extra"]["sign"], strict=True)
    ]  # fmt: skip
    out, _ = run(_write(tmp_path / "in.csv", header, rows), "--measure", "SMD")
    _, got = _parse(out)
    expected = p_case["expected"]["yi"] + f_case["expected"]["yi"]
    assert_close([_num(r[-2]) for r in got], expected, "yi", **CLOSE)
    # an unsigned p-value with the direction in a sign column gives the same answer
    unsigned = [[a, b, repr(abs(float(p))), "", repr(-1.0 if float(p) < 0 else 1.0)]
                for a, b, p, _f, _s in rows[:240]]  # fmt: skip
    out, _ = run(_write(tmp_path / "unsigned.csv", header, unsigned), "--measure", "SMD")
    assert_close([_num(r[-2]) for r in _parse(out)[1]], p_case["expected"]["yi"], "yi", **CLOSE)


@pytest.mark.parametrize(
    "name, measure",
    [
        ("wald_ratio_log", "OR"),
        ("wald_ratio_log", "RR"),
        ("wald_difference", "MD"),
        ("wald_correlation_rtoz", "ZCOR"),
        ("wald_proportion_logit", "PLO"),
    ],
)
def test_it_converts_a_reported_estimate_with_its_ci(tmp_path, name, measure):
    rename = {"estimate": "est", "ci_lb": "ci.lb", "ci_ub": "ci.ub"}
    path, case = _case_csv(tmp_path, name, rename)
    out, err = run(path, "--measure", measure)
    _, rows = _parse(out)
    assert_close([_num(r[-2]) for r in rows], case["expected"]["yi"], "yi", **CLOSE)
    assert_close([_num(r[-1]) for r in rows], case["expected"]["vi"], "vi", **CLOSE)
    off = [i + 2 for i, flag in enumerate(case["expected"]["off_centre"]) if flag]
    assert err.count("est is not halfway") == len(off)
    for line in off:
        assert f"Note: Row {line}: est is not halfway" in err


def test_rows_may_mix_counts_and_reported_cis_and_ci_columns_have_aliases(tmp_path):
    text = "study,ai,n1i,ci,n2i,estimate,ci_lb,ci_ub\nA,3,20,5,21,,,\nB,,,,,0.5,0.25,1\n"
    (tmp_path / "mix.csv").write_text(text)
    out, _ = run(tmp_path / "mix.csv", "--measure", "OR", "--json")
    a, b = json.loads(out)
    assert b["yi"] == pytest.approx(-0.6931471805599453, rel=1e-12)
    assert b["vi"] == pytest.approx((1.3862943611198906 / (2 * 1.959963984540054)) ** 2, rel=1e-12)
    assert a["yi"] == pytest.approx(math.log((3 / 17) / (5 / 16)), rel=1e-12)


def test_it_reads_semicolons_and_replaces_existing_yi_vi_columns(tmp_path):
    text = "yi;ri;ni;vi\n9;0.5;50;9\n9;-0.2;30;9\n"
    (tmp_path / "semi.csv").write_text(text)
    out, _ = run(tmp_path / "semi.csv", "--measure", "ZCOR")
    header, rows = _parse(out)
    assert header == ["yi", "ri", "ni", "vi"]
    assert float(rows[0][0]) == pytest.approx(0.5493061443340549, rel=1e-12)
    assert float(rows[1][3]) == pytest.approx(1 / 27, rel=1e-12)


def test_it_writes_to_an_output_file(tmp_path):
    header, rows, yi, _ = _reference("PR")
    target = tmp_path / "out.csv"
    out, _ = run(_write(tmp_path / "in.csv", header, rows), "--measure", "pr", "-o", target)
    assert out == ""
    _, got = _parse(target.read_text())
    assert_close([_num(r[-2]) for r in got], [float(y) for y in yi], "yi", **CLOSE)


# ------------------------------------------------------------------------ encodings, files


def test_utf8_with_bom_and_cp1252_and_utf16_are_read(tmp_path):
    text = "study,ri,ni\nMüller 2019,0.3,40\nSøren,0.1,25\n"
    for name, data in (
        ("bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("cp1252.csv", text.encode("cp1252")),
        ("utf16.csv", text.encode("utf-16")),
        ("crlf.csv", text.replace("\n", "\r\n").encode("utf-8")),
    ):
        (tmp_path / name).write_bytes(data)
        records = json.loads(run(tmp_path / name, "--measure", "COR", "--json")[0])
        assert list(records[0])[:3] == ["study", "ri", "ni"], name
        assert [r["study"] for r in records] == ["Müller 2019", "Søren"], name
        assert records[0]["yi"] == 0.3 and records[0]["vi"] == pytest.approx(0.91**2 / 39)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a CSV text file: it holds binary data"),
        (b"PK\x03\x04\x14\x00\x06\x00", r"zip file \(an .xlsx workbook\?\)"),
        (b"ri,ni\n0.3,\x81\x8d\x8f\x90\x9d\xc3\x28\n", r"neither UTF-8 nor Windows-1252 \(cp1252\)"),
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"ri,ni\n", "no data rows"),
        (b"TY  - JOUR\nTI  - A title\nER  - \n", "For COR the file needs the columns ri, ni; or est, ci.lb, ci.ub"),
    ],
)  # fmt: skip
def test_files_that_are_not_csv_get_a_clear_error(tmp_path, data, message):
    (tmp_path / "f.csv").write_bytes(data)
    with pytest.raises(CommandError, match=message):
        run(tmp_path / "f.csv", "--measure", "COR")


def test_a_missing_file_and_a_directory_are_refused(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        run(tmp_path / "nope.csv", "--measure", "OR")
    with pytest.raises(CommandError, match="is a directory"):
        run(tmp_path, "--measure", "OR")


@pytest.mark.parametrize(
    "measure, header, needed",
    [
        ("SMD", "study,m1i,sd1i,n1i,m2i,n2i", "m1i, sd1i, n1i, m2i, sd2i, n2i"),
        ("SMD", "study,m1i,sd1i,n1i,m2i,n2i", "ti, n1i, n2i; or pi, n1i, n2i; or fi, n1i, n2i"),
        ("MD", "ti,n1i,n2i", "m1i, sd1i, n1i, m2i, sd2i, n2i; or est, ci.lb, ci.ub"),
        ("OR", "ai,ci,n1i", r"ai, bi \(or n1i\), ci, di \(or n2i\)"),
        ("RD", "events,total", r"It has: events, total"),
        ("PLO", "ri,ni", "xi, ni"),
        ("ZCOR", "xi,ni", "ri, ni"),
    ],
)
def test_missing_columns_for_the_measure_are_listed(tmp_path, measure, header, needed):
    (tmp_path / "f.csv").write_text(header + "\n" + ",".join("1" * len(header.split(","))) + "\n")
    with pytest.raises(CommandError, match=f"For {measure} the file needs the columns .*{needed}"):
        run(tmp_path / "f.csv", "--measure", measure)


# ------------------------------------------------------------------------------ bad rows

BAD_ROWS = [
    ("SMD", "m1i,sd1i,n1i,m2i,sd2i,n2i\n1,1,10,0,1,10\n1,1,10,0,,10\n",
     r"Row 3: sd2i missing \(SMD needs m1i, sd1i, n1i, m2i, sd2i, n2i; or ti, n1i, n2i"),
    ("MD", "m1i,sd1i,n1i,m2i,sd2i,n2i\n1,1,10,0,1,10\n1,1,1,0,1,10\n",
     "Row 3: n1i = 1; a group needs at least 2 participants"),
    ("SMD", "ti,n1i,n2i\n2.1,10,1\n", "Row 2: n2i = 1; a group needs at least 2"),
    ("OR", "ai,bi,ci,di\n1,0,3,4\n", "Row 2: group 1 has ai \\+ bi = 1 participants"),
    ("PLO", "xi,ni\n1,1\n", "Row 2: ni = 1; a group needs at least 2"),
    ("SMD", "m1i,sd1i,n1i,m2i,sd2i,n2i\n1,-1,10,0,1,10\n",
     "Row 2: sd1i = -1 is negative; standard deviations cannot be"),
    ("PR", "xi,ni\n3,10\n12,10\n", "Row 3: xi = 12 of ni = 10 is a proportion outside 0-1"),
    ("PLO", "xi,ni\n-1,10\n", "Row 2: xi = -1 of ni = 10 is a proportion outside 0-1"),
    ("COR", "ri,ni\n1.2,30\n", "Row 2: ri = 1.2 is outside -1 to 1"),
    ("ZCOR", "ri,ni\n0.3,3\n", "Row 2: ni = 3; the variance of a correlation needs ni of 4"),
    ("OR", "ai,n1i,ci,n2i\n12,10,3,10\n", "Row 2: ai = 12 is more than n1i = 10"),
    ("RR", "ai,bi,ci,di\n2,-3,3,10\n", "Row 2: bi = -3 is negative; counts cannot be"),
    ("RD", "ai,bi,n1i,ci,di\n2,8,11,3,10\n", "Row 2: n1i = 11 is not ai \\+ bi = 10"),
    ("RD", "ai,bi,ci,di\n2,abc,3,10\n", "Row 2: bi = 'abc' is not a number"),
    ("RD", "ai,bi,ci,di\n2,inf,3,10\n", "Row 2: bi = 'inf' is not a finite number"),
    ("SMD", "pi,n1i,n2i\n0,10,10\n", "Row 2: pi = 0 is not a two-sided p-value"),
    ("SMD", "pi,n1i,n2i\n1.5,10,10\n", "Row 2: pi = 1.5 is not a two-sided p-value"),
    ("SMD", "pi,sign,n1i,n2i\n-0.04,-1,10,10\n", "Row 2: pi is negative and a sign is given"),
    ("SMD", "fi,n1i,n2i\n-4,10,10\n", "Row 2: fi = -4 is negative"),
    ("SMD", "m1i,sd1i,n1i,m2i,sd2i,n2i\n1,0,10,0,0,10\n",
     r"Row 2: yi and vi cannot be computed .*both standard deviations are 0"),
    ("OR", "est,ci.lb,ci.ub\n0.8,0,1.2\n", "Row 2: est, ci.lb and ci.ub of OR are ratios, above 0"),
    ("ZCOR", "est,ci.lb,ci.ub\n0.8,0.5,1.2\n", "Row 2: .* of ZCOR are correlations, between -1 and 1"),
    ("MD", "est,ci.lb,ci.ub\n1,2,0.5\n", "Row 2: ci.lb = 2 is not below ci.ub = 0.5"),
    ("MD", "est,ci.lb,ci.ub\n3,0.5,2\n", r"Row 2: est = 3 lies outside its CI \[0.5, 2\]"),
    ("COR", "ri,ni\n0.3,40,7\n", "Row 2: it has 3 cells, the header 2"),
]  # fmt: skip


@pytest.mark.parametrize("measure, text, message", BAD_ROWS)
def test_every_kind_of_bad_row_is_named_and_nothing_is_written(tmp_path, measure, text, message):
    (tmp_path / "bad.csv").write_text(text)
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("escalc", str(tmp_path / "bad.csv"), "--measure", measure, stdout=out)
    assert out.getvalue() == ""


def test_a_zero_cell_without_correction_is_a_bad_row(tmp_path):
    (tmp_path / "z.csv").write_text("ai,bi,ci,di\n0,10,3,7\n2,8,3,7\n")
    with pytest.raises(CommandError, match=r"Row 2: yi and vi cannot be computed .*zero cell"):
        run(tmp_path / "z.csv", "--measure", "OR", "--add", "0")
    assert "Row" not in run(tmp_path / "z.csv", "--measure", "OR")[1]  # 1/2 added by default


def test_all_bad_rows_are_listed_together(tmp_path):
    header, rows, _, _ = _reference("MD")
    rows[4][header.index("m1i")] = ""
    rows[9][header.index("n1i")] = "1"
    rows[19][header.index("sd1i")] = "-2"
    path = _write(tmp_path / "in.csv", header, rows)
    with pytest.raises(CommandError) as info:
        run(path, "--measure", "MD")
    text = str(info.value)
    assert text.startswith(f"3 bad row(s) in {path}; nothing was written")
    assert [line.split(":")[0] for line in text.splitlines()[1:]] == ["Row 6", "Row 11", "Row 21"]


def test_skip_bad_reports_on_stderr_and_writes_bad_rows_empty(tmp_path):
    text = "study,xi,ni\nA,3,10\nB,12,10\nC,,10\nD,0,20\n"
    (tmp_path / "p.csv").write_text(text)
    out, err = run(tmp_path / "p.csv", "--measure", "PR", "--skip-bad")
    header, rows = _parse(out)
    assert header == ["study", "xi", "ni", "yi", "vi"]
    assert [r[0] for r in rows] == ["A", "B", "C", "D"]
    assert rows[1][3:] == ["", ""] and rows[2][3:] == ["", ""]
    assert float(rows[0][3]) == 0.3 and float(rows[3][3]) == pytest.approx(0.5 / 21)
    assert "Skipped: Row 3: xi = 12 of ni = 10 is a proportion outside 0-1." in err
    assert "Skipped: Row 4: xi missing" in err
    records = json.loads(run(tmp_path / "p.csv", "--measure", "PR", "--skip-bad", "--json")[0])
    assert records[1]["yi"] is None and records[1]["vi"] is None


@pytest.mark.parametrize(
    "options, message",
    [
        (["--vtype", "HO"], "For SMD, vtype must be one of LS, UB, LS2, AV"),
        (["--vtype", "XX"], "Unknown vtype 'XX'"),
        (["--add", "-1"], "--add must be a number of 0 or more"),
        (["--add", "nan"], "--add must be a number of 0 or more"),
        (["--level", "120"], "confidence level"),
    ],
)
def test_bad_options_are_refused(tmp_path, options, message):
    (tmp_path / "f.csv").write_text("est,ci.lb,ci.ub,m1i,sd1i,n1i,m2i,sd2i,n2i\n1,0,2,,,,,,\n")
    with pytest.raises(CommandError, match=message):
        run(tmp_path / "f.csv", "--measure", "SMD", *options)


def test_the_command_line_exits_non_zero_on_a_bad_row(tmp_path):
    (tmp_path / "bad.csv").write_text("xi,ni\n3,10\n12,10\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    args = [sys.executable, "manage.py", "escalc", str(tmp_path / "bad.csv"), "--measure", "PR"]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Row 3: xi = 12 of ni = 10 is a proportion outside 0-1." in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    done = subprocess.run([*args, "--skip-bad"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.splitlines()[1].startswith("3,10,0.3,")
