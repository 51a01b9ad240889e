"""Agreement statistics against values computed by hand (the working is in each test)."""

import math

import pytest

from screening import reliability


def test_cohen_kappa_of_the_textbook_2x2_table():
    # 50 records: both include 20, A include/B exclude 5, A exclude/B include 10, both exclude 15.
    # p_o = 35/50 = 0.7; A includes 25/50 = 0.5, B includes 30/50 = 0.6;
    # p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    table = reliability.TwoByTwo(both_yes=20, a_yes_b_no=5, a_no_b_yes=10, both_no=15)
    result = reliability.cohen_kappa_2x2(table)
    assert result.n == 50
    # Exact arithmetic, so only floating-point rounding separates us from the hand value.
    assert result.observed == pytest.approx(0.7, abs=1e-12)
    assert result.expected == pytest.approx(0.5, abs=1e-12)
    assert result.kappa == pytest.approx(0.4, abs=1e-12)
    assert result.percent_agreement == pytest.approx(70.0, abs=1e-9)


def test_cohen_kappa_from_pairs_with_an_uneven_table():
    # both yes 1, A yes/B no 2, A no/B yes 1, both no 6 (n = 10).
    # p_o = 7/10; A yes 3/10, B yes 2/10; p_e = 0.3*0.2 + 0.7*0.8 = 0.62;
    # kappa = (0.7 - 0.62) / 0.38 = 0.08/0.38 = 0.210526...
    pairs = [(True, True)] + [(True, False)] * 2 + [(False, True)] + [(False, False)] * 6
    result = reliability.cohen_kappa(pairs)
    assert result.kappa == pytest.approx(0.08 / 0.38, abs=1e-12)
    assert reliability.two_by_two(pairs) == reliability.TwoByTwo(1, 2, 1, 6)


def test_cohen_kappa_is_minus_one_for_perfect_disagreement_and_one_for_agreement():
    assert reliability.cohen_kappa([(True, False), (False, True)]).kappa == pytest.approx(-1.0)
    assert reliability.cohen_kappa([(True, True), (False, False)]).kappa == pytest.approx(1.0)


def test_cohen_kappa_over_three_categories():
    # include/exclude/maybe: 3 agreements of 5; A: i 2, e 2, m 1; B: i 2, e 1, m 2.
    # p_e = (2*2 + 2*1 + 1*2)/25 = 8/25 = 0.32; kappa = (0.6 - 0.32)/0.68 = 0.411764...
    pairs = [("i", "i"), ("e", "e"), ("m", "m"), ("i", "m"), ("e", "i")]
    assert reliability.cohen_kappa(pairs).kappa == pytest.approx(0.28 / 0.68, abs=1e-12)


def test_cohen_kappa_is_undefined_when_everyone_says_the_same():
    result = reliability.cohen_kappa([(True, True)] * 4)
    assert result.kappa is None and result.observed == 1.0
    assert "same decision" in result.undefined_reason
    empty = reliability.cohen_kappa([])
    assert empty.kappa is None and empty.n == 0 and empty.percent_agreement is None


def test_fleiss_kappa_small_hand_example():
    # 3 records, 3 votes each, yes/no counts: [3,0], [0,3], [2,1].
    # P_i = 1, 1, (4+1-3)/6 = 1/3 -> mean 7/9; p_yes = 5/9, p_no = 4/9 -> P_e = 41/81;
    # kappa = (63/81 - 41/81) / (40/81) = 22/40 = 0.55.
    result = reliability.fleiss_kappa([[3, 0], [0, 3], [2, 1]])
    assert result.kappa == pytest.approx(0.55, abs=1e-12)
    assert (result.items, result.raters_per_item) == (3, 3)


def test_fleiss_kappa_matches_fleiss_1971_worked_example():
    # The 10 subjects x 14 raters x 5 categories example (as reproduced on Wikipedia's
    # "Fleiss' kappa" page): P-bar = 0.378, P_e = 0.213, kappa = 0.210 to three places, so
    # the tolerance is half a unit in the third decimal.
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    result = reliability.fleiss_kappa(counts)
    assert result.observed == pytest.approx(0.378, abs=5e-4)
    assert result.expected == pytest.approx(0.213, abs=5e-4)
    assert result.kappa == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_refuses_ragged_input_and_reports_undefined_cases():
    with pytest.raises(ValueError):
        reliability.fleiss_kappa([[2, 0], [1, 2]])
    assert reliability.fleiss_kappa([]).kappa is None
    assert reliability.fleiss_kappa([[1, 0]]).kappa is None
    same = reliability.fleiss_kappa([[3, 0], [3, 0]])
    assert same.kappa is None and not math.isnan(same.observed)


def test_stats_module_has_no_django_import():
    import ast
    from pathlib import Path

    source = Path(reliability.__file__).read_text()
    names = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "django" not in names
