"""Figures for papers: one way to make, measure and save a matplotlib figure. Pure.

Every figure Evident draws (the PRISMA 2020 flow diagram today; forest, funnel and risk-of-bias
plots as they land) goes through here, so all of them share what a journal and a test need:

* no pyplot: each call owns its :class:`~matplotlib.figure.Figure` on an Agg canvas, nothing is
  registered globally, so web workers and Celery jobs may draw at the same time;
* one font, DejaVu Sans (shipped with matplotlib), so text measures and wraps the same on every
  machine;
* SVG with real ``<text>`` (selectable, editable in Inkscape or Illustrator), PDF with embedded
  TrueType, PNG at a chosen resolution;
* the same input gives the same bytes: no creation dates, fixed SVG ids.
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache
from typing import Literal

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

Format = Literal["svg", "png", "pdf"]
FORMATS: tuple[Format, ...] = ("svg", "png", "pdf")
CONTENT_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
}

FONT = "DejaVu Sans"
POINTS_PER_INCH = 72

# matplotlib reads these at save time from the global rcParams; the lock keeps two saves from
# restoring each other's values (rc_context is not thread-safe on its own).
_SAVE_LOCK = threading.Lock()
_SAVE_RC = {
    "svg.fonttype": "none",  # real <text> elements, not glyph paths
    "pdf.fonttype": 42,  # embed TrueType: text stays selectable and editable
}


def new_figure(width: float, height: float, *, facecolor: str = "white") -> Figure:
    """A figure of ``width`` x ``height`` points on its own Agg canvas (no pyplot)."""
    fig = Figure(
        figsize=(width / POINTS_PER_INCH, height / POINTS_PER_INCH),
        dpi=POINTS_PER_INCH,
        facecolor=facecolor,
    )
    FigureCanvasAgg(fig)
    return fig


@lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in points when drawn in :data:`FONT` at ``size`` points."""
    prop = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    # TextToPath keeps no state between calls and matplotlib caches fonts per thread.
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return width


def save(fig: Figure, fmt: str, *, title: str, salt: str, dpi: int = 200) -> bytes:
    """``fig`` as SVG, PNG or PDF bytes; ``dpi`` matters for PNG only.

    ``salt`` fixes the SVG element ids (one per kind of figure), so the same figure gives the
    same bytes; dates are left out of the metadata for the same reason.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be svg, png or pdf, got {fmt!r}")
    metadata: dict[str, str | None] = {
        "svg": {"Date": None, "Title": title},
        "pdf": {"CreationDate": None, "Title": title},
        "png": {"Title": title},
    }[fmt]
    buffer = io.BytesIO()
    with _SAVE_LOCK, matplotlib.rc_context(_SAVE_RC | {"svg.hashsalt": salt}):
        fig.savefig(
            buffer, format=fmt, dpi=dpi if fmt == "png" else POINTS_PER_INCH, metadata=metadata
        )
    return buffer.getvalue()
