"""``escalc`` against metafor 3.8-1 on random inputs (``tests/fixtures/metafor/make_escalc_random.R``).

Every set has 240 rows (unless its name says otherwise) with zero cells, double zeros, tables
with all events in an arm, tiny groups, missing values and every option the engine offers; all
compared at relative tolerance 1e-10. ``from_ci`` is compared with metafor 4's ``conv.wald``
formula, spelled out in the R script (3.8-1 has no ``conv.wald``) and passed through 3.8-1's
``escalc(yi=, vi=)``.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import numpy as np
import pytest

from synthesis.stats.escalc import escalc, from_ci, t_from_f, t_from_p

from .oracle import ATOL_CLOSED, FIXTURES, RTOL_CLOSED, assert_close

RANDOM_FILE = FIXTURES / "escalc_random.json"
EXPECTED_CASES = {"escalc": 80, "conv.wald": 6}
ROWS = 240
SHORTER = {"_to_if0all_no_zero": 101, "edge_": 36}  # name part -> rows
CLOSE = {"rtol": RTOL_CLOSED, "atol": ATOL_CLOSED}


@cache
def random_cases() -> tuple[dict[str, Any], ...]:
    with RANDOM_FILE.open() as fh:
        return tuple(json.load(fh))


def _of(kind: str) -> list[dict[str, Any]]:
    return [c for c in random_cases() if c["kind"] == kind]


def _ids(cases):
    return [c["name"] for c in cases]


def _vec(values) -> np.ndarray:
    return np.asarray(values, dtype=float)  # JSON null (R's NA) becomes NaN


def _options(case) -> dict[str, Any]:
    return dict(case["options"] or {})  # R writes an empty list() as []


def _rows_expected(name: str) -> int:
    return next((n for part, n in SHORTER.items() if part in name), ROWS)


def test_every_random_set_is_there_with_its_rows():
    cases = random_cases()
    assert dict(Counter(c["kind"] for c in cases)) == EXPECTED_CASES
    assert len({c["name"] for c in cases}) == len(cases)
    measures = Counter(c["measure"] for c in cases)
    for measure in ("OR", "RR", "RD", "MD", "SMD", "COR", "ZCOR", "PR", "PLO", "GEN"):
        assert measures[measure] >= 2, measure
    for case in cases:
        k = _rows_expected(case["name"])
        assert len(case["expected"]["yi"]) == k, case["name"]
        assert len(case["expected"]["vi"]) == k, case["name"]
        assert all(len(v) == k for v in case["inputs"].values()), case["name"]


def test_the_sets_hold_the_hard_rows():
    """Zero cells, double zeros and all-event arms are in the 2x2 sets; NA where metafor gives NA."""
    tab = next(c for c in random_cases() if c["name"] == "random_OR_default")["inputs"]
    a, b, c, d = (_vec(tab[x]) for x in ("ai", "bi", "ci", "di"))
    assert ((a == 0) & (c == 0)).sum() >= 20
    assert ((b == 0) & (d == 0)).sum() >= 10
    assert ((a == 0) ^ (c == 0)).sum() >= 30
    none = next(c for c in random_cases() if c["name"] == "random_OR_to_none")
    assert np.isnan(_vec(none["expected"]["yi"])).sum() >= 40


@pytest.mark.parametrize("case", _of("escalc"), ids=_ids(_of("escalc")))
def test_escalc_matches_metafor_on_random_inputs(case):
    inputs = {name: _vec(values) for name, values in case["inputs"].items()}
    res = escalc(case["measure"], **inputs, **_options(case))
    assert_close(res.yi, case["expected"]["yi"], "yi", **CLOSE)
    assert_close(res.vi, case["expected"]["vi"], "vi", **CLOSE)


@pytest.mark.parametrize(
    "name", ["random_SMD_from_p", "random_SMD_from_F", "random_SMD_mixed_means_t_p"]
)
def test_smd_from_p_values_and_f_statistics_matches_metafor(name):
    case = next(c for c in random_cases() if c["name"] == name)
    inputs = {k: _vec(v) for k, v in case["inputs"].items()}
    extra = {k: _vec(v) for k, v in case["extra"].items()}
    n1, n2 = inputs["n1i"], inputs["n2i"]
    if "fi" in extra:
        t = t_from_f(extra["fi"], extra["sign"])
        assert_close(t, case["extra"]["t_converted"], "t from F", **CLOSE)
        res = escalc("SMD", ti=t, n1i=n1, n2i=n2)
    elif "ti_given" in extra:  # means, t and signed p row by row: ti wins, then pi, then means
        means = {k: inputs[k] for k in ("m1i", "sd1i", "m2i", "sd2i")}
        res = escalc("SMD", **means, n1i=n1, n2i=n2, ti=extra["ti_given"], pi=extra["pi"])
    else:
        assert_close(t_from_p(extra["pi"], n1, n2), case["extra"]["t_converted"], "t", **CLOSE)
        sign, p = np.sign(extra["pi"]), np.abs(extra["pi"])
        assert_close(t_from_p(p, n1, n2, sign), case["extra"]["t_converted"], "t", **CLOSE)
        res = escalc("SMD", pi=extra["pi"], n1i=n1, n2i=n2)
    assert_close(res.yi, case["expected"]["yi"], "yi", **CLOSE)
    assert_close(res.vi, case["expected"]["vi"], "vi", **CLOSE)


@pytest.mark.parametrize("case", _of("conv.wald"), ids=_ids(_of("conv.wald")))
def test_from_ci_matches_metafors_wald_conversion(case):
    inputs = {name: _vec(values) for name, values in case["inputs"].items()}
    opts = _options(case)
    res = from_ci(
        inputs["estimate"],
        inputs.get("ci_lb"),
        inputs.get("ci_ub"),
        pval=inputs.get("pval"),
        level=opts["level"],
        transf=opts["transf"],
    )
    assert_close(res.yi, case["expected"]["yi"], "yi", **CLOSE)
    assert_close(res.vi, case["expected"]["vi"], "vi", **CLOSE)
    assert list(res.off_centre) == case["expected"]["off_centre"]
