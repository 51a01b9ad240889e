"""The files of a stored result: results as CSV, XLSX and JSON, the analysis data as CSV and
the R script (the last three from ``synthesis.bundle``), and the folder ``export_analyses``
writes per analysis."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from core.spreadsheet import spreadsheet_safe
from synthesis.models import AnalysisResult

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MODEL_COLUMNS = [
    "k",
    "estimate",
    "se",
    "stat",
    "pval",
    "ci_lb",
    "ci_ub",
    "tau2",
    "tau2_ci_lb",
    "tau2_ci_ub",
    "i2",
    "i2_ci_lb",
    "i2_ci_ub",
    "h2",
    "q",
    "q_df",
    "q_p",
    "pi_lb",
    "pi_ub",
]
COLUMNS = ["analysis", "part", "subset", "method", "test", "level", *MODEL_COLUMNS]
COLUMNS += ["exp_estimate", "exp_ci_lb", "exp_ci_ub", "exp_pi_lb", "exp_pi_ub", "error"]
#: Several effect sizes per study (three-level model, issue 20): σ² and I² per level, clusters,
#: cluster-robust inference; empty for the other models.
THREE_LEVEL_COLUMNS = ["n_clusters", "sigma2_between", "sigma2_between_ci_lb"]
THREE_LEVEL_COLUMNS += ["sigma2_between_ci_ub", "sigma2_within", "sigma2_within_ci_lb"]
THREE_LEVEL_COLUMNS += ["sigma2_within_ci_ub", "i2_between", "i2_within", "rho", "robust_type"]
THREE_LEVEL_COLUMNS += ["robust_se", "robust_stat", "robust_df", "robust_pval"]
THREE_LEVEL_COLUMNS += ["robust_ci_lb", "robust_ci_ub"]
COLUMNS += THREE_LEVEL_COLUMNS
#: The media type and file suffix of each export (``?format=``).
FILES = {
    "csv": ("text/csv", "results.csv"),
    "xlsx": (XLSX, "results.xlsx"),
    "json": ("application/json", "results.json"),
    "data": ("text/csv", "data.csv"),
    "r": ("text/plain", "analysis.R"),
}


def _exp(value):
    if isinstance(value, int | float) and math.isfinite(value) and value < 700:
        return math.exp(value)
    return None


def result_rows(result: AnalysisResult) -> list[list[object]]:
    data = result.results
    log_scale = data.get("transform") == "exp"
    name = result.analysis.name
    rows = []

    def add(part: str, subset: str, model: dict) -> None:
        row = [name, part, subset, model.get("method"), model.get("test"), model.get("level")]
        row += [model.get(c) for c in MODEL_COLUMNS]
        if log_scale:
            row += [_exp(model.get(c)) for c in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub")]
        else:
            row += [None] * 5
        row.append(model.get("error") or "")
        row += _three_level(model)
        rows.append(row)

    add("main", "all studies", data.get("main") or {})
    for sub in data.get("subgroups") or []:
        add("subgroup", str(sub.get("subset", "")), sub)
    for sens in data.get("sensitivity") or []:
        add("sensitivity", str(sens.get("subset", "")), sens)
    for loo in data.get("leave_one_out") or []:
        model = dict(loo) | {"k": None}
        add("leave-one-out", f"without {loo.get('study', '')}", model)
    return [[_cell(v) for v in row] for row in rows]


def _three_level(model: dict) -> list[object]:
    def at(key: str, j: int):
        values = model.get(key)
        return values[j] if isinstance(values, list) and len(values) > j else None

    if not model.get("sigma2"):
        return [None] * len(THREE_LEVEL_COLUMNS)
    out = [model.get("n_clusters")]
    for j in (0, 1):
        out += [at("sigma2", j), at("sigma2_ci_lb", j), at("sigma2_ci_ub", j)]
    out += [at("i2_levels", 0), at("i2_levels", 1), model.get("rho"), model.get("robust_type")]
    out += [model.get(k) for k in THREE_LEVEL_COLUMNS[-6:]]
    return out


def _cell(value):
    if value is None:
        return ""
    return spreadsheet_safe(value)


def results_csv(result: AnalysisResult) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(result_rows(result))
    return buffer.getvalue().encode("utf-8")


def results_xlsx(result: AnalysisResult) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "results"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in result_rows(result):
        sheet.append(row)
    studies = book.create_sheet("studies")
    keys = ["study", "yi", "vi", "ci_lb", "ci_ub", "weight", "subgroup", "rob"]
    if (result.results.get("main") or {}).get("model") == "three-level":
        keys[1:1] = ["es_id", "label"]
    studies.append(keys)
    for s in result.results.get("studies") or []:
        studies.append([_cell(s.get(k)) for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_bytes(result: AnalysisResult, fmt: str) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of one export; a KeyError for an unknown format."""
    from synthesis import bundle

    media_type, suffix = FILES[fmt]
    if fmt == "csv":
        body = results_csv(result)
    elif fmt == "xlsx":
        body = results_xlsx(result)
    elif fmt == "json":
        body = bundle.results_json(result.results).encode("utf-8")
    elif fmt == "data":
        body = bundle.data_csv(result.results).encode("utf-8")
    else:
        body = bundle.r_script(result.results).encode("utf-8")
    filename = f"{safe_slug(result.analysis.name)}-{result.pk}-{suffix}"
    return body, media_type, filename


def safe_slug(name: str) -> str:
    """A file-system-safe folder or file name part made from an analysis's name."""
    text = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return text[:60].strip("-") or "analysis"


def write_folder(result: AnalysisResult, folder: Path) -> list[Path]:
    """``data.csv``, ``analysis.R`` and ``results.json`` of ``result`` into ``folder``."""
    from synthesis import bundle

    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "data.csv": bundle.data_csv(result.results),
        "analysis.R": bundle.r_script(result.results),
        "results.json": bundle.results_json(result.results),
    }
    written = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
