"""The risk-of-bias table as CSV/XLSX and the figures as SVG/PNG (issue 17).

The table has one row per finished consensus (study, and outcome when per outcome): each
domain's final judgement, the algorithm's proposal and any override's justification, the
overall likewise. Cells are formula-safe (``core.spreadsheet``). The figures are drawn by
``extraction.rob.figures`` (robvis-like) and their bytes cached under a fingerprint of the
tool and the consensus table, so a page does not redraw them per request.
"""

from __future__ import annotations

from django.core.cache import cache

from core.spreadsheet import spreadsheet_safe
from extraction.exports import CSV, XLSX, as_csv, as_xlsx
from extraction.rob import selectors

FORMATS = {"csv": CSV, "xlsx": XLSX}
FIGURES = {"traffic_light": "Traffic-light plot", "summary": "Summary plot"}
FIGURE_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def table_file(review, fmt: str) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of the consensus table as ``fmt``."""
    rows = selectors.table_rows(review)
    tool = selectors.tool_of(selectors.settings_of(review))
    columns = ["study", "outcome", "tool"]
    if any(len(d["variants"]) > 1 for d in tool["domains"]):
        columns.append("d2_variant")
    for d in tool["domains"]:
        columns += [d["id"], f"{d['id']}.proposed", f"{d['id']}.justification"]
    columns += [
        "overall",
        "overall.proposed",
        "overall.justification",
        "consensus_by",
        "updated_at",
    ]
    cells = [[spreadsheet_safe(row.get(c, "")) for c in columns] for row in rows]
    name = f"{review.slug}-risk-of-bias.{fmt}"
    if fmt == "xlsx":
        return as_xlsx(columns, cells, title="Risk of bias"), XLSX, name
    return as_csv(columns, cells), CSV, name


def figure_bytes(review, kind: str, fmt: str) -> bytes:
    """The figure ``kind`` (traffic_light or summary) as ``fmt`` (svg or png), cached."""
    key = f"rob-figure:{review.pk}:{kind}:{fmt}:{selectors.table_fingerprint(review)}"
    found = cache.get(key)
    if found is not None:
        return found
    from extraction.rob import figures

    tool = selectors.rob_tool_of(review)
    table = selectors.domain_table(review)
    if kind == "traffic_light":
        fig = figures.traffic_light(table, tool["domains"], tool["judgements"])
    else:
        fig = figures.summary_bars(table, tool["domains"], tool["judgements"])
    body = figures.save(fig, fmt, kind=kind)
    cache.set(key, body, 24 * 3600)
    return body
