"""The PRISMA 2020 diagram counted from a review's data: every box on a constructed review."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command

from identification.models import Record, Search
from reporting import selectors as reporting_selectors
from reporting import services as reporting_services
from reviews import services
from screening.constants import ItemStatus, Stage
from screening.models import ExclusionReason, ScreeningItem
from tests.conftest import client_for


def _batch(review, search):
    from identification.models import ImportBatch

    return ImportBatch.objects.create(
        review=review,
        search=search,
        original_name="x.ris",
        size=1,
        sha256=f"{search.pk:064d}",
        status="imported",
    )


def build_review(lead, review):
    """Known numbers in every box.

    Scopus 6 + MEDLINE 4 records and 1 register record = 11 identified; 3 duplicates removed;
    8 screened, 3 excluded at title/abstract (2 wrong population, 1 not a study); 5 sought,
    1 not retrieved, 4 assessed, 2 excluded (1 wrong outcome, 1 wrong design), 2 included.
    """
    searches = {
        "Scopus": Search.objects.create(review=review, database="Scopus"),
        "MEDLINE": Search.objects.create(review=review, database="MEDLINE"),
        "ClinicalTrials.gov": Search.objects.create(
            review=review, database="ClinicalTrials.gov", kind="register"
        ),
    }
    records = []
    for name, n in [("Scopus", 6), ("MEDLINE", 4), ("ClinicalTrials.gov", 1)]:
        batch = _batch(review, searches[name])
        for i in range(n):
            records.append(
                Record.objects.create(
                    review=review, search=searches[name], batch=batch, title=f"{name} {i}"
                )
            )
    primaries, dupes = records[:8], records[8:]
    for d, p in zip(dupes, primaries, strict=False):
        d.duplicate_of = p
        d.save()
    # The review's own reasons instead of the defaults it was set up with when created.
    ExclusionReason.objects.filter(review=review).delete()
    ta_reasons = [
        ExclusionReason.objects.create(
            review=review, stage=Stage.TITLE_ABSTRACT, label=label, position=i
        )
        for i, label in enumerate(["Wrong population", "Not a study"])
    ]
    ft_reasons = [
        ExclusionReason.objects.create(
            review=review, stage=Stage.FULL_TEXT, label=label, position=i
        )
        for i, label in enumerate(["Wrong outcome", "Wrong design"])
    ]
    ta_status = [ItemStatus.EXCLUDED] * 3 + [ItemStatus.INCLUDED] * 5
    ta_reason = [ta_reasons[0], ta_reasons[0], ta_reasons[1]] + [None] * 5
    for r, status, reason in zip(primaries, ta_status, ta_reason, strict=True):
        ScreeningItem.objects.create(
            review=review, record=r, stage=Stage.TITLE_ABSTRACT, status=status, final_reason=reason
        )
    ft = [
        (ItemStatus.NOT_RETRIEVED, None),
        (ItemStatus.EXCLUDED, ft_reasons[0]),
        (ItemStatus.EXCLUDED, ft_reasons[1]),
        (ItemStatus.INCLUDED, None),
        (ItemStatus.INCLUDED, None),
    ]
    for r, (status, reason) in zip(primaries[3:], ft, strict=True):
        ScreeningItem.objects.create(
            review=review, record=r, stage=Stage.FULL_TEXT, status=status, final_reason=reason
        )


def test_every_box_of_a_new_review_is_counted(lead, review):
    build_review(lead, review)
    report = reporting_selectors.prisma_report(review=review)
    c = report.counts
    assert c.databases == (("Scopus", 6), ("MEDLINE", 4))
    assert c.registers == (("ClinicalTrials.gov", 1),)
    assert (c.duplicates_removed, c.records_screened, c.records_excluded) == (3, 8, 3)
    assert c.records_excluded_reasons == (("Wrong population", 2), ("Not a study", 1))
    assert (c.reports_sought, c.reports_not_retrieved, c.reports_assessed) == (5, 1, 4)
    assert c.reports_excluded == (("Wrong outcome", 1), ("Wrong design", 1))
    assert (c.new_studies, c.new_reports) == (2, 2)
    assert c.update is None and c.other_methods is None
    assert [i for i in report.issues if i.severity == "error"] == []
    assert report.warnings == []


def test_an_updated_review_with_other_methods_marks_hand_entered_boxes(lead, review):
    build_review(lead, review)
    reporting_services.prisma_entry_update(
        actor=lead,
        review=review,
        is_update=True,
        previous_studies=7,
        previous_reports=9,
        citation_searching=4,
        websites=2,
        other_sought=6,
        other_not_retrieved=1,
        other_assessed=5,
        other_excluded=[["Wrong population", 3]],
        other_included=2,
    )
    c = reporting_selectors.prisma_report(review=review).counts
    assert c.update.previous_studies == 7 and c.update.total_studies == 7 + 4
    assert (c.new_studies, c.new_reports) == (4, 4)
    assert c.other_methods.sources == (("Websites", 2), ("Citation searching", 4))
    assert c.hand_entered  # the renderer marks them with a dagger
    svg = client_for(lead).get("/reviews/exercise/prisma.svg").content.decode()
    texts = " ".join(t.text or "" for t in ET.fromstring(svg).iter() if t.tag.endswith("text"))
    for label in [
        "Previous studies",
        "Identification of new studies via databases and registers",
        "Identification of new studies via other methods",
        "Citation searching",
    ]:
        assert label in texts, label
    assert "†" in texts


def test_the_svg_holds_every_box_label_and_number(lead, review):
    build_review(lead, review)
    svg = client_for(lead).get("/reviews/exercise/prisma.svg").content.decode()
    texts = " ".join(t.text or "" for t in ET.fromstring(svg).iter() if t.tag.endswith("text"))
    for label in [
        "Records identified from",
        "Scopus (n = 6)",
        "MEDLINE (n = 4)",
        "Registers (n = 1)",
        "Duplicate records removed",
        "(n = 3)",
        "Records screened",
        "(n = 8)",
        "Records excluded",
        "Reports sought for retrieval",
        "(n = 5)",
        "Reports not retrieved",
        "(n = 1)",
        "Reports assessed for eligibility",
        "(n = 4)",
        "Wrong outcome (n = 1)",
        "Studies included in review",
        "(n = 2)",
        "Reports of included studies",
    ]:
        assert label in texts, label


def test_unfinished_screening_is_warned_about(lead, review):
    build_review(lead, review)
    item = ScreeningItem.objects.filter(stage=Stage.TITLE_ABSTRACT).first()
    item.status = ItemStatus.CONFLICT
    item.save()
    pending = ScreeningItem.objects.filter(
        stage=Stage.FULL_TEXT, status=ItemStatus.INCLUDED
    ).first()
    pending.status = ItemStatus.PENDING
    pending.save()
    ScreeningItem.objects.filter(stage=Stage.TITLE_ABSTRACT).last().delete()
    report = reporting_selectors.prisma_report(review=review)
    assert report.warnings == [
        "1 record has not entered title/abstract screening yet.",
        "title/abstract screening: 1 of 7 records still open.",
        "1 title/abstract conflict awaits resolution.",
        "full-text assessment: 1 of 5 reports still open.",
    ]
    c = report.counts
    # Only decisions made are in the boxes; the rest is open, and that is no arithmetic error.
    assert (c.records_screened, c.reports_assessed) == (6, 3)
    assert (c.records_open, c.reports_open) == (2, 1)
    assert [i for i in report.issues if i.severity == "error"] == []
    page = client_for(lead).get("/reviews/exercise/prisma/").content.decode()
    for warning in report.warnings:
        assert warning in page


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "csv"])
def test_the_command_writes_each_format(lead, review, tmp_path, fmt):
    build_review(lead, review)
    out = tmp_path / f"p.{fmt}"
    call_command("prisma", "--review", "exercise", "--format", fmt, "-o", str(out))
    data = out.read_bytes()
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        assert len(rows) == 34
    else:
        assert data.startswith(magic[fmt])


def test_the_page_shows_the_check_and_a_lead_enters_numbers(lead, review, reviewer_a):
    build_review(lead, review)
    client = client_for(lead)
    page = client.get("/reviews/exercise/prisma/").content.decode()
    assert "Consistency check" in page and "arithmetic between the boxes holds" in page
    # The CSV's register placeholder, kept for the PRISMA2020 Shiny app, is explained.
    assert "Register 1, xxx" in page and 'aria-describedby="csv-note"' in page
    bad = client.post(
        "/reviews/exercise/prisma/", {"previous_studies": "-1", "other_excluded": "no number here"}
    )
    assert bad.status_code == 400
    ok = client.post(
        "/reviews/exercise/prisma/",
        {
            "previous_studies": 0,
            "previous_reports": 0,
            "citation_searching": 3,
            "other_sought": 3,
            "other_not_retrieved": 0,
            "other_assessed": 3,
            "other_excluded": "Wrong design, 2",
            "other_included": 1,
        },
    )
    assert ok.status_code == 302
    assert (
        client_for(reviewer_a)
        .post("/reviews/exercise/prisma/", {"previous_studies": 1})
        .status_code
        == 403
    )
    assert client.get("/reviews/exercise/prisma.exe").status_code == 404
    _ = services


def test_the_reporting_exports_list_included_and_excluded_studies(lead, review):
    from openpyxl import load_workbook

    build_review(lead, review)
    client = client_for(lead)
    included = Record.objects.filter(
        screening_items__stage=Stage.FULL_TEXT, screening_items__status=ItemStatus.INCLUDED
    )
    titles = sorted(included.values_list("title", flat=True))
    ris = client.get("/reviews/exercise/exports/included-ris/").content.decode()
    assert ris.count("ER  -") == 2 and all(t in ris for t in titles)
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/reviews/exercise/exports/characteristics-csv/").content.decode()
            )
        )
    )
    assert sorted(r["title"] for r in rows) == titles
    book = load_workbook(
        io.BytesIO(client.get("/reviews/exercise/exports/characteristics-xlsx/").content)
    )
    assert book.active.max_row == 3 and book.active["E1"].value == "title"
    excluded = list(
        csv.DictReader(
            io.StringIO(client.get("/reviews/exercise/exports/excluded-csv/").content.decode())
        )
    )
    assert [r["reason"] for r in excluded] == ["Wrong outcome", "Wrong design"]
    assert client.get("/reviews/exercise/exports/everything/").status_code == 404


def test_the_characteristics_table_names_every_database_that_found_a_study(lead, review):
    build_review(lead, review)
    included = Record.objects.filter(
        screening_items__stage=Stage.FULL_TEXT, screening_items__status=ItemStatus.INCLUDED
    ).first()
    medline = Search.objects.get(review=review, database="MEDLINE")
    copy = Record.objects.create(
        review=review,
        search=medline,
        batch=medline.batches.first(),
        title="copy",
        duplicate_of=included,
    )
    assert copy.duplicate_of == included
    rows = list(
        csv.DictReader(
            io.StringIO(
                client_for(lead)
                .get("/reviews/exercise/exports/characteristics-csv/")
                .content.decode()
            )
        )
    )
    found = {int(r["record_id"]): r["found_in"] for r in rows}
    assert found[included.pk] == "; ".join(sorted({included.search.database, "MEDLINE"}))
