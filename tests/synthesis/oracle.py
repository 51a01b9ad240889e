"""Loading the metafor reference cases and comparing numbers with them.

Tolerances, and why they are what they are (see tests/fixtures/metafor/ORACLE.md, section 2):

* ``RTOL = 1e-8``: the oracle was produced with tight control (threshold and uniroot tol 1e-12,
  confint tol 1e-13), so its values are converged answers; an independent recomputation
  reproduced them to 2.5e-9 relative.
* ``ATOL = 1e-9`` for values near 0 (τ², estimates, p-values): relative error means nothing at 0,
  and metafor's own stopping rules are absolute at 1e-12 on τ².
* ``ATOL_I2 = 1e-7`` for I² because metafor reports it in percent: 1e-9 on the 0-1 scale. At
  the ML/REML boundary metafor's step halving stops at τ² ≈ 1e-13 instead of 0, which is
  I² ≈ 2e-9 %; and where Fisher scoring converges slowly, metafor's absolute stop at 1e-12 on τ²
  leaves up to ~5e-9 % (hackshaw cumulative fit 9, checked against an exact rational score).
* τ (the square root of τ²) is compared as τ², since √ turns the 1e-13 boundary leftover into
  3e-7.
* ``escalc`` values are closed forms: ``RTOL_CLOSED = 1e-10``.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "metafor"
CASES_FILE = FIXTURES / "cases.json"

RTOL = 1e-8
ATOL = 1e-9
ATOL_I2 = 1e-7
RTOL_CLOSED = 1e-10
ATOL_CLOSED = 1e-14

EXPECTED_COUNTS = {"rma": 404, "metareg": 130, "subgroup": 14, "escalc": 44}
EXPECTED_TOTAL = 592


@cache
def load_cases() -> tuple[dict[str, Any], ...]:
    with CASES_FILE.open() as fh:
        return tuple(json.load(fh))


def cases_of(kind: str) -> list[dict[str, Any]]:
    return [c for c in load_cases() if c["kind"] == kind]


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def assert_close(
    got: Any,
    expected: Any,
    what: str,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Compare numbers or sequences of numbers; metafor's NA (``None``) must meet NaN/None."""
    if isinstance(expected, list | tuple):
        got_list = list(np.asarray(got, dtype=float)) if got is not None else None
        assert got_list is not None, f"{what}: expected {expected}, got None"
        assert len(got_list) == len(expected), f"{what}: length {len(got_list)} != {len(expected)}"
        for i, (g, e) in enumerate(zip(got_list, expected, strict=True)):
            assert_close(g, e, f"{what}[{i}]", rtol=rtol, atol=atol)
        return
    if _missing(expected):
        assert _missing(got), f"{what}: metafor gives NA, we give {got!r}"
        return
    assert not _missing(got), f"{what}: expected {expected!r}, got {got!r}"
    got = float(got)
    expected = float(expected)
    if math.isinf(expected) or math.isinf(got):
        assert got == expected, f"{what}: expected {expected!r}, got {got!r}"
        return
    assert math.isclose(got, expected, rel_tol=rtol, abs_tol=atol), (
        f"{what}: expected {expected!r}, got {got!r} "
        f"(relative error {abs(got - expected) / max(abs(expected), 1e-300):.2e})"
    )


def assert_tau(got: float, expected: float, what: str) -> None:
    """τ compared on the τ² scale (see the module docstring)."""
    if _missing(expected):
        assert _missing(got), f"{what}: metafor gives NA, we give {got!r}"
        return
    assert_close(got * got, expected * expected, what)
