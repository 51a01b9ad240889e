"""Update rounds (issue 21): a lead opens a round, which copies the searches for a rerun and
suggests a date-limited query; everyone else is refused and bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from identification import rounds
from identification import services as imports
from identification.models import Round, Search
from tests.conftest import client_for


@pytest.fixture
def searched(lead, review):
    imports.search_create(
        actor=lead,
        review=review,
        database="MEDLINE",
        platform="PubMed",
        date_searched="2025-03-01",
        query="gambling[tiab] AND harm*[tiab]",
    )
    imports.search_create(
        actor=lead,
        review=review,
        database="Scopus",
        date_searched="2025-03-02",
        query="TITLE-ABS-KEY(gambling)",
    )
    return review


def test_opening_a_round_copies_each_search_for_a_rerun(lead, searched):
    new = rounds.round_open(
        actor=lead, review=searched, date=dt.date(2026, 3, 1), reason="Yearly update"
    )
    assert (new.number, new.reason) == (2, "Yearly update")
    copies = list(Search.objects.filter(round=new).order_by("pk"))
    assert [(s.database, s.platform, s.query) for s in copies] == [
        ("MEDLINE", "PubMed", "gambling[tiab] AND harm*[tiab]"),
        ("Scopus", "", "TITLE-ABS-KEY(gambling)"),
    ]
    assert all(s.date_searched is None and s.rerun_of.round is None for s in copies)
    event = AuditEvent.objects.get(verb="opened update round")
    assert event.changes["searches_copied"] == ["MEDLINE", "Scopus"]
    # A new search goes to the current round unless told otherwise.
    later = imports.search_create(actor=lead, review=searched, database="Embase")
    assert later.round == new
    first = imports.search_create(actor=lead, review=searched, database="CINAHL", round_number=1)
    assert first.round is None
    # Round 3 copies round 2's searches (three now).
    third = rounds.round_open(actor=lead, review=searched, date=dt.date(2026, 6, 1))
    assert third.number == 3 and Search.objects.filter(round=third).count() == 3


def test_the_rerun_query_is_limited_to_records_added_since_the_last_round(lead, searched):
    rounds.round_open(actor=lead, review=searched, date=dt.date(2026, 3, 1))
    by_db = {
        s.database: rounds.suggest_query(s, rounds.round_date(searched, 1))
        for s in Search.objects.filter(round__number=2)
    }
    assert by_db["MEDLINE"].query == (
        '(gambling[tiab] AND harm*[tiab]) AND ("2025/03/02"[edat] : "3000"[edat])'
    )
    assert by_db["Scopus"].query == "(TITLE-ABS-KEY(gambling)) AND LOAD-DATE AFT 20250302"
    lens = Search(database="Lens", query="gambling")
    unknown = rounds.suggest_query(lens, dt.date(2025, 3, 2))
    assert unknown.query == "gambling" and "since 2025-03-02" in unknown.note
    assert rounds.suggest_query(lens, None).syntax == ""


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("not a date", "YYYY-MM-DD"),
        (None, "Give the round's date"),
        ((dt.date.today() + dt.timedelta(days=5)).isoformat(), "in the future"),
        ("2025-01-01", "before round 1's"),
    ],
)
def test_bad_input_opens_no_round(lead, searched, date, message):
    with pytest.raises(ValidationError, match=message):
        rounds.round_open(actor=lead, review=searched, date=date)
    assert not Round.objects.exists()
    assert Search.objects.count() == 2


def test_only_a_lead_opens_a_round(reviewer_a, searched):
    with pytest.raises(PermissionDenied):
        rounds.round_open(actor=reviewer_a, review=searched, date=dt.date(2026, 1, 1))
    assert not Round.objects.exists()


def test_a_search_in_a_round_the_review_lacks_is_refused(lead, searched):
    with pytest.raises(ValidationError, match="no round 4"):
        imports.search_create(actor=lead, review=searched, database="X", round_number=4)


def test_the_rounds_page_and_api(lead, reviewer_a, outsider, searched):
    slug = searched.slug
    lead_client, reviewer = client_for(lead), client_for(reviewer_a)
    assert reviewer.get(f"/reviews/{slug}/rounds/").status_code == 200
    refused = reviewer.post(f"/reviews/{slug}/rounds/", {"date": "2026-01-01"})
    assert refused.status_code == 403 and not Round.objects.exists()
    bad = lead_client.post(f"/reviews/{slug}/rounds/", {"date": "2024-01-01"})
    assert bad.status_code == 400 and "before round 1" in bad.content.decode()
    assert not Round.objects.exists()
    ok = lead_client.post(f"/reviews/{slug}/rounds/", {"date": "2026-01-01", "copy_searches": "on"})
    assert ok.status_code == 302
    page = reviewer.get(f"/reviews/{slug}/rounds/").content.decode()
    assert "Round 2 (current)" in page and "[edat]" in page
    rerun = Search.objects.get(round__number=2, database="MEDLINE")
    search_page = reviewer.get(f"/reviews/{slug}/searches/{rerun.pk}/").content.decode()
    assert "Rerun in update round 2" in search_page and "2025/03/02" in search_page
    assert client_for(outsider).get(f"/reviews/{slug}/rounds/").status_code == 404

    api = f"/api/reviews/{slug}/rounds/"
    listed = reviewer.get(api).json()
    assert listed["count"] == 2 and [r["number"] for r in listed["results"]] == [1, 2]
    assert reviewer.post(api, {"date": "2026-02-01"}).status_code == 403
    assert (
        lead_client.post(api, {"date": "nope"}, content_type="application/json").status_code == 400
    )
    made = lead_client.post(
        api, {"date": "2026-02-01", "copy_searches": False}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["number"] == 3
    assert not Search.objects.filter(round__number=3).exists()
    early = lead_client.post(api, {"date": "2026-01-15"}, content_type="application/json")
    assert early.status_code == 400 and "before round 3" in early.content.decode()
    assert Round.objects.count() == 2
    assert client_for(outsider).get(api).status_code == 404
    listed = reviewer.get(f"/api/reviews/{slug}/searches/").json()
    listed = listed["results"] if isinstance(listed, dict) else listed
    assert sorted(row["round"] for row in listed) == [1, 1, 2, 2]
