"""Full texts: a PDF checked and stored, a link, a report not retrieved (its own PRISMA box), and
no full-text vote without the report."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from screening import selectors, services
from screening.constants import ItemStatus
from screening.fulltext import services as fulltext
from screening.models import FullTextReport

from .factories import PDF, full_text_item, status, ta_items, vote


def test_a_pdf_is_checked_and_stored_through_storage(review, lead, reviewer_a, reviewer_b, records):
    item = full_text_item(review, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("../../etc/passwd.pdf", PDF, content_type="application/pdf")
    report = fulltext.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert report.file.name.startswith(f"fulltext/review-{review.pk}/")
    assert ".." not in report.file.name
    assert report.file.read() == PDF and report.size == len(PDF)
    vote(reviewer_a, review, item, "include")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "not a PDF"),
        (b"MZ\x90\x00" + b"\x00" * 100, "not a PDF"),
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused(
    review, lead, reviewer_a, reviewer_b, records, content, message
):
    item = full_text_item(review, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("paper.pdf", content, content_type="application/pdf")
    with pytest.raises(ValidationError, match=message):
        fulltext.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert not FullTextReport.objects.exists()


def test_an_oversized_pdf_is_refused(review, lead, reviewer_a, reviewer_b, records, monkeypatch):
    monkeypatch.setattr(fulltext, "MAX_PDF_BYTES", 1000)
    item = full_text_item(review, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 2000)
    with pytest.raises(ValidationError, match="limit"):
        fulltext.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert not FullTextReport.objects.exists()


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://x.org/a.pdf", "not a url", "x" * 3000]
)
def test_a_bad_link_is_refused(review, lead, reviewer_a, reviewer_b, records, url):
    item = full_text_item(review, reviewer_a, reviewer_b)
    with pytest.raises(ValidationError):
        fulltext.report_attach(user=reviewer_a, review=review, item=item, url=url)
    assert not FullTextReport.objects.exists()


def test_a_full_text_vote_needs_the_report_and_not_retrieved_is_its_own_box(
    review, lead, reviewer_a, reviewer_b, records
):
    item = full_text_item(review, reviewer_a, reviewer_b)
    with pytest.raises(ValidationError, match="Attach the full text"):
        vote(reviewer_a, review, item, "include")
    with pytest.raises(ValidationError):
        fulltext.report_not_retrieved(user=reviewer_a, review=review, item=item, reason="  ")
    fulltext.report_not_retrieved(
        user=reviewer_a, review=review, item=item, reason="Library could not obtain it"
    )
    assert status(item) == ItemStatus.NOT_RETRIEVED
    assert selectors.screening_boxes(review).reports_not_retrieved == 1
    with pytest.raises(ValidationError, match="not retrieved"):
        vote(reviewer_a, review, item, "include")
    assert services.assignment_next(user=reviewer_a, review=review, stage="full_text") is None
    upload = SimpleUploadedFile("p.pdf", PDF)
    fulltext.report_attach(user=reviewer_b, review=review, item=item, upload=upload)
    assert status(item) == ItemStatus.PENDING


def test_attachments_belong_to_full_text_items_only(review, lead, records):
    item = ta_items(review)[0]
    with pytest.raises(ValidationError, match="full-text"):
        fulltext.report_attach(user=lead, review=review, item=item, url="https://example.org")
