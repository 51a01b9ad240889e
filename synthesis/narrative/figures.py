"""Figures of a narrative synthesis: the effect-direction plot and the harvest plot. Pure.

* The effect-direction plot follows Hilton Boon M, Thomson H (2021). The effect direction plot
  revisited: application of the 2019 Cochrane Handbook guidance on alternative synthesis
  methods. Res Synth Methods 12(1):29-33. doi:10.1002/jrsm.1458. One row per study (grouped),
  one column per outcome; an arrow gives the direction of the point estimate (▲ beneficial,
  ▼ harmful, ◄► no clear difference or conflicting), its size the study's sample size (small
  < 50, medium 50-300, large > 300, as their figure) and its colour the study's overall risk of
  bias (robvis's palette, white when not judged).
* The harvest plot (Ogilvie D et al. (2008). The harvest plot: a method for synthesising
  evidence about the differential effects of interventions. BMC Med Res Methodol 8:8): per group
  and outcome, one bar per study in the column of its direction, its height the sample size
  class and its colour the risk of bias.

Both take the plain data of ``synthesis.narrative.selectors.compute`` / ``plot_rows`` and return
a matplotlib Figure made with :mod:`core.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from core import figures
from core.figures import FONT, text_width
from extraction.rob.figures import judgement_style

BENEFICIAL, HARMFUL, UNCLEAR = "beneficial", "harmful", "no clear difference"
CITATION = (
    "Effect direction plot after Hilton Boon & Thomson (2021), Res Synth Methods 12:29-33. "
    "▲ beneficial, ▼ harmful, ◄► no clear difference or conflicting; size: n < 50, 50-300, "
    "> 300; colour: overall risk of bias. Columns are outcome domains; a small number beside an "
    "arrow is the number of outcomes it combines (the domain's direction is that of at least "
    "70 % of them, else ◄►)."
)
HARVEST_NOTE = (
    "Harvest plot (Ogilvie et al. 2008): one bar per study (labelled) in the column of its "
    "direction; "
    "height: n < 50, 50-300, > 300; colour: overall risk of bias."
)
SALT_DIRECTION = "evident-narrative-direction"
SALT_HARVEST = "evident-narrative-harvest"
BODY = 8.0
SMALL = 7.0
LABEL = 6.0
ROW = 16.0
PAD = 8.0
NONE_FILL = "#FFFFFF"
EDGE = "#000000"


def size_class(n: int | None) -> int:
    """0 unknown, 1 small (< 50), 2 medium (50-300), 3 large (> 300)."""
    if n is None:
        return 0
    return 1 if n < 50 else (2 if n <= 300 else 3)


def _fill(rob: str | None) -> str:
    return judgement_style(rob).colour if rob else NONE_FILL


def _canvas(width: float, height: float):
    fig = figures.new_figure(width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    return fig, ax


def _text(ax, x, y, s, *, size=BODY, ha="left", bold=False, colour="#000000", rotation=0):
    ax.text(
        x,
        y,
        s,
        fontsize=size,
        ha=ha,
        va="center",
        family=FONT,
        rotation=rotation,
        fontweight="bold" if bold else "normal",
        color=colour,
    )


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and text_width(trial, size) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


_MARKER = {1: 5.0, 2: 8.0, 3: 11.0, 0: 6.5}


def _arrow(ax, x, y, direction: str | None, size: int, fill: str) -> None:
    ms = _MARKER[size]
    kw = {"markersize": ms, "markerfacecolor": fill, "markeredgecolor": EDGE, "linestyle": "none"}
    if direction == BENEFICIAL:
        ax.plot([x], [y], marker="^", markeredgewidth=0.8, **kw)
    elif direction == HARMFUL:
        ax.plot([x], [y], marker="v", markeredgewidth=0.8, **kw)
    elif direction == UNCLEAR:
        ax.plot([x - ms * 0.45], [y], marker="<", markeredgewidth=0.8, **kw)
        ax.plot([x + ms * 0.45], [y], marker=">", markeredgewidth=0.8, **kw)
    else:
        _text(ax, x, y, "–", ha="center", colour="#9E9E9E")


def effect_direction_plot(
    rows: Sequence[Mapping], outcomes: Sequence[str], *, group_by: str = ""
) -> Figure:
    """Studies (grouped) by outcome domains (``outcomes``: the domains' names); ``rows`` as
    ``selectors.plot_rows``. When a study's arrow in a domain combines more than one outcome, the
    number of outcomes behind it is written small beside it (the page's domain table gives it
    as a tooltip with the count per direction)."""
    label_w = (
        max(
            [text_width("Study", BODY, True)]
            + [text_width(str(r["study"]), BODY) for r in rows]
            + [text_width(str(r["group"]), BODY, True) for r in rows]
        )
        + PAD
    )
    n_w = text_width("00000", BODY) + PAD
    rob_w = (
        max(
            [text_width("Risk of bias", BODY, True)]
            + [text_width(str(r.get("rob") or "—"), SMALL) for r in rows]
        )
        + PAD
    )
    col_w = [max(42.0, text_width(o, BODY, True) + PAD) for o in outcomes]
    width = max(PAD * 2 + label_w + n_w + rob_w + sum(col_w), 320.0)
    groups: list[str] = list(dict.fromkeys(r["group"] for r in rows))
    note = _wrap(CITATION, width - 2 * PAD, SMALL)
    height = PAD * 3 + ROW * (2.0 + len(rows) + len(groups)) + len(note) * 10 + 6
    fig, ax = _canvas(width, height)
    y = PAD + ROW * 0.75
    x0 = PAD
    _text(ax, x0, y, "Study", bold=True)
    _text(ax, x0 + label_w + n_w - PAD, y, "N", bold=True, ha="right")
    _text(ax, x0 + label_w + n_w, y, "Risk of bias", bold=True)
    xs = []
    x = x0 + label_w + n_w + rob_w
    for o, w in zip(outcomes, col_w, strict=True):
        xs.append(x + w / 2)
        _text(ax, x + w / 2, y, o, bold=True, ha="center")
        x += w
    ax.plot([PAD, width - PAD], [y + ROW * 0.6] * 2, color="#000000", linewidth=0.8)
    y += ROW * 1.2
    for g in groups:
        y += ROW * 0.5
        title = f"{group_by}: {g}" if group_by else str(g)
        _text(ax, x0, y, title, bold=True)
        y += ROW * 0.5
        for r in (r for r in rows if r["group"] == g):
            y += ROW * 0.5
            _text(ax, x0 + 6, y, str(r["study"]))
            _text(
                ax,
                x0 + label_w + n_w - PAD,
                y,
                "" if r.get("n") is None else str(r["n"]),
                ha="right",
            )
            _text(ax, x0 + label_w + n_w, y, str(r.get("rob") or "—"), size=SMALL)
            for o, cx in zip(outcomes, xs, strict=True):
                _arrow(
                    ax, cx, y, r["directions"].get(o), size_class(r.get("n")), _fill(r.get("rob"))
                )
                k = (r.get("counts") or {}).get(o, 0)
                if k > 1 and r["directions"].get(o):
                    _text(ax, cx + 16, y + 3, f"{k}", size=LABEL, colour="#424242")
            y += ROW * 0.5
    y += PAD
    ax.plot([PAD, width - PAD], [y - PAD / 2] * 2, color="#000000", linewidth=0.5)
    for line in note:
        y += 10
        _text(ax, PAD, y, line, size=SMALL)
    return fig


def harvest_plot(data: Mapping) -> Figure:
    """Rows = groups, columns = outcomes, each cell three columns (harmful, no clear difference,
    beneficial) of bars, one per study; ``data`` as ``selectors.compute``."""
    outcomes = [o["outcome"] for o in (data["groups"][0]["outcomes"] if data["groups"] else [])]
    groups = data["groups"]
    bar, gap = 10.0, 3.0
    most = 1
    for g in groups:
        for o in g["outcomes"]:
            for d in (HARMFUL, UNCLEAR, BENEFICIAL):
                most = max(most, sum(r["direction"] == d for r in o["rows"]))
    heads = ("Harmful", "No clear", "Beneficial")
    sub_w = max(most * (bar + gap) + gap, max(text_width(h, SMALL) for h in heads)) + PAD
    cell_w = 3 * sub_w
    label_w = max([60.0] + [text_width(str(g["value"]), BODY, True) for g in groups]) + PAD
    names = [str(r.get("study", "")) for g in groups for o in g["outcomes"] for r in o["rows"]]
    cell_h = 3 * 12.0 + 10.0 + max([0.0] + [text_width(n, LABEL) for n in names])
    width = max(PAD * 2 + label_w + cell_w * max(len(outcomes), 1), 320.0)
    note = _wrap(HARVEST_NOTE, width - 2 * PAD, SMALL)
    height = PAD * 3 + 2 * ROW + len(groups) * (cell_h + PAD) + len(note) * 10 + 6
    fig, ax = _canvas(width, height)
    y = PAD + ROW * 0.5
    for i, o in enumerate(outcomes):
        cx = PAD + label_w + i * cell_w
        _text(ax, cx + cell_w / 2, y, o, bold=True, ha="center")
        for j, d in enumerate(heads):
            _text(ax, cx + j * sub_w + sub_w / 2, y + ROW, d, size=SMALL, ha="center")
    y += ROW * 1.6
    for g in groups:
        _text(ax, PAD, y + cell_h / 2, str(g["value"]), bold=True)
        base = y + cell_h
        for i in range(len(outcomes)):
            cx = PAD + label_w + i * cell_w
            ax.plot([cx, cx + cell_w - PAD], [base, base], color="#000000", linewidth=0.6)
        for i, o in enumerate(g["outcomes"]):
            cx = PAD + label_w + i * cell_w
            for j, d in enumerate((HARMFUL, UNCLEAR, BENEFICIAL)):
                x = cx + j * sub_w + gap
                for r in (r for r in o["rows"] if r["direction"] == d):
                    h = 12.0 * max(size_class(r["n"]), 1)
                    ax.add_patch(
                        Rectangle(
                            (x, base - h),
                            bar,
                            h,
                            facecolor=_fill(r["rob"]),
                            edgecolor=EDGE,
                            linewidth=0.6,
                        )
                    )
                    if r.get("study"):
                        ax.text(
                            x + bar / 2,
                            base - h - 3,
                            str(r["study"]),
                            fontsize=LABEL,
                            ha="center",
                            va="bottom",
                            rotation=90,
                            family=FONT,
                        )
                    x += bar + gap
        y += cell_h + PAD
    y += PAD
    for line in note:
        y += 10
        _text(ax, PAD, y, line, size=SMALL)
    return fig


def save(fig: Figure, fmt: str, *, kind: str, dpi: int = 200) -> bytes:
    salt = SALT_DIRECTION if kind == "effect_direction" else SALT_HARVEST
    title = "Effect direction plot" if kind == "effect_direction" else "Harvest plot"
    return figures.save(fig, fmt, title=title, salt=salt, dpi=dpi)
