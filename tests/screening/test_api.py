"""The screening API: same permissions and blinding as the pages, 400 (never 500) on bad input."""

from __future__ import annotations

import json

import pytest

from screening import services
from screening.models import ScreeningItem, Vote
from tests.conftest import client_for

from .factories import ta_items

API = "/api/reviews/exercise/screening/title-abstract"


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


@pytest.fixture
def items(review, records):
    return ta_items(review)


def test_next_then_vote_returns_the_following_record(items, reviewer_a):
    client = client_for(reviewer_a)
    first = client.get(f"{API}/next/").json()["item"]
    assert first["record"]["title"] and first["votes"] == [] and first["status"] == "pending"
    response = post(client, f"{API}/votes/", {"item": first["id"], "decision": "include"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["vote"]["decision"] == "include" and body["vote"]["reviewer"] == "reviewer_a"
    assert body["next"]["id"] != first["id"]
    assert client.get(f"{API}/votes/").json()["count"] == 1


def test_the_upcoming_list_keeps_the_preloaded_record_out_of_the_answer(items, reviewer_a):
    client = client_for(reviewer_a)
    first = client.get(f"{API}/next/").json()["item"]["id"]
    second = client.get(f"{API}/next/?exclude={first}").json()["item"]["id"]
    body = post(
        client, f"{API}/votes/", {"item": first, "decision": "exclude", "upcoming": [second]}
    ).json()
    assert body["next"]["id"] not in (first, second)


def test_blinded_api_answers_never_carry_the_other_vote(items, lead, reviewer_a, reviewer_b):
    item = items[0]
    a, b = client_for(reviewer_a), client_for(reviewer_b)
    post(a, f"{API}/votes/", {"item": item.pk, "decision": "include", "note": "a-note"})
    b_body = post(b, f"{API}/votes/", {"item": item.pk, "decision": "exclude", "note": "b-note"})
    assert b"a-note" not in b_body.content
    b_vote = b_body.json()["vote"]["id"]
    answers = [
        a.get(f"{API}/items/{item.pk}/"),
        a.get(f"{API}/votes/"),
        a.get(f"{API}/votes/{b_vote}/"),
        a.get(f"{API}/conflicts/"),
        a.get(f"{API}/progress/"),
        a.get(f"{API}/agreement/"),
        a.get(f"{API}/next/"),
    ]
    for response in answers:
        assert b"b-note" not in response.content
        assert b'"decision":"exclude"' not in response.content
        assert b'"conflicts":1}' not in response.content  # no per-reviewer conflict counts
    assert answers[0].json()["status"] == "pending"  # not even "conflict"
    assert [v["reviewer"] for v in answers[0].json()["votes"]] == ["reviewer_a"]
    assert answers[2].status_code == 404
    lead_view = client_for(lead).get(f"{API}/conflicts/").json()["results"]
    assert {v["note"] for v in lead_view[0]["votes"]} == {"a-note", "b-note"}
    resolved = post(
        client_for(lead), f"{API}/conflicts/{item.pk}/resolve/", {"decision": "exclude"}
    )
    assert resolved.status_code == 200 and resolved.json()["item"]["status"] == "excluded"
    after = a.get(f"{API}/items/{item.pk}/").json()
    assert {v["note"] for v in after["votes"]} == {"a-note", "b-note"}


def test_a_vote_changes_and_is_withdrawn_through_its_own_url(items, reviewer_a):
    client = client_for(reviewer_a)
    vote = post(client, f"{API}/votes/", {"item": items[0].pk, "decision": "include"}).json()
    vid = vote["vote"]["id"]
    changed = client.patch(
        f"{API}/votes/{vid}/",
        {"decision": "maybe", "note": "unsure"},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["decision"] == "maybe"
    bad_put = client.put(f"{API}/votes/{vid}/", {"note": "x"}, content_type="application/json")
    assert bad_put.status_code == 400
    gone = client.delete(f"{API}/votes/{vid}/")
    assert gone.status_code == 200 and not Vote.objects.exists()
    assert post(client, f"{API}/undo/", {}).status_code == 400


def test_undo_returns_the_record(items, reviewer_a):
    client = client_for(reviewer_a)
    post(client, f"{API}/votes/", {"item": items[0].pk, "decision": "exclude"})
    body = post(client, f"{API}/undo/", {}).json()
    assert body["item"]["id"] == items[0].pk and body["item"]["votes"] == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"item": "x", "decision": "include"},
        {"item": -1, "decision": "include"},
        {"item": 10**30, "decision": "include"},
        {"item": "ITEM", "decision": ["include"]},
        {"item": "ITEM", "decision": "include", "note": {"$gt": 1}},
        {"item": "ITEM", "decision": "exclude", "reason": "drop table"},
        {"item": "ITEM", "decision": "exclude", "reason": 123456789},
        {"item": "ITEM", "decision": "yes"},
        {"item": "ITEM", "decision": "include", "upcoming": "1,2"},
        {"item": "ITEM", "decision": "include", "note": "n" * 9000},
    ],
)
def test_bad_vote_payloads_are_400_and_change_nothing(items, reviewer_a, payload):
    payload = {k: (items[0].pk if v == "ITEM" else v) for k, v in payload.items()}
    response = post(client_for(reviewer_a), f"{API}/votes/", payload)
    assert response.status_code == 400, response.content
    assert response.json()
    assert not Vote.objects.exists()


def test_malformed_json_is_400(items, reviewer_a):
    response = client_for(reviewer_a).post(
        f"{API}/votes/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_unknown_and_foreign_items_are_404(review, items, reviewer_a, outsider):
    from reviews.models import Review

    from .factories import make_records

    elsewhere = Review.objects.get(slug="elsewhere")
    make_records(elsewhere, 1)
    foreign = ta_items(elsewhere)[0]
    client = client_for(reviewer_a)
    assert (
        post(client, f"{API}/votes/", {"item": foreign.pk, "decision": "include"}).status_code
        == 404
    )
    assert client.get(f"{API}/items/{foreign.pk}/").status_code == 404
    assert client_for(outsider).get(f"{API}/next/").status_code == 404
    assert not Vote.objects.exists()


def test_a_viewer_reads_progress_but_cannot_vote(items, viewer):
    client = client_for(viewer)
    assert client.get(f"{API}/progress/").status_code == 200
    assert client.get(f"{API}/next/").status_code == 403
    assert (
        post(client, f"{API}/votes/", {"item": items[0].pk, "decision": "include"}).status_code
        == 403
    )
    assert client.get(f"{API}/conflicts/").status_code == 403


def test_token_authentication_works_for_the_api(items, reviewer_a):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=reviewer_a)
    client = Client(headers={"Authorization": f"Token {token.key}"})
    item = client.get(f"{API}/next/").json()["item"]
    response = client.post(
        f"{API}/votes/",
        json.dumps({"item": item["id"], "decision": "include"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert ScreeningItem.objects.get(pk=item["id"]).votes.count() == 1


def test_progress_and_agreement_shapes(items, lead, reviewer_a, reviewer_b):
    for user in (reviewer_a, reviewer_b):
        services.vote_cast(user=user, review=items[0].review, item=items[0], decision="include")
    client = client_for(lead)
    progress = client.get(f"{API}/progress/").json()
    assert progress["included"] == 1 and progress["remaining"] == 5
    agreement = client.get(f"{API}/agreement/").json()
    assert agreement["records"] == 1 and agreement["pooled"]["percent_agreement"] == 100.0
