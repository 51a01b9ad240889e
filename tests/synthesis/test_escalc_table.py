"""The row-by-row path (``synthesis.stats.escalc_table``) against every escalc case of the oracle.

The 44 ``escalc`` cases of ``tests/fixtures/metafor/cases.json`` (a copy of
``/work/shared/reference/metafor/cases.json``, metafor 3.8-1) go through the table as a CSV's
cells would, with their options, and must give metafor's yi and vi at relative tolerance 1e-10;
where metafor gives NA the row is reported as bad (or, with ``drop00``, noted as left out).
"""

from __future__ import annotations

import pytest

from synthesis.stats.escalc_table import escalc_table

from .oracle import ATOL_CLOSED, RTOL_CLOSED, assert_close, cases_of

ESCALC = cases_of("escalc")
EXPECTED_ESCALC_CASES = 44


def _text(value) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _table(raw: dict[str, list]) -> tuple[list[str], list[list[str]]]:
    header = list(raw)
    k = len(next(iter(raw.values())))
    return header, [[_text(raw[name][i]) for name in header] for i in range(k)]


def test_every_oracle_escalc_case_is_pinned():
    assert len(ESCALC) == EXPECTED_ESCALC_CASES
    assert len({c["name"] for c in ESCALC}) == EXPECTED_ESCALC_CASES


@pytest.mark.parametrize("case", ESCALC, ids=[c["name"] for c in ESCALC])
def test_the_table_path_gives_metafors_numbers(case):
    header, rows = _table(case["inputs"]["raw"])
    options = dict(case["call"]["options"] or {})
    table = escalc_table(header, rows, case["call"]["measure"], **options)
    expected_yi, expected_vi = case["expected"]["yi"], case["expected"]["vi"]
    assert len(table.rows) == len(expected_yi) == len(rows)
    lines_with_messages = {
        int(m.split(":")[0].removeprefix("Row ")) for m in table.problems + table.notes
    }
    for i, row in enumerate(table.rows):
        assert row.line == i + 2
        assert list(row.cells) == rows[i]
        if expected_yi[i] is None or expected_vi[i] is None:
            assert row.yi is None and row.vi is None, f"row {row.line}"
            assert row.line in lines_with_messages, f"row {row.line} NA without a message"
        else:
            assert_close(row.yi, expected_yi[i], f"yi[{i}]", rtol=RTOL_CLOSED, atol=ATOL_CLOSED)
            assert_close(row.vi, expected_vi[i], f"vi[{i}]", rtol=RTOL_CLOSED, atol=ATOL_CLOSED)
            assert row.line not in lines_with_messages
