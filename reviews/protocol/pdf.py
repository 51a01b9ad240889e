"""A protocol version as a PDF: A4 pages of headings and wrapped paragraphs.

No PDF library is in the stack, and a protocol is plain text; matplotlib (already a dependency,
used through ``core/figures.py`` for every figure) writes multi-page PDFs with embedded
TrueType fonts (``PdfPages``). So the text is laid out here, line by line, measured in the one
font the figures use (DejaVu Sans), and each page is a figure of A4 size. The layout is pure
(:func:`layout`), so that tests can count its pages; the same blocks give the same bytes (no
creation date in the metadata).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages

# The figure module's lock and settings: matplotlib reads them from the global rcParams while
# it writes, so every PDF and figure of the site shares one lock.
from core.figures import _SAVE_LOCK, _SAVE_RC, FONT, new_figure, text_width
from reviews.protocol.documents import Block, expanded

PAGE_WIDTH = 595.0  # A4 in points
PAGE_HEIGHT = 842.0
MARGIN = 56.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
TOP = MARGIN
BOTTOM = PAGE_HEIGHT - MARGIN  # no line goes below this
FOOTER_SIZE = 8.0


@dataclass(frozen=True)
class Style:
    size: float
    leading: float
    bold: bool = False
    italic: bool = False
    before: float = 0.0
    after: float = 0.0
    indent: float = 0.0


STYLES = {
    "title": Style(16, 21, bold=True, after=6),
    "meta": Style(8.5, 12, after=1),
    "h2": Style(12, 16, bold=True, before=12, after=2),
    "h3": Style(10.5, 14, bold=True, before=6),
    "h4": Style(10, 14, italic=True, before=4),
    "p": Style(10, 14, after=6),
    "li": Style(10, 14, after=2, indent=14),
}
HEADINGS = {"title", "h2", "h3", "h4"}


@dataclass(frozen=True)
class Line:
    kind: str
    text: str
    x: float  # from the left edge, in points
    y: float  # top of the line, from the top edge


def _width(text: str, style: Style) -> float:
    return text_width(text, style.size, style.bold)


def wrap(text: str, style: Style, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` points (its own line breaks kept; a word too
    long for a line is cut)."""
    space = _width(" ", style)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current, used = "", 0.0
        for word in paragraph.split():
            w = _width(word, style)
            while w > width:  # a URL or a fingerprint longer than the line
                cut = len(word)
                while cut > 1 and _width(word[:cut], style) > width:
                    cut = max(1, cut * 3 // 4)
                if current:
                    lines.append(current)
                    current, used = "", 0.0
                lines.append(word[:cut])
                word = word[cut:]
                w = _width(word, style)
            if not word:
                continue
            if current and used + space + w > width:
                lines.append(current)
                current, used = word, w
            else:
                current, used = (f"{current} {word}", used + space + w) if current else (word, w)
        if current:
            lines.append(current)
    return lines or [""]


def layout(blocks: list[Block]) -> list[list[Line]]:
    """The blocks (``md`` ones expanded) laid out on pages."""
    pages: list[list[Line]] = [[]]
    y = TOP
    for block in expanded(blocks):
        style = STYLES.get(block.kind, STYLES["p"])
        lines = wrap(block.text, style, CONTENT_WIDTH - style.indent)
        if pages[-1]:
            y += style.before
        # A heading keeps two lines of what follows with it on its page.
        needed = style.leading + (2 * STYLES["p"].leading if block.kind in HEADINGS else 0)
        if pages[-1] and y + needed > BOTTOM:
            pages.append([])
            y = TOP
        for n, text in enumerate(lines):
            if y + style.leading > BOTTOM:
                pages.append([])
                y = TOP
            x = MARGIN + style.indent
            if block.kind == "li" and n == 0:
                pages[-1].append(Line("li", "\u2022", MARGIN + 3, y))
            pages[-1].append(Line(block.kind, text, x, y))
            y += style.leading
        y += style.after
    return pages


def render(blocks: list[Block], *, title: str) -> bytes:
    """The PDF of ``blocks``: A4 pages, numbered in the footer."""
    pages = layout(blocks)
    footer = title if len(title) <= 80 else title[:79] + "…"
    buffer = io.BytesIO()
    metadata = {"Title": title, "CreationDate": None}
    with _SAVE_LOCK, matplotlib.rc_context(_SAVE_RC), PdfPages(buffer, metadata=metadata) as pdf:
        for number, lines in enumerate(pages, start=1):
            fig = new_figure(PAGE_WIDTH, PAGE_HEIGHT)
            for line in lines:
                style = STYLES.get(line.kind, STYLES["p"])
                baseline = line.y + style.leading * 0.78
                fig.text(
                    line.x / PAGE_WIDTH,
                    1 - baseline / PAGE_HEIGHT,
                    line.text,
                    family=FONT,
                    size=style.size,
                    weight="bold" if style.bold else "normal",
                    style="italic" if style.italic else "normal",
                    va="baseline",
                    ha="left",
                    parse_math=False,
                )
            fig.text(
                0.5,
                (MARGIN / 2) / PAGE_HEIGHT,
                f"{footer} · page {number} of {len(pages)}",
                family=FONT,
                size=FOOTER_SIZE,
                color="#666666",
                ha="center",
                va="baseline",
                parse_math=False,
            )
            pdf.savefig(fig)
    return buffer.getvalue()
