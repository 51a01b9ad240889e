"""The GRADE functions read a results dict as ``synthesis.bundle.run`` really makes it."""

from __future__ import annotations

import math

import pytest

from synthesis.bundle import run
from synthesis.grade import (
    absolute_effect_of,
    certainty,
    ois_binary,
    publication_bias,
    risk_of_bias,
    statement_of,
    suggestions,
)

# Twelve studies on the log RR scale: the four at high risk show larger effects.
ROWS = [
    {"study": f"S{i}", "yi": yi, "vi": vi, "rob": rob}
    for i, (yi, vi, rob) in enumerate(
        [
            (-0.80, 0.04, "High"),
            (-0.70, 0.05, "High"),
            (-0.90, 0.06, "High"),
            (-0.75, 0.05, "High"),
            (-0.05, 0.02, "Low"),
            (0.02, 0.03, "Low"),
            (-0.10, 0.02, "Some concerns"),
            (0.05, 0.03, "Low"),
            (-0.08, 0.04, "Low"),
            (0.00, 0.02, "Low"),
            (-0.12, 0.05, "Some concerns"),
            (0.03, 0.03, "Low"),
        ],
        1,
    )
]
SPEC = {
    "name": "Mortality",
    "measure": "RR",
    "method": "REML",
    "test": "z",
    "level": 95,
    "subgroup": None,
    "moderators": [],
    "sensitivity": {"leave_one_out": False, "without_high_rob": True, "filters": []},
    "publication_bias": True,
    "high_rob": ["High"],
}


@pytest.fixture(scope="module")
def res():
    return run(SPEC, ROWS)


def test_every_domain_reads_the_bundle_result(res):
    rows = suggestions(res, ois=ois_binary(0.2), participants=3000)
    assert all(s.evidence for s in rows)
    rob = risk_of_bias(res)
    assert rob.data["shares"]["high"] > 0
    assert rob.data["conclusion_changes"] is not None
    assert publication_bias(res).suggestion in ("serious", "no concern")
    grade = certainty("high", rows[:5])
    assert grade in ("high", "moderate", "low", "very low")
    assert statement_of(res, grade, "Drug A", "mortality", mid=1.25)


def test_absolute_effect_of_the_bundle_result(res):
    e = absolute_effect_of(res, 0.2)
    assert e.risk_per_1000 == pytest.approx(200 * math.exp(res["main"]["estimate"]))
