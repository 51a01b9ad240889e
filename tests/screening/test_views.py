"""Screening pages: thin views over the services, blinded, and calm about bad input."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviews.models import Review
from screening import services
from screening.constants import Stage
from screening.models import ExclusionReason, FullTextReport, ScreeningItem, Vote
from tests.conftest import client_for

from .factories import make_records, ta_items

HX = {"HX-Request": "true"}
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n0\n%%EOF\n"
BASE = "/reviews/exercise/screening"


@pytest.fixture
def screening(review, lead, records):
    services.settings_update(
        actor=lead, review=review, include_keywords="gambl*", exclude_keywords="lottery"
    )
    return review


def _vote(client, item, decision, **extra):
    data = {"item": item.pk, "decision": decision, **extra}
    return client.post(f"{BASE}/title-abstract/vote/", data, headers=HX)


def test_the_screening_page_shows_one_record_highlighted_with_the_shortcuts(screening, reviewer_a):
    response = client_for(reviewer_a).get(f"{BASE}/title-abstract/screen/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="current"' in text and 'id="upcoming"' in text
    assert '<mark class="kw-include">gambling</mark>' in text
    assert "Keyboard shortcuts" in text and "<kbd>I</kbd>" in text and "Undo" in text
    assert "js/screening.js" in text
    # The record on screen and the preloaded one are both claimed for this reviewer.
    items = ScreeningItem.objects.filter(assignments__reviewer=reviewer_a)
    assert items.count() == 2


def test_a_vote_by_htmx_answers_with_the_record_after_the_preloaded_one(screening, reviewer_a):
    client = client_for(reviewer_a)
    client.get(f"{BASE}/title-abstract/screen/")
    first, second = ScreeningItem.objects.filter(assignments__reviewer=reviewer_a).order_by("pk")
    response = client.post(
        f"{BASE}/title-abstract/vote/",
        {"item": first.pk, "decision": "include", "upcoming": str(second.pk)},
        headers=HX,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" not in text  # a fragment, not a page
    third = ScreeningItem.objects.filter(assignments__reviewer=reviewer_a).order_by("pk").last()
    assert f'data-item="{third.pk}"' in text and third.pk not in (first.pk, second.pk)
    assert "You have screened 1" in text
    assert Vote.objects.get(reviewer=reviewer_a).decision == "include"


def test_a_vote_without_javascript_redirects_back(screening, reviewer_a):
    item = ta_items(screening)[0]
    response = client_for(reviewer_a).post(
        f"{BASE}/title-abstract/vote/", {"item": item.pk, "decision": "maybe"}
    )
    assert response.status_code == 302 and response.url.endswith("/title-abstract/screen/")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "include"}, "item"),
        ({"item": "abc", "decision": "include"}, "item"),
        ({"item": "ITEM", "decision": "<b>x</b>"}, "Choose one of"),
        ({"item": "ITEM", "decision": "<script>alert(1)</script>"}, "at most 20 characters"),
        ({"item": "ITEM", "decision": "include", "note": "a\x00b"}, "Null characters"),
        ({"item": "ITEM", "decision": "exclude", "reason": "999999999"}, "not on this stage"),
        ({"item": "ITEM", "decision": "include", "note": "n" * 2500}, "At most 2000"),
    ],
)
def test_bad_votes_get_a_clear_message_and_change_nothing(screening, reviewer_a, data, message):
    item = ta_items(screening)[0]
    data = {k: (str(item.pk) if v == "ITEM" else v) for k, v in data.items()}
    response = client_for(reviewer_a).post(f"{BASE}/title-abstract/vote/", data, headers=HX)
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text and 'role="alert"' in text
    assert "<script>alert(1)</script>" not in text and "<b>x</b>" not in text
    assert not Vote.objects.exists()


def test_forged_and_foreign_item_ids_are_404(screening, reviewer_a, outsider):
    elsewhere = Review.objects.get(slug="elsewhere")
    make_records(elsewhere, 1)
    foreign = ta_items(elsewhere)[0]
    client = client_for(reviewer_a)
    assert _vote(client, foreign, "include").status_code == 404
    assert (
        client.post(
            f"{BASE}/title-abstract/vote/", {"item": 2**40, "decision": "include"}
        ).status_code
        == 404
    )
    assert not Vote.objects.exists()


def test_a_vote_on_a_full_text_item_through_the_title_abstract_route_is_refused(
    screening, lead, reviewer_a, reviewer_b
):
    item = ta_items(screening)[0]
    for user in (reviewer_a, reviewer_b):
        services.vote_cast(user=user, review=screening, item=item, decision="include")
    ft = ScreeningItem.objects.get(stage=Stage.FULL_TEXT)
    response = _vote(client_for(reviewer_a), ft, "include")
    assert response.status_code == 400 and "full text stage" in response.content.decode()


def test_hostile_notes_are_stored_as_text_and_escaped(screening, reviewer_a, lead, reviewer_b):
    item = ta_items(screening)[0]
    hostile = "<img src=x onerror=alert(1)>\x1b[31m"
    assert _vote(client_for(reviewer_a), item, "include", note=hostile).status_code == 200
    note = Vote.objects.get(reviewer=reviewer_a).note
    assert note == "<img src=x onerror=alert(1)>[31m"
    services.vote_cast(user=reviewer_b, review=screening, item=item, decision="exclude")
    page = client_for(lead).get(f"{BASE}/title-abstract/conflicts/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page


def test_undo_by_htmx_returns_the_record(screening, reviewer_a):
    client = client_for(reviewer_a)
    item = ta_items(screening)[0]
    _vote(client, item, "exclude")
    response = client.post(f"{BASE}/title-abstract/undo/", headers=HX)
    assert response.status_code == 200 and f'data-item="{item.pk}"' in response.content.decode()
    assert not Vote.objects.exists()
    again = client.post(f"{BASE}/title-abstract/undo/", headers=HX)
    assert again.status_code == 400 and "no vote to undo" in again.content.decode()


def test_a_viewer_cannot_screen(screening, viewer):
    client = client_for(viewer)
    assert client.get(f"{BASE}/title-abstract/screen/").status_code == 403
    assert _vote(client, ta_items(screening)[0], "include").status_code == 403
    assert client.get(f"{BASE}/title-abstract/").status_code == 200  # but may follow progress
    assert not Vote.objects.exists()


def test_blinded_pages_never_show_another_reviewers_vote(screening, lead, reviewer_a, reviewer_b):
    item = ta_items(screening)[0]
    services.vote_cast(user=reviewer_a, review=screening, item=item, decision="include")
    services.vote_cast(
        user=reviewer_b, review=screening, item=item, decision="exclude", note="b-secret-note"
    )
    client = client_for(reviewer_a)
    pages = [
        f"{BASE}/title-abstract/",
        f"{BASE}/title-abstract/screen/",
        f"{BASE}/title-abstract/conflicts/",
        f"{BASE}/title-abstract/votes.csv",
        f"{BASE}/agreement/",
        f"{BASE}/agreement.csv",
    ]
    for path in pages:
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, path
        assert b"b-secret-note" not in body, path
    lead_page = client_for(lead).get(f"{BASE}/title-abstract/conflicts/").content.decode()
    assert "b-secret-note" in lead_page


def test_a_lead_resolves_a_conflict_from_the_queue(screening, lead, reviewer_a, reviewer_b):
    item = ta_items(screening)[0]
    services.vote_cast(user=reviewer_a, review=screening, item=item, decision="include")
    services.vote_cast(user=reviewer_b, review=screening, item=item, decision="exclude")
    client = client_for(lead)
    bad = client.post(f"{BASE}/title-abstract/conflicts/{item.pk}/resolve/", {"decision": "maybe"})
    assert bad.status_code == 302
    item.refresh_from_db()
    assert item.status == "conflict"
    response = client.post(
        f"{BASE}/title-abstract/conflicts/{item.pk}/resolve/",
        {"decision": "include", "note": "Adults, fine"},
        follow=True,
    )
    assert "Conflict resolved: record included" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "included" and item.resolution.resolved_by == lead


def test_a_voter_cannot_resolve_through_the_page(screening, reviewer_a, reviewer_b):
    item = ta_items(screening)[0]
    services.vote_cast(user=reviewer_a, review=screening, item=item, decision="include")
    services.vote_cast(user=reviewer_b, review=screening, item=item, decision="exclude")
    response = client_for(reviewer_a).post(
        f"{BASE}/title-abstract/conflicts/{item.pk}/resolve/", {"decision": "include"}
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == "conflict"


def test_progress_agreement_and_csv_pages(screening, lead, reviewer_a, reviewer_b):
    items = ta_items(screening)
    for item, (a, b) in zip(items, [("include", "include"), ("exclude", "exclude")], strict=False):
        services.vote_cast(user=reviewer_a, review=screening, item=item, decision=a)
        services.vote_cast(user=reviewer_b, review=screening, item=item, decision=b)
    client = client_for(lead)
    progress = client.get(f"{BASE}/title-abstract/").content.decode()
    assert 'data-count="settled">2<' in progress and 'data-count="remaining">4<' in progress
    assert "reviewer_a" in progress
    agreement = client.get(f"{BASE}/agreement/").content.decode()
    assert "κ = 1.000" in agreement
    rows = list(csv.reader(io.StringIO(client.get(f"{BASE}/agreement.csv").content.decode())))
    assert rows[0][0] == "stage" and any(r[1] == "reviewer_a" for r in rows)
    votes = b"".join(client.get(f"{BASE}/title-abstract/votes.csv").streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(votes)))) == 5
    dashboard = client.get("/reviews/exercise/").content.decode()
    assert f"{BASE}/title-abstract/" in dashboard


def test_settings_page_saves_and_explains_bad_keywords(screening, lead, reviewer_a):
    client = client_for(lead)
    assert client.get(f"{BASE}/settings/").status_code == 200
    data = {
        "reviewers_per_record": "3",
        "blinded": "",
        "maybe_policy": "include",
        "reasons_title_abstract": "required",
        "reasons_full_text": "required",
        "resolvers": "leads",
        "include_keywords": "gambl*\nbet?",
        "exclude_keywords": "<script>",
    }
    bad = client.post(f"{BASE}/settings/", data)
    body = bad.content.decode()
    assert (
        bad.status_code == 400
        and "Keyword not saved: &#x27;&lt;script&gt;&#x27; has characters" in body
    )
    data["exclude_keywords"] = "rat*"
    assert client.post(f"{BASE}/settings/", data).status_code == 302
    s = screening.screening_settings
    s.refresh_from_db()
    assert (s.reviewers_per_record, s.blinded, s.resolvers) == (3, False, "leads")
    assert client_for(reviewer_a).get(f"{BASE}/settings/").status_code == 403
    assert client_for(reviewer_a).post(f"{BASE}/settings/", data).status_code == 403


def test_reasons_are_edited_from_the_settings_page(screening, lead, reviewer_a):
    client = client_for(lead)
    client.post(f"{BASE}/title-abstract/reasons/add/", {"label": "Animal study"})
    reason = ExclusionReason.objects.get(label="Animal study")
    client.post(f"{BASE}/reasons/{reason.pk}/move/", {"direction": "up"})
    client.post(f"{BASE}/reasons/{reason.pk}/", {"label": "Animals only"})
    reason.refresh_from_db()
    assert reason.label == "Animals only"
    dup = client.post(f"{BASE}/title-abstract/reasons/add/", {"label": "animals ONLY"}, follow=True)
    assert "already on the list" in dup.content.decode()
    client.post(f"{BASE}/reasons/{reason.pk}/", {"active": "0"})
    reason.refresh_from_db()
    assert not reason.active
    client.post(f"{BASE}/reasons/{reason.pk}/delete/")
    assert not ExclusionReason.objects.filter(pk=reason.pk).exists()
    other = ExclusionReason.objects.filter(review=screening).first()
    assert client_for(reviewer_a).post(f"{BASE}/reasons/{other.pk}/delete/").status_code == 403


def _to_full_text(review, reviewer_a, reviewer_b) -> ScreeningItem:
    item = ta_items(review)[0]
    for user in (reviewer_a, reviewer_b):
        services.vote_cast(user=user, review=review, item=item, decision="include")
    return ScreeningItem.objects.get(stage=Stage.FULL_TEXT, record=item.record)


def test_a_pdf_is_uploaded_served_to_members_only_and_checked(
    screening, reviewer_a, reviewer_b, outsider
):
    ft = _to_full_text(screening, reviewer_a, reviewer_b)
    client = client_for(reviewer_a)
    page = client.get(f"{BASE}/full-text/screen/").content.decode()
    assert "No full text yet" in page and "Mark not retrieved" in page
    fake = SimpleUploadedFile("x.pdf", b"GIF89a not a pdf")
    bad = client.post(f"{BASE}/full-text/{ft.pk}/report/", {"file": fake}, headers=HX)
    assert bad.status_code == 400 and "not a PDF" in bad.content.decode()
    assert not FullTextReport.objects.exists()
    good = SimpleUploadedFile("paper.pdf", PDF, content_type="application/pdf")
    ok = client.post(f"{BASE}/full-text/{ft.pk}/report/", {"file": good}, headers=HX)
    assert ok.status_code == 200 and "Download the PDF" in ok.content.decode()
    served = client.get(f"{BASE}/full-text/{ft.pk}/report.pdf")
    assert served["Content-Type"] == "application/pdf" and b"".join(served.streaming_content) == PDF
    assert client_for(outsider).get(f"{BASE}/full-text/{ft.pk}/report.pdf").status_code == 404
    response = client.post(
        f"{BASE}/full-text/vote/", {"item": ft.pk, "decision": "exclude"}, headers=HX
    )
    assert response.status_code == 400 and "reason" in response.content.decode()


def test_a_report_is_marked_not_retrieved_with_a_reason(screening, reviewer_a, reviewer_b):
    ft = _to_full_text(screening, reviewer_a, reviewer_b)
    client = client_for(reviewer_a)
    empty = client.post(f"{BASE}/full-text/{ft.pk}/not-retrieved/", {"reason": ""}, headers=HX)
    assert empty.status_code == 400
    done = client.post(
        f"{BASE}/full-text/{ft.pk}/not-retrieved/",
        {"reason": "Not held by any library"},
        headers=HX,
    )
    assert done.status_code == 200 and "Nothing left" in done.content.decode()
    ft.refresh_from_db()
    assert ft.status == "not_retrieved"
    link = client.post(
        f"{BASE}/full-text/{ft.pk}/report/", {"url": "javascript:alert(1)"}, headers=HX
    )
    assert link.status_code == 400


def test_a_reviewer_changes_an_earlier_vote_from_the_stage_page(screening, reviewer_a, reviewer_b):
    first, second = ta_items(screening)[:2]
    client = client_for(reviewer_a)
    _vote(client, first, "include")
    _vote(client, second, "include")
    services.vote_cast(user=reviewer_b, review=screening, item=second, decision="include")
    page = client.get(f"{BASE}/title-abstract/").content.decode()
    assert "Your latest votes" in page and "settled (included)" in page
    response = client.post(
        f"{BASE}/title-abstract/vote/",
        {"item": first.pk, "decision": "exclude", "back": "stage"},
    )
    assert response.status_code == 302 and response.url.endswith("/title-abstract/#my-votes")
    assert Vote.objects.get(item=first, reviewer=reviewer_a).decision == "exclude"
    refused = client.post(
        f"{BASE}/title-abstract/vote/",
        {"item": second.pk, "decision": "exclude", "back": "stage"},
        follow=True,
    )
    assert "already settled" in refused.content.decode()
    assert Vote.objects.get(item=second, reviewer=reviewer_a).decision == "include"
