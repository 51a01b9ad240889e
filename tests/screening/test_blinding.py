"""Blinded dual screening: a voter learns nothing of the other vote from any count, status or
answer, and a record in conflict is settled only by a resolution (issue 13, item 2).

The scenario of the report: reviewer A votes, reviewer B disagrees. Everything A can read
(the stage page, the progress API, the item, A's votes, the conflict list, the votes CSV)
must look exactly as it did while B had not voted; changing or withdrawing A's vote must not
settle the record.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from screening import services
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem, Vote
from tests.conftest import client_for

from .factories import status, ta_items

PAGE = "/reviews/exercise/screening/title-abstract/"
API = "/api/reviews/exercise/screening/title-abstract"
A_NOTE, B_NOTE = "a-note-7f3c", "b-note-91ad"


def csv_of(client) -> str:
    return b"".join(client.get(f"{PAGE}votes.csv").streaming_content).decode()


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def patch(client, path, data):
    return client.patch(path, data, content_type="application/json")


@pytest.fixture
def items(review, records):
    return ta_items(review)


def what_a_sees(client) -> dict:
    """Every count and status reviewer A's pages and API answers show."""
    page = client.get(PAGE).content.decode()
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    button = re.findall(r"Conflicts \((\d+)\)", page)
    progress = client.get(f"{API}/progress/").json()
    csv_text = csv_of(client)
    return {
        "page": counts,
        "button": button,
        "progress": progress,
        "votes": client.get(f"{API}/votes/").json()["count"],
        "csv": list(csv.reader(io.StringIO(csv_text))),
        "conflicts": conflict_ids(client),
    }


def conflict_ids(client) -> list[int] | int:
    """The records in A's conflict list (or the status code when A has none to see)."""
    response = client.get(f"{API}/conflicts/")
    if response.status_code != 200:
        return response.status_code
    return [i["id"] for i in response.json()["results"]]


def a_votes(client, item, decision="include"):
    response = post(
        client, f"{API}/votes/", {"item": item.pk, "decision": decision, "note": A_NOTE}
    )
    assert response.status_code == 201, response.content
    return response.json()["vote"]["id"]


def b_votes(review, reviewer_b, item, decision="exclude"):
    services.vote_cast(user=reviewer_b, review=review, item=item, decision=decision, note=B_NOTE)


def test_a_voters_counts_do_not_change_when_the_other_vote_disagrees(
    items, review, lead, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    # An earlier conflict that A had no part in (B and the lead disagreed) is A's to resolve.
    services.vote_cast(user=lead, review=review, item=items[1], decision="include")
    b_votes(review, reviewer_b, items[1])
    a_votes(a, items[0])
    before = what_a_sees(a)
    assert before["progress"]["conflicts"] == 1 and before["button"] == ["1"]
    b_votes(review, reviewer_b, items[0])
    assert status(items[0]) == ItemStatus.CONFLICT
    after = what_a_sees(a)
    assert after == before
    assert after["page"]["conflicts"] == "1" and after["progress"]["pending"] == 5
    # The record in conflict is shown to A as one of theirs, still waiting.
    item = a.get(f"{API}/items/{items[0].pk}/").json()
    assert item["status"] == "pending" and [v["reviewer"] for v in item["votes"]] == ["reviewer_a"]
    page = a.get(PAGE).content.decode()
    assert B_NOTE not in page and "settled (" not in page
    # A may not see others' progress while blinded: their vote counts would give B's vote away.
    assert [r["username"] for r in after["progress"]["reviewers"]] == ["reviewer_a"]
    # The lead sees the truth.
    truth = client_for(lead).get(f"{API}/progress/").json()
    assert truth["conflicts"] == 2 and truth["pending"] == 4
    assert {r["username"] for r in truth["reviewers"]} >= {"reviewer_a", "reviewer_b"}
    lead_page = client_for(lead).get(PAGE).content.decode()
    assert 'data-count="conflicts">2<' in lead_page and "Conflicts (2)" in lead_page


@pytest.mark.parametrize("policy", ["leads", "third"])
def test_a_reviewer_who_may_not_resolve_sees_no_conflict_of_their_own(
    items, review, lead, reviewer_a, reviewer_b, policy
):
    services.settings_update(actor=lead, review=review, resolvers=policy)
    a = client_for(reviewer_a)
    a_votes(a, items[0])
    before = what_a_sees(a)
    b_votes(review, reviewer_b, items[0])
    assert what_a_sees(a) == before
    assert before["progress"]["conflicts"] == 0


def test_a_viewer_sees_counts_without_conflicts_while_blinded(
    items, review, reviewer_a, reviewer_b, viewer
):
    services.vote_cast(user=reviewer_a, review=review, item=items[0], decision="include")
    b_votes(review, reviewer_b, items[0])
    progress = client_for(viewer).get(f"{API}/progress/").json()
    assert progress["conflicts"] == 0 and progress["pending"] == 6
    assert progress["reviewers"] == []


def test_with_any_resolver_or_unblinded_a_reviewer_sees_the_truth(
    items, review, lead, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    a_votes(a, items[0])
    b_votes(review, reviewer_b, items[0])
    services.settings_update(actor=lead, review=review, resolvers="any")
    assert a.get(f"{API}/progress/").json()["conflicts"] == 1
    services.settings_update(actor=lead, review=review, resolvers="third", blinded=False)
    progress = a.get(f"{API}/progress/").json()
    assert progress["conflicts"] == 1 and len(progress["reviewers"]) >= 2


def test_changing_a_vote_in_conflict_keeps_it_in_conflict(
    items, review, lead, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    vote_id = a_votes(a, items[0])
    b_votes(review, reviewer_b, items[0])
    answer = patch(a, f"{API}/votes/{vote_id}/", {"decision": "exclude"})
    assert answer.status_code == 200, answer.content
    assert B_NOTE not in answer.content.decode()
    assert status(items[0]) == ItemStatus.CONFLICT  # not settled by agreeing afterwards
    item = a.get(f"{API}/items/{items[0].pk}/").json()
    assert item["status"] == "pending"
    assert [(v["reviewer"], v["decision"]) for v in item["votes"]] == [("reviewer_a", "exclude")]
    assert B_NOTE not in a.get(f"{API}/items/{items[0].pk}/").content.decode()
    # Only a resolution settles it.
    resolved = post(
        client_for(lead), f"{API}/conflicts/{items[0].pk}/resolve/", {"decision": "exclude"}
    )
    assert resolved.status_code == 200
    assert status(items[0]) == ItemStatus.EXCLUDED


def test_changing_a_vote_in_conflict_through_the_page_keeps_it_in_conflict(
    items, review, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    a_votes(a, items[0])
    b_votes(review, reviewer_b, items[0])
    response = a.post(
        f"{PAGE}vote/", {"item": items[0].pk, "decision": "exclude", "back": "stage"}, follow=True
    )
    assert response.status_code == 200 and "Vote saved." in response.content.decode()
    assert status(items[0]) == ItemStatus.CONFLICT


def test_withdrawing_and_recasting_in_conflict_keeps_it_in_conflict(
    items, review, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    vote_id = a_votes(a, items[0])
    b_votes(review, reviewer_b, items[0])
    withdrawn = a.delete(f"{API}/votes/{vote_id}/")
    assert withdrawn.status_code == 200, withdrawn.content
    body = withdrawn.json()["item"]
    assert body["status"] == "pending" and body["votes"] == []
    assert status(items[0]) == ItemStatus.CONFLICT
    # Having voted on it, A is no third person: A may neither see B's vote nor resolve it.
    assert items[0].pk not in conflict_ids(a)
    assert B_NOTE not in a.get(f"{API}/items/{items[0].pk}/").content.decode()
    assert B_NOTE not in csv_of(a)
    refused = post(a, f"{API}/conflicts/{items[0].pk}/resolve/", {"decision": "exclude"})
    assert refused.status_code == 403
    # The record comes back to A as a withdrawn vote's record always does.
    assert a.get(f"{API}/next/").json()["item"]["id"] == items[0].pk
    a_votes(a, items[0], "exclude")  # now agreeing with B
    assert status(items[0]) == ItemStatus.CONFLICT
    assert a.get(f"{API}/items/{items[0].pk}/").json()["status"] == "pending"


def test_undo_in_conflict_keeps_it_in_conflict(items, review, reviewer_a, reviewer_b):
    a = client_for(reviewer_a)
    a_votes(a, items[0])
    b_votes(review, reviewer_b, items[0])
    undone = post(a, f"{API}/undo/")
    assert undone.status_code == 200 and undone.json()["item"]["status"] == "pending"
    assert status(items[0]) == ItemStatus.CONFLICT
    a_votes(a, items[0], "exclude")
    assert status(items[0]) == ItemStatus.CONFLICT
    assert Vote.objects.filter(item=items[0]).count() == 2


def test_the_votes_csv_shows_a_blinded_voter_their_own_rows_as_waiting(
    items, review, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    a_votes(a, items[0])
    b_votes(review, reviewer_b, items[0])
    rows = list(csv.reader(io.StringIO(csv_of(a))))
    assert [(r[5], r[4]) for r in rows[1:]] == [("reviewer_a", "pending")]
    assert B_NOTE not in str(rows)


def test_a_past_voter_is_no_third_person(items, review, reviewer_a, reviewer_b, reviewer_c):
    """Under "third" a reviewer who voted and withdrew still may not resolve the record."""
    services.vote_cast(user=reviewer_a, review=review, item=items[0], decision="include")
    b_votes(review, reviewer_b, items[0])
    services.vote_undo(user=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    item = ScreeningItem.objects.get(pk=items[0].pk)
    from screening import selectors

    assert not selectors.may_resolve(user=reviewer_a, review=review, item=item)
    assert selectors.may_resolve(user=reviewer_c, review=review, item=item)
    assert selectors.status_visible(user=reviewer_a, review=review, item=item) == "pending"


def prisma_notes(client) -> list[str]:
    page = client.get("/reviews/exercise/prisma/").content.decode()
    return re.findall(r"<li>([^<]*(?:still open|awaits? resolution)[^<]*)</li>", page)


def test_the_prisma_page_tells_a_blinded_voter_nothing_of_the_conflict(
    items, review, lead, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    a_votes(a, items[0])
    before = prisma_notes(a)
    b_votes(review, reviewer_b, items[0])
    assert status(items[0]) == ItemStatus.CONFLICT
    assert prisma_notes(a) == before
    assert not any("conflict" in note for note in before)
    # The lead reads the truth.
    assert any(
        "1 title/abstract conflict awaits resolution" in n for n in prisma_notes(client_for(lead))
    )
