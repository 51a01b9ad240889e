"""Files of a narrative synthesis: the characteristics and results table (CSV, XLSX; cells
through ``core.spreadsheet``), the figures (SVG, PNG, PDF) and the SWiM checklist (Markdown)."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from core.spreadsheet import spreadsheet_safe
from synthesis.narrative import figures, selectors
from synthesis.narrative.models import NarrativeSynthesis

TABLE_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FIGURE_KINDS = ("effect_direction", "harvest")
FIGURE_FORMATS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}


def safe_slug(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return text[:60].strip("-") or "narrative"


def _cell(value):
    return "" if value is None else spreadsheet_safe(value)


TABLES = ("studies", "domains")


def table_bytes(
    synthesis: NarrativeSynthesis, data: dict, fmt: str, table: str = "studies"
) -> tuple[bytes, str, str]:
    """``(body, media type, file name)``; a KeyError for an unknown format or table. CSV holds
    one table: ``studies`` (per study and outcome, with its domain) or ``domains`` (per study,
    one column per outcome domain and the number of outcomes behind it); XLSX holds both, with
    vote counting per outcome and per domain."""
    media_type = TABLE_FORMATS[fmt]
    if table not in TABLES:
        raise KeyError(table)
    if fmt == "csv" and table == "domains":
        columns, rows = selectors.domain_table(data)
    else:
        columns, rows = selectors.characteristics_table(synthesis, data)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        body = buffer.getvalue().encode("utf-8")
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = "studies"
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(v) for v in row])
        votes = book.create_sheet("vote counting")
        head = [
            "group",
            "outcome",
            "beneficial",
            "harmful",
            "no clear difference",
            "n",
            "proportion",
            "ci_lb",
            "ci_ub",
            "sign test p",
            "median",
            "min",
            "max",
            "combined method",
            "combined p",
        ]
        votes.append(head)
        for g in data["groups"]:
            for o in g["outcomes"]:
                v, s, c = o["vote"] or {}, o["summary"] or {}, o["combined"] or {}
                votes.append(
                    [
                        _cell(x)
                        for x in [
                            g["value"],
                            o["outcome"],
                            o["n_beneficial"],
                            o["n_harmful"],
                            o["n_unclear"],
                            v.get("n"),
                            v.get("proportion"),
                            v.get("ci_lb"),
                            v.get("ci_ub"),
                            v.get("p_value"),
                            s.get("median"),
                            s.get("min"),
                            s.get("max"),
                            c.get("method"),
                            c.get("p_value"),
                        ]
                    ]
                )
        d_columns, d_rows = selectors.domain_table(data)
        domains = book.create_sheet("domains")
        domains.append(d_columns)
        for cell in domains[1]:
            cell.font = Font(bold=True)
        for row in d_rows:
            domains.append([_cell(v) for v in row])
        d_votes = book.create_sheet("vote counting by domain")
        d_votes.append(
            [
                "group",
                "domain",
                "outcomes",
                "beneficial",
                "harmful",
                "no clear difference",
                "n",
                "proportion",
                "ci_lb",
                "ci_ub",
                "sign test p",
            ]
        )
        for g in data["groups"]:
            for d in g["domains"]:
                v = d["vote"] or {}
                d_votes.append(
                    [
                        _cell(x)
                        for x in [
                            g["value"],
                            d["domain"],
                            "; ".join(d["outcomes"]),
                            d["n_beneficial"],
                            d["n_harmful"],
                            d["n_unclear"],
                            v.get("n"),
                            v.get("proportion"),
                            v.get("ci_lb"),
                            v.get("ci_ub"),
                            v.get("p_value"),
                        ]
                    ]
                )
        out = io.BytesIO()
        book.save(out)
        body = out.getvalue()
    suffix = "domains" if fmt == "csv" and table == "domains" else "studies"
    return body, media_type, f"{safe_slug(synthesis.name)}-{suffix}.{fmt}"


def figure_bytes(synthesis: NarrativeSynthesis, data: dict, kind: str, fmt: str) -> bytes:
    """A figure's bytes; a KeyError for an unknown kind or format."""
    if kind not in FIGURE_KINDS or fmt not in FIGURE_FORMATS:
        raise KeyError(kind)
    if kind == "effect_direction":
        fig = figures.effect_direction_plot(
            selectors.plot_rows(data),
            [d["domain"] for d in data["domains"]],
            group_by=synthesis.group_by,
        )
    else:
        fig = figures.harvest_plot(data)
    return figures.save(fig, fmt, kind=kind)
