"""The PRISMA2020 R package's data CSV, so the numbers can be drawn there too.

``PRISMA2020_template.csv`` beside this module is a verbatim copy of ``inst/extdata/PRISMA.csv``
from prisma-flowdiagram/PRISMA2020 at tag v1.1.4, commit
620aaf9b2029b09dc7ec9799c8d18eb208696d1b (sha256 :data:`TEMPLATE_SHA256`; MIT licence,
copyright 2020 Neal R Haddaway). The Shiny app's downloadable template is byte-identical.
We write its 34-row layout: CRAN 1.1.1 reads it too, except for the Total box of an updated
review (delete the last two rows there). Conventions follow
``shared/reference/prisma/README.md`` §2.4-2.5.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from pathlib import Path

from reporting.prisma.counts import Named, PrismaCounts

TEMPLATE = Path(__file__).with_name("PRISMA2020_template.csv")
TEMPLATE_SHA256 = "1aa04581d117bc134ed1a59dbbc4d094ff97fb6bfe7c86bef282a4dad365f038"

# What the Shiny app compares against to decide that no per-source detail was given.
DATABASE_PLACEHOLDER = "Database 1, xxx; Database 2, xxx; Database 3, xxx"
REGISTER_PLACEHOLDER = "Register 1, xxx; Register 2, xxx; Register 3, xxx"
# A single reason or a bare number errors in releases up to v1.1.3 (PRISMA2020 issue #70).
NO_EXCLUSIONS = "No exclusions, 0"


@cache
def template_rows() -> tuple[tuple[str, ...], ...]:
    """The template's header and 34 data rows, as read (8 columns each)."""
    with TEMPLATE.open(newline="", encoding="utf-8") as handle:
        return tuple(tuple(row) for row in csv.reader(handle))


def _label(text: str) -> str:
    # The package splits entries on ";" and a label from its count at the first ",", and
    # splices labels into single-quoted Graphviz strings.
    text = re.sub(r"[,;]", " ", text).replace("'", "’")
    return re.sub(r"\s+", " ", text).strip()


def _list(pairs: Named) -> str:
    return "; ".join(f"{_label(label)}, {n}" for label, n in pairs)


def _number(value: int | None) -> str:
    # Empty, not NA and not 0: NA in some rows breaks the Shiny upload, and 0 draws a box.
    return "" if value is None else str(value)


def prisma2020_values(counts: PrismaCounts) -> dict[str, str]:
    """The ``n`` cell for each ``data`` key of the template."""
    c = counts
    values = {
        "previous_studies": "",
        "previous_reports": "",
        "database_results": _number(c.databases_total) if c.databases else "",
        "database_specific_results": _list(c.databases) if c.databases else DATABASE_PLACEHOLDER,
        "register_results": _number(c.registers_total) if c.registers else "",
        "register_specific_results": _list(c.registers) if c.registers else REGISTER_PLACEHOLDER,
        "website_results": "",
        "organisation_results": "",
        "citations_results": "",
        "duplicates": _number(c.duplicates_removed),
        "excluded_automatic": _number(c.automation_removed),
        "excluded_other": _number(c.other_removed),
        "records_screened": _number(c.records_screened),
        "records_excluded": _number(c.records_excluded),
        "dbr_sought_reports": _number(c.reports_sought),
        "dbr_notretrieved_reports": _number(c.reports_not_retrieved),
        "other_sought_reports": "",
        "other_notretrieved_reports": "",
        "dbr_assessed": _number(c.reports_assessed),
        "dbr_excluded": _list(c.reports_excluded) or NO_EXCLUSIONS,
        "other_assessed": "",
        "other_excluded": "",
        "new_studies": _number(c.new_studies),
        "new_reports": _number(c.new_reports),
        "total_studies": "",
        "total_reports": "",
        "total_studies_ma": _number(c.meta_analysis_studies),
        "total_reports_ma": _number(c.meta_analysis_reports),
    }
    if (u := c.update) is not None:
        values["previous_studies"] = _number(u.previous_studies)
        values["previous_reports"] = _number(u.previous_reports)
        values["total_studies"] = _number(u.total_studies)
        values["total_reports"] = _number(u.total_reports)
    if (o := c.other_methods) is not None:
        values["website_results"] = _number(o.websites)
        values["organisation_results"] = _number(o.organisations)
        values["citations_results"] = _number(o.citation_searching)
        values["other_sought_reports"] = _number(o.reports_sought)
        values["other_notretrieved_reports"] = _number(o.reports_not_retrieved)
        values["other_assessed"] = _number(o.reports_assessed)
        values["other_excluded"] = _list(o.reports_excluded) or NO_EXCLUSIONS
    return values


def to_prisma2020_csv(counts: PrismaCounts) -> str:
    """``counts`` in the PRISMA2020 R package's 34-row data template, ready for its Shiny app.

    Every row and column of the template is kept in order; only the ``n`` column is filled.
    Title and phase rows keep the template's value. The byte format is the template's: CRLF,
    no newline after the last row, fields quoted only when they need it.

    The CSV has no place for title/abstract exclusion reasons or for hand-entered marks; those
    stay in our own diagram.
    """
    values = prisma2020_values(counts)
    header, *rows = template_rows()
    n_column = header.index("n")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        key = row[0]
        out = list(row)
        if key in values:
            out[n_column] = values[key]
        writer.writerow(out)
    return buffer.getvalue().removesuffix("\r\n")
