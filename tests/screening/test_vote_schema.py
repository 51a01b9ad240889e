"""The API schema tells the truth about votes (issue 13, item 8): an include vote has no reason,
its ``reason_label`` is null, and the schema says it may be."""

from __future__ import annotations

from tests.conftest import client_for

from .factories import ta_items

API = "/api/reviews/exercise/screening/title-abstract"


def test_reason_label_is_null_without_a_reason_and_the_schema_allows_it(
    review, records, reviewer_a
):
    client = client_for(reviewer_a)
    item = ta_items(review)[0]
    response = client.post(
        f"{API}/votes/", {"item": item.pk, "decision": "include"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["vote"]["reason_label"] is None
    assert client.get(f"{API}/votes/").json()["results"][0]["reason_label"] is None

    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    label = schema["Vote"]["properties"]["reason_label"]
    assert label["type"] == "string" and label.get("nullable") is True
