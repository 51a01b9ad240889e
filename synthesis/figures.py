"""Forest, funnel and leave-one-out plots of a stored synthesis result. Pure.

Each function takes the results dict of an analysis (``synthesis.bundle.run``, stored as JSON)
and returns a matplotlib :class:`~matplotlib.figure.Figure` made with :mod:`core.figures`, so a
stored analysis redraws without refitting; :func:`save` turns it into SVG, PNG or PDF bytes
(the same result gives the same bytes).

Conventions follow metafor's ``forest.rma`` and ``funnel.rma`` (Viechtbauer W (2010). J Stat
Softw 36(3):1-48) and the Cochrane Handbook's forest plots (Lewis S, Clarke M (2001). Forest
plots: trying to see the wood and the trees. BMJ 322:1479-1480): squares with an area
proportional to the study's weight, the pooled estimate as a diamond, the prediction interval as
a bar beneath it (IntHout J et al. (2016). BMJ Open 6:e010247), effects of ratio measures (OR,
RR: ``result["transform"] == "exp"``) drawn on a log axis and labelled as ratios, and a
risk-of-bias column coloured like robvis (:mod:`extraction.rob.figures`). The funnel's pseudo
confidence region is estimate ± z·SE (Sterne JAC, Egger M (2001). J Clin Epidemiol
54:1046-1055); studies imputed by trim-and-fill are hollow.

Everything is placed in points (1/72 in, y downwards) and every text is measured, so nothing
overlaps whatever the labels; texts are never parsed as TeX ("$" stays a dollar).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle
from matplotlib.ticker import MaxNLocator

from core import figures
from extraction.rob.figures import (
    PALETTE,
    Style,
    clean,
    draw_symbols,
    ellipsise,
    judgement_styles,
    measure,
    put_text,
    wrap,
)

SALTS = {
    "forest": "evident-forest",
    "funnel": "evident-funnel",
    "leave_one_out": "evident-leave-one-out",
}
TITLES = {
    "forest": "Forest plot",
    "funnel": "Funnel plot",
    "leave_one_out": "Leave-one-out analysis",
}
MEASURE_NAMES = {
    "OR": "Odds ratio",
    "RR": "Risk ratio",
    "RD": "Risk difference",
    "MD": "Mean difference",
    "SMD": "Standardised mean difference",
    "COR": "Correlation",
    "ZCOR": "Fisher's z",
    "PR": "Proportion",
    "PLO": "Log odds",
}

INK = "#000000"
GREY = "#6E6E6E"
LIGHT = "#E6E6E6"
STUDY_COLOUR = "#1F3A5F"
DIAMOND_COLOUR = "#000000"
SUBGROUP_COLOUR = "#5A5A5A"
PI_COLOUR = "#B22222"

BODY = 8.0
SMALL = 7.0
LEADING = 1.25
MARGIN = 10.0
GAP = 10.0
ROW_H = 12.0
LABEL_MAX = 230.0
LABEL_MIN = 120.0
PANEL_W = 220.0
ROB_W = 26.0
ROB_D = 9.0
SQUARE_MAX = 9.0
SQUARE_MIN = 2.5
DIAMOND_H = 8.0
MIN_WIDTH = 420.0


# ---- numbers ----------------------------------------------------------------------------------


def _num(x: object) -> float | None:
    """``x`` as a finite float, else None."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _fmt(x: float | None, digits: int = 2) -> str:
    """A number as printed in the figure: fixed decimals, a true minus sign."""
    if x is None:
        return "NA"
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "−")


def _p(p: float | None) -> str:
    if p is None:
        return "p = NA"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


@dataclass(frozen=True)
class _Scale:
    """The effect scale: values are drawn on the analysis scale (log for ratios), labelled on the
    reported one."""

    exp: bool

    def show(self, x: float | None) -> float | None:
        if x is None:
            return None
        if not self.exp:
            return x
        return math.exp(x) if x < 700 else math.inf

    def ci_text(self, est: float | None, lb: float | None, ub: float | None) -> str:
        if est is None:
            return "not estimable"
        return f"{_fmt(self.show(est))} [{_fmt(self.show(lb))}, {_fmt(self.show(ub))}]"

    def ticks(self, lo: float, hi: float) -> tuple[list[float], float, float]:
        """Tick positions (analysis scale) and the panel's range, covering ``lo``..``hi``."""
        if not self.exp:
            ticks = [
                float(t) for t in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
            ]
            below = [t for t in ticks if t <= lo + 1e-12]
            above = [t for t in ticks if t >= hi - 1e-12]
            start = below[-1] if below else ticks[0]
            end = above[0] if above else ticks[-1]
            return [t for t in ticks if start - 1e-12 <= t <= end + 1e-12], start, end
        # Ratios: "nice" values 1-2-5 (or finer) per decade, as many as fit.
        r_lo, r_hi = math.exp(lo), math.exp(hi)
        first, last = math.floor(math.log10(r_lo)) - 1, math.ceil(math.log10(r_hi)) + 1
        chosen: list[float] = []
        for mantissas in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8)):
            cands = sorted(round(m * 10**e, 10) for e in range(first, last + 1) for m in mantissas)
            inside = [c for c in cands if r_lo * (1 - 1e-9) <= c <= r_hi * (1 + 1e-9)]
            chosen = inside
            if len(inside) >= 4:
                break
        while len(chosen) > 8:  # very wide: keep powers of ten, then every other one
            tens = [c for c in chosen if math.isclose(math.log10(c), round(math.log10(c)))]
            chosen = tens if len(tens) < len(chosen) and len(tens) >= 2 else chosen[::2]
        if len(chosen) < 2:
            chosen = sorted({r_lo, r_hi})
        return [math.log(c) for c in chosen], lo, hi

    def tick_label(self, t: float) -> str:
        value = self.show(t) or 0.0
        if self.exp:
            text = f"{value:.3g}" if value < 1000 else f"{value:.0f}"
        else:
            text = f"{round(value, 10):g}"
        return text.replace("-", "−")


def _scale(result: Mapping) -> _Scale:
    return _Scale(exp=result.get("transform") == "exp")


def _measure_label(result: Mapping, scale: _Scale) -> tuple[str, str]:
    """(short, long) names of the effect measure: "RR", "Risk ratio (log scale)"."""
    code = clean((result.get("spec") or {}).get("measure") or "")
    name = MEASURE_NAMES.get(code.upper(), code or "Effect size")
    return (code or "Estimate", f"{name} (log scale)" if scale.exp else name)


def _level(result: Mapping) -> float:
    main = result.get("main") or {}
    spec = result.get("spec") or {}
    return _num(main.get("level")) or _num(spec.get("level")) or 95.0


def _model_name(model: Mapping) -> str:
    """ "Random-effects model (REML, Knapp-Hartung)", "Common-effect model"..."""
    method = clean(model.get("method") or "")
    if model.get("model") == "three-level":
        details = [method] + (["t test"] if clean(model.get("test") or "") == "knha" else [])
        if model.get("rho") is not None:
            details.append(f"CHE, ρ = {_fmt(_num(model.get('rho')), 2)}")
        return f"Three-level model ({', '.join(d for d in details if d)})"
    details = [] if method in ("FE", "EE", "CE", "") else [method]
    if clean(model.get("test") or "") == "knha":
        details.append("Knapp-Hartung")
    if method in ("FE", "EE", "CE"):
        name = "Common-effect model"
    else:
        name = "Random-effects model" if method else "Pooled estimate"
    return f"{name} ({', '.join(details)})" if details else name


def _heterogeneity(model: Mapping) -> str:
    parts = []
    tau2 = _num(model.get("tau2"))
    if tau2 is not None and clean(model.get("method") or "") not in ("FE", "EE", "CE"):
        parts.append(f"τ² = {_fmt(tau2, 3)}")
    sigma2 = model.get("sigma2") or []
    levels = ("between studies", "within studies")
    if len(sigma2) == 2:
        parts.append(
            ", ".join(
                f"σ²({name}) = {_fmt(_num(v), 3)}" for name, v in zip(levels, sigma2, strict=True)
            )
        )
    i2 = _num(model.get("i2"))
    i2_levels = model.get("i2_levels") or []
    if i2 is not None and len(i2_levels) == 2:
        parts.append(
            f"I² = {_fmt(i2, 1)}% (between {_fmt(_num(i2_levels[0]), 1)}%, within "
            f"{_fmt(_num(i2_levels[1]), 1)}%)"
        )
    elif i2 is not None:
        parts.append(f"I² = {_fmt(i2, 1)}%")
    q, df = _num(model.get("q")), _num(model.get("q_df"))
    if q is not None:
        parts.append(
            f"Q({int(df) if df is not None else '?'}) = {_fmt(q)}, {_p(_num(model.get('q_p')))}"
        )
    return "Heterogeneity: " + "; ".join(parts) if parts else ""


def _effect_test(model: Mapping) -> str:
    stat = _num(model.get("stat"))
    if stat is None:
        return ""
    df = _num(model.get("df"))
    if clean(model.get("test") or "") in ("knha", "t") or df is not None:
        letter = f"t({int(df)})" if df is not None else "t"
    else:
        letter = "z"
    return f"Test for overall effect: {letter} = {_fmt(stat)}, {_p(_num(model.get('pval')))}"


# ---- the row plot (forest and leave-one-out) -------------------------------------------------


@dataclass
class _Row:
    kind: str  # "study", "diamond", "pi", "heading", "note", "blank", "point"
    label: str = ""
    est: float | None = None
    lb: float | None = None
    ub: float | None = None
    texts: tuple[str, ...] = ()  # right-hand columns
    weight: float | None = None
    rob: str | None = None
    colour: str = INK
    height: float = ROW_H


@dataclass
class _Plot:
    rows: list[_Row]
    scale: _Scale
    label_header: str
    headers: tuple[str, ...]
    axis_label: str
    footer: list[str] = field(default_factory=list)
    rob: bool = False
    rob_styles: dict[str, Style] = field(default_factory=dict)
    reference: float | None = None  # a dashed vertical line (leave-one-out: the main estimate)
    band: tuple[float, float] | None = None  # a shaded band (the main CI)


def _canvas(width: float, height: float):
    fig = figures.new_figure(width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    return fig, ax


def _line(ax, xs, ys, **kwargs) -> None:
    kwargs.setdefault("color", INK)
    kwargs.setdefault("linewidth", 0.7)
    kwargs.setdefault("solid_capstyle", "butt")
    ax.plot(xs, ys, **kwargs)


def _wrap_parts(text: str, width: float, size: float) -> list[str]:
    """Wrap at "; " first (a statistic and its value stay together), then at spaces."""
    lines: list[str] = []
    current = ""
    for part in clean(text).split("; "):
        candidate = f"{current}; {part}" if current else part
        if measure(candidate + ";", size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current + ";")
        pieces = wrap(part, width, size)
        lines += pieces[:-1]
        current = pieces[-1]
    if current:
        lines.append(current)
    return lines


def _draw(plot: _Plot) -> Figure:
    rows = plot.rows
    bold_kinds = ("diamond", "heading")
    # Label column: as wide as the widest label, within limits; labels are ellipsised, notes wrap.
    label_widths = [
        measure(r.label, BODY, r.kind in bold_kinds) for r in rows if r.kind not in ("note",)
    ] + [measure(plot.label_header, BODY, True)]
    rob_w = ROB_W if plot.rob else 0.0
    label_widths += [measure(r.label, SMALL) - rob_w for r in rows if r.kind == "note"]
    label_w = min(max([LABEL_MIN, *label_widths]), LABEL_MAX)
    # The model's own labels ("Random-effects model (REML, Knapp-Hartung) (k = 13)") are ours and
    # short: they are never cut.
    label_w = max([label_w] + [measure(r.label, BODY, True) for r in rows if r.kind == "diamond"])
    laid: list[_Row] = []
    for r in rows:
        if r.kind == "note":
            for part in _wrap_parts(r.label, label_w + rob_w, SMALL):
                laid.append(_Row("note", part, height=SMALL * LEADING + 1))
        else:
            bold = r.kind in bold_kinds
            laid.append(
                _Row(
                    r.kind,
                    ellipsise(r.label, label_w, BODY, bold),
                    r.est,
                    r.lb,
                    r.ub,
                    tuple(clean(t) for t in r.texts),
                    r.weight,
                    r.rob,
                    r.colour,
                    r.height,
                )
            )
    ncols = len(plot.headers)
    col_w = [
        max(
            [measure(plot.headers[j], BODY, True)]
            + [measure(r.texts[j], BODY, r.kind == "diamond") for r in laid if len(r.texts) > j]
        )
        for j in range(ncols)
    ]

    # Horizontal positions.
    x_label = MARGIN
    x_rob = x_label + label_w + GAP
    panel_l = x_rob + (ROB_W if plot.rob else 0.0)
    panel_r = panel_l + PANEL_W
    rights = []
    x = panel_r + GAP
    for w in col_w:
        x += w
        rights.append(x)
        x += GAP
    width = max(x - GAP + MARGIN, MIN_WIDTH)

    # Effect range and ticks.
    values = [0.0]
    for r in laid:
        values += [v for v in (r.est, r.lb, r.ub) if v is not None]
    if plot.band:
        values += list(plot.band)
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.04 * (hi - lo)
    ticks, lo, hi = plot.scale.ticks(lo - pad, hi + pad)

    def px(v: float) -> float:
        return panel_l + (v - lo) / (hi - lo) * PANEL_W

    # Vertical positions.
    y = MARGIN
    header_y = y
    y += ROW_H + 3
    rule_top = y
    y += 3
    tops = []
    for r in laid:
        tops.append(y)
        y += r.height
    panel_top, panel_bottom = rule_top, y + 3
    axis_y = panel_bottom
    y = axis_y + 3 + 2
    tick_y = y + SMALL * (LEADING + 0.73) / 2
    y += SMALL * LEADING + 2
    axis_lines = wrap(plot.axis_label, width - 2 * MARGIN, BODY)
    axis_label_y = y
    y += len(axis_lines) * BODY * LEADING + 6
    footer_lines = [
        part for text in plot.footer if text for part in wrap(text, width - 2 * MARGIN, SMALL)
    ]
    footer_y = y
    y += len(footer_lines) * SMALL * LEADING
    # Risk-of-bias key: flows left to right.
    key: list[tuple[Style, str, float, float]] = []
    if plot.rob and plot.rob_styles:
        y += 4
        kx = MARGIN + measure("Risk of bias:", SMALL, True) + 6
        start = kx
        for style in plot.rob_styles.values():
            text = ellipsise(style.judgement, width - MARGIN - start - ROB_D - 4 - 10, SMALL)
            need = ROB_D + 4 + measure(text, SMALL) + 10
            if kx + need > width - MARGIN and kx > start:
                kx = start
                y += ROB_D + 4
            key.append((style, text, kx, y))
            kx += need
        key_y0 = key[0][3]
        y += ROB_D + 4
    height = y + MARGIN

    fig, ax = _canvas(width, height)
    centre = lambda top, h: top + h / 2  # noqa: E731

    # Headers and rules.
    hy = header_y + BODY * (LEADING + 0.73) / 2
    put_text(ax, x_label, hy, plot.label_header, BODY, fontweight="bold", gid="forest-header-label")
    if plot.rob:
        put_text(ax, x_rob + ROB_W / 2 - GAP / 2, hy, "RoB", BODY, fontweight="bold", ha="center")
    for j, head in enumerate(plot.headers):
        put_text(ax, rights[j], hy, head, BODY, fontweight="bold", ha="right")
    _line(ax, [MARGIN, width - MARGIN], [rule_top, rule_top], linewidth=0.6)

    # Reference band and lines behind the rows.
    if plot.band:
        b_lo, b_hi = px(plot.band[0]), px(plot.band[1])
        ax.add_patch(
            Rectangle(
                (b_lo, panel_top),
                b_hi - b_lo,
                axis_y - panel_top,
                facecolor=LIGHT,
                edgecolor="none",
                zorder=0,
            )
        )
    if lo <= 0.0 <= hi:
        _line(ax, [px(0.0), px(0.0)], [panel_top, axis_y], linewidth=0.6, zorder=1)
    if plot.reference is not None:
        _line(
            ax,
            [px(plot.reference)] * 2,
            [panel_top, axis_y],
            linewidth=0.6,
            linestyle=(0, (3, 2)),
            color=GREY,
            zorder=1,
        )

    weights = [r.weight for r in laid if r.kind == "study" and r.weight]
    w_max = max(weights) if weights else 1.0
    squares_x, squares_y, squares_s = [], [], []
    rob_x, rob_y, rob_c = [], [], []
    for i, (r, top) in enumerate(zip(laid, tops, strict=True)):
        cy = centre(top, r.height)
        if r.kind == "blank":
            continue
        bold = r.kind in bold_kinds
        if r.kind == "note":
            put_text(
                ax, x_label, cy, r.label, SMALL, va="center_baseline", style="italic", color=GREY
            )
            continue
        put_text(
            ax,
            x_label,
            cy,
            r.label,
            BODY,
            va="center_baseline",
            fontweight="bold" if bold else "normal",
            style="italic" if r.kind == "pi" else "normal",
            gid=f"forest-row-{i}",
        )
        for j, text in enumerate(r.texts):
            put_text(
                ax,
                rights[j],
                cy,
                text,
                BODY,
                ha="right",
                va="center_baseline",
                fontweight="bold" if r.kind == "diamond" else "normal",
            )
        if r.kind in ("study", "point") and r.est is not None:
            if r.lb is not None and r.ub is not None:
                _line(ax, [px(r.lb), px(r.ub)], [cy, cy], color=r.colour, linewidth=0.8, zorder=2)
            if r.kind == "study":
                side = SQUARE_MAX * math.sqrt(r.weight / w_max) if r.weight else SQUARE_MIN
                side = max(side, SQUARE_MIN)
            else:
                side = 4.5
            squares_x.append(px(r.est))
            squares_y.append(cy)
            squares_s.append(side)
        elif r.kind == "diamond" and None not in (r.est, r.lb, r.ub):
            ax.add_patch(
                Polygon(
                    [
                        (px(r.lb), cy),
                        (px(r.est), cy - DIAMOND_H / 2),
                        (px(r.ub), cy),
                        (px(r.est), cy + DIAMOND_H / 2),
                    ],
                    closed=True,
                    facecolor=r.colour,
                    edgecolor=r.colour,
                    linewidth=0.6,
                    zorder=3,
                )
            )
        elif r.kind == "pi" and r.lb is not None and r.ub is not None:
            ax.add_patch(
                Rectangle(
                    (px(r.lb), cy - 1.5),
                    px(r.ub) - px(r.lb),
                    3.0,
                    facecolor=PI_COLOUR,
                    edgecolor="none",
                    zorder=3,
                )
            )
        if plot.rob and r.rob:
            style = plot.rob_styles.get(r.rob)
            if style:
                rob_x.append(x_rob + ROB_W / 2 - GAP / 2)
                rob_y.append(cy)
                rob_c.append(style)
    # Squares (area ∝ weight) as one collection: fast and small, whatever the number of studies.
    for sx, sy, side in zip(squares_x, squares_y, squares_s, strict=True):
        ax.add_patch(
            Rectangle(
                (sx - side / 2, sy - side / 2),
                side,
                side,
                facecolor=STUDY_COLOUR,
                edgecolor=STUDY_COLOUR,
                linewidth=0.3,
                zorder=4,
            )
        )
    if rob_x:
        ax.scatter(
            rob_x,
            rob_y,
            s=ROB_D**2,
            c=[s.colour for s in rob_c],
            edgecolors="#000000",
            linewidths=0.4,
            marker="o",
            zorder=3,
        )
        draw_symbols(ax, list(zip(rob_x, rob_y, rob_c, strict=True)), SMALL - 0.5)

    # Axis.
    _line(ax, [px(lo), px(hi)], [axis_y, axis_y], linewidth=0.6)
    last_right = -math.inf
    for t in ticks:
        tx = px(t)
        _line(ax, [tx, tx], [axis_y, axis_y + 3], linewidth=0.6)
        label = plot.scale.tick_label(t)
        half = measure(label, SMALL) / 2
        if tx - half < last_right + 3:  # never let tick labels touch
            continue
        put_text(ax, tx, tick_y, label, SMALL, ha="center")
        last_right = tx + half
    for k, part in enumerate(axis_lines):
        ax_x = min(
            max((panel_l + panel_r) / 2, MARGIN + measure(part, BODY) / 2),
            width - MARGIN - measure(part, BODY) / 2,
        )
        put_text(
            ax,
            ax_x,
            axis_label_y + BODY * (LEADING + 0.73) / 2 + k * BODY * LEADING,
            part,
            BODY,
            ha="center",
        )
    for k, part in enumerate(footer_lines):
        put_text(
            ax,
            MARGIN,
            footer_y + SMALL * (LEADING + 0.73) / 2 + k * SMALL * LEADING,
            part,
            SMALL,
            gid=f"forest-footer-{k}",
        )
    if key:
        put_text(
            ax,
            MARGIN,
            key_y0 + ROB_D / 2,
            "Risk of bias:",
            SMALL,
            fontweight="bold",
            va="center_baseline",
        )
        for style, text, kx, ky in key:
            cy = ky + ROB_D / 2
            ax.scatter(
                [kx + ROB_D / 2],
                [cy],
                s=ROB_D**2,
                c=[style.colour],
                edgecolors="#000000",
                linewidths=0.4,
                marker="o",
                zorder=3,
            )
            put_text(ax, kx + ROB_D + 4, cy, text, SMALL, va="center_baseline")
        draw_symbols(
            ax, [(kx + ROB_D / 2, ky + ROB_D / 2, st) for st, _, kx, ky in key], SMALL - 0.5
        )
    return fig


# ---- forest plot --------------------------------------------------------------------------


def _rob_styles(studies: Sequence[Mapping]) -> dict[str, Style]:
    """Styles of the judgements met, in robvis's order (best → worst), others after."""
    seen = list(dict.fromkeys(clean(s.get("rob")) for s in studies if s.get("rob")))
    known = list(dict.fromkeys(k for k in PALETTE))
    ordered = sorted(
        seen, key=lambda j: known.index(j.lower()) if j.lower() in known else len(known)
    )
    return judgement_styles(ordered)


def _study_row(s: Mapping, scale: _Scale, weight_text: bool = True) -> _Row:
    est = _num(s.get("yi"))
    lb, ub = _num(s.get("ci_lb")), _num(s.get("ci_ub"))
    weight = _num(s.get("weight"))
    texts = (scale.ci_text(est, lb, ub), f"{_fmt(weight, 1)}%" if weight is not None else "")
    rob = clean(s.get("rob")) if s.get("rob") else None
    return _Row("study", clean(s.get("study", "")), est, lb, ub, texts, weight, rob)


def _model_rows(model: Mapping, label: str, scale: _Scale, colour: str, weight: str) -> list[_Row]:
    est, lb, ub = (_num(model.get(k)) for k in ("estimate", "ci_lb", "ci_ub"))
    return [
        _Row("diamond", label, est, lb, ub, (scale.ci_text(est, lb, ub), weight), colour=colour)
    ]


def forest_plot(result: Mapping, *, rob: bool = False) -> Figure:
    """The forest plot of ``result``: one row per study (label, square sized by weight, CI,
    effect [CI] and weight columns), subgroup blocks with their own diamonds when the analysis has
    subgroups, the pooled diamond, the prediction interval beneath it and the heterogeneity and
    test lines; ``rob`` adds a column with each study's overall risk-of-bias judgement."""
    scale = _scale(result)
    short, long = _measure_label(result, scale)
    level = _level(result)
    main = result.get("main") or {}
    studies = list(result.get("studies") or [])
    subgroups = list(result.get("subgroups") or [])
    rows: list[_Row] = []

    if subgroups:
        placed: set[int] = set()
        for sub in subgroups:
            value = sub.get("value")
            members = [
                i
                for i, s in enumerate(studies)
                if i not in placed
                and clean(s.get("subgroup")) == clean(value)
                and (value is not None or s.get("subgroup") is None)
            ]
            if not members:
                members = [
                    i
                    for i, s in enumerate(studies)
                    if i not in placed
                    and clean(s.get("study")) in {clean(x) for x in sub.get("studies") or []}
                ]
            placed.update(members)
            heading = clean(sub.get("subset") or f"{sub.get('variable')} = {value}")
            rows.append(_Row("heading", heading))
            rows += [_study_row(studies[i], scale) for i in members]
            total = sum(_num(studies[i].get("weight")) or 0.0 for i in members)
            k = sub.get("k") if sub.get("k") is not None else len(members)
            if sub.get("error") or _num(sub.get("estimate")) is None:
                rows.append(_Row("note", f"Not pooled: {clean(sub.get('error') or 'no estimate')}"))
            else:
                rows += _model_rows(
                    sub, f"Subtotal (k = {k})", scale, SUBGROUP_COLOUR, f"{_fmt(total, 1)}%"
                )
                note = _heterogeneity(sub)
                if note:
                    rows.append(_Row("note", note))
            rows.append(_Row("blank", height=ROW_H / 2))
        rest = [i for i in range(len(studies)) if i not in placed]
        if rest:
            rows.append(_Row("heading", "Not in a subgroup"))
            rows += [_study_row(studies[i], scale) for i in rest]
            rows.append(_Row("blank", height=ROW_H / 2))
    elif main.get("model") == "three-level":
        # Several effect sizes per study: each study's effect sizes under its label.
        for label in dict.fromkeys(s.get("study") for s in studies):
            rows.append(_Row("heading", clean(label or "")))
            for s in studies:
                if s.get("study") == label:
                    row = _study_row(s, scale)
                    row.label = "  " + clean(s.get("label") or f"effect size {s.get('es_id')}")
                    rows.append(row)
        rows.append(_Row("blank", height=ROW_H / 2))
    else:
        rows += [_study_row(s, scale) for s in studies]
        rows.append(_Row("blank", height=ROW_H / 2))

    k = main.get("k") if main.get("k") is not None else len(studies)
    rows += _model_rows(main, f"{_model_name(main)} (k = {k})", scale, DIAMOND_COLOUR, "100.0%")
    pi_lb, pi_ub = _num(main.get("pi_lb")), _num(main.get("pi_ub"))
    random_effects = clean(main.get("method") or "") not in ("FE", "EE", "CE")
    if random_effects and pi_lb is not None and pi_ub is not None:
        rows.append(
            _Row(
                "pi",
                "Prediction interval",
                None,
                pi_lb,
                pi_ub,
                (f"[{_fmt(scale.show(pi_lb))}, {_fmt(scale.show(pi_ub))}]", ""),
            )
        )

    footer = [_heterogeneity(main), _effect_test(main)]
    if main.get("robust_type"):
        lb, ub = _num(main.get("robust_ci_lb")), _num(main.get("robust_ci_ub"))
        footer.append(
            f"Cluster-robust ({clean(main['robust_type'])}, by study): SE = "
            f"{_fmt(_num(main.get('robust_se')), 4)}, t({_fmt(_num(main.get('robust_df')), 2)}) "
            f"= {_fmt(_num(main.get('robust_stat')))}, {_p(_num(main.get('robust_pval')))}, "
            f"CI {scale.ci_text(_num(main.get('estimate')), lb, ub)}"
        )
    test = result.get("subgroup_test")
    if subgroups and test:
        qm, df = _num(test.get("qm")), _num(test.get("df"))
        footer.append(
            f"Test for subgroup differences: Q = {_fmt(qm)}, df = "
            f"{int(df) if df is not None else 'NA'}, {_p(_num(test.get('pval')))}"
        )
    styles = _rob_styles(studies) if rob else {}
    plot = _Plot(
        rows=rows,
        scale=scale,
        label_header="Study",
        headers=(f"{short} [{level:g}% CI]", "Weight"),
        axis_label=long,
        footer=footer,
        rob=rob,
        rob_styles=styles,
    )
    return _draw(plot)


# ---- leave-one-out ------------------------------------------------------------------------


def leave_one_out_plot(result: Mapping) -> Figure:
    """One row per omitted study: the pooled estimate and CI without it, its I²; the estimate
    with every study as a dashed line over its shaded CI, and as the diamond at the bottom."""
    scale = _scale(result)
    short, long = _measure_label(result, scale)
    level = _level(result)
    main = result.get("main") or {}
    rows = []
    for entry in result.get("leave_one_out") or []:
        est, lb, ub = (_num(entry.get(k)) for k in ("estimate", "ci_lb", "ci_ub"))
        i2 = _num(entry.get("i2"))
        rows.append(
            _Row(
                "point",
                clean(entry.get("study", "")),
                est,
                lb,
                ub,
                (scale.ci_text(est, lb, ub), f"{_fmt(i2, 1)}%" if i2 is not None else "NA"),
            )
        )
    rows.append(_Row("blank", height=ROW_H / 2))
    est, lb, ub = (_num(main.get(k)) for k in ("estimate", "ci_lb", "ci_ub"))
    i2 = _num(main.get("i2"))
    k = main.get("k") if main.get("k") is not None else len(rows) - 1
    rows.append(
        _Row(
            "diamond",
            f"All studies (k = {k})",
            est,
            lb,
            ub,
            (scale.ci_text(est, lb, ub), f"{_fmt(i2, 1)}%" if i2 is not None else "NA"),
        )
    )
    plot = _Plot(
        rows=rows,
        scale=scale,
        label_header="Omitted study",
        headers=(f"{short} [{level:g}% CI]", "I²"),
        axis_label=long,
        footer=[f"Each row: {_model_name(main)} refitted without that study."],
        reference=est,
        band=(lb, ub) if lb is not None and ub is not None else None,
    )
    return _draw(plot)


# ---- funnel plot --------------------------------------------------------------------------


def funnel_plot(result: Mapping) -> Figure:
    """Effect against standard error (0 at the top) with the pseudo confidence region around the
    main estimate; trim-and-fill's imputed studies hollow; Egger's and Begg's tests in a caption."""
    scale = _scale(result)
    _short, long = _measure_label(result, scale)
    level = _level(result)
    main = result.get("main") or {}
    centre = _num(main.get("estimate")) or 0.0
    studies = result.get("studies") or []
    pts = [(_num(s.get("yi")), _num(s.get("vi"))) for s in studies]
    yi = np.array([y for y, v in pts if y is not None and v is not None and v > 0])
    sei = np.sqrt([v for y, v in pts if y is not None and v is not None and v > 0])
    bias = result.get("publication_bias") or {}
    trimfill = bias.get("trimfill") or {}
    filled = [(_num(f.get("yi")), _num(f.get("vi"))) for f in trimfill.get("filled") or []]
    f_yi = np.array([y for y, v in filled if y is not None and v is not None and v > 0])
    f_se = np.sqrt([v for y, v in filled if y is not None and v is not None and v > 0])

    z = NormalDist().inv_cdf(0.5 + level / 200)  # 1.96 for 95 %
    se_all = np.concatenate([sei, f_se]) if f_se.size else sei
    se_max = float(se_all.max()) if se_all.size else 1.0
    se_max = se_max * 1.05 if se_max > 0 else 1.0
    x_values = [centre - z * se_max, centre + z * se_max, *yi.tolist(), *f_yi.tolist()]
    lo, hi = min(x_values), max(x_values)
    pad = 0.04 * (hi - lo or 1.0)
    x_ticks, lo, hi = scale.ticks(lo - pad, hi + pad)
    y_ticks = [
        float(t) for t in MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(0, se_max)
    ]
    y_ticks = [t for t in y_ticks if t >= 0]
    y_top = max(y_ticks[-1], se_max) if y_ticks else se_max
    y_labels = [_fmt(t, _decimals(y_ticks)) for t in y_ticks]
    x_labels = [scale.tick_label(t) for t in x_ticks]

    # Caption lines.
    caption = []
    egger = bias.get("egger")
    if egger and _num(egger.get("pval")) is not None:
        caption.append(
            f"Egger's regression test for funnel plot asymmetry: {_p(_num(egger.get('pval')))}."
        )
    rank = bias.get("rank")
    if rank and _num(rank.get("pval")) is not None:
        caption.append(
            f"Begg's rank correlation test: Kendall's τ = {_fmt(_num(rank.get('tau')), 3)}, "
            f"{_p(_num(rank.get('pval')))}."
        )
    if trimfill and f_yi.size:
        side = clean(trimfill.get("side") or "")
        est = _num(trimfill.get("estimate"))
        caption.append(
            f"Trim-and-fill: {f_yi.size} stud{'y' if f_yi.size == 1 else 'ies'} imputed"
            f"{f' on the {side}' if side else ''} (hollow points); adjusted estimate "
            f"{scale.ci_text(est, _num(trimfill.get('ci_lb')), _num(trimfill.get('ci_ub')))}."
        )
    elif trimfill:
        caption.append("Trim-and-fill: no studies imputed.")

    width = 360.0
    ylab_w = max([measure(t, SMALL) for t in y_labels] + [0.0])
    left = MARGIN + BODY * LEADING + 4 + ylab_w + 4
    right = width - MARGIN - max([measure(t, SMALL) for t in x_labels[-1:]] + [0.0]) / 2
    plot_h = 230.0
    top = MARGIN + SMALL / 2  # the top tick label is centred on the axis
    axis_lines = wrap(long, width - 2 * MARGIN, BODY)
    cap_lines = [p for text in caption for p in wrap(text, width - 2 * MARGIN, SMALL)]
    bottom_block = 3 + 2 + SMALL * LEADING + 2 + len(axis_lines) * BODY * LEADING + 6
    bottom_block += len(cap_lines) * SMALL * LEADING
    height = top + plot_h + bottom_block + MARGIN
    fig = figures.new_figure(width, height)
    ax = fig.add_axes(
        (left / width, (height - top - plot_h) / height, (right - left) / width, plot_h / height)
    )
    ax.set_xlim(lo, hi)
    ax.set_ylim(y_top, 0)
    ax.set_facecolor("#F2F2F2")
    ax.fill(
        [centre - z * y_top, centre, centre + z * y_top],
        [y_top, 0, y_top],
        facecolor="#FFFFFF",
        edgecolor="none",
        zorder=1,
    )
    for sign in (-1, 1):
        ax.plot(
            [centre, centre + sign * z * y_top],
            [0, y_top],
            color=GREY,
            linewidth=0.7,
            linestyle=(0, (3, 2)),
            zorder=2,
        )
    ax.plot([centre, centre], [0, y_top], color=INK, linewidth=0.7, zorder=2)
    if f_yi.size:
        ax.scatter(
            f_yi,
            f_se,
            s=22,
            facecolors="#FFFFFF",
            edgecolors=INK,
            linewidths=0.8,
            zorder=3,
            gid="funnel-filled",
        )
    if yi.size:
        ax.scatter(
            yi,
            sei,
            s=22,
            facecolors=INK,
            edgecolors=INK,
            linewidths=0.5,
            zorder=4,
            gid="funnel-studies",
        )
    ax.set_xticks(x_ticks, x_labels)
    ax.set_yticks(y_ticks, y_labels)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontfamily(figures.FONT)
        label.set_fontsize(SMALL)
    ax.tick_params(length=3, width=0.6, pad=2)
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
    # Axis titles and caption, in figure points (y down from the top).

    def fig_text(x: float, y_down: float, text: str, size: float, **kw) -> None:
        fig.text(
            x / width,
            1 - y_down / height,
            text,
            fontfamily=figures.FONT,
            fontsize=size,
            parse_math=False,
            color=INK,
            **kw,
        )

    fig_text(
        MARGIN + BODY * LEADING / 2,
        top + plot_h / 2,
        "Standard error",
        BODY,
        rotation=90,
        ha="center",
        va="center",
    )
    y = top + plot_h + 3 + 2 + SMALL * LEADING + 2
    for part in axis_lines:
        cx = min(
            max((left + right) / 2, MARGIN + measure(part, BODY) / 2),
            width - MARGIN - measure(part, BODY) / 2,
        )
        fig_text(cx, y + BODY * (LEADING + 0.73) / 2, part, BODY, ha="center", va="baseline")
        y += BODY * LEADING
    y += 6
    for k, part in enumerate(cap_lines):
        fig_text(
            MARGIN,
            y + SMALL * (LEADING + 0.73) / 2,
            part,
            SMALL,
            va="baseline",
            gid=f"funnel-caption-{k}",
        )
        y += SMALL * LEADING
    return fig


def _decimals(values: Sequence[float]) -> int:
    for d in range(0, 6):
        if all(abs(round(v, d) - v) < 1e-9 for v in values):
            return d
    return 6


def save(fig: Figure, fmt: str, *, kind: str, dpi: int = 200) -> bytes:
    """``fig`` as SVG, PNG or PDF bytes; ``kind`` (forest, funnel, leave_one_out) fixes the SVG
    ids, so the same result gives the same bytes."""
    if kind not in SALTS:
        raise ValueError(f"kind must be one of {', '.join(SALTS)}, got {kind!r}")
    return figures.save(fig, fmt, title=TITLES[kind], salt=SALTS[kind], dpi=dpi)
