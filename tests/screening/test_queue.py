"""The queue: no record shown to a reviewer twice, each filled with the reviewers it needs, a
reload showing the same record, the last slot to one reviewer, stale claims handed on, and the
order of the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from screening import services
from screening.models import Assignment, ScreeningItem, Vote
from screening.services import queue
from tests.conftest import client_for

from .factories import make_records, ta_items, vote

# --- Assignment --------------------------------------------------------------------------------


def test_assignment_never_shows_a_record_twice_and_fills_each_record(
    review, reviewer_a, reviewer_b, reviewer_c, records
):
    ta_items(review)
    seen: dict[str, list[int]] = {}
    for _ in range(len(records)):
        for user in (reviewer_a, reviewer_b, reviewer_c):
            item = services.assignment_next(user=user, review=review, stage="title_abstract")
            if item is None:
                continue
            seen.setdefault(user.username, []).append(item.pk)
            vote(user, review, item, "include")
    for pks in seen.values():
        assert len(pks) == len(set(pks))
    assert sum(len(p) for p in seen.values()) == 2 * len(records)
    for item in ScreeningItem.objects.filter(stage="title_abstract"):
        assert item.claims == 2 and item.votes.count() == 2
    for user in (reviewer_a, reviewer_b, reviewer_c):
        assert services.assignment_next(user=user, review=review, stage="title_abstract") is None


def test_a_reload_gives_the_same_record_and_a_preload_the_next(review, reviewer_a, records):
    ta_items(review)
    first = services.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    again = services.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    following = services.assignment_next(
        user=reviewer_a, review=review, stage="title_abstract", exclude=[first.pk]
    )
    assert again.pk == first.pk and following.pk != first.pk
    assert Assignment.objects.filter(reviewer=reviewer_a, voted_at__isnull=True).count() == 2


def test_the_last_slot_goes_to_one_reviewer_only(
    review, lead, reviewer_a, reviewer_b, reviewer_c, records
):
    """Two reviewers who both saw the last free slot: the conditional claim lets one through."""
    services.settings_update(actor=lead, review=review, reviewers_per_record=2)
    item = ta_items(review)[0]
    vote(reviewer_a, review, item, "include")  # one slot of two left
    # Both reviewers found the item with one free slot, as if they asked at once; the claim,
    # a conditional UPDATE under the row lock, lets only the first through.
    assert queue._claim(review, item.pk, reviewer_b, "title_abstract", 2) is not None
    assert queue._claim(review, item.pk, reviewer_c, "title_abstract", 2) is None
    item.refresh_from_db()
    assert item.claims == 2
    assert set(
        Assignment.objects.filter(item=item).values_list("reviewer__username", flat=True)
    ) == {
        "reviewer_a",
        "reviewer_b",
    }


def test_stale_claims_are_handed_on(review, lead, reviewer_a, reviewer_b, reviewer_c, records):
    services.settings_update(actor=lead, review=review, reviewers_per_record=1)
    items = ta_items(review)
    for _ in items:
        services.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    Assignment.objects.update(claimed_at=timezone.now() - timedelta(days=1))
    # Reviewer A holds at most a few claims; B gets the rest, then A's stale ones.
    got = []
    while nxt := services.assignment_next(user=reviewer_b, review=review, stage="title_abstract"):
        got.append(nxt.pk)
        vote(reviewer_b, review, nxt, "exclude")
    assert sorted(got) == [i.pk for i in items]


def test_a_viewer_cannot_screen(review, viewer, records):
    item = ta_items(review)[0]
    with pytest.raises(PermissionDenied):
        services.assignment_next(user=viewer, review=review, stage="title_abstract")
    with pytest.raises(PermissionDenied):
        vote(viewer, review, item, "include")
    assert not Vote.objects.exists()


# --- Order: higher priority first, then the oldest record ---------------------------------------

TA = "title_abstract"


def _prioritise(items: list[ScreeningItem], priorities: list[float]) -> list[int]:
    """Give the items these priorities; their ids in the order the queue should hand them out."""
    for item, priority in zip(items, priorities, strict=True):
        ScreeningItem.objects.filter(pk=item.pk).update(priority=priority)
    ranked = sorted(zip(priorities, items, strict=True), key=lambda p: (-p[0], p[1].pk))
    return [item.pk for _, item in ranked]


def _screen_all(user, review) -> list[int]:
    shown = []
    while item := services.assignment_next(user=user, review=review, stage=TA):
        shown.append(item.pk)
        vote(user, review, item, "include")
    return shown


def test_with_every_priority_zero_the_queue_runs_in_the_order_of_the_records(
    review, reviewer_a, records
):
    items = ta_items(review)
    assert {i.priority for i in items} == {0}
    assert _screen_all(reviewer_a, review) == [i.pk for i in items]


def test_the_queue_hands_out_higher_priority_first_then_the_oldest(review, reviewer_a, records):
    expected = _prioritise(ta_items(review), [0, 2.5, 0, 7, 2.5, -1])
    assert _screen_all(reviewer_a, review) == expected


def test_the_queue_pages_on_in_priority_order_past_records_the_reviewer_had(
    review, reviewer_a, reviewer_b, records, monkeypatch
):
    """Each vote leaves its record waiting for a second reviewer, so every later call pages past
    all the records this reviewer had: pages of two, with ties across the page boundaries."""
    monkeypatch.setattr(queue, "CANDIDATE_BATCH", 2)
    make_records(review, 6, prefix="More: ")
    items = ta_items(review)
    expected = _prioritise(items, [1, 0, 1, 3, 0, 1, 3, 0.5, 1, 0, 3, 1])
    assert _screen_all(reviewer_a, review) == expected
    assert _screen_all(reviewer_b, review) == expected


def test_the_screening_page_shows_the_highest_priority_record_and_preloads_the_next(
    review, reviewer_a, records
):
    expected = _prioritise(ta_items(review), [0, 0, 5, 0, 9, 0])
    response = client_for(reviewer_a).get("/reviews/exercise/screening/title-abstract/screen/")
    assert response.status_code == 200
    current, upcoming = response.context["current"], response.context["upcoming"]
    assert [current["item"].pk, upcoming["item"].pk] == expected[:2]
    fragment = client_for(reviewer_a).get(
        "/reviews/exercise/screening/title-abstract/next/",
        {"exclude": f"{expected[0]},{expected[1]}"},
    )
    assert fragment.context["card"]["item"].pk == expected[2]


def test_the_api_hands_out_the_next_record_in_priority_order(review, reviewer_a, records):
    api = "/api/reviews/exercise/screening/title-abstract"
    expected = _prioritise(ta_items(review), [0, 4, 0, 0, 4, 8])
    client = client_for(reviewer_a)
    first = client.get(f"{api}/next/").json()["item"]["id"]
    shown = [first]
    while len(shown) < len(expected):
        body = client.post(
            f"{api}/votes/",
            {"item": shown[-1], "decision": "exclude"},
            content_type="application/json",
        ).json()
        shown.append(body["next"]["id"])
    assert shown == expected
