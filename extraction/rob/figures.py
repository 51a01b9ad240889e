"""Risk-of-bias figures: the traffic-light plot and the weighted summary bar plot. Pure.

Both follow robvis (McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis): an
R package and Shiny web app for visualizing risk-of-bias assessments. Res Synth Methods
12:55-61): one coloured circle with a symbol per study and domain (+ low, − some concerns or
moderate, × high or serious, ! critical, ? no information), domain ids on top and the domain
names in a legend; and one horizontal 100 % stacked bar per domain, the share of studies (or of
their weight in the meta-analysis) at each judgement.

The functions take plain data (``extraction.rob.selectors.domain_table`` and
``rob_tool_of(review)["domains"]`` / ``["judgements"]``) and return a matplotlib
:class:`~matplotlib.figure.Figure` made with :mod:`core.figures`; save it with :func:`save`.
Everything is laid out in points (1/72 in, y downwards) and every text is measured, so labels
never overlap, whatever their length or number (1 to a few hundred studies).
"""

from __future__ import annotations

import colorsys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.path import Path
from matplotlib.textpath import TextPath

from core import figures
from core.figures import FONT

# robvis's palette (McGuinness & Higgins 2021, "colour" = "cochrane").
PALETTE: dict[str, tuple[str, str]] = {
    "low": ("#02C100", "+"),
    "some concerns": ("#E2DF07", "−"),
    "moderate": ("#E2DF07", "−"),
    "high": ("#BF0000", "×"),
    "serious": ("#BF0000", "×"),
    "critical": ("#820000", "!"),
    "no information": ("#4EA1F7", "?"),
}
# Custom judgements (a lead's own tool) are coloured by their rank, best to worst, along this ramp.
RAMP = ("#02C100", "#E2DF07", "#BF0000", "#820000")
MISSING_COLOUR = "#FFFFFF"
MISSING_EDGE = "#9E9E9E"

SALT_TRAFFIC = "evident-rob-traffic-light"
SALT_SUMMARY = "evident-rob-summary"

TEXT_COLOUR = "#000000"
GRID_COLOUR = "#D9D9D9"
BODY = 8.0
HEADER = 8.5
LEGEND = 7.5
SYMBOL = 8.5
LEADING = 1.25
MARGIN = 10.0
# Browsers draw SVG text in whatever font they have; leave room for one a little wider.
SLACK = 1.05

ROW_H = 16.0
COL_W = 24.0
CIRCLE = 13.0
LABEL_MAX = 210.0
GAP = 8.0
MIN_WIDTH = 340.0

BAR_AREA = 260.0
BAR_H = 14.0
BAR_GAP = 6.0
DOMAIN_LABEL_MAX = 220.0


# ---- text helpers (shared with synthesis.figures) ---------------------------------------------


def clean(text: object) -> str:
    """``text`` as one line of drawable text: control characters and line breaks become spaces."""
    out = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(text))
    return " ".join(out.split())


def measure(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in points, with :data:`SLACK` for other fonts."""
    return figures.text_width(text, size, bold) * SLACK


def ellipsise(text: str, width: float, size: float, bold: bool = False) -> str:
    """``text`` cut (with "…") to fit in ``width`` points."""
    text = clean(text)
    if measure(text, size, bold) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if measure(text[:mid].rstrip() + "…", size, bold) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width`` points; a word too long for a line is broken."""
    lines: list[str] = []
    current = ""
    for word in clean(text).split(" "):
        candidate = f"{current} {word}" if current else word
        if current and measure(candidate, size, bold) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
        while len(current) > 1 and measure(current, size, bold) > width:
            cut = max(
                (i for i in range(1, len(current)) if measure(current[:i], size, bold) <= width),
                default=1,
            )
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines or [""]


def put_text(ax, x: float, y: float, text: str, size: float, **kwargs) -> None:
    """Draw ``text`` as text (never TeX: "$" is a dollar) in the one font."""
    ax.text(
        x,
        y,
        text,
        fontfamily=FONT,
        fontsize=size,
        color=kwargs.pop("color", TEXT_COLOUR),
        parse_math=False,
        **kwargs,
    )


_MARKER_BOX = 10.0  # points: every symbol marker is laid in a box of this half-size


@lru_cache(maxsize=64)
def _symbol_path(symbol: str, size: float) -> Path:
    """``symbol`` in bold DejaVu Sans as a marker path, centred, in points. Corner moves (which
    draw nothing) pin matplotlib's marker normalisation, so every glyph keeps its true size."""
    prop = FontProperties(family=FONT, size=size, weight="bold")
    glyph = TextPath((0, 0), symbol, prop=prop)
    verts = glyph.vertices
    drawn = verts[glyph.codes != Path.CLOSEPOLY]  # a CLOSEPOLY's vertex is a placeholder
    if not len(drawn):
        return Path([(0.0, 0.0)], [Path.MOVETO])
    centre = (drawn.min(axis=0) + drawn.max(axis=0)) / 2
    box = _MARKER_BOX
    corners = [(-box, -box), (box, box)]
    return Path(
        [*corners, *(verts - centre)],
        [Path.MOVETO, Path.MOVETO, *glyph.codes],
    )


def draw_symbols(ax, points: Sequence[tuple[float, float, Style]], size: float) -> None:
    """Each style's symbol at its points, one marker collection per symbol (fast for thousands)."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for x, y, style in points:
        if style.symbol:
            groups.setdefault((style.symbol, style.ink), []).append((x, y))
    for (symbol, ink), xy in sorted(groups.items()):
        ax.scatter(
            [p[0] for p in xy],
            [p[1] for p in xy],
            s=(2 * _MARKER_BOX) ** 2,
            marker=_symbol_path(symbol, size),
            c=ink,
            edgecolors="none",
            linewidths=0,
            zorder=4,
        )


# ---- judgements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How one judgement is drawn."""

    judgement: str
    colour: str
    symbol: str
    ink: str  # colour of the symbol, readable on ``colour``


def _ink(colour: str) -> str:
    r, g, b = to_rgb(colour)
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 else "#FFFFFF"


def _ramp(position: float) -> str:
    """A colour along :data:`RAMP`, ``position`` from 0 (best) to 1 (worst)."""
    position = min(max(position, 0.0), 1.0) * (len(RAMP) - 1)
    i = min(int(position), len(RAMP) - 2)
    t = position - i
    a, b = to_rgb(RAMP[i]), to_rgb(RAMP[i + 1])
    rgb = [a[j] + (b[j] - a[j]) * t for j in range(3)]
    h, s, v = colorsys.rgb_to_hsv(*rgb)  # keep ramp colours saturated
    r, g, bb = colorsys.hsv_to_rgb(h, max(s, 0.6), v)
    return "#{:02X}{:02X}{:02X}".format(*(round(c * 255) for c in (r, g, bb)))


def judgement_styles(judgements: Sequence[str], extra: Sequence[str] = ()) -> dict[str, Style]:
    """The style of every judgement: robvis's colours for the RoB 2 / ROBINS-I names; any other
    name gets the colour of its rank in the list (best → worst along :data:`RAMP`) and its
    first letter as symbol. ``extra`` are judgements met in the data but not in the tool's
    list; they rank after it."""
    names = list(dict.fromkeys([*judgements, *extra]))
    styles: dict[str, Style] = {}
    for j in names:
        key = clean(j).lower()
        if key in PALETTE:
            colour, symbol = PALETTE[key]
        else:
            rank = names.index(j)
            colour = _ramp(rank / (len(names) - 1) if len(names) > 1 else 0.0)
            symbol = (clean(j)[:1] or "?").upper()
        styles[j] = Style(j, colour, symbol, _ink(colour))
    return styles


def judgement_style(judgement: str) -> Style:
    """The style of one judgement outside any tool's list (forest plots' risk-of-bias column)."""
    return judgement_styles([judgement])[judgement]


# ---- data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    id: str  # the key in each row's judgements ("Overall" for the overall column)
    label: str  # drawn above the column
    name: str  # drawn in the legend


def _columns(table: Sequence[Mapping], domains: Sequence[Mapping]) -> list[_Column]:
    """Domain columns with at least one judgement (RoB 2's two D2 variants: the one used), then
    Overall. A header is the id up to "_" ("D2_assignment" → "D2") unless that is ambiguous."""
    used = {key for row in table for key, value in (row.get("judgements") or {}).items() if value}
    shown = [d for d in domains if str(d["id"]) in used] or ([] if table else list(domains))
    shorts = [clean(d["id"]).split("_")[0] or clean(d["id"]) for d in shown]
    columns = []
    for d, short in zip(shown, shorts, strict=True):
        label = short if shorts.count(short) == 1 else clean(d["id"])
        columns.append(_Column(str(d["id"]), label, clean(d.get("name") or d["id"])))
    columns.append(_Column("Overall", "Overall", "Overall risk of bias"))
    return columns


def _extras(table: Sequence[Mapping], judgements: Sequence[str]) -> list[str]:
    seen = [
        str(v) for row in table for v in (row.get("judgements") or {}).values() if v is not None
    ]
    return [j for j in dict.fromkeys(seen) if j and j not in judgements]


def _canvas(width: float, height: float):
    fig = figures.new_figure(width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    return fig, ax


def _baseline(top: float, size: float) -> float:
    # Centres the cap height (0.73 em in DejaVu Sans) in a line of LEADING em.
    return top + size * (LEADING + 0.73) / 2


def _line_h(size: float) -> float:
    return size * LEADING


# ---- traffic light --------------------------------------------------------------------------


def traffic_light(
    table: Sequence[Mapping], domains: Sequence[Mapping], judgements: Sequence[str]
) -> Figure:
    """robvis's traffic-light plot: one row per study of ``table`` (as ``domain_table``), one
    column per domain of ``domains`` that has a judgement, then Overall; a legend names the
    domains and the judgements (``judgements``, best → worst)."""
    columns = _columns(table, domains)
    styles = judgement_styles(judgements, _extras(table, judgements))
    labels = [ellipsise(row.get("study", ""), LABEL_MAX, BODY) for row in table]
    label_w = max([measure(x, BODY) for x in labels] + [measure("Study", HEADER, True)])

    grid_x = MARGIN + label_w + GAP
    # A column is as wide as a circle's cell, or as its header ("Overall", "D2_assignment").
    sizes = [HEADER if measure(c.label, HEADER, True) <= COL_W + 6 else LEGEND for c in columns]
    widths = [
        max(COL_W, measure(c.label, size, True) + 6) for c, size in zip(columns, sizes, strict=True)
    ]
    lefts = [sum(widths[:j]) for j in range(len(columns))]
    centres = [grid_x + lefts[j] + widths[j] / 2 for j in range(len(columns))]
    grid_w = sum(widths)
    heading = "Risk of bias domains"
    heading_right = grid_x + grid_w / 2 + measure(heading, HEADER, True) / 2
    width = max(grid_x + grid_w + MARGIN, heading_right + MARGIN, MIN_WIDTH)
    inner = width - 2 * MARGIN

    # Legend lines, measured before the height is known.
    legend: list[tuple[str, bool]] = [("Domains:", True)]
    for col in columns[:-1]:
        legend += [(part, False) for part in wrap(f"{col.label}: {col.name}.", inner, LEGEND)]
    key_items = list(styles.values())
    has_missing = any(
        not (row.get("judgements") or {}).get(col.id) for row in table for col in columns
    )

    heading_h = _line_h(HEADER)
    top = MARGIN
    y_heading = top
    y_ids = top + heading_h + 2
    grid_top = y_ids + _line_h(HEADER) + 4
    grid_bottom = grid_top + ROW_H * max(len(table), 1)
    y = grid_bottom + 12
    legend_top = y
    y += len(legend) * _line_h(LEGEND)
    y += 6
    key_top = y
    # The judgement key flows left to right, wrapping to new lines.
    key_x = MARGIN + measure("Judgement:", LEGEND, True) + 8
    x = key_x
    line = 0
    # A name longer than the key's line (a custom tool's) is cut to fit.
    fit = width - MARGIN - key_x - CIRCLE - 4 - 12
    entries = [(s, ellipsise(s.judgement, fit, LEGEND)) for s in key_items]
    if has_missing:
        entries.append((Style("", MISSING_COLOUR, "", TEXT_COLOUR), "Not assessed"))
    key_rows = 1
    placed: list[tuple[Style, str, float, float]] = []
    for style, text in entries:
        need = CIRCLE + 4 + measure(text, LEGEND) + 12
        if x + need > width - MARGIN and x > key_x:
            line += 1
            key_rows += 1
            x = key_x
        placed.append((style, text, x, key_top + line * (CIRCLE + 4)))
        x += need
    height = key_top + key_rows * (CIRCLE + 4) + MARGIN

    fig, ax = _canvas(width, height)
    # Heading and column ids.
    put_text(
        ax,
        grid_x + grid_w / 2,
        _baseline(y_heading, HEADER),
        heading,
        HEADER,
        ha="center",
        va="baseline",
        fontweight="bold",
        gid="rob-heading",
    )
    put_text(
        ax, MARGIN, _baseline(y_ids, HEADER), "Study", HEADER, fontweight="bold", gid="rob-study"
    )
    for j, col in enumerate(columns):
        put_text(
            ax,
            centres[j],
            _baseline(y_ids, HEADER),
            col.label,
            sizes[j],
            ha="center",
            va="baseline",
            fontweight="bold",
            gid=f"rob-domain-{j}",
        )
    # Grid background: light lines between rows and a panel behind Overall.
    ax.add_patch(
        Rectangle(
            (grid_x + lefts[-1], grid_top),
            widths[-1],
            grid_bottom - grid_top,
            facecolor="#F2F2F2",
            edgecolor="none",
            zorder=0,
        )
    )
    ax.add_patch(
        Rectangle(
            (grid_x, grid_top),
            grid_w,
            grid_bottom - grid_top,
            facecolor="none",
            edgecolor=GRID_COLOUR,
            linewidth=0.6,
            zorder=1,
        )
    )
    ax.add_collection(
        LineCollection(
            [
                [(MARGIN, grid_top + ROW_H * i), (grid_x + grid_w, grid_top + ROW_H * i)]
                for i in range(1, len(table))
            ],
            colors=GRID_COLOUR,
            linewidths=0.4,
            zorder=1,
        )
    )

    xs: list[float] = []
    ys: list[float] = []
    fills: list[str] = []
    edges: list[str] = []
    symbols: list[tuple[float, float, Style]] = []
    for i, row in enumerate(table):
        cy = grid_top + ROW_H * (i + 0.5)
        put_text(ax, MARGIN, cy, labels[i], BODY, va="center_baseline", gid=f"rob-row-{i}")
        cells = row.get("judgements") or {}
        for j, col in enumerate(columns):
            cx = centres[j]
            value = cells.get(col.id)
            style = styles.get(str(value)) if value else None
            xs.append(cx)
            ys.append(cy)
            fills.append(style.colour if style else MISSING_COLOUR)
            edges.append("#000000" if style else MISSING_EDGE)
            if style:
                symbols.append((cx, cy, style))
    if xs:
        ax.scatter(
            xs, ys, s=CIRCLE**2, c=fills, edgecolors=edges, linewidths=0.5, marker="o", zorder=3
        )
        draw_symbols(ax, symbols, SYMBOL)

    # Legend: domain names, then the judgement key.
    for k, (text, bold) in enumerate(legend):
        put_text(
            ax,
            MARGIN,
            _baseline(legend_top + k * _line_h(LEGEND), LEGEND),
            text,
            LEGEND,
            fontweight="bold" if bold else "normal",
            gid=f"rob-legend-{k}",
        )
    put_text(
        ax,
        MARGIN,
        key_top + CIRCLE / 2,
        "Judgement:",
        LEGEND,
        va="center_baseline",
        fontweight="bold",
    )
    for style, text, kx, ky in placed:
        cy = ky + CIRCLE / 2
        ax.scatter(
            [kx + CIRCLE / 2],
            [cy],
            s=CIRCLE**2,
            c=[style.colour],
            edgecolors=["#000000" if style.symbol else MISSING_EDGE],
            linewidths=0.5,
            marker="o",
            zorder=3,
        )
        put_text(ax, kx + CIRCLE + 4, cy, text, LEGEND, va="center_baseline")
    draw_symbols(ax, [(kx + CIRCLE / 2, ky + CIRCLE / 2, st) for st, _, kx, ky in placed], SYMBOL)
    return fig


# ---- summary bars ---------------------------------------------------------------------------


def _weight(weights: Mapping[str, float] | None, study: str) -> float:
    if weights is None:
        return 1.0
    try:
        w = float(weights.get(study, 0.0) or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return w if w > 0 and w != float("inf") else 0.0


def summary_shares(
    table: Sequence[Mapping],
    domains: Sequence[Mapping],
    judgements: Sequence[str],
    weights: Mapping[str, float] | None = None,
) -> list[tuple[str, dict[str, float]]]:
    """Per shown column (domains with a judgement, then "Overall"): judgement → share in percent
    of the studies judged in that column (or of their weight). A column with no weight: {}."""
    order = [*judgements, *_extras(table, judgements)]
    out = []
    for col in _columns(table, domains):
        totals = dict.fromkeys(order, 0.0)
        for row in table:
            value = (row.get("judgements") or {}).get(col.id)
            if value:
                totals[str(value)] += _weight(weights, str(row.get("study", "")))
        whole = sum(totals.values())
        out.append(
            (col.id, {j: 100.0 * t / whole for j, t in totals.items() if t > 0} if whole else {})
        )
    return out


def summary_bars(
    table: Sequence[Mapping],
    domains: Sequence[Mapping],
    judgements: Sequence[str],
    weights: Mapping[str, float] | None = None,
) -> Figure:
    """robvis's summary plot: per domain (and Overall, last) a 100 % stacked bar of the share of
    studies at each judgement, or of their ``weights`` (study label → weight; a study without one
    counts 0)."""
    columns = _columns(table, domains)
    styles = judgement_styles(judgements, _extras(table, judgements))
    shares = dict(summary_shares(table, domains, judgements, weights))
    label_lines = []
    for col in columns:
        text = col.name if col.id == "Overall" else f"{col.label}: {col.name}"
        lines = wrap(text, DOMAIN_LABEL_MAX, BODY, bold=col.id == "Overall")
        label_lines.append(lines)
    label_w = max(
        measure(line, BODY, bold=col.id == "Overall")
        for lines, col in zip(label_lines, columns, strict=True)
        for line in lines
    )
    bar_x = MARGIN + label_w + GAP
    # The "100%" tick label is centred on the bar's end.
    width = max(bar_x + BAR_AREA + measure("100%", LEGEND) / 2 + MARGIN, MIN_WIDTH)
    inner = width - 2 * MARGIN

    top = MARGIN
    rows_top = top
    row_tops = []
    y = rows_top
    for lines in label_lines:
        h = max(BAR_H, len(lines) * _line_h(BODY)) + BAR_GAP
        row_tops.append((y, h))
        y += h
    axis_y = y
    y += 4 + 4 + _line_h(LEGEND)  # ticks and tick labels
    axis_title = "Proportion of weight (%)" if weights is not None else "Proportion of studies (%)"
    axis_title_y = y
    y += _line_h(LEGEND) + 8
    key_top = y
    placed: list[tuple[Style, str, float, float]] = []
    x = MARGIN
    line = 0
    for style in styles.values():
        text = ellipsise(style.judgement, inner - 10 - 4 - 12, LEGEND)
        need = 10 + 4 + measure(text, LEGEND) + 12
        if x + need > MARGIN + inner and x > MARGIN:
            line += 1
            x = MARGIN
        placed.append((style, text, x, key_top + line * _line_h(LEGEND) * 1.3))
        x += need
    height = key_top + (line + 1) * _line_h(LEGEND) * 1.3 + MARGIN

    fig, ax = _canvas(width, height)
    for (ry, rh), lines, col in zip(row_tops, label_lines, columns, strict=True):
        centre = ry + rh / 2 - BAR_GAP / 2
        bold = col.id == "Overall"
        first = centre - (len(lines) - 1) * _line_h(BODY) / 2
        for k, text in enumerate(lines):
            put_text(
                ax,
                MARGIN,
                first + k * _line_h(BODY),
                text,
                BODY,
                va="center_baseline",
                fontweight="bold" if bold else "normal",
                gid=f"rob-summary-label-{col.id}-{k}",
            )
        share = shares.get(col.id) or {}
        x = bar_x
        if not share:
            ax.add_patch(
                Rectangle(
                    (bar_x, centre - BAR_H / 2),
                    BAR_AREA,
                    BAR_H,
                    facecolor="none",
                    edgecolor=MISSING_EDGE,
                    linewidth=0.5,
                    linestyle="--",
                )
            )
            empty = "no weight" if weights is not None else "no judgements"
            put_text(ax, bar_x + 4, centre, empty, LEGEND, va="center_baseline", color="#555555")
            continue
        for judgement, pct in share.items():
            w = BAR_AREA * pct / 100.0
            style = styles[judgement]
            ax.add_patch(
                Rectangle(
                    (x, centre - BAR_H / 2),
                    w,
                    BAR_H,
                    facecolor=style.colour,
                    edgecolor="#FFFFFF",
                    linewidth=0.4,
                    gid=f"rob-bar-{col.id}-{style.colour[1:]}",
                )
            )
            text = f"{pct:.0f}%"
            if measure(text, LEGEND - 0.5) + 4 <= w:
                put_text(
                    ax,
                    x + w / 2,
                    centre,
                    text,
                    LEGEND - 0.5,
                    ha="center",
                    va="center_baseline",
                    color=style.ink,
                )
            x += w
    # Axis: 0 to 100 %.
    ax.plot([bar_x, bar_x + BAR_AREA], [axis_y, axis_y], color=TEXT_COLOUR, linewidth=0.6)
    for pct in (0, 25, 50, 75, 100):
        tx = bar_x + BAR_AREA * pct / 100
        ax.plot([tx, tx], [axis_y, axis_y + 3], color=TEXT_COLOUR, linewidth=0.6)
        put_text(
            ax,
            tx,
            _baseline(axis_y + 4, LEGEND),
            f"{pct}%",
            LEGEND,
            ha="center",
            va="baseline",
        )
    put_text(
        ax,
        bar_x + BAR_AREA / 2,
        _baseline(axis_title_y, LEGEND),
        axis_title,
        LEGEND,
        ha="center",
        va="baseline",
    )
    for style, text, kx, ky in placed:
        ax.add_patch(
            Rectangle(
                (kx, ky + 1),
                10,
                _line_h(LEGEND) - 2,
                facecolor=style.colour,
                edgecolor="#000000",
                linewidth=0.4,
            )
        )
        put_text(
            ax,
            kx + 14,
            ky + _line_h(LEGEND) / 2,
            text,
            LEGEND,
            va="center_baseline",
        )
    return fig


def save(fig: Figure, fmt: str, *, kind: str = "traffic_light", dpi: int = 200) -> bytes:
    """``fig`` (from :func:`traffic_light` or :func:`summary_bars`) as SVG, PNG or PDF bytes."""
    if kind == "traffic_light":
        return figures.save(
            fig, fmt, title="Risk of bias: traffic-light plot", salt=SALT_TRAFFIC, dpi=dpi
        )
    if kind == "summary":
        return figures.save(
            fig, fmt, title="Risk of bias: summary plot", salt=SALT_SUMMARY, dpi=dpi
        )
    raise ValueError(f"kind must be traffic_light or summary, got {kind!r}")
