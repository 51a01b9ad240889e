"""Constructed reviews with a different, known number in every box, for all four templates.

The numbers are consistent (every rule of reference README §3 holds, soft ones too):

    identified 1,230 = databases 1,171 (611 + 433 + 127) + registers 59 (41 + 18)
    removed 348 = 312 duplicates + 27 automation + 9 other  ->  screened 882
    screened 882 - excluded 757 = sought 125;  125 - 6 not retrieved = assessed 119
    assessed 119 - excluded 87 (48 + 23 + 11 + 5) = 32 reports of 28 studies
    other methods: 57 identified (14 + 7 + 36); sought 19 - 3 = assessed 16; 16 - 6 = 10 reports
    with other methods: 42 reports of 37 studies
    updates: previous 15 studies / 19 reports; totals are previous + new
"""

from __future__ import annotations

from reporting.prisma import OTHER_METHODS_BOXES, OtherMethods, PrismaCounts, ReviewUpdate


def databases_only(**overrides) -> PrismaCounts:
    values = dict(
        # "&" checks that the SVG escapes text and the test unescapes it.
        databases=[("MEDLINE (Ovid)", 611), ("Embase", 433), ("CINAHL & PsycINFO", 127)],
        registers=[("ClinicalTrials.gov", 41), ("WHO ICTRP", 18)],
        duplicates_removed=312,
        automation_removed=27,
        other_removed=9,
        records_screened=882,
        records_excluded=757,
        reports_sought=125,
        reports_not_retrieved=6,
        reports_assessed=119,
        reports_excluded=[
            ("Wrong population", 48),
            ("Wrong intervention", 23),
            ("Wrong outcome", 11),
            ("Not a randomised trial", 5),
        ],
        new_studies=28,
        new_reports=32,
    )
    values.update(overrides)
    return PrismaCounts(**values)


def other_methods(**overrides) -> OtherMethods:
    values = dict(
        websites=14,
        organisations=7,
        citation_searching=36,
        reports_sought=19,
        reports_not_retrieved=3,
        reports_assessed=16,
        reports_excluded=[("No usable data", 4), ("Wrong comparator", 2)],
    )
    values.update(overrides)
    return OtherMethods(**values)


def with_other_methods(**overrides) -> PrismaCounts:
    values = dict(
        other_methods=other_methods(),
        new_studies=37,
        new_reports=42,
        hand_entered=OTHER_METHODS_BOXES,
    )
    values.update(overrides)
    return databases_only(**values)


def update(new_studies: int, new_reports: int) -> ReviewUpdate:
    return ReviewUpdate(
        previous_studies=15,
        previous_reports=19,
        total_studies=15 + new_studies,
        total_reports=19 + new_reports,
    )
