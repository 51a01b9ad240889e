"""The record list people can work in: primary records by default, filters by duplicate
status, screening stage and decision (under blinding), labelled filters, hostile searches.

Screening's filters reach identification through ``identification.hooks.record_filters``
(answered by ``screening/record_hooks.py``); these tests drive them through the page.
"""

from __future__ import annotations

import re

import pytest

from identification.models import Record
from reviews import services as review_services
from reviews.constants import Role
from screening import services as screening
from screening.constants import Stage
from tests.conftest import client_for, make_user
from tests.identification.conftest import upload
from tests.screening.factories import make_records, reason, ta_items, vote

PAPER = (
    "TY  - JOUR\nTI  - Wildfire smoke and asthma admissions\nAU  - Smith, J\nPY  - 2021\n"
    "DO  - 10.1000/wildfire\nER  - \n\n"
)


def _export(n: int) -> bytes:
    """The same paper, as every database returns it, and one paper of this database's own."""
    own = f"TY  - JOUR\nTI  - A study found only in database {n}\nPY  - 2019\nER  - \n"
    return (PAPER + own).encode()


@pytest.fixture
def five_copies(lead, review, django_capture_on_commit_callbacks):
    """Five searches: each found the same paper (merged as duplicates on import) and one other."""
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            upload(lead, review, _export(n), name=f"db{n}.ris")
    copies = Record.objects.filter(review=review, doi="10.1000/wildfire")
    assert copies.count() == 5 and copies.filter(duplicate_of__isnull=True).count() == 1
    return copies.get(duplicate_of__isnull=True)


def _count(page: str) -> int:
    return int(re.search(r'<h1>Records <span class="muted">\((\d+)\)', page).group(1))


def test_the_list_shows_primary_records_by_default(lead, review, five_copies):
    client = client_for(lead)
    page = client.get("/reviews/exercise/records/").content.decode()
    # The issue as found: every copy of one paper was listed (here 10 rows, five of one paper).
    assert _count(page) == 6
    assert page.count("Wildfire smoke and asthma admissions") == 1
    assert _count(client.get("/reviews/exercise/records/?duplicates=all").content.decode()) == 10
    duplicates = client.get("/reviews/exercise/records/?duplicates=duplicates").content.decode()
    assert _count(duplicates) == 4 and "Duplicate of <a" in duplicates
    merged = client.get("/reviews/exercise/records/?duplicates=with_duplicates").content.decode()
    assert _count(merged) == 1 and "Wildfire smoke and asthma admissions" in merged


def test_the_filters_of_the_list_are_labelled(lead, review):
    page = client_for(lead).get("/reviews/exercise/records/").content.decode()
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    controls = set(re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', page))
    assert {"id_has_doi", "id_has_abstract", "id_duplicates", "id_stage", "id_decision"} <= controls
    assert controls <= labelled, f"controls without a label: {controls - labelled}"


def test_a_search_of_ten_thousand_characters_says_why_and_lists_nothing(lead, review, five_copies):
    client = client_for(lead)
    response = client.get("/reviews/exercise/records/", {"q": "wildfire " * 1200})
    page = response.content.decode()
    assert response.status_code == 200
    assert "at most 500 characters" in page and 'role="alert"' in page
    assert _count(page) == 0 and "Export these" not in page


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ('"wildfire smoke', "closing quotation mark"),
        ("(wildfire OR smoke", "closing parenthesis"),
        ("wildfire) smoke", "without an opening one"),
        ("wildfire AND", "AND needs a term"),
    ],
)
def test_unbalanced_searches_are_read_literally_and_say_so(lead, review, five_copies, text, notice):
    page = client_for(lead).get("/reviews/exercise/records/", {"q": text}).content.decode()
    assert notice in page
    assert _count(page) == 1 and "<mark>Wildfire" in page


HOSTILE_TITLE = "Regex (?:[a-z]+)*$ and Robert'; DROP TABLE students; -- at 100%_off"


@pytest.mark.parametrize(
    ("text", "message", "found"),
    [
        # SQL and regex syntax are words and punctuation to look for, nothing more.
        ('"\'; DROP TABLE students; --" OR wildfire', "", {"hostile", "wildfire"}),
        ('"(?:[a-z]+)*$" OR wildfire', "", {"hostile", "wildfire"}),
        ('"%" OR (^ AND .* AND \\ AND $nothing)', "", {"hostile"}),
        ("students; -- OR wildfire", "", {"hostile", "wildfire"}),
        # What cannot be searched in bounded time is refused with its reason.
        ("((((((((((((wildfire))))))))))))", "nested too deep", set()),
        ("title:(" * 30, "nested too deep", set()),
        ("\x00", "Null characters are not allowed", set()),
        # A query of nothing but operators searches for nothing and says so.
        ("NOT " * 100, "NOT needs a term", "all"),
    ],
)
def test_hostile_searches_get_a_message_or_a_literal_search(
    lead, review, five_copies, text, message, found
):
    [hostile] = make_records(review, 1)
    hostile.title = HOSTILE_TITLE
    hostile.save()
    response = client_for(lead).get("/reviews/exercise/records/", {"q": text})
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    if found == "all":
        assert _count(page) == 7
    else:
        titles = {"hostile": "Regex (?:[", "wildfire": "smoke and asthma admissions"}
        assert {key for key, title in titles.items() if title in page} == found
        assert _count(page) == len(found)
    assert Record.objects.filter(review=review).count() == 11


def test_matches_are_highlighted_and_record_text_stays_escaped(lead, review):
    [record] = make_records(review, 1)
    record.title = "<script>alert(1)</script> Wildfire smoke & asthma"
    record.save()
    page = client_for(lead).get("/reviews/exercise/records/", {"q": "wildfire"}).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Wildfire</mark> smoke &amp; asthma" in page
    # The record's page marks the same words (the link carries the search).
    assert f"/reviews/exercise/records/{record.pk}/?q=wildfire" in page
    detail = client_for(lead).get(f"/reviews/exercise/records/{record.pk}/?q=wildfire").content
    assert "<mark>Wildfire</mark> smoke &amp; asthma" in detail.decode()


# --- Screening stage and decision, under blinding ------------------------------------------


@pytest.fixture
def screened(review, lead, reviewer_a, reviewer_b):
    """Blinded dual screening (the defaults): 0 in conflict (A include, B exclude); 1 included
    by both (now awaiting votes at full text); 2 excluded by both; 3 only B voted (exclude);
    4 no votes. Returns the records' titles by number."""
    records = make_records(review, 5)
    items = ta_items(review)
    vote(reviewer_a, review, items[0], "include", note="A thinks so")
    vote(reviewer_b, review, items[0], "exclude", note="B-SECRET-NOTE", reason=reason(review))
    vote(reviewer_a, review, items[1], "include")
    vote(reviewer_b, review, items[1], "include")
    vote(reviewer_a, review, items[2], "exclude", reason=reason(review))
    vote(reviewer_b, review, items[2], "exclude", reason=reason(review), note="B settled note")
    vote(reviewer_b, review, items[3], "exclude", reason=reason(review), note="B-ALONE-NOTE")
    return {n: r.title for n, r in enumerate(records)}


def _listed(client, screened, **params) -> set[int]:
    page = client.get("/reviews/exercise/records/", params).content.decode()
    assert "not understood" not in page, page
    return {n for n, title in screened.items() if title in page}


def test_the_lead_filters_by_stage_and_decision(lead, screened):
    client = client_for(lead)
    assert _listed(client, screened, decision="conflict") == {0}
    assert _listed(client, screened, stage="title_abstract", decision="included") == {1}
    assert _listed(client, screened, stage="full_text") == {1}
    assert _listed(client, screened, stage="full_text", decision="pending") == {1}
    # Without a stage: where each record stands now (1 moved on to full text).
    assert _listed(client, screened, decision="pending") == {1, 3, 4}
    assert _listed(client, screened, decision="excluded") == {2}
    page = client.get("/reviews/exercise/records/").content.decode()
    assert "Title and abstract: In conflict" in page


def test_a_blinded_reviewer_sees_their_conflict_as_awaiting_votes(reviewer_a, screened):
    client = client_for(reviewer_a)
    # Record 0 is in conflict with B's vote: to A it is a record still awaiting votes.
    assert _listed(client, screened, decision="conflict") == set()
    assert _listed(client, screened, stage="title_abstract", decision="pending") == {0, 3, 4}
    page = client.get("/reviews/exercise/records/").content.decode()
    assert "Title and abstract: In conflict" not in page
    assert "Title and abstract: Awaiting votes" in page


def test_no_filter_sorts_records_by_another_reviewers_blinded_vote(reviewer_a, screened):
    client = client_for(reviewer_a)
    # B excluded record 3 alone and record 0 against A: neither shows as excluded to A.
    assert _listed(client, screened, stage="title_abstract", decision="excluded") == {2}
    assert _listed(client, screened, decision="excluded") == {2}
    for decision in ("pending", "conflict", "included", "excluded", "not_retrieved"):
        page = client.get("/reviews/exercise/records/", {"decision": decision}).content
        assert b"B-SECRET-NOTE" not in page and b"B-ALONE-NOTE" not in page


def test_a_viewer_and_a_third_reviewer_see_conflicts_as_the_policy_says(review, lead, screened):
    viewer, third = make_user("viewer"), make_user("third")
    review_services.membership_add(
        actor=lead, review=review, identifier="viewer", roles=[Role.VIEWER]
    )
    review_services.membership_add(
        actor=lead, review=review, identifier="third", roles=[Role.REVIEWER]
    )
    # The viewer may resolve nothing: every conflict looks like a record awaiting votes.
    assert _listed(client_for(viewer), screened, decision="conflict") == set()
    assert 0 in _listed(client_for(viewer), screened, decision="pending")
    # A reviewer who did not vote on it may resolve it (the default policy), so sees it.
    assert _listed(client_for(third), screened, decision="conflict") == {0}


def test_without_blinding_everyone_sees_the_conflict(review, lead, reviewer_a, screened):
    screening.settings_update(actor=lead, review=review, blinded=False)
    assert _listed(client_for(reviewer_a), screened, decision="conflict") == {0}


def test_an_unknown_stage_or_decision_is_not_understood(lead, screened):
    client = client_for(lead)
    page = client.get("/reviews/exercise/records/", {"decision": "maybe"}).content.decode()
    assert "not understood" in page and "Screening decision" in page and _count(page) == 0
    page = client.get("/reviews/exercise/records/", {"stage": Stage.FULL_TEXT + "x"}).content
    assert "not understood" in page.decode()


# --- Blinding through the work done ---------------------------------------------------------


def _shape(sql: str) -> str:
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    sql = re.sub(r"\(\?(?:, \?)*\)", "(?...)", sql)
    return re.sub(r'"?s\w+_x\d+"?', "SAVEPOINT", sql)


@pytest.mark.parametrize(
    "params",
    [{}, {"decision": "pending"}, {"decision": "conflict"}, {"stage": "title_abstract"}],
)
def test_the_list_does_the_same_work_whether_the_other_vote_disagrees_or_is_missing(
    review, reviewer_a, reviewer_b, params
):
    """What a blinded voter's list (its statuses and filters) asks the database must not
    depend on the other reviewer's vote, or its timing would tell a conflict apart."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    make_records(review, 3)
    items = ta_items(review)
    vote(reviewer_a, review, items[0], "include")
    client = client_for(reviewer_a)
    client.get("/reviews/exercise/records/")  # the session and settings are read once
    runs = {}
    for name, decision in {"missing": None, "disagrees": "exclude"}.items():
        sid = transaction.savepoint()
        try:
            if decision:
                vote(reviewer_b, review, items[0], decision, reason=reason(review))
            with CaptureQueriesContext(connection) as ctx:
                page = client.get("/reviews/exercise/records/", params).content.decode()
            page = re.sub(r"[A-Za-z0-9]{64}", "(a CSRF token)", page)
            runs[name] = ([_shape(q["sql"]) for q in ctx.captured_queries], page)
        finally:
            transaction.savepoint_rollback(sid)
    assert runs["missing"][0] == runs["disagrees"][0]
    page = runs["disagrees"][1]
    assert runs["missing"][1] == page  # and the same page: the record is waiting in both
    if params.get("decision") == "conflict":
        assert _count(page) == 0
    else:
        assert "Title and abstract: Awaiting votes" in page and _count(page) == 3
