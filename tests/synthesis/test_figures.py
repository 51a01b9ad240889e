"""Forest, funnel and leave-one-out plots drawn from a stored results dict (synthesis/figures.py).

The results are built by hand from dat.bcg (tests/synthesis/figure_results.py); the expected
numbers are metafor's (rma(yi, vi) on escalc("RR", ...) of dat.bcg: estimate -0.7145, 95 % CI
-1.0669 to -0.3622, tau^2 0.3132, I^2 92.22 %, Q(12) = 152.23, PI -1.8667 to 0.4376).
"""

from __future__ import annotations

import copy
import csv
import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from core import figures as core_figures
from synthesis import figures as sf
from tests.paths import ROOT

from .figure_results import BCG, assert_texts_apart, bcg_result, svg_texts, synthetic_result

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def bcg():
    return bcg_result()


@pytest.fixture(scope="module")
def bcg_alloc():
    return bcg_result(
        subgroup="alloc",
        rob={
            "Aronson, 1948": "Low",
            "Ferguson & Simes, 1949": "Some concerns",
            "Rosenthal et al, 1960": "High",
            "Comstock et al, 1974": "No information",
        },
    )


def _texts(fig, kind="forest") -> list[str]:
    return svg_texts(sf.save(fig, "svg", kind=kind))


def _rows_top_down(fig) -> list[str]:
    """The texts of the forest's left column, top to bottom."""
    ax = fig.axes[0]
    left = [t for t in ax.texts if t.get_position()[0] == sf.MARGIN and t.get_text()]
    return [t.get_text() for t in sorted(left, key=lambda t: t.get_position()[1])]


def _ratio_ci(yi: float, vi: float) -> str:
    z = 1.959963984540054
    lo, hi = yi - z * math.sqrt(vi), yi + z * math.sqrt(vi)
    return f"{math.exp(yi):.2f} [{math.exp(lo):.2f}, {math.exp(hi):.2f}]"


DRAW = {
    "forest": sf.forest_plot,
    "funnel": sf.funnel_plot,
    "leave_one_out": sf.leave_one_out_plot,
}


@pytest.mark.parametrize("kind", DRAW)
def test_each_figure_saves_as_svg_and_png(bcg, kind):
    fig = DRAW[kind](bcg)
    assert sf.save(fig, "svg", kind=kind).startswith(b"<?xml")
    assert sf.save(fig, "png", kind=kind, dpi=72).startswith(b"\x89PNG")


def test_a_figure_saves_as_pdf_with_its_fonts(bcg):
    pdf = sf.save(sf.funnel_plot(bcg), "pdf", kind="funnel")
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf  # text stays text
    with pytest.raises(ValueError, match="kind must be one of"):
        sf.save(sf.forest_plot(bcg), "svg", kind="galbraith")


@pytest.mark.parametrize("kind", DRAW)
def test_the_same_result_gives_the_same_bytes(bcg, kind):
    for fmt in ("svg", "png"):
        first = sf.save(DRAW[kind](bcg), fmt, kind=kind, dpi=72)
        assert first == sf.save(DRAW[kind](copy.deepcopy(bcg)), fmt, kind=kind, dpi=72), fmt


def test_the_same_result_gives_the_same_pdf(bcg_alloc):
    a = sf.save(sf.forest_plot(bcg_alloc, rob=True), "pdf", kind="forest")
    assert a == sf.save(sf.forest_plot(bcg_alloc, rob=True), "pdf", kind="forest")


def test_the_forest_shows_metafors_numbers_back_transformed(bcg):
    texts = _texts(sf.forest_plot(bcg))
    with BCG.open(newline="") as fh:
        trials = list(csv.DictReader(fh, delimiter="\t"))
    for t in trials:
        a, b, c, d = (float(t[k]) for k in ("tpos", "tneg", "cpos", "cneg"))
        yi = math.log((a / (a + b)) / (c / (c + d)))
        vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
        assert f"{t['author']}, {t['year']}" in texts
        assert _ratio_ci(yi, vi) in texts, t["author"]
    assert "0.41 [0.13, 1.26]" in texts  # Aronson 1948, by hand
    # metafor: exp(-0.7145) = 0.49, CI exp(-1.0669, -0.3622), PI exp(-1.8667, 0.4376)
    assert "0.49 [0.34, 0.70]" in texts
    assert "[0.15, 1.55]" in texts and "Prediction interval" in texts
    assert "Random-effects model (REML) (k = 13)" in texts
    assert "Heterogeneity: τ² = 0.313; I² = 92.2%; Q(12) = 152.23, p < 0.001" in texts
    assert "Test for overall effect: z = −3.97, p < 0.001" in texts
    assert "RR [95% CI]" in texts and "Weight" in texts and "100.0%" in texts
    assert "Risk ratio (log scale)" in texts
    weights = [f"{s['weight']:.1f}%" for s in bcg["studies"]]
    assert all(w in texts for w in weights)
    assert sum(s["weight"] for s in bcg["studies"]) == pytest.approx(100)
    # A log axis labelled in ratios, with the null line at 1.
    assert {"0.1", "0.2", "0.5", "1", "2", "5"} <= set(texts)
    assert "RoB" not in texts


def test_squares_grow_with_weight(bcg):
    fig = sf.forest_plot(bcg)
    squares = [p for p in fig.axes[0].patches if type(p).__name__ == "Rectangle"]
    sides = [p.get_width() for p in squares if p.get_width() == p.get_height()]
    weights = [s["weight"] for s in bcg["studies"]]
    assert len(sides) == len(weights)
    # Area proportional to weight.
    ratios = [side**2 / w for side, w in zip(sides, weights, strict=True)]
    assert max(ratios) == pytest.approx(min(ratios))


def test_an_untransformed_measure_is_drawn_on_its_own_scale(bcg):
    result = copy.deepcopy(bcg)
    result["transform"] = None
    result["spec"]["measure"] = "SMD"
    texts = _texts(sf.forest_plot(result))
    assert "−0.71 [−1.07, −0.36]" in texts
    assert "Standardised mean difference" in texts
    assert "SMD [95% CI]" in texts
    assert "0" in texts and any(t.startswith("−") for t in texts)


def test_a_common_effect_model_has_no_prediction_interval():
    fe = bcg_result(method="FE")
    texts = _texts(sf.forest_plot(fe))
    assert "Common-effect model (k = 13)" in texts
    assert "Prediction interval" not in texts
    assert not any(t.startswith("Heterogeneity: τ²") for t in texts)
    assert any(t.startswith("Heterogeneity: I² = ") for t in texts)


def test_subgroups_are_blocks_with_their_own_diamonds(bcg_alloc):
    fig = sf.forest_plot(bcg_alloc)
    texts = _texts(fig)
    order = _rows_top_down(fig)
    by_group = {s["value"]: s for s in bcg_alloc["subgroups"]}
    assert list(by_group) == ["alternate", "random", "systematic"]
    at = 0
    for value, sub in by_group.items():
        heading = order.index(f"alloc = {value}")
        assert heading >= at
        members = [s["study"] for s in bcg_alloc["studies"] if s["subgroup"] == value]
        positions = [order.index(m) for m in members]
        subtotal = order.index(f"Subtotal (k = {len(members)})", heading)
        assert heading < min(positions) and max(positions) < subtotal
        assert positions == sorted(positions)  # in the input order
        expected = (
            f"{math.exp(sub['estimate']):.2f} [{math.exp(sub['ci_lb']):.2f}, "
            f"{math.exp(sub['ci_ub']):.2f}]"
        )
        assert expected in texts
        at = subtotal
    assert order.index("Random-effects model (REML) (k = 13)") > at
    assert "0.38 [0.22, 0.65]" in texts  # random allocation, 7 trials
    # metafor: rma(yi, vi, mods = ~ factor(alloc)): QM(df = 2) = 1.7675, p = 0.4132
    assert "Test for subgroup differences: Q = 1.77, df = 2, p = 0.413" in texts
    assert any(t.startswith("Heterogeneity: τ² = 0.393; I² = 89.9%;") for t in texts)
    assert_texts_apart(fig)


def test_studies_outside_every_subgroup_are_still_drawn(bcg_alloc):
    result = copy.deepcopy(bcg_alloc)
    result["subgroups"] = [s for s in result["subgroups"] if s["value"] != "systematic"]
    order = _rows_top_down(sf.forest_plot(result))
    assert "Not in a subgroup" in order
    assert order.index("Comstock et al, 1976") > order.index("Not in a subgroup")


def test_a_subgroup_without_an_estimate_says_so(bcg_alloc):
    result = copy.deepcopy(bcg_alloc)
    sub = result["subgroups"][0]
    for key in ("estimate", "ci_lb", "ci_ub", "tau2", "i2", "q"):
        sub[key] = None
    sub["error"] = "only one study in this subgroup"
    texts = _texts(sf.forest_plot(result))
    assert "Not pooled: only one study in this subgroup" in texts


def test_the_risk_of_bias_column(bcg_alloc):
    fig = sf.forest_plot(bcg_alloc, rob=True)
    svg = sf.save(fig, "svg", kind="forest").decode()
    texts = svg_texts(svg.encode())
    assert "RoB" in texts and "Risk of bias:" in texts
    for judgement, colour in (
        ("Low", "#02c100"),
        ("Some concerns", "#e2df07"),
        ("High", "#bf0000"),
        ("No information", "#4ea1f7"),
    ):
        assert judgement in texts
        assert colour in svg.lower()
    assert "Moderate" not in texts  # only the judgements met are in the key
    assert_texts_apart(fig)
    # Without the flag there is no column, even when judgements are known.
    assert "RoB" not in _texts(sf.forest_plot(bcg_alloc))


def test_leave_one_out(bcg):
    fig = sf.leave_one_out_plot(bcg)
    texts = _texts(fig, "leave_one_out")
    assert "Omitted study" in texts and "I²" in texts
    for entry in bcg["leave_one_out"]:
        assert entry["study"] in texts
        expected = (
            f"{math.exp(entry['estimate']):.2f} [{math.exp(entry['ci_lb']):.2f}, "
            f"{math.exp(entry['ci_ub']):.2f}]"
        )
        assert expected in texts
    assert "0.45 [0.32, 0.64]" in texts  # without TPT Madras, the largest trial
    assert "All studies (k = 13)" in texts and "0.49 [0.34, 0.70]" in texts
    # The main estimate is a dashed reference line.
    ax = fig.axes[0]
    dashed = [line for line in ax.lines if line.get_linestyle() not in ("-", "None")]
    assert len(dashed) == 1
    assert_texts_apart(fig)


def test_the_funnel(bcg):
    fig = sf.funnel_plot(bcg)
    ax = fig.axes[0]
    top, bottom = ax.get_ylim()[1], ax.get_ylim()[0]
    assert top == 0 and bottom > 0  # standard error 0 at the top
    # The pseudo 95 % region around the main estimate.
    region = ax.patches[0].get_xy()
    centre = bcg["main"]["estimate"]
    z = 1.959963984540054
    xs = sorted(x for x, y in region[:3])
    assert xs[0] == pytest.approx(centre - z * bottom)
    assert xs[1] == pytest.approx(centre)
    assert xs[2] == pytest.approx(centre + z * bottom)
    studies = next(c for c in ax.collections if c.get_gid() == "funnel-studies")
    filled = next(c for c in ax.collections if c.get_gid() == "funnel-filled")
    assert len(studies.get_offsets()) == 13
    assert len(filled.get_offsets()) == 1
    assert tuple(filled.get_facecolor()[0]) == (1, 1, 1, 1)  # hollow
    assert tuple(studies.get_facecolor()[0]) == (0, 0, 0, 1)
    caption = " ".join(_texts(fig, "funnel"))
    egger = bcg["publication_bias"]["egger"]["pval"]
    assert f"Egger's regression test for funnel plot asymmetry: p = {egger:.3f}." in caption
    tf = bcg["publication_bias"]["trimfill"]
    assert (
        "Trim-and-fill: 1 study imputed on the right (hollow points); adjusted estimate "
        f"{math.exp(tf['estimate']):.2f} [{math.exp(tf['ci_lb']):.2f}, "
        f"{math.exp(tf['ci_ub']):.2f}]."
    ) in caption
    assert "Standard error" in caption and "Risk ratio (log scale)" in caption
    assert_texts_apart(fig)


def test_a_funnel_without_publication_bias_analyses(bcg):
    result = copy.deepcopy(bcg)
    result["publication_bias"] = None
    fig = sf.funnel_plot(result)
    assert not any(c.get_gid() == "funnel-filled" for c in fig.axes[0].collections)
    texts = _texts(fig, "funnel")
    assert not any("Egger" in t or "Trim-and-fill" in t for t in texts)


def test_one_study():
    """A lone study (a subgroup's, or a stored analysis redrawn): its own estimate, FE."""
    yi, vi = -0.2, 0.04
    lb, ub = yi - 1.96 * vi**0.5, yi + 1.96 * vi**0.5
    model = {
        "method": "FE", "test": "z", "level": 95.0, "k": 1, "estimate": yi, "se": vi**0.5,
        "stat": yi / vi**0.5, "pval": 0.32, "ci_lb": lb, "ci_ub": ub, "tau2": 0.0, "i2": 0.0,
        "q": 0.0, "q_df": 0, "q_p": 1.0, "pi_lb": lb, "pi_ub": ub,
    }  # fmt: skip
    result = {
        "spec": {"measure": "OR", "level": 95.0},
        "main": model,
        "studies": [
            {
                "study": "Lonely trial",
                "yi": yi,
                "vi": vi,
                "ci_lb": lb,
                "ci_ub": ub,
                "weight": 100.0,
                "subgroup": None,
                "rob": "Low",
            }
        ],
        "subgroups": [],
        "subgroup_test": None,
        "leave_one_out": [],
        "publication_bias": None,
        "transform": "exp",
    }
    for kind, fig in (
        ("forest", sf.forest_plot(result, rob=True)),
        ("funnel", sf.funnel_plot(result)),
        ("leave_one_out", sf.leave_one_out_plot(result)),
    ):
        texts = _texts(fig, kind)
        assert_texts_apart(fig)
        if kind == "forest":
            assert "Lonely trial" in texts and "0.82 [0.55, 1.21]" in texts


def test_150_studies():
    result = synthetic_result(150, rob=True)
    fig = sf.forest_plot(result, rob=True)
    texts = _texts(fig)
    assert all(s["study"] in texts for s in result["studies"])
    assert fig.get_size_inches()[1] * 72 > 150 * sf.ROW_H
    assert_texts_apart(fig)


def test_hostile_labels_render_safely(bcg_alloc):
    hostile = [
        "<script>alert('x')</script>",
        "$\\frac{1}{0}$ & $x^2$ <b>",
        "Z" * 20 + " a very long study label" * 30,
        "دراسة عشوائية מחקר אקראי",
        "line\nbreak\x00nul",
        "",
    ]
    result = copy.deepcopy(bcg_alloc)
    for s, label in zip(result["studies"], hostile, strict=False):
        s["study"] = label
        s["rob"] = "<i>odd</i> $judgement$"
    result["studies"][-1]["rob"] = "A custom judgement " * 30
    for s, label in zip(result["leave_one_out"], hostile, strict=False):
        s["study"] = label
    result["subgroups"][0]["subset"] = "alloc = $<alternate>$"
    result["spec"]["measure"] = "<svg onload=alert(1)>"
    for kind, fig in (
        ("forest", sf.forest_plot(result, rob=True)),
        ("leave_one_out", sf.leave_one_out_plot(result)),
        ("funnel", sf.funnel_plot(result)),
    ):
        svg = sf.save(fig, "svg", kind=kind)
        root = ET.fromstring(svg)
        assert not list(root.iter(f"{SVG}script"))
        sf.save(fig, "png", kind=kind, dpi=72)
        texts = svg_texts(svg)
        if kind == "forest":
            assert "<script>alert('x')</script>" in texts
            assert "$\\frac{1}{0}$ & $x^2$ <b>" in texts
            assert "دراسة عشوائية מחקר אקראי" in texts
            assert "line break nul" in texts
            assert "alloc = $<alternate>$" in texts
            assert "<i>odd</i> $judgement$" in texts  # an unknown judgement, in the key
            long = next(t for t in texts if t.startswith("ZZZ"))
            assert long.endswith("…")
            assert any(t.startswith("A custom judgement") and t.endswith("…") for t in texts)
        assert_texts_apart(fig)


def test_missing_numbers_do_not_break_the_figures(bcg):
    result = copy.deepcopy(bcg)
    result["main"].update(pi_lb=None, pi_ub=None, tau2=None, q=None, stat=None, i2=None)
    result["studies"][0]["weight"] = None
    result["studies"][1]["ci_lb"] = float("nan")
    result["leave_one_out"][0]["estimate"] = None
    for kind, fig in (
        ("forest", sf.forest_plot(result)),
        ("funnel", sf.funnel_plot(result)),
        ("leave_one_out", sf.leave_one_out_plot(result)),
    ):
        sf.save(fig, "svg", kind=kind)
    texts = _texts(sf.forest_plot(result))
    assert "Prediction interval" not in texts
    assert "not estimable" in _texts(sf.leave_one_out_plot(result), "leave_one_out")


def test_the_overlap_check_can_fail():
    fig = core_figures.new_figure(200, 50)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.text(0.1, 0.5, "Aronson, 1948")
    ax.text(0.15, 0.5, "Ferguson & Simes, 1949")
    with pytest.raises(AssertionError):
        assert_texts_apart(fig)


def test_the_figures_module_is_pure():
    code = (
        "import sys; import synthesis.figures; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'rest_framework', 'reviews', 'screening', 'reporting') "
        "or m in ('synthesis.models', 'extraction.models', 'extraction.rob.models')); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_a_knapp_hartung_result_reports_t_with_its_df(bcg):
    result = copy.deepcopy(bcg)
    result["main"].update(test="knha", df=12)
    texts = _texts(sf.forest_plot(result))
    assert "Random-effects model (REML, Knapp-Hartung) (k = 13)" in texts
    assert any(t.startswith("Test for overall effect: t(12) = −") for t in texts)


def test_the_bundles_result_draws_with_the_same_numbers():
    """Contract D as synthesis.bundle.run makes it (stored as JSON) draws like the hand-made one."""
    import json

    from synthesis.bundle import run

    from .test_bundle import bcg_rows, bcg_spec

    result = json.loads(json.dumps(run(bcg_spec(), bcg_rows())))
    fig = sf.forest_plot(result, rob=True)
    texts = _texts(fig)
    for expected in (
        "0.49 [0.34, 0.70]",
        "[0.15, 1.55]",
        "0.41 [0.13, 1.26]",
        "0.38 [0.22, 0.65]",
        "Test for subgroup differences: Q = 1.77, df = 2, p = 0.413",
        "Some concerns",
        "High",
    ):
        assert expected in texts, expected
    assert_texts_apart(fig)
    funnel = " ".join(_texts(sf.funnel_plot(result), "funnel"))
    assert "p = 0.422" in funnel and "1 study imputed on the right" in funnel
    loo = _texts(sf.leave_one_out_plot(result), "leave_one_out")
    assert "0.45 [0.32, 0.64]" in loo
