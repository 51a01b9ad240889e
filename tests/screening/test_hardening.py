"""Issue 13, screening's smaller holes: undo that lost a race, votes on merged duplicates, and
HTML passed off as a PDF."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from identification.models import Record
from screening import services
from screening.constants import Stage, VoteAction
from screening.fulltext import services as fulltext
from screening.models import FullTextReport, ScreeningItem, Vote, VoteEvent
from tests.conftest import client_for

from .factories import PDF, full_text_item, status, ta_items, vote

API = "/api/reviews/exercise/screening/title-abstract"
PAGE = "/reviews/exercise/screening/title-abstract/"


@pytest.fixture
def items(review, records):
    return ta_items(review)


# --- Undo and withdraw: a vote already gone is "nothing to undo", never a 500 ----------------


def test_withdrawing_a_vote_that_is_already_gone_is_a_clear_refusal(items, review, reviewer_a):
    cast = vote(reviewer_a, review, items[0], "include")
    stale = Vote.objects.get(pk=cast.pk)  # what a second, racing request read
    services.vote_withdraw(user=reviewer_a, review=review, vote=cast)
    with pytest.raises(ValidationError, match="Nothing to undo"):
        services.vote_withdraw(user=reviewer_a, review=review, vote=stale)
    events = VoteEvent.objects.filter(item=items[0], action=VoteAction.WITHDRAWN)
    assert events.count() == 1


def test_undo_that_finds_its_vote_gone_says_so(items, review, reviewer_a, monkeypatch):
    """The undo read the last vote, and another request withdrew it before this one locked it."""
    from screening.services import votes as votes_module

    vote(reviewer_a, review, items[0], "include")
    vote(reviewer_a, review, items[1], "include")
    real = votes_module._locked_open_item
    raced = []

    def racing(review, item, *args, **kwargs):
        if not raced:
            raced.append(item)
            # The other request wins the race: it withdraws the same vote first.
            pk = item.pk if isinstance(item, ScreeningItem) else item
            winner = Vote.objects.get(item_id=pk, reviewer=reviewer_a)
            services.vote_withdraw(user=reviewer_a, review=review, vote=winner)
        return real(review, item, *args, **kwargs)

    monkeypatch.setattr(votes_module, "_locked_open_item", racing)
    with pytest.raises(ValidationError, match="Nothing to undo"):
        services.vote_undo(user=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    # The loser did not go on to take back the vote before it. (Here the winner ran inside the
    # loser's transaction and was rolled back with it; on PostgreSQL see test_undo_race.py.)
    assert Vote.objects.filter(item=items[0], reviewer=reviewer_a).exists()
    assert raced and raced[0] == items[1].pk


def test_undo_with_nothing_left_is_a_400_with_a_message(items, review, reviewer_a):
    client = client_for(reviewer_a)
    vote(reviewer_a, review, items[0], "include")
    assert client.post(f"{API}/undo/").status_code == 200
    again = client.post(f"{API}/undo/")
    assert again.status_code == 400 and "no vote to undo" in again.content.decode()


# --- Merged duplicates are not screened ---------------------------------------------------------


def merge(duplicate: Record, into: Record) -> None:
    Record.objects.filter(pk=duplicate.pk).update(duplicate_of=into)


def test_a_vote_on_a_record_merged_as_a_duplicate_is_refused(items, review, reviewer_a):
    merge(items[1].record, items[0].record)
    client = client_for(reviewer_a)
    response = client.post(
        f"{API}/votes/",
        {"item": items[1].pk, "decision": "include"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "duplicate" in response.content.decode()
    page = client.post(f"{PAGE}vote/", {"item": items[1].pk, "decision": "include"}, follow=True)
    assert "duplicate" in page.content.decode()
    with pytest.raises(ValidationError, match="duplicate"):
        vote(reviewer_a, review, items[1], "exclude")
    assert not Vote.objects.filter(item=items[1]).exists()
    assert status(items[1]) == "pending"


def test_a_vote_cast_before_the_merge_can_no_longer_change(items, review, reviewer_a):
    cast = vote(reviewer_a, review, items[1], "include")
    merge(items[1].record, items[0].record)
    response = client_for(reviewer_a).patch(
        f"{API}/votes/{cast.pk}/", {"decision": "exclude"}, content_type="application/json"
    )
    assert response.status_code == 400 and "duplicate" in response.content.decode()
    assert Vote.objects.get(pk=cast.pk).decision == "include"
    page = client_for(reviewer_a).get(PAGE).content.decode()
    assert f"merged as a duplicate of record {items[0].record_id}" in page


def test_a_conflict_on_a_merged_record_is_not_resolved(items, review, lead, reviewer_a, reviewer_b):
    vote(reviewer_a, review, items[1], "include")
    vote(reviewer_b, review, items[1], "exclude")
    merge(items[1].record, items[0].record)
    with pytest.raises(ValidationError, match="duplicate"):
        services.conflict_resolve(user=lead, review=review, item=items[1], decision="include")
    assert status(items[1]) == "conflict"


# --- Full texts: the structure of a PDF, and how the file is served ---------------------------

VALID = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\n"
    b"xref\n0 1\n0000000000 65535 f \ntrailer<</Root 1 0 R/Size 1>>\nstartxref\n40\n%%EOF\n"
)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        # The reported polyglot: HTML that a browser renders, with a PDF header in a comment.
        (b"<html><script>alert(document.cookie)</script><!-- %PDF-1.4 -->" + VALID[8:], "HTML"),
        (b"<!DOCTYPE html><body>x</body>\n" + VALID, "HTML"),
        (b"  <SCRIPT>alert(1)</SCRIPT>\n" + VALID, "HTML"),
        (b"<svg onload=alert(1)>" + VALID, "HTML"),
        # A header away from the start must carry a version.
        (b"junk %PDF- not really\n" + VALID[8:], "not a PDF"),
        (b"hello world, %PDF-1.4 somewhere", "end"),
        # A header and nothing of a PDF's end.
        (b"%PDF-1.4\n1 0 obj<<>>endobj\n", "end"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", "end"),
        (VALID + b"x" * 5000, "end"),
    ],
)
def test_a_file_that_only_looks_like_a_pdf_is_refused(
    review, lead, reviewer_a, reviewer_b, records, content, why
):
    item = full_text_item(review, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("paper.pdf", content, content_type="application/pdf")
    with pytest.raises(ValidationError, match=why):
        fulltext.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert not FullTextReport.objects.exists()


@pytest.mark.parametrize(
    "content",
    [
        VALID,
        PDF,  # the smallest file the tests use: a trailer, no startxref
        b"\x00\x01MacBinary junk\x00" + VALID,  # a header after a little junk, with its version
        VALID + b"\r\n\x00\x00",  # junk after the end
    ],
)
def test_a_real_pdf_is_accepted(review, lead, reviewer_a, reviewer_b, records, content):
    item = full_text_item(review, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("paper.pdf", content, content_type="application/pdf")
    report = fulltext.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    assert report.size == len(content)


def test_a_stored_pdf_is_served_as_an_attachment(review, lead, reviewer_a, reviewer_b, records):
    item = full_text_item(review, reviewer_a, reviewer_b)
    upload = SimpleUploadedFile("paper.pdf", VALID, content_type="text/html")
    fulltext.report_attach(user=reviewer_a, review=review, item=item, upload=upload)
    served = client_for(reviewer_a).get(
        f"/reviews/exercise/screening/full-text/{item.pk}/report.pdf"
    )
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("attachment;")
    assert f'filename="record-{item.record_id}.pdf"' in served["Content-Disposition"]
    assert "sandbox" in served["Content-Security-Policy"]
    assert b"".join(served.streaming_content) == VALID
    assert ScreeningItem.objects.get(pk=item.pk).stage == Stage.FULL_TEXT
