"""The export files of an analysis: ``data.csv`` and ``results.json``.

``data.csv`` holds one row per study of the main analysis: ``study, yi, vi``, then the
analysis's variables (subgroup, moderators, filter fields, under their own names) and ``rob``.
Numbers are written with ``repr`` (the shortest text that reads back as the same double, in R as
in Python); a missing value is an empty cell (``analysis.R`` reads them with ``na.strings =
""``, so a label such as "NA" stays a label). Labels are quoted as CSV needs (commas, quotes,
line breaks) and left otherwise as they are: this file is data for R, not a spreadsheet, so no
formula-guard character is added in front of "=" or "+".
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .compute import text, variables


def csv_columns(result: dict[str, Any]) -> list[str]:
    """The columns of data.csv: study (es_id with several effect sizes per study), yi, vi,
    the analysis's variables, rob."""
    head = ["study", "es_id"] if result["spec"].get("dependent") else ["study"]
    return [*head, "yi", "vi", *variables(result["spec"]), "rob"]


def data_csv(result: dict[str, Any]) -> str:
    """data.csv of ``result`` (from :func:`synthesis.bundle.run`) as text, UTF-8 ready."""
    columns = csv_columns(result)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in result["rows"]:
        cells = []
        for column in columns:
            value = row.get(column)
            if column in ("yi", "vi"):
                cells.append(repr(float(value)))
            else:
                cells.append("" if value is None else text(value))
        writer.writerow(cells)
    return buffer.getvalue()


def results_json(result: dict[str, Any]) -> str:
    """results.json: the main model's fields at the top level (``method, test, level, k,
    estimate, se, ci_lb, ci_ub, tau2, i2, pi_lb, pi_ub``...) beside every part of ``result``
    (``subgroups`` and ``sensitivity`` lists of models of the same shape, each naming its
    ``subset``). Sorted keys; floats at full precision; NaN never appears (it is null)."""
    out = dict(result)
    for key, value in result["main"].items():
        out.setdefault(key, value)
    out["analysis"] = result["spec"]["name"]
    return json.dumps(out, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
