from __future__ import annotations

import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import pytest

from reporting.prisma import Box, check_consistency, layout, render
from reporting.prisma.render import PAD_X
from tests.paths import ROOT

from .factories import databases_only

SVG = "{http://www.w3.org/2000/svg}"

# Box texts as the PRISMA 2020 templates word them (reference README §1), numbers from
# conftest. A box's wrapped lines are joined with single spaces.
COMMON = {
    Box.IDENTIFIED: "Records identified from*: Databases (n = 1,171) MEDLINE (Ovid) (n = 611) "
    "Embase (n = 433) CINAHL & PsycINFO (n = 127) Registers (n = 59) "
    "ClinicalTrials.gov (n = 41) WHO ICTRP (n = 18)",
    Box.REMOVED: "Records removed before screening: Duplicate records removed (n = 312) "
    "Records marked as ineligible by automation tools (n = 27) "
    "Records removed for other reasons (n = 9)",
    Box.SCREENED: "Records screened (n = 882)",
    Box.RECORDS_EXCLUDED: "Records excluded** (n = 757)",
    Box.SOUGHT: "Reports sought for retrieval (n = 125)",
    Box.NOT_RETRIEVED: "Reports not retrieved (n = 6)",
    Box.ASSESSED: "Reports assessed for eligibility (n = 119)",
    Box.REPORTS_EXCLUDED: "Reports excluded: Wrong population (n = 48) "
    "Wrong intervention (n = 23) Wrong outcome (n = 11) Not a randomised trial (n = 5)",
}
OTHER = {
    Box.OTHER_IDENTIFIED: "Records identified from: Websites (n = 14)† Organisations (n = 7)† "
    "Citation searching (n = 36)†",
    Box.OTHER_SOUGHT: "Reports sought for retrieval (n = 19)†",
    Box.OTHER_NOT_RETRIEVED: "Reports not retrieved (n = 3)†",
    Box.OTHER_ASSESSED: "Reports assessed for eligibility (n = 16)†",
    Box.OTHER_REPORTS_EXCLUDED: "Reports excluded: No usable data (n = 4)† "
    "Wrong comparator (n = 2)†",
}
PREVIOUS = (
    "Studies included in previous version of review (n = 15){dagger} "
    "Reports of studies included in previous version of review (n = 19){dagger}"
)
EXPECTED_BOXES = {
    "new_review": {
        **COMMON,
        Box.INCLUDED: "Studies included in review (n = 28) Reports of included studies (n = 32)",
    },
    "new_review_other": {
        **COMMON,
        **OTHER,
        Box.INCLUDED: "Studies included in review (n = 37) Reports of included studies (n = 42)",
    },
    "updated_review": {
        **COMMON,
        Box.PREVIOUS: PREVIOUS.format(dagger="†"),
        Box.INCLUDED: "New studies included in review (n = 28) "
        "Reports of new included studies (n = 32)",
        Box.TOTAL: "Total studies included in review (n = 43) "
        "Reports of total included studies (n = 51)",
        Box.META_ANALYSIS: "Total studies included in meta-analysis (n = 21) "
        "Reports of total included studies in meta-analysis (n = 26)",
    },
    "updated_review_other": {
        **COMMON,
        **OTHER,
        Box.PREVIOUS: PREVIOUS.format(dagger=""),
        Box.INCLUDED: "New studies included in review (n = 37) "
        "Reports of new included studies (n = 42)",
        Box.TOTAL: "Total studies included in review (n = 52) "
        "Reports of total included studies (n = 61)",
    },
}
NEW_HEADERS = {
    "header-databases": "Identification of studies via databases and registers",
    "header-other": "Identification of studies via other methods",
}
UPDATED_HEADERS = {
    "header-previous": "Previous studies",
    "header-databases": "Identification of new studies via databases and registers",
    "header-other": "Identification of new studies via other methods",
}
PHASES = {
    "phase-identification": "Identification",
    "phase-screening": "Screening",
    "phase-included": "Included",
}
FOOTNOTES = [
    "*Consider, if feasible to do so, reporting the number of records identified from each "
    "database or register searched (rather than the total number across all "
    "databases/registers).",
    "**If automation tools were used, indicate how many records were excluded by a human and "
    "how many were excluded by automation tools.",
    "From: Page MJ, McKenzie JE, Bossuyt PM, Boutron I, Hoffmann TC, Mulrow CD, et al. The "
    "PRISMA 2020 statement: an updated guideline for reporting systematic reviews. BMJ "
    "2021;372:n71. doi: 10.1136/bmj.n71",
    "For more information, visit: http://www.prisma-statement.org/",
]
HAND_FOOTNOTE = "†Entered by hand, not counted from the review's records."
ARROWS = {"new_review": 8, "new_review_other": 13, "updated_review": 11, "updated_review_other": 15}
TEMPLATES = list(EXPECTED_BOXES)


def svg_text_groups(svg: bytes) -> dict[str, str]:
    """Text of the SVG's real <text> elements, grouped by our ids, lines joined by spaces.

    matplotlib wraps each text artist in ``<g id="gid">``; ours are ``prisma-<group>-<line>``.
    """
    root = ET.fromstring(svg)
    lines: dict[str, dict[int, str]] = {}
    for g in root.iter(f"{SVG}g"):
        texts = [child for child in g if child.tag == f"{SVG}text"]
        match = re.fullmatch(r"prisma-(.+)-(\d+)", g.get("id", ""))
        if texts and match:
            text = "".join("".join(t.itertext()) for t in texts)
            lines.setdefault(match[1], {})[int(match[2])] = text
    return {group: " ".join(parts[i] for i in sorted(parts)) for group, parts in lines.items()}


@pytest.mark.parametrize("name", TEMPLATES)
def test_it_writes_every_box_in_template_wording_with_its_numbers_as_svg_text(request, name):
    counts = request.getfixturevalue(name)
    groups = svg_text_groups(render(counts, "svg"))

    boxes = {Box(g): text for g, text in groups.items() if g in set(Box)}
    assert boxes == EXPECTED_BOXES[name]


@pytest.mark.parametrize("name", TEMPLATES)
def test_it_writes_the_column_headers_phases_and_footnotes_as_svg_text(request, name):
    counts = request.getfixturevalue(name)
    groups = svg_text_groups(render(counts, "svg"))

    headers = UPDATED_HEADERS if counts.is_update else NEW_HEADERS
    if counts.other_methods is None:
        headers = {k: v for k, v in headers.items() if k != "header-other"}
    assert {k: v for k, v in groups.items() if k.startswith("header-")} == headers
    assert {k: v for k, v in groups.items() if k.startswith("phase-")} == PHASES
    notes = [
        groups[f"footnote-{k}"] for k in range(len(FOOTNOTES) + 1) if f"footnote-{k}" in groups
    ]
    assert notes == ([*FOOTNOTES, HAND_FOOTNOTE] if counts.hand_entered else FOOTNOTES)


def test_it_keeps_svg_text_as_text_not_glyph_outlines(new_review):
    svg = render(new_review, "svg").decode()

    assert svg.count("<text") > 40
    assert "DejaVuSans" not in svg  # glyph outlines would be defined under the font's name
    assert "font-family: 'DejaVu Sans'" in svg


def test_it_marks_nothing_as_hand_entered_when_every_number_was_counted(new_review):
    groups = svg_text_groups(render(new_review, "svg"))

    assert not any("†" in text for text in groups.values())


def test_it_writes_dollar_signs_literally_rather_than_as_mathtext():
    counts = databases_only(
        databases=[("Costs $1 to $5 database", 1171)],
        reports_excluded=[("Price > $100 and < $200", 87)],
    )

    groups = svg_text_groups(render(counts, "svg"))

    assert "Costs $1 to $5 database (n = 1,171)" in groups["identified"]
    assert groups["reports_excluded"] == "Reports excluded: Price > $100 and < $200 (n = 87)"


def test_it_makes_a_non_trivial_png(any_review):
    png = render(any_review, "png", dpi=150)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 50_000
    width, height = struct.unpack(">II", png[16:24])
    lay = layout(any_review)
    # matplotlib truncates the pixel size, so allow one pixel.
    assert abs(width - lay.width * 150 / 72) <= 1 and abs(height - lay.height * 150 / 72) <= 1


def test_it_makes_a_non_trivial_pdf_with_embedded_truetype(any_review):
    pdf = render(any_review, "pdf")

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 10_000
    assert b"/FontFile2" in pdf  # pdf.fonttype 42: text stays selectable


def test_it_renders_the_same_counts_to_the_same_bytes(updated_review_other):
    assert render(updated_review_other, "svg") == render(updated_review_other, "svg")
    assert render(updated_review_other, "pdf") == render(updated_review_other, "pdf")


def test_it_renders_from_many_threads_at_once(new_review, updated_review_other):
    jobs = [(new_review, "svg"), (updated_review_other, "svg"), (new_review, "png")]
    expected = [render(counts, fmt) for counts, fmt in jobs]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda job: render(*job), jobs * 3))

    assert results == expected * 3


def test_it_leaves_matplotlibs_global_settings_as_it_found_them(new_review):
    before = dict(matplotlib.rcParams)

    render(new_review, "svg")
    render(new_review, "pdf")

    assert dict(matplotlib.rcParams) == before


def test_it_needs_neither_pyplot_nor_django():
    code = (
        "import sys\n"
        "from reporting.prisma import render\n"
        "from tests.reporting.prisma.factories import databases_only\n"
        "render(databases_only(), 'png')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
        "assert 'django' not in sys.modules, 'django was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr


def test_it_refuses_an_unknown_format(new_review):
    with pytest.raises(ValueError, match="svg, png or pdf"):
        render(new_review, "gif")  # type: ignore[arg-type]


def test_it_lists_consistency_issues_and_caller_warnings_beside_the_diagram(new_review):
    broken = databases_only(records_screened=880)
    issues = check_consistency(broken, warnings=["12 records still unscreened"])

    groups = svg_text_groups(render(broken, "svg", issues=issues))

    assert "Consistency check" in render(broken, "svg", issues=issues).decode()
    assert groups["issue-0"].startswith("Error: Records screened (n = 880) should equal")
    assert groups["issue-1"].startswith("Warning: Reports sought for retrieval (n = 125)")
    assert groups["issue-2"] == "Warning: 12 records still unscreened"
    assert not any(g.startswith("issue-") for g in svg_text_groups(render(new_review, "svg")))


def test_it_can_add_the_templates_title(updated_review_other):
    groups = svg_text_groups(render(updated_review_other, "svg", title=True))

    assert groups["title"] == (
        "PRISMA 2020 flow diagram for updated systematic reviews which included searches of "
        "databases, registers and other sources"
    )


# Layout: the geometry every format is drawn from.


def overlaps(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def assert_clean_layout(lay) -> None:
    rects = {r.gid: r for r in lay.rects}
    for i, a in enumerate(lay.rects):
        assert a.x >= 0 and a.x + a.w <= lay.width and a.y >= 0 and a.y + a.h <= lay.height
        for b in lay.rects[i + 1 :]:
            assert not overlaps(a, b), f"{a.gid} overlaps {b.gid}"
    for t in lay.texts:
        if t.rotation:
            left, right, top, bottom = t.x, t.x, t.y - t.width / 2, t.y + t.width / 2
        elif t.ha == "center":
            left, right, top, bottom = t.x - t.width / 2, t.x + t.width / 2, t.y - t.size, t.y
        else:
            left, right, top, bottom = t.x, t.x + t.width, t.y - t.size, t.y
        assert left >= 0 and right <= lay.width and top >= 0 and bottom <= lay.height, t
        owner = rects.get(t.gid.rsplit("-", 1)[0])
        if owner is not None:  # text in a box stays inside its padding
            assert owner.x + PAD_X - 0.01 <= left and right <= owner.x + owner.w - PAD_X + 0.01, t
            assert owner.y <= top and bottom <= owner.y + owner.h, t


@pytest.mark.parametrize("name", TEMPLATES)
def test_it_lays_out_boxes_apart_with_every_line_inside_its_box(request, name):
    counts = request.getfixturevalue(name)

    assert_clean_layout(layout(counts))
    assert_clean_layout(
        layout(counts, title=True, issues=check_consistency(counts, warnings=["x"]))
    )


@pytest.mark.parametrize("name", TEMPLATES)
def test_it_draws_each_arrow_of_the_template_from_box_edge_to_box_edge(request, name):
    lay = layout(request.getfixturevalue(name))

    def on_edge(point) -> bool:
        x, y = point
        for r in lay.rects:
            if r.box is None:
                continue
            inside_x = r.x - 0.01 <= x <= r.x + r.w + 0.01
            inside_y = r.y - 0.01 <= y <= r.y + r.h + 0.01
            on_x = min(abs(x - r.x), abs(x - r.x - r.w)) < 0.01
            on_y = min(abs(y - r.y), abs(y - r.y - r.h)) < 0.01
            if (on_x and inside_y) or (on_y and inside_x):
                return True
        return False

    assert len(lay.arrows) == ARROWS[name]
    for arrow in lay.arrows:
        assert on_edge(arrow.points[0]) and on_edge(arrow.points[-1]), arrow


def test_it_wraps_long_lists_and_grows_the_box_instead_of_overflowing():
    short = layout(databases_only())
    many = databases_only(
        databases=[
            (f"A bibliographic database with a long descriptive name {k}", 39) for k in range(30)
        ]
        + [("x", 1)],
        reports_excluded=[
            ("Reported in https://example.org/a-very-long-unbroken-address-that-cannot-wrap", 40),
            *[
                (f"Excluded for a reason that takes many words to say, number {k}", 1)
                for k in range(47)
            ],
        ],
    )

    lay = layout(many)

    assert lay.rect(Box.IDENTIFIED).h > 6 * short.rect(Box.IDENTIFIED).h
    assert lay.rect(Box.REPORTS_EXCLUDED).h > 6 * short.rect(Box.REPORTS_EXCLUDED).h
    assert lay.rect(Box.IDENTIFIED).w == short.rect(Box.IDENTIFIED).w
    assert_clean_layout(lay)
    groups = svg_text_groups(render(many, "svg"))
    assert (
        "A bibliographic database with a long descriptive name 29 (n = 39)" in groups["identified"]
    )
