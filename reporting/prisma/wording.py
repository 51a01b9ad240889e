"""The exact texts of the PRISMA 2020 flow-diagram templates, with the numbers filled in.

Every string here is quoted from the official Word templates "PRISMA 2020 flow diagram for new
(updated) systematic reviews ..." v1 and v2, as collected in
``shared/reference/prisma/README.md`` §1. The meta-analysis box is not in PRISMA 2020; its
wording is the PRISMA2020 R package's (v1.1.4, ``inst/extdata/PRISMA.csv`` rows 33-34).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reporting.prisma.counts import Box, PrismaCounts, Template

PHASES: tuple[str, str, str] = ("Identification", "Screening", "Included")

TITLES: dict[Template, str] = {
    Template.NEW_DATABASES: (
        "PRISMA 2020 flow diagram for new systematic reviews which included searches of "
        "databases and registers only"
    ),
    Template.NEW_OTHER: (
        "PRISMA 2020 flow diagram for new systematic reviews which included searches of "
        "databases, registers and other sources"
    ),
    Template.UPDATED_DATABASES: (
        "PRISMA 2020 flow diagram for updated systematic reviews which included searches of "
        "databases and registers only"
    ),
    Template.UPDATED_OTHER: (
        "PRISMA 2020 flow diagram for updated systematic reviews which included searches of "
        "databases, registers and other sources"
    ),
}

PREVIOUS_HEADER = "Previous studies"

FOOTNOTES: tuple[str, ...] = (
    "*Consider, if feasible to do so, reporting the number of records identified from each "
    "database or register searched (rather than the total number across all "
    "databases/registers).",
    "**If automation tools were used, indicate how many records were excluded by a human and "
    "how many were excluded by automation tools.",
    # The v1 (new review) punctuation: "From:" and "For more information" as separate lines.
    "From: Page MJ, McKenzie JE, Bossuyt PM, Boutron I, Hoffmann TC, Mulrow CD, et al. The "
    "PRISMA 2020 statement: an updated guideline for reporting systematic reviews. BMJ "
    "2021;372:n71. doi: 10.1136/bmj.n71",
    "For more information, visit: http://www.prisma-statement.org/",
)

DAGGER = "†"
HAND_ENTERED_FOOTNOTE = f"{DAGGER}Entered by hand, not counted from the review's records."


_N = re.compile(r"\(n = [\d,]+\)")


def n(value: int) -> str:
    """``(n = 1,234)``: thousands separated as the PRISMA2020 R package draws them."""
    return f"(n = {value:,})"


@dataclass(frozen=True)
class Line:
    """One logical line of a box; ``sub`` marks a per-source or per-reason line."""

    text: str
    sub: bool = False


def column_headers(counts: PrismaCounts) -> dict[str, str]:
    """Header text per column: ``previous``, ``databases`` and ``other`` where present."""
    new = "new " if counts.is_update else ""
    out = {}
    if counts.is_update:
        out["previous"] = PREVIOUS_HEADER
    out["databases"] = f"Identification of {new}studies via databases and registers"
    if counts.other_methods is not None:
        out["other"] = f"Identification of {new}studies via other methods"
    return out


def _reasons(pairs: tuple[tuple[str, int], ...], *, sub: bool) -> list[Line]:
    return [Line(f"{label} {n(k)}", sub=sub) for label, k in pairs]


def box_lines(counts: PrismaCounts) -> dict[Box, tuple[Line, ...]]:
    """The lines of every box the diagram draws, in template wording, numbers filled in.

    Hand-entered boxes get a dagger after each number.
    """
    c = counts
    boxes: dict[Box, list[Line]] = {}

    identified = [Line("Records identified from*:"), Line(f"Databases {n(c.databases_total)}")]
    identified += _reasons(c.databases, sub=True)
    if c.registers:
        identified.append(Line(f"Registers {n(c.registers_total)}"))
        identified += _reasons(c.registers, sub=True)
    boxes[Box.IDENTIFIED] = identified
    boxes[Box.REMOVED] = [
        Line("Records removed before screening:"),
        Line(f"Duplicate records removed {n(c.duplicates_removed)}"),
        Line(f"Records marked as ineligible by automation tools {n(c.automation_removed)}"),
        Line(f"Records removed for other reasons {n(c.other_removed)}"),
    ]
    boxes[Box.SCREENED] = [Line("Records screened"), Line(n(c.records_screened))]
    boxes[Box.RECORDS_EXCLUDED] = [Line("Records excluded**"), Line(n(c.records_excluded))]
    boxes[Box.RECORDS_EXCLUDED] += _reasons(c.records_excluded_reasons, sub=True)
    boxes[Box.SOUGHT] = [Line("Reports sought for retrieval"), Line(n(c.reports_sought))]
    boxes[Box.NOT_RETRIEVED] = [Line("Reports not retrieved"), Line(n(c.reports_not_retrieved))]
    boxes[Box.ASSESSED] = [Line("Reports assessed for eligibility"), Line(n(c.reports_assessed))]
    boxes[Box.REPORTS_EXCLUDED] = _reports_excluded(c.reports_excluded)

    if c.update is None:
        boxes[Box.INCLUDED] = [
            Line("Studies included in review"),
            Line(n(c.new_studies)),
            Line("Reports of included studies"),
            Line(n(c.new_reports)),
        ]
    else:
        u = c.update
        boxes[Box.PREVIOUS] = [
            Line(f"Studies included in previous version of review {n(u.previous_studies)}"),
            Line(
                f"Reports of studies included in previous version of review {n(u.previous_reports)}"
            ),
        ]
        boxes[Box.INCLUDED] = [
            Line("New studies included in review"),
            Line(n(c.new_studies)),
            Line("Reports of new included studies"),
            Line(n(c.new_reports)),
        ]
        boxes[Box.TOTAL] = [
            Line("Total studies included in review"),
            Line(n(u.total_studies)),
            Line("Reports of total included studies"),
            Line(n(u.total_reports)),
        ]

    if c.meta_analysis_studies is not None:
        boxes[Box.META_ANALYSIS] = [
            Line("Total studies included in meta-analysis"),
            Line(n(c.meta_analysis_studies)),
        ]
        if c.meta_analysis_reports is not None:
            boxes[Box.META_ANALYSIS] += [
                Line("Reports of total included studies in meta-analysis"),
                Line(n(c.meta_analysis_reports)),
            ]

    if (o := c.other_methods) is not None:
        # No "*" here: the template puts it on the databases/registers column only.
        boxes[Box.OTHER_IDENTIFIED] = [Line("Records identified from:")]
        boxes[Box.OTHER_IDENTIFIED] += [Line(f"{label} {n(k)}") for label, k in o.sources]
        boxes[Box.OTHER_SOUGHT] = [Line("Reports sought for retrieval"), Line(n(o.reports_sought))]
        boxes[Box.OTHER_NOT_RETRIEVED] = [
            Line("Reports not retrieved"),
            Line(n(o.reports_not_retrieved)),
        ]
        boxes[Box.OTHER_ASSESSED] = [
            Line("Reports assessed for eligibility"),
            Line(n(o.reports_assessed)),
        ]
        boxes[Box.OTHER_REPORTS_EXCLUDED] = _reports_excluded(o.reports_excluded)

    for box in c.hand_entered:
        boxes[box] = [Line(_N.sub(rf"\g<0>{DAGGER}", line.text), line.sub) for line in boxes[box]]
    return {box: tuple(lines) for box, lines in boxes.items()}


def _reports_excluded(reasons: tuple[tuple[str, int], ...]) -> list[Line]:
    # The template lists reasons and no total (PRISMA2020 issue #84); with no exclusions
    # at all we still need a number in the box.
    if not reasons:
        return [Line("Reports excluded:"), Line(n(0))]
    return [Line("Reports excluded:"), *_reasons(reasons, sub=False)]


def footnotes(counts: PrismaCounts) -> tuple[str, ...]:
    if counts.hand_entered:
        return (*FOOTNOTES, HAND_ENTERED_FOOTNOTE)
    return FOOTNOTES
