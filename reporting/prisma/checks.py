"""Arithmetic between the boxes of a PRISMA 2020 flow diagram.

PRISMA 2020 states no arithmetic; the rules are derived from the diagram's arrows in
``shared/reference/prisma/README.md`` §3, and each issue carries that rule's code (H = hard
rule, an error; S = soft rule, a warning the review team may explain away). H0 (counts are
non-negative integers) and H1 for sources (per-source counts add up to the total) cannot fail
here: :class:`PrismaCounts` refuses negative counts and derives the source totals from the
lists; H1 is checked for title/abstract exclusion reasons, whose total is given. S5 (no box
drops to zero while a later one is positive) is left out because every link it guards is
already an equality or inequality below.

While screening goes on, the records and reports not yet decided are in no box
(``PrismaCounts.records_open``, ``reports_open``); H2 and H5 count them in, so that an unfinished
stage is reported by the caller as unfinished, not here as numbers that do not add up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from reporting.prisma.counts import Box, PrismaCounts

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One finding, shown beside the diagram.

    ``code`` is the README §3 rule (``H2``, ``S1`` ...) or ``"caller"`` for a warning the caller
    passed in (unscreened records, unresolved conflicts ...).
    """

    severity: Severity
    code: str
    message: str
    boxes: tuple[Box, ...] = ()


def _n(value: int) -> str:
    return f"(n = {value:,})"


def check_consistency(counts: PrismaCounts, *, warnings: Iterable[str] = ()) -> list[Issue]:
    """Check the arithmetic between boxes; append the caller's ``warnings`` as issues.

    Returns errors and warnings in diagram order (top to bottom, databases column before the
    other-methods column), then the caller's warnings. An empty list means consistent.
    """
    c = counts
    issues: list[Issue] = []

    def error(code: str, message: str, *boxes: Box) -> None:
        issues.append(Issue("error", code, message, boxes))

    def warn(code: str, message: str, *boxes: Box) -> None:
        issues.append(Issue("warning", code, message, boxes))

    # H2 (H3 is the same equation seen from the removed box).
    expected = c.identified - c.removed_before_screening
    if c.records_screened + c.records_open != expected:
        extra = (
            " More records were removed before screening than were identified."
            if expected < 0
            else ""
        )
        screened = f"Records screened {_n(c.records_screened)}"
        if c.records_open:
            screened += f" plus records not yet screened {_n(c.records_open)}"
        error(
            "H2",
            f"{screened} should equal records identified from "
            f"databases and registers {_n(c.identified)} minus records removed before screening "
            f"{_n(c.removed_before_screening)}, that is {expected:,}.{extra}",
            Box.IDENTIFIED,
            Box.REMOVED,
            Box.SCREENED,
        )

    # H4
    if c.records_excluded > c.records_screened:
        error(
            "H4",
            f"Records excluded {_n(c.records_excluded)} is more than records screened "
            f"{_n(c.records_screened)}.",
            Box.SCREENED,
            Box.RECORDS_EXCLUDED,
        )
    elif c.reports_sought != c.records_screened - c.records_excluded:
        # S1: records turn into reports here, and one record need not be one report.
        warn(
            "S1",
            f"Reports sought for retrieval {_n(c.reports_sought)} differs from records screened "
            f"{_n(c.records_screened)} minus records excluded {_n(c.records_excluded)}, that is "
            f"{c.records_screened - c.records_excluded:,}. This is right only if some records led "
            "to more or fewer than one report; say so in the caption.",
            Box.SCREENED,
            Box.RECORDS_EXCLUDED,
            Box.SOUGHT,
        )
    if c.records_excluded_reasons:
        given = sum(k for _, k in c.records_excluded_reasons)
        if given != c.records_excluded:
            # H1 in spirit: detail given must add up to the box's total.
            error(
                "H1",
                f"The title/abstract exclusion reasons add up to {given:,}, but records excluded "
                f"is {_n(c.records_excluded)}.",
                Box.RECORDS_EXCLUDED,
            )

    # H5, H6 for the databases and registers column.
    _retrieval(
        error,
        "",
        sought=c.reports_sought,
        not_retrieved=c.reports_not_retrieved,
        assessed=c.reports_assessed,
        still_open=c.reports_open,
        excluded=c.reports_excluded_total,
        reasons=len(c.reports_excluded),
        boxes=(Box.SOUGHT, Box.NOT_RETRIEVED, Box.ASSESSED, Box.REPORTS_EXCLUDED),
        codes=("H5", "H6"),
    )

    # H7, H6 and S2 for the other-methods column.
    other_included = 0
    if (o := c.other_methods) is not None:
        if o.reports_sought > o.identified:
            warn(
                "S2",
                f"Other methods: reports sought for retrieval {_n(o.reports_sought)} is more than "
                f"the records identified from websites, organisations and citation searching "
                f"{_n(o.identified)}.",
                Box.OTHER_IDENTIFIED,
                Box.OTHER_SOUGHT,
            )
        _retrieval(
            error,
            "Other methods: ",
            sought=o.reports_sought,
            not_retrieved=o.reports_not_retrieved,
            assessed=o.reports_assessed,
            excluded=o.reports_excluded_total,
            reasons=len(o.reports_excluded),
            boxes=(
                Box.OTHER_SOUGHT,
                Box.OTHER_NOT_RETRIEVED,
                Box.OTHER_ASSESSED,
                Box.OTHER_REPORTS_EXCLUDED,
            ),
            codes=("H7", "H6"),
        )
        other_included = o.reports_assessed - o.reports_excluded_total

    # H8: reports that pass eligibility in either column are the included reports.
    new = "new " if c.is_update else ""
    studies_label = (
        "New studies included in review" if c.is_update else "Studies included in review"
    )
    reports_label = f"Reports of {new}included studies"
    dbr_included = c.reports_assessed - c.reports_excluded_total
    expected = dbr_included + other_included
    if c.new_reports != expected:
        parts = (
            f"reports assessed for eligibility {_n(c.reports_assessed)} minus reports excluded "
            f"{_n(c.reports_excluded_total)}"
        )
        boxes = [Box.ASSESSED, Box.REPORTS_EXCLUDED, Box.INCLUDED]
        if (o := c.other_methods) is not None:
            parts = (
                f"databases and registers: {parts}; plus other methods: reports assessed "
                f"{_n(o.reports_assessed)} minus reports excluded {_n(o.reports_excluded_total)}"
            )
            boxes += [Box.OTHER_ASSESSED, Box.OTHER_REPORTS_EXCLUDED]
        error(
            "H8",
            f"{reports_label} {_n(c.new_reports)} should equal {parts}, that is {expected:,}.",
            *boxes,
        )

    # H9
    if c.new_studies > c.new_reports:
        error(
            "H9",
            f"{studies_label} {_n(c.new_studies)} is more than {reports_label.lower()} "
            f"{_n(c.new_reports)}; every study has at least one report.",
            Box.INCLUDED,
        )
    elif c.new_reports > 0 and c.new_studies == 0 and not c.is_update:
        # In an update, new reports may all belong to previously included studies.
        error(
            "H9",
            f"{reports_label} {_n(c.new_reports)} but {studies_label.lower()} is 0; every report "
            "belongs to a study.",
            Box.INCLUDED,
        )

    # H10, S3, S4
    if (u := c.update) is not None:
        if u.previous_studies > u.previous_reports:
            error(
                "H10",
                f"Studies included in previous version of review {_n(u.previous_studies)} is more "
                f"than reports of studies included in previous version of review "
                f"{_n(u.previous_reports)}.",
                Box.PREVIOUS,
            )
        if u.total_studies > u.total_reports:
            error(
                "H10",
                f"Total studies included in review {_n(u.total_studies)} is more than reports of "
                f"total included studies {_n(u.total_reports)}.",
                Box.TOTAL,
            )
        if u.total_studies != u.previous_studies + c.new_studies:
            warn(
                "S3",
                f"Total studies included in review {_n(u.total_studies)} differs from studies "
                f"included in previous version of review {_n(u.previous_studies)} plus new "
                f"studies included in review {_n(c.new_studies)}, that is "
                f"{u.previous_studies + c.new_studies:,}. Explain dropped studies in the caption.",
                Box.PREVIOUS,
                Box.INCLUDED,
                Box.TOTAL,
            )
        if u.total_reports != u.previous_reports + c.new_reports:
            warn(
                "S4",
                f"Reports of total included studies {_n(u.total_reports)} differs from reports of "
                f"studies included in previous version of review {_n(u.previous_reports)} plus "
                f"reports of new included studies {_n(c.new_reports)}, that is "
                f"{u.previous_reports + c.new_reports:,}.",
                Box.PREVIOUS,
                Box.INCLUDED,
                Box.TOTAL,
            )

    # H11
    if c.meta_analysis_studies is not None:
        if c.update is not None:
            studies, reports = c.update.total_studies, c.update.total_reports
            s_label, r_label = "total studies included in review", "reports of total included"
        else:
            studies, reports = c.new_studies, c.new_reports
            s_label, r_label = "studies included in review", "reports of included studies"
        if c.meta_analysis_studies > studies:
            error(
                "H11",
                f"Total studies included in meta-analysis {_n(c.meta_analysis_studies)} is more "
                f"than {s_label} {_n(studies)}.",
                Box.META_ANALYSIS,
            )
        if c.meta_analysis_reports is not None and c.meta_analysis_reports > reports:
            error(
                "H11",
                f"Reports of total included studies in meta-analysis "
                f"{_n(c.meta_analysis_reports)} is more than {r_label} {_n(reports)}.",
                Box.META_ANALYSIS,
            )

    issues += [Issue("warning", "caller", text) for text in warnings]
    return issues


def _retrieval(
    error: Callable[..., None],
    prefix: str,
    *,
    sought: int,
    not_retrieved: int,
    assessed: int,
    excluded: int,
    reasons: int,
    boxes: tuple[Box, Box, Box, Box],
    codes: tuple[str, str],
    still_open: int = 0,
) -> None:
    sought_box, not_retrieved_box, assessed_box, excluded_box = boxes
    if assessed + still_open != sought - not_retrieved:
        assessed_text = f"Reports assessed for eligibility {_n(assessed)}"
        if still_open:
            assessed_text += f" plus reports not yet assessed {_n(still_open)}"
        error(
            codes[0],
            f"{prefix}{assessed_text} should equal reports sought "
            f"for retrieval {_n(sought)} minus reports not retrieved {_n(not_retrieved)}, that "
            f"is {sought - not_retrieved:,}.",
            sought_box,
            not_retrieved_box,
            assessed_box,
        )
    if excluded > assessed:
        # Each excluded report counts once, under its primary reason; more means double counts.
        error(
            codes[1],
            f"{prefix}Reports excluded {_n(excluded)}, summed over {reasons} reason"
            f"{'' if reasons == 1 else 's'}, is more than reports assessed for eligibility "
            f"{_n(assessed)}; count each report under one reason.",
            assessed_box,
            excluded_box,
        )
