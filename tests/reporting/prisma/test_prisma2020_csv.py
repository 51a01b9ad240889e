from __future__ import annotations

import csv
import hashlib
import io
import re

from reporting.prisma import to_prisma2020_csv
from reporting.prisma.prisma2020_csv import TEMPLATE, TEMPLATE_SHA256
from tests.paths import DATA

from .factories import databases_only

# Our own copy of the package's template (see tests/data/prisma/SOURCES.md).
REFERENCE = DATA / "prisma" / "PRISMA2020_template.csv"
TEMPLATE_KEYS = [
    "NA", "previous_studies", "previous_reports", "NA", "database_results",
    "database_specific_results", "register_results", "register_specific_results", "NA",
    "website_results", "organisation_results", "citations_results", "duplicates",
    "excluded_automatic", "excluded_other", "records_screened", "records_excluded",
    "dbr_sought_reports", "dbr_notretrieved_reports", "other_sought_reports",
    "other_notretrieved_reports", "dbr_assessed", "dbr_excluded", "other_assessed",
    "other_excluded", "new_studies", "new_reports", "total_studies", "total_reports",
    "identification", "screening", "included", "total_studies_ma", "total_reports_ma",
]  # fmt: skip


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def values(text: str) -> dict[str, str]:
    return {row[0]: row[7] for row in rows(text)[1:] if row[0] != "NA"}


def parse_reasons(cell: str) -> list[tuple[str, float | None]]:
    """What PRISMA_parse_reasons_ (R/PRISMA_format.R, v1.1.4) makes of a list cell.

    Entries split on ";" plus an optional space; the label ends at the first comma and the
    count is the digits after it (reference README §2.4).
    """
    out = []
    for entry in re.split(r";\s?", cell):
        label, _, count = entry.partition(",")
        digits = re.sub(r"[^0-9.]", "", count)
        out.append((label, float(digits) if digits else None))
    return out


def test_it_ships_the_package_template_unchanged():
    assert hashlib.sha256(TEMPLATE.read_bytes()).hexdigest() == TEMPLATE_SHA256
    assert TEMPLATE.read_bytes() == REFERENCE.read_bytes()


def test_it_writes_the_34_template_rows_in_order_with_only_n_filled(any_review):
    template = rows(REFERENCE.read_text(encoding="utf-8"))

    ours = rows(to_prisma2020_csv(any_review))

    assert len(template) == len(ours) == 35  # header + 34 data rows
    assert [row[0] for row in ours[1:]] == TEMPLATE_KEYS
    assert ours[0] == template[0] == [
        "data", "node", "box", "description", "boxtext", "tooltips", "url", "n",
    ]  # fmt: skip
    assert [row[:7] for row in ours] == [row[:7] for row in template]


def test_it_writes_the_templates_byte_format(updated_review_other):
    text = to_prisma2020_csv(updated_review_other)
    template = REFERENCE.read_bytes().decode("utf-8")

    # CRLF between rows, none after the last one.
    assert text.count("\r\n") == template.count("\r\n") == 34
    assert "\n" not in text.replace("\r\n", "")
    for ours, theirs in zip(text.split("\r\n"), template.split("\r\n"), strict=True):
        # The seven copied columns are byte-identical, quoting included, up to the n field.
        cut = theirs.rindex(',"') + 1 if theirs.endswith('"') else theirs.rindex(",") + 1
        assert ours[:cut] == theirs[:cut]


def test_it_fills_every_number_of_an_updated_review_with_other_methods(updated_review_other):
    assert values(to_prisma2020_csv(updated_review_other)) == {
        "previous_studies": "15",
        "previous_reports": "19",
        "database_results": "1171",
        "database_specific_results": "MEDLINE (Ovid), 611; Embase, 433; CINAHL & PsycINFO, 127",
        "register_results": "59",
        "register_specific_results": "ClinicalTrials.gov, 41; WHO ICTRP, 18",
        "website_results": "14",
        "organisation_results": "7",
        "citations_results": "36",
        "duplicates": "312",
        "excluded_automatic": "27",
        "excluded_other": "9",
        "records_screened": "882",
        "records_excluded": "757",
        "dbr_sought_reports": "125",
        "dbr_notretrieved_reports": "6",
        "other_sought_reports": "19",
        "other_notretrieved_reports": "3",
        "dbr_assessed": "119",
        "dbr_excluded": "Wrong population, 48; Wrong intervention, 23; Wrong outcome, 11; "
        "Not a randomised trial, 5",
        "other_assessed": "16",
        "other_excluded": "No usable data, 4; Wrong comparator, 2",
        "new_studies": "37",
        "new_reports": "42",
        "total_studies": "52",
        "total_reports": "61",
        "identification": "0",
        "screening": "0",
        "included": "0",
        "total_studies_ma": "",
        "total_reports_ma": "",
    }


def test_it_leaves_boxes_a_new_review_does_not_have_empty(new_review):
    cells = values(to_prisma2020_csv(new_review))

    # Empty, not NA (breaks the Shiny upload) and not 0 (draws the box).
    for key in (
        "previous_studies", "previous_reports", "website_results", "organisation_results",
        "citations_results", "other_sought_reports", "other_notretrieved_reports",
        "other_assessed", "other_excluded", "total_studies", "total_reports",
        "total_studies_ma", "total_reports_ma",
    ):  # fmt: skip
        assert cells[key] == "", key
    assert cells["new_studies"] == "28"


def test_it_fills_the_meta_analysis_rows(updated_review):
    cells = values(to_prisma2020_csv(updated_review))

    assert (cells["total_studies_ma"], cells["total_reports_ma"]) == ("21", "26")
    assert (cells["total_studies"], cells["total_reports"]) == ("43", "51")


def test_it_keeps_the_shiny_placeholder_when_no_register_was_searched():
    cells = values(to_prisma2020_csv(databases_only(registers=[], duplicates_removed=253)))

    assert cells["register_results"] == ""
    assert cells["register_specific_results"] == (
        "Register 1, xxx; Register 2, xxx; Register 3, xxx"
    )


def test_it_writes_one_reason_when_nothing_was_excluded():
    counts = databases_only(reports_excluded=[], new_reports=119, new_studies=100)

    assert values(to_prisma2020_csv(counts))["dbr_excluded"] == "No exclusions, 0"


def test_it_writes_lists_the_package_parses_back_even_with_commas_in_labels():
    counts = databases_only(
        reports_excluded=[
            ("Adults, not children", 40),
            ("Wrong design; cohort", 40),
            ("Authors' own re-analysis", 7),
        ],
    )

    cell = values(to_prisma2020_csv(counts))["dbr_excluded"]

    assert parse_reasons(cell) == [
        ("Adults not children", 40.0),
        ("Wrong design cohort", 40.0),
        ("Authors’ own re-analysis", 7.0),
    ]
    assert "'" not in cell  # labels go into single-quoted Graphviz strings


def test_it_writes_database_lists_the_package_parses_back(new_review):
    cell = values(to_prisma2020_csv(new_review))["database_specific_results"]

    assert parse_reasons(cell) == [
        ("MEDLINE (Ovid)", 611.0),
        ("Embase", 433.0),
        ("CINAHL & PsycINFO", 127.0),
    ]
