"""Draw a PRISMA 2020 flow diagram as SVG, PNG or PDF with matplotlib.

:func:`layout` places every box, line of text and arrow in points (1/72 in, y downwards);
:func:`render` draws that one layout on a fresh figure and saves it. Making, measuring and
saving figures is :mod:`core.figures`, shared with every other figure of the app.

Over 500 lines because the layout is one function of one diagram: the four PRISMA 2020
templates share it, and its measurements only make sense read together.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from core import figures
from core.figures import FONT, Format
from reporting.prisma.checks import Issue
from reporting.prisma.counts import OTHER_METHODS_BOXES, Box, PrismaCounts
from reporting.prisma.wording import PHASES, TITLES, Line, box_lines, column_headers, footnotes

BODY_SIZE = 8.0
HEADER_SIZE = 8.5
PHASE_SIZE = 9.0
FOOTNOTE_SIZE = 6.5
TITLE_SIZE = 10.0
ISSUE_SIZE = 7.0
LEADING = 1.25

MARGIN = 10.0
PAD_X = 6.0
PAD_Y = 4.0
BOX_W = 165.0
ARROW_GAP = 24.0  # between a box and the exclusion box on its right
COLUMN_GAP = 20.0  # between the previous, databases and other-methods columns
PHASE_W = 20.0
PHASE_GAP = 10.0
ROW_GAP = 20.0
HEADER_GAP = 12.0
SUB_INDENT = 8.0  # per-database and per-reason lines
HANG = 8.0  # continuation lines of a wrapped left-aligned line
ISSUES_W = 200.0
# Browsers draw SVG text in whatever font they have; leave room for one a little wider.
SLACK = 1.05

LINE_COLOUR = "#000000"
BOX_FILL = "#FFFFFF"
GREY_FILL = "#EDEDED"  # PRISMA: grey boxes are the optional previous and other-methods columns
GREY_HEADER = "#D0D0D0"
YELLOW_HEADER = "#FFD966"
PHASE_FILL = "#9DC3E6"
ERROR_COLOUR = "#A50F15"
WARNING_COLOUR = "#7A4B00"
ISSUES_FILL = "#FFF8E5"

LEFT_ALIGNED = frozenset(
    {
        Box.PREVIOUS,
        Box.IDENTIFIED,
        Box.REMOVED,
        Box.REPORTS_EXCLUDED,
        Box.OTHER_IDENTIFIED,
        Box.OTHER_REPORTS_EXCLUDED,
    }
)
GREY_BOXES = OTHER_METHODS_BOXES | {Box.PREVIOUS}

# A number stays whole: "(n = 1,234)" is never split across lines.
_TOKEN = re.compile(r"\(n = [\d,]+\)\S*|\S+")


@dataclass(frozen=True)
class TextItem:
    """One drawn line of text; ``y`` is the baseline, or the centre when rotated."""

    text: str
    x: float
    y: float
    size: float
    gid: str
    bold: bool = False
    ha: Literal["left", "center"] = "left"
    rotation: float = 0.0
    colour: str = LINE_COLOUR
    width: float = 0.0


@dataclass(frozen=True)
class RectItem:
    gid: str
    x: float
    y: float
    w: float
    h: float
    fill: str
    rounded: bool = False
    edge: bool = True
    box: Box | None = None


@dataclass(frozen=True)
class ArrowItem:
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    rects: tuple[RectItem, ...]
    texts: tuple[TextItem, ...]
    arrows: tuple[ArrowItem, ...]

    def rect(self, box: Box) -> RectItem:
        return next(r for r in self.rects if r.box == box)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in points, with :data:`SLACK` for other fonts."""
    return figures.text_width(text, size, bold) * SLACK


def wrap(text: str, first: float, rest: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``first`` points, then ``rest`` points for continuation lines."""
    lines: list[str] = []
    width = first
    current = ""
    for token in _TOKEN.findall(text):
        candidate = f"{current} {token}" if current else token
        if current and text_width(candidate, size, bold) > width:
            lines.append(current)
            width = rest
            current = token
        else:
            current = candidate
        # Only a lone token can overflow here (a URL, a long name): break it by characters.
        while len(current) > 1 and text_width(current, size, bold) > width:
            cut = max(
                (i for i in range(1, len(current)) if text_width(current[:i], size, bold) <= width),
                default=1,
            )
            lines.append(current[:cut])
            width = rest
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def _baseline(top: float, index: int, size: float) -> float:
    # Centres the cap height (0.73 em in DejaVu Sans) in a line of LEADING em.
    return top + index * size * LEADING + size * (LEADING + 0.73) / 2


@dataclass
class _Block:
    """A box's wrapped text before it is placed: (text, x offset from the box's left)."""

    lines: list[tuple[str, float]]
    centred: bool

    @property
    def height(self) -> float:
        return len(self.lines) * BODY_SIZE * LEADING + 2 * PAD_Y


def _block(box: Box, lines: Sequence[Line], width: float) -> _Block:
    centred = box not in LEFT_ALIGNED and not any(line.sub for line in lines)
    inner = width - 2 * PAD_X
    out: list[tuple[str, float]] = []
    for line in lines:
        if centred:
            out += [(part, 0.0) for part in wrap(line.text, inner, inner, BODY_SIZE)]
            continue
        indent = PAD_X + (SUB_INDENT if line.sub else 0.0)
        parts = wrap(line.text, width - indent - PAD_X, width - indent - HANG - PAD_X, BODY_SIZE)
        out += [(part, indent if i == 0 else indent + HANG) for i, part in enumerate(parts)]
    return _Block(out, centred)


def layout(counts: PrismaCounts, *, issues: Sequence[Issue] = (), title: bool = False) -> Layout:
    """Place the diagram of ``counts``: the one layout every format is drawn from.

    ``issues`` (from :func:`check_consistency`) are listed in a panel to the right of the
    diagram; leave them out for the figure that goes to the journal. ``title`` adds the
    template's own title line above the diagram.
    """
    texts = box_lines(counts)
    headers = column_headers(counts)
    rects: list[RectItem] = []
    items: list[TextItem] = []
    arrows: list[ArrowItem] = []

    # Columns, left to right.
    x = MARGIN
    phase_x = x
    x += PHASE_W + PHASE_GAP
    columns: dict[str, float] = {}
    if counts.is_update:
        columns["previous"] = x
        x += BOX_W + COLUMN_GAP
    columns["main"] = x
    columns["side"] = x + BOX_W + ARROW_GAP
    x = columns["side"] + BOX_W
    if counts.other_methods is not None:
        columns["other_main"] = x + COLUMN_GAP
        columns["other_side"] = columns["other_main"] + BOX_W + ARROW_GAP
        x = columns["other_side"] + BOX_W
    diagram_right = x

    # Rows, top to bottom, and which box sits where.
    place: dict[Box, tuple[str, str]] = {
        Box.PREVIOUS: ("previous", "identification"),
        Box.IDENTIFIED: ("main", "identification"),
        Box.REMOVED: ("side", "identification"),
        Box.OTHER_IDENTIFIED: ("other_main", "identification"),
        Box.SCREENED: ("main", "screened"),
        Box.RECORDS_EXCLUDED: ("side", "screened"),
        Box.SOUGHT: ("main", "sought"),
        Box.NOT_RETRIEVED: ("side", "sought"),
        Box.OTHER_SOUGHT: ("other_main", "sought"),
        Box.OTHER_NOT_RETRIEVED: ("other_side", "sought"),
        Box.ASSESSED: ("main", "assessed"),
        Box.REPORTS_EXCLUDED: ("side", "assessed"),
        Box.OTHER_ASSESSED: ("other_main", "assessed"),
        Box.OTHER_REPORTS_EXCLUDED: ("other_side", "assessed"),
        Box.INCLUDED: ("main", "included"),
        Box.TOTAL: ("main", "total"),
        Box.META_ANALYSIS: ("main", "meta_analysis"),
    }
    rows = ["identification", "screened", "sought", "assessed", "included"]
    if counts.is_update:
        rows.append("total")
    if counts.meta_analysis_studies is not None:
        rows.append("meta_analysis")
    phase_rows = {
        PHASES[0]: rows[:1],
        PHASES[1]: rows[1:4],
        PHASES[2]: rows[4:],
    }

    blocks = {box: _block(box, lines, BOX_W) for box, lines in texts.items()}
    row_height = {row: 0.0 for row in rows}
    for box, block in blocks.items():
        row = place[box][1]
        row_height[row] = max(row_height[row], block.height)
    # A phase bar must be tall enough for its rotated label.
    for phase, its_rows in phase_rows.items():
        need = text_width(phase, PHASE_SIZE, bold=True) + 16
        have = sum(row_height[r] for r in its_rows) + ROW_GAP * (len(its_rows) - 1)
        if have < need:
            row_height[its_rows[-1]] += need - have

    y = MARGIN
    if title:
        title_lines = wrap(
            TITLES[counts.template],
            diagram_right - MARGIN,
            diagram_right - MARGIN,
            TITLE_SIZE,
            True,
        )
        for i, part in enumerate(title_lines):
            items.append(
                TextItem(
                    part,
                    MARGIN,
                    _baseline(y, i, TITLE_SIZE),
                    TITLE_SIZE,
                    f"prisma-title-{i}",
                    bold=True,
                    width=text_width(part, TITLE_SIZE, True),
                )
            )
        y += len(title_lines) * TITLE_SIZE * LEADING + HEADER_GAP

    # Column headers.
    spans = {
        "previous": (columns.get("previous", 0.0), BOX_W),
        "databases": (columns["main"], 2 * BOX_W + ARROW_GAP),
        "other": (columns.get("other_main", 0.0), 2 * BOX_W + ARROW_GAP),
    }
    header_lines = {
        key: wrap(text, spans[key][1] - 2 * PAD_X, spans[key][1] - 2 * PAD_X, HEADER_SIZE, True)
        for key, text in headers.items()
    }
    header_h = max(len(v) for v in header_lines.values()) * HEADER_SIZE * LEADING + 2 * PAD_Y
    for key, parts in header_lines.items():
        hx, hw = spans[key]
        fill = YELLOW_HEADER if key == "databases" else GREY_HEADER
        rects.append(RectItem(f"prisma-header-{key}", hx, y, hw, header_h, fill, rounded=True))
        top = y + (header_h - len(parts) * HEADER_SIZE * LEADING) / 2
        for i, part in enumerate(parts):
            items.append(
                TextItem(
                    part,
                    hx + hw / 2,
                    _baseline(top, i, HEADER_SIZE),
                    HEADER_SIZE,
                    f"prisma-header-{key}-{i}",
                    bold=True,
                    ha="center",
                    width=text_width(part, HEADER_SIZE, True),
                )
            )
    y += header_h + HEADER_GAP

    row_top: dict[str, float] = {}
    for row in rows:
        row_top[row] = y
        y += row_height[row] + ROW_GAP
    rows_bottom = y - ROW_GAP

    # Phase bars on the left.
    for phase, its_rows in phase_rows.items():
        top = row_top[its_rows[0]]
        bottom = row_top[its_rows[-1]] + row_height[its_rows[-1]]
        gid = f"prisma-phase-{phase.lower()}"
        rects.append(RectItem(gid, phase_x, top, PHASE_W, bottom - top, PHASE_FILL, rounded=True))
        items.append(
            TextItem(
                phase,
                phase_x + PHASE_W / 2,
                (top + bottom) / 2,
                PHASE_SIZE,
                f"{gid}-0",
                bold=True,
                ha="center",
                rotation=90.0,
                width=text_width(phase, PHASE_SIZE, True),
            )
        )

    # Boxes, vertically centred in their row.
    geometry: dict[Box, tuple[float, float, float, float]] = {}
    for box, block in blocks.items():
        column, row = place[box]
        bx = columns[column]
        by = row_top[row] + (row_height[row] - block.height) / 2
        geometry[box] = (bx, by, BOX_W, block.height)
        fill = GREY_FILL if box in GREY_BOXES else BOX_FILL
        rects.append(RectItem(f"prisma-{box}", bx, by, BOX_W, block.height, fill, box=box))
        for i, (part, offset) in enumerate(block.lines):
            items.append(
                TextItem(
                    part,
                    bx + BOX_W / 2 if block.centred else bx + offset,
                    _baseline(by + PAD_Y, i, BODY_SIZE),
                    BODY_SIZE,
                    f"prisma-{box}-{i}",
                    ha="center" if block.centred else "left",
                    width=text_width(part, BODY_SIZE),
                )
            )

    def right(box: Box) -> tuple[float, float]:
        bx, by, bw, bh = geometry[box]
        return (bx + bw, by + bh / 2)

    def left(box: Box) -> tuple[float, float]:
        bx, by, _, bh = geometry[box]
        return (bx, by + bh / 2)

    def top(box: Box) -> tuple[float, float]:
        bx, by, bw, _ = geometry[box]
        return (bx + bw / 2, by)

    def bottom(box: Box) -> tuple[float, float]:
        bx, by, bw, bh = geometry[box]
        return (bx + bw / 2, by + bh)

    def arrow(*points: tuple[float, float]) -> None:
        arrows.append(ArrowItem(tuple(points)))

    chain = [Box.IDENTIFIED, Box.SCREENED, Box.SOUGHT, Box.ASSESSED, Box.INCLUDED]
    if counts.is_update:
        chain.append(Box.TOTAL)
    if counts.meta_analysis_studies is not None:
        chain.append(Box.META_ANALYSIS)
    for upper, lower in itertools.pairwise(chain):
        arrow(bottom(upper), top(lower))
    for main, side in (
        (Box.IDENTIFIED, Box.REMOVED),
        (Box.SCREENED, Box.RECORDS_EXCLUDED),
        (Box.SOUGHT, Box.NOT_RETRIEVED),
        (Box.ASSESSED, Box.REPORTS_EXCLUDED),
    ):
        arrow(right(main), left(side))
    if counts.is_update:
        start = bottom(Box.PREVIOUS)
        end = left(Box.TOTAL)
        arrow(start, (start[0], end[1]), end)
    if counts.other_methods is not None:
        arrow(bottom(Box.OTHER_IDENTIFIED), top(Box.OTHER_SOUGHT))
        arrow(bottom(Box.OTHER_SOUGHT), top(Box.OTHER_ASSESSED))
        arrow(right(Box.OTHER_SOUGHT), left(Box.OTHER_NOT_RETRIEVED))
        arrow(right(Box.OTHER_ASSESSED), left(Box.OTHER_REPORTS_EXCLUDED))
        start = bottom(Box.OTHER_ASSESSED)
        end = right(Box.INCLUDED)
        arrow(start, (start[0], end[1]), end)

    # Footnotes under the diagram, across its full width.
    y = rows_bottom + HEADER_GAP
    width = diagram_right - MARGIN
    for k, note in enumerate(footnotes(counts)):
        for i, part in enumerate(wrap(note, width, width, FOOTNOTE_SIZE)):
            items.append(
                TextItem(
                    part,
                    MARGIN,
                    _baseline(y, 0, FOOTNOTE_SIZE),
                    FOOTNOTE_SIZE,
                    f"prisma-footnote-{k}-{i}",
                    width=text_width(part, FOOTNOTE_SIZE),
                )
            )
            y += FOOTNOTE_SIZE * LEADING
    height = y + MARGIN
    total_width = diagram_right + MARGIN

    if issues:
        panel_x = diagram_right + COLUMN_GAP
        panel_top = MARGIN
        inner = ISSUES_W - 2 * PAD_X
        py = panel_top + PAD_Y
        panel_items = [
            TextItem(
                "Consistency check",
                panel_x + PAD_X,
                _baseline(py, 0, HEADER_SIZE),
                HEADER_SIZE,
                "prisma-issues-heading",
                bold=True,
                width=text_width("Consistency check", HEADER_SIZE, True),
            )
        ]
        py += HEADER_SIZE * LEADING + PAD_Y
        for k, issue in enumerate(issues):
            label = "Error" if issue.severity == "error" else "Warning"
            colour = ERROR_COLOUR if issue.severity == "error" else WARNING_COLOUR
            for i, part in enumerate(
                wrap(f"{label}: {issue.message}", inner, inner - HANG, ISSUE_SIZE)
            ):
                offset = 0.0 if i == 0 else HANG
                panel_items.append(
                    TextItem(
                        part,
                        panel_x + PAD_X + offset,
                        _baseline(py, 0, ISSUE_SIZE),
                        ISSUE_SIZE,
                        f"prisma-issue-{k}-{i}",
                        colour=colour,
                        width=text_width(part, ISSUE_SIZE),
                    )
                )
                py += ISSUE_SIZE * LEADING
            py += ISSUE_SIZE * 0.5
        panel_h = py - panel_top + PAD_Y
        rects.append(RectItem("prisma-issues", panel_x, panel_top, ISSUES_W, panel_h, ISSUES_FILL))
        items += panel_items
        total_width = panel_x + ISSUES_W + MARGIN
        height = max(height, panel_top + panel_h + MARGIN)

    return Layout(total_width, height, tuple(rects), tuple(items), tuple(arrows))


def figure(lay: Layout) -> Figure:
    """A new figure with ``lay`` drawn on it, one point per data unit."""
    fig = figures.new_figure(lay.width, lay.height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.set_axis_off()
    for r in lay.rects:
        style = "round,pad=0,rounding_size=5" if r.rounded else "square,pad=0"
        ax.add_patch(
            FancyBboxPatch(
                (r.x, r.y),
                r.w,
                r.h,
                boxstyle=style,
                facecolor=r.fill,
                edgecolor=LINE_COLOUR if r.edge else "none",
                linewidth=0.8,
                gid=r.gid,
                zorder=1,
            )
        )
    for a in lay.arrows:
        codes = [Path.MOVETO] + [Path.LINETO] * (len(a.points) - 1)
        ax.add_patch(
            FancyArrowPatch(
                path=Path(a.points, codes),
                arrowstyle="-|>,head_length=5,head_width=2.5",
                color=LINE_COLOUR,
                linewidth=0.8,
                shrinkA=0,
                shrinkB=0,
                joinstyle="miter",
                zorder=2,
            )
        )
    for t in lay.texts:
        ax.text(
            t.x,
            t.y,
            t.text,
            fontfamily=FONT,
            fontsize=t.size,
            fontweight="bold" if t.bold else "normal",
            color=t.colour,
            ha=t.ha,
            va="center" if t.rotation else "baseline",
            rotation=t.rotation,
            parse_math=False,  # "$" in a database name or reason is text, not TeX
            gid=t.gid,
            zorder=3,
        )
    return fig


def render(
    counts: PrismaCounts,
    fmt: Format,
    *,
    issues: Sequence[Issue] = (),
    title: bool = False,
    dpi: int = 200,
) -> bytes:
    """The diagram of ``counts`` as SVG, PNG or PDF bytes. ``dpi`` matters for PNG only."""
    if fmt not in figures.FORMATS:
        raise ValueError(f"format must be svg, png or pdf, got {fmt!r}")
    fig = figure(layout(counts, issues=issues, title=title))
    # The salt keeps the SVG ids of earlier releases: the same counts give the same bytes.
    return figures.save(fig, fmt, title="PRISMA 2020 flow diagram", salt="evident-prisma", dpi=dpi)
