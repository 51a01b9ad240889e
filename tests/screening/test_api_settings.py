"""The screening API's settings, exclusion reasons and keywords: members read them (a vote
needs its reason's id), leads change them through the same services as the settings page;
and a vote's decision is one of the choices, refused with a 400 otherwise."""

from __future__ import annotations

import json

from django.test import Client

from core.models import AuditEvent
from screening import selectors
from screening.constants import Stage
from screening.models import ExclusionReason, ScreeningSettings, Vote
from tests.conftest import client_for

from .factories import ta_items

API = "/api/reviews/exercise/screening"


def send(client, method, path, data=None):
    return getattr(client, method)(path, json.dumps(data or {}), content_type="application/json")


def test_a_reviewer_votes_with_a_reason_id_read_from_the_api(review, records, reviewer_a):
    client = client_for(reviewer_a)
    reasons = client.get(f"{API}/reasons/?stage=title_abstract&active=true").json()
    expected = selectors.reasons_for(review, Stage.TITLE_ABSTRACT)
    assert [r["id"] for r in reasons] == [r.pk for r in expected]
    assert {r["stage"] for r in reasons} == {"title_abstract"} and all(r["active"] for r in reasons)
    item = ta_items(review)[0]
    cast = send(
        client,
        "post",
        f"{API}/title-abstract/votes/",
        {"item": item.pk, "decision": "exclude", "reason": reasons[1]["id"]},
    )
    assert cast.status_code == 201, cast.content
    assert cast.json()["vote"]["reason_label"] == reasons[1]["label"]
    one = client.get(f"{API}/reasons/{reasons[1]['id']}/").json()
    assert one == reasons[1]


def test_a_decision_that_is_not_a_choice_is_refused_and_nothing_is_stored(
    review, records, reviewer_a
):
    client = client_for(reviewer_a)
    item = ta_items(review)[0]
    for decision in ("perhaps", "", None, 1, "INCLUDE"):
        response = send(
            client, "post", f"{API}/title-abstract/votes/", {"item": item.pk, "decision": decision}
        )
        assert response.status_code == 400, decision
        assert "decision" in response.json()
    assert not Vote.objects.filter(review=review).exists()
    # The reasons a vote may name are one call away, and only those of the stage are accepted.
    reasons = client.get(f"{API}/reasons/?stage=full_text").json()
    assert reasons and {r["stage"] for r in reasons} == {"full_text"}
    response = send(
        client,
        "post",
        f"{API}/title-abstract/votes/",
        {"item": item.pk, "decision": "exclude", "reason": reasons[0]["id"]},
    )
    assert response.status_code == 400
    assert not Vote.objects.filter(review=review).exists()


def test_a_lead_adds_renames_retires_moves_and_deletes_reasons(review, lead):
    client = client_for(lead)
    added = send(client, "post", f"{API}/reasons/", {"stage": "full_text", "label": "  No  data "})
    assert added.status_code == 201, added.content
    reason = added.json()
    assert (reason["stage"], reason["label"], reason["active"]) == ("full_text", "No data", True)
    renamed = send(client, "patch", f"{API}/reasons/{reason['id']}/", {"label": "No outcome data"})
    assert renamed.status_code == 200 and renamed.json()["label"] == "No outcome data"
    retired = send(client, "patch", f"{API}/reasons/{reason['id']}/", {"active": False})
    assert retired.status_code == 200 and retired.json()["active"] is False
    active = client.get(f"{API}/reasons/?stage=full_text&active=true").json()
    assert reason["id"] not in [r["id"] for r in active]
    retired_only = client.get(f"{API}/reasons/?active=false").json()
    assert [r["id"] for r in retired_only] == [reason["id"]]

    first = selectors.reasons_for(review, Stage.FULL_TEXT, active_only=False)[0]
    moved = send(client, "post", f"{API}/reasons/{first.pk}/move/", {"direction": "down"})
    assert moved.status_code == 200, moved.content
    assert [r["id"] for r in moved.json()][1] == first.pk

    duplicate = send(
        client, "post", f"{API}/reasons/", {"stage": "full_text", "label": "no OUTCOME data"}
    )
    assert duplicate.status_code == 400 and "already on the list" in duplicate.json()["label"][0]
    assert send(client, "delete", f"{API}/reasons/{reason['id']}/").status_code == 204
    assert not ExclusionReason.objects.filter(pk=reason["id"]).exists()
    verbs = set(AuditEvent.objects.filter(review=review, actor=lead).values_list("verb", flat=True))
    assert {
        "added exclusion reason",
        "changed exclusion reason",
        "reordered exclusion reasons",
        "deleted exclusion reason",
    } <= verbs


def test_a_reason_in_use_is_retired_not_deleted(review, records, lead, reviewer_a):
    item = ta_items(review)[0]
    reason = selectors.reasons_for(review, Stage.TITLE_ABSTRACT)[0]
    send(
        client_for(reviewer_a),
        "post",
        f"{API}/title-abstract/votes/",
        {"item": item.pk, "decision": "exclude", "reason": reason.pk},
    )
    response = send(client_for(lead), "delete", f"{API}/reasons/{reason.pk}/")
    assert response.status_code == 400 and "retire it instead" in response.json()["detail"][0]
    assert ExclusionReason.objects.filter(pk=reason.pk).exists()


def test_settings_and_keywords_are_read_by_members_and_changed_by_leads(review, lead, reviewer_a):
    reviewer = client_for(reviewer_a)
    settings = reviewer.get(f"{API}/settings/").json()
    assert settings["blinded"] is True and settings["reviewers_per_record"] == 2
    assert settings["reasons_full_text"] == "required"
    assert reviewer.get(f"{API}/keywords/").json() == {"include": [], "exclude": []}

    # A reviewer may not change them, whatever they send; nothing changes.
    for body in ({"blinded": False}, {"blinded": "nonsense"}):
        assert send(reviewer, "patch", f"{API}/settings/", body).status_code == 403
    assert send(reviewer, "patch", f"{API}/keywords/", {"include": ["x"]}).status_code == 403
    assert ScreeningSettings.objects.get(review=review).blinded is True

    client = client_for(lead)
    changed = send(client, "patch", f"{API}/settings/", {"blinded": False, "resolvers": "any"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["blinded"] is False and changed.json()["resolvers"] == "any"
    assert changed.json()["reviewers_per_record"] == 2  # left as it was
    stored = ScreeningSettings.objects.get(review=review)
    assert (stored.blinded, stored.resolvers) == (False, "any")

    words = send(client, "patch", f"{API}/keywords/", {"include": ["gambl*", "debt"]})
    assert words.status_code == 200, words.content
    assert words.json() == {"include": ["gambl*", "debt"], "exclude": []}
    assert reviewer.get(f"{API}/keywords/").json()["include"] == ["gambl*", "debt"]
    assert selectors.settings_for(review).keywords("include") == ["gambl*", "debt"]
    assert AuditEvent.objects.filter(verb="changed screening settings", actor=lead).count() == 2


def test_bad_settings_and_keywords_are_refused_with_the_field_named(review, lead):
    client = client_for(lead)
    for body in (
        {"reviewers_per_record": 9},
        {"maybe_policy": "sometimes"},
        {"blinded": "perhaps"},
    ):
        response = send(client, "patch", f"{API}/settings/", body)
        assert response.status_code == 400 and set(response.json()) == set(body), body
    for body in ({"include": ["<script>"]}, {"exclude": ["a\nb"]}, {"include": "gambl*"}):
        response = send(client, "patch", f"{API}/keywords/", body)
        assert response.status_code == 400 and set(response.json()) == set(body), body
    stored = ScreeningSettings.objects.get(review=review)
    assert stored.reviewers_per_record == 2 and stored.include_keywords == ""


def test_a_reviewer_may_not_edit_reasons(review, reviewer_a):
    client = client_for(reviewer_a)
    reason = selectors.reasons_for(review, Stage.TITLE_ABSTRACT)[0]
    before = list(ExclusionReason.objects.order_by("pk").values_list("label", "active", "position"))
    assert (
        send(client, "post", f"{API}/reasons/", {"stage": "full_text", "label": "X"}).status_code
        == 403
    )
    assert (
        send(client, "patch", f"{API}/reasons/{reason.pk}/", {"active": False}).status_code == 403
    )
    assert send(client, "delete", f"{API}/reasons/{reason.pk}/").status_code == 403
    assert (
        send(client, "post", f"{API}/reasons/{reason.pk}/move/", {"direction": "up"}).status_code
        == 403
    )
    after = list(ExclusionReason.objects.order_by("pk").values_list("label", "active", "position"))
    assert after == before


def test_outsiders_get_404_and_anonymous_callers_401(review, outsider):
    reason = selectors.reasons_for(review, Stage.TITLE_ABSTRACT)[0]
    client = client_for(outsider)
    for path in (
        f"{API}/settings/",
        f"{API}/keywords/",
        f"{API}/reasons/",
        f"{API}/reasons/{reason.pk}/",
    ):
        assert client.get(path).status_code == 404, path
        assert Client().get(path).status_code == 401, path
    assert send(client, "patch", f"{API}/settings/", {"blinded": False}).status_code == 404
    assert send(client, "delete", f"{API}/reasons/{reason.pk}/").status_code == 404
    # The outsider's own review's reason is 404 in this review too.
    theirs = ExclusionReason.objects.filter(review__slug="elsewhere").first()
    assert client_for(review.created_by).get(f"{API}/reasons/{theirs.pk}/").status_code == 404
