"""Risk-of-bias figures (extraction/rob/figures.py): robvis's traffic-light and summary plots."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from extraction.rob import figures as rf
from tests.paths import ROOT
from tests.synthesis.figure_results import assert_texts_apart, svg_texts

SVG = "{http://www.w3.org/2000/svg}"

# RoB 2's domains (Sterne et al. BMJ 2019;366:l4898, Table 1) as rob_tool_of() gives them.
ROB2 = [
    {"id": "D1", "name": "Bias arising from the randomisation process"},
    {
        "id": "D2_assignment",
        "name": "Bias due to deviations from intended interventions (effect of assignment)",
    },
    {
        "id": "D2_adhering",
        "name": "Bias due to deviations from intended interventions (effect of adhering)",
    },
    {"id": "D3", "name": "Bias due to missing outcome data"},
    {"id": "D4", "name": "Bias in measurement of the outcome"},
    {"id": "D5", "name": "Bias in selection of the reported result"},
]
ROB2_J = ["Low", "Some concerns", "High"]
ROBINS_I = [
    {"id": f"D{i + 1}", "name": name}
    for i, name in enumerate(
        [
            "Bias due to confounding",
            "Bias in selection of participants into the study",
            "Bias in classification of interventions",
            "Bias due to deviations from intended interventions",
            "Bias due to missing data",
            "Bias in measurement of outcomes",
            "Bias in selection of the reported result",
        ]
    )
]
ROBINS_J = ["Low", "Moderate", "Serious", "Critical", "No information"]

# Five BCG trials (demo_data/bcg) with made-up but plausible RoB 2 judgements.
TABLE = [
    {
        "study": "Aronson, 1948",
        "judgements": {
            "D1": "Some concerns",
            "D2_assignment": "Low",
            "D3": "Low",
            "D4": "Low",
            "D5": "Some concerns",
            "Overall": "Some concerns",
        },
    },
    {
        "study": "Ferguson & Simes, 1949",
        "judgements": {
            "D1": "High",
            "D2_assignment": "Some concerns",
            "D3": "Low",
            "D4": "Low",
            "D5": "Low",
            "Overall": "High",
        },
    },
    {
        "study": "Rosenthal et al, 1960",
        "judgements": {
            "D1": "Low",
            "D2_assignment": "Low",
            "D3": "Low",
            "D4": "Low",
            "D5": "Low",
            "Overall": "Low",
        },
    },
    {
        "study": "Hart & Sutherland, 1977",
        "judgements": {
            "D1": "Low",
            "D2_assignment": "Low",
            "D3": "Some concerns",
            "D4": "Low",
            "D5": "Low",
            "Overall": "Some concerns",
        },
    },
]


def _rows(n: int, domains=ROB2, judgements=ROB2_J) -> list[dict]:
    ids = [d["id"] for d in domains if d["id"] != "D2_adhering"]
    return [
        {
            "study": f"Study {i + 1}",
            "judgements": {
                **{d: judgements[(i + k) % len(judgements)] for k, d in enumerate(ids)},
                "Overall": judgements[i % len(judgements)],
            },
        }
        for i in range(n)
    ]


def _svg(fig, kind="traffic_light") -> bytes:
    return rf.save(fig, "svg", kind=kind)


def test_every_format_is_what_it_says():
    for kind, fig in (
        ("traffic_light", rf.traffic_light(TABLE, ROB2, ROB2_J)),
        ("summary", rf.summary_bars(TABLE, ROB2, ROB2_J)),
    ):
        assert rf.save(fig, "svg", kind=kind).startswith(b"<?xml")
        assert rf.save(fig, "png", kind=kind, dpi=72).startswith(b"\x89PNG")
    # A PDF takes most of a second (fonts are embedded): one is enough.
    pdf = rf.save(rf.summary_bars(TABLE, ROB2, ROB2_J), "pdf", kind="summary")
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf  # TrueType embedded: text stays text
    with pytest.raises(ValueError, match="svg, png or pdf"):
        rf.save(rf.traffic_light(TABLE, ROB2, ROB2_J), "gif")
    with pytest.raises(ValueError, match="traffic_light or summary"):
        rf.save(rf.traffic_light(TABLE, ROB2, ROB2_J), "svg", kind="forest")


def test_the_traffic_light_has_every_study_and_domain_as_text():
    texts = svg_texts(_svg(rf.traffic_light(TABLE, ROB2, ROB2_J)))
    for row in TABLE:
        assert row["study"] in texts
    # Domain ids on top (RoB 2's variant shown as "D2"), Overall, and the names in the legend.
    for label in ("D1", "D2", "D3", "D4", "D5", "Overall", "Study", "Risk of bias domains"):
        assert label in texts
    legend = " ".join(texts)
    for d in ROB2:
        if d["id"] != "D2_adhering":
            assert d["name"] in legend
    # The variant no study used is left out.
    assert "effect of adhering" not in legend
    for judgement in ROB2_J:
        assert judgement in texts


def test_each_judgement_has_robvis_colour_and_symbol():
    svg = _svg(rf.traffic_light(TABLE, ROB2, ROB2_J)).decode().lower()
    for colour in ("#02c100", "#e2df07", "#bf0000"):
        assert colour in svg
    styles = rf.judgement_styles(ROB2_J)
    assert [styles[j].symbol for j in ROB2_J] == ["+", "−", "×"]
    # White symbols on green and red, black on yellow.
    assert [styles[j].ink for j in ROB2_J] == ["#FFFFFF", "#000000", "#FFFFFF"]
    styles = rf.judgement_styles(ROBINS_J)
    assert [styles[j].colour for j in ROBINS_J] == [
        "#02C100",
        "#E2DF07",
        "#BF0000",
        "#820000",
        "#4EA1F7",
    ]
    assert [styles[j].symbol for j in ROBINS_J] == ["+", "−", "×", "!", "?"]
    robins = _svg(rf.traffic_light(_rows(6, ROBINS_I, ROBINS_J), ROBINS_I, ROBINS_J)).decode()
    for colour in ("#02c100", "#e2df07", "#bf0000", "#820000", "#4ea1f7"):
        assert colour in robins.lower()
    assert all(f"D{i}" in svg_texts(robins.encode()) for i in range(1, 8))


def test_custom_judgements_are_coloured_by_rank():
    judgements = ["Fine", "Doubtful", "Poor", "Awful"]
    styles = rf.judgement_styles(judgements)
    colours = [styles[j].colour for j in judgements]
    assert len(set(colours)) == 4
    assert colours[0] == rf.RAMP[0] and colours[-1] == rf.RAMP[-1]
    assert [styles[j].symbol for j in judgements] == ["F", "D", "P", "A"]
    # A judgement in the data but not in the tool's list still gets a colour, ranked last.
    table = [{"study": "A", "judgements": {"D1": "Weird", "Overall": "Fine"}}]
    texts = svg_texts(_svg(rf.traffic_light(table, [{"id": "D1", "name": "x"}], judgements)))
    assert "Weird" in texts


def test_the_same_table_gives_the_same_bytes():
    for fmt in ("svg", "png"):
        a = rf.save(rf.traffic_light(TABLE, ROB2, ROB2_J), fmt, dpi=72)
        b = rf.save(rf.traffic_light(TABLE, ROB2, ROB2_J), fmt, dpi=72)
        assert a == b, fmt
    a = rf.save(rf.summary_bars(TABLE, ROB2, ROB2_J), "svg", kind="summary")
    assert a == rf.save(rf.summary_bars(TABLE, ROB2, ROB2_J), "svg", kind="summary")


def test_the_same_table_gives_the_same_pdf():
    a = rf.save(rf.traffic_light(TABLE, ROB2, ROB2_J), "pdf")
    assert a == rf.save(rf.traffic_light(TABLE, ROB2, ROB2_J), "pdf")


@pytest.mark.parametrize("n", [1, 150])
def test_one_to_many_studies(n):
    fig = rf.traffic_light(_rows(n), ROB2, ROB2_J)
    texts = svg_texts(_svg(fig))
    assert f"Study {n}" in texts and "Study 1" in texts
    assert_texts_apart(fig)
    assert_texts_apart(rf.summary_bars(_rows(n), ROB2, ROB2_J))


def test_the_figure_grows_with_the_studies():
    def height(n):
        return rf.traffic_light(_rows(n), ROB2, ROB2_J).get_size_inches()[1]

    assert height(1) < height(10) < height(40)


def test_no_texts_overlap():
    assert_texts_apart(rf.traffic_light(TABLE, ROB2, ROB2_J))
    assert_texts_apart(rf.summary_bars(TABLE, ROB2, ROB2_J, weights={"Aronson, 1948": 5.0}))
    assert_texts_apart(rf.traffic_light(_rows(6, ROBINS_I, ROBINS_J), ROBINS_I, ROBINS_J))


HOSTILE = [
    "<script>alert('x')</script>",
    "$\\frac{1}{0}$ and $x^2$ & <b>bold</b>",
    "A" * 30 + " very long label " * 40,
    "دراسة عشوائية מחקר אקראי",
    "line\nbreak\tand\x00nul",
    "",
]


def test_hostile_labels_render_safely():
    table = [{"study": s, "judgements": {"D1": "Low", "Overall": "High"}} for s in HOSTILE]
    table[0]["judgements"]["D1"] = "A custom judgement " * 30  # not in the list: in the key
    domains = [{"id": "D1", "name": "<img src=x onerror=alert(1)> $a$"}]
    for fig, kind in (
        (rf.traffic_light(table, domains, ROB2_J), "traffic_light"),
        (rf.summary_bars(table, domains, ROB2_J), "summary"),
    ):
        svg = rf.save(fig, "svg", kind=kind)
        root = ET.fromstring(svg)  # well-formed: every "<" was escaped
        assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}img"))
        rf.save(fig, "png", kind=kind, dpi=72)
        if kind == "traffic_light":
            rf.save(fig, "pdf", kind=kind)
        texts = svg_texts(svg)
        if kind == "traffic_light":
            assert "<script>alert('x')</script>" in texts
            assert "$\\frac{1}{0}$ and $x^2$ & <b>bold</b>" in texts  # "$" is not TeX
            assert "دراسة عشوائية מחקר אקראי" in texts
            assert "line break and nul" in texts
            long = next(t for t in texts if t.startswith("AAAA"))
            assert long.endswith("…") and rf.measure(long, rf.BODY) <= rf.LABEL_MAX
        assert any(t.startswith("A custom judgement") and t.endswith("…") for t in texts)
        assert_texts_apart(fig)


def test_summary_shares_are_proportions_of_studies_or_of_weight():
    shares = dict(rf.summary_shares(TABLE, ROB2, ROB2_J))
    assert shares["D1"] == pytest.approx({"Low": 50.0, "Some concerns": 25.0, "High": 25.0})
    assert shares["Overall"] == pytest.approx({"Low": 25.0, "Some concerns": 50.0, "High": 25.0})
    assert "D2_adhering" not in shares
    weights = {"Aronson, 1948": 1.0, "Ferguson & Simes, 1949": 3.0}  # the others weigh 0
    shares = dict(rf.summary_shares(TABLE, ROB2, ROB2_J, weights))
    assert shares["D1"] == pytest.approx({"Some concerns": 25.0, "High": 75.0})
    assert shares["D3"] == pytest.approx({"Low": 100.0})
    # No weight at all in a domain: an empty share, drawn as an empty bar.
    shares = dict(rf.summary_shares(TABLE, ROB2, ROB2_J, {"nobody": 1.0}))
    assert shares["D1"] == {}
    texts = svg_texts(_svg(rf.summary_bars(TABLE, ROB2, ROB2_J, {"nobody": 1.0}), "summary"))
    assert "no weight" in texts and "Proportion of weight (%)" in texts


def test_the_summary_names_every_domain_and_judgement():
    texts = svg_texts(_svg(rf.summary_bars(TABLE, ROB2, ROB2_J), "summary"))
    joined = " ".join(texts)
    for d in ROB2:
        if d["id"] != "D2_adhering":
            assert d["name"] in joined
    for j in ROB2_J:
        assert j in texts
    assert "Overall risk of bias" in texts and "Proportion of studies (%)" in texts
    assert "50%" in texts  # D1: 2 of 4 studies at low risk


def test_both_d2_variants_get_their_own_column_when_both_are_used():
    table = [
        {"study": "A", "judgements": {"D1": "Low", "D2_assignment": "Low", "Overall": "Low"}},
        {"study": "B", "judgements": {"D1": "Low", "D2_adhering": "High", "Overall": "High"}},
    ]
    texts = svg_texts(_svg(rf.traffic_light(table, ROB2, ROB2_J)))
    assert "D2_assignment" in texts and "D2_adhering" in texts
    assert "Not assessed" in texts  # each study has one empty D2 cell
    assert_texts_apart(rf.traffic_light(table, ROB2, ROB2_J))


def test_an_empty_table_still_draws():
    rf.save(rf.traffic_light([], ROB2, ROB2_J), "svg")
    texts = svg_texts(rf.save(rf.summary_bars([], ROB2, ROB2_J), "svg", kind="summary"))
    assert "no judgements" in texts


def test_the_figures_module_is_pure():
    code = (
        "import sys; import extraction.rob.figures; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'rest_framework', 'reviews', 'screening', 'synthesis') "
        "or m in ('extraction.models', 'extraction.rob.models')); print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
