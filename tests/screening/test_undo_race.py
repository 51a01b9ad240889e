"""One reviewer's undo requests racing each other (a double click, a script): on PostgreSQL, for
real. The report: eight at once, five rounds, 15 of 40 answered 500 (``Vote.DoesNotExist``)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections

from screening import services
from screening.constants import VoteAction
from screening.models import Assignment, ScreeningItem, Vote, VoteEvent
from tests.conftest import client_for, require_postgres

from .factories import ta_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

API = "/api/reviews/exercise/screening/title-abstract"
THREADS, ROUNDS = 8, 5


def _race(client_of, requests) -> list[tuple[int, str]]:
    """Each thread sends ``requests()`` once per round, all threads at the same moment."""
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        client = client_of(n)
        try:
            for _ in range(ROUNDS):
                barrier.wait(timeout=30)
                response = requests(client)
                with lock:
                    answers.append((response.status_code, response.content.decode()[:300]))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return answers


def test_eight_undos_at_once_never_fail_and_undo_each_vote_once(review, reviewer_a, records):
    require_postgres()
    items = ta_items(review)
    for item in items[:5]:
        services.vote_cast(user=reviewer_a, review=review, item=item, decision="include")
    clients = {n: client_for(reviewer_a) for n in range(THREADS)}
    answers = _race(clients.__getitem__, lambda c: c.post(f"{API}/undo/"))
    codes = Counter(code for code, _ in answers)
    assert set(codes) <= {200, 400}, answers
    for code, body in answers:
        if code == 400:
            assert "undo" in body, body
    withdrawn = VoteEvent.objects.filter(review=review, action=VoteAction.WITHDRAWN).count()
    assert withdrawn == codes[200] and 1 <= withdrawn <= 5
    assert Vote.objects.filter(review=review).count() == 5 - withdrawn
    for item in ScreeningItem.objects.filter(review=review):
        assert item.claims == Assignment.objects.filter(item=item).count()
        assert item.status == "pending"


def test_withdrawals_of_one_vote_at_once_never_fail(review, reviewer_a, records):
    require_postgres()
    item = ta_items(review)[0]
    services.vote_cast(user=reviewer_a, review=review, item=item, decision="include")
    clients = {n: client_for(reviewer_a) for n in range(THREADS)}

    def withdraw_then_vote_again(client):
        # Every thread reads the vote's id, then tries to withdraw it; most find it gone.
        pk = Vote.objects.filter(item=item).values_list("pk", flat=True).first()
        response = client.delete(f"{API}/votes/{pk or 0}/")
        if response.status_code == 200:
            client.post(
                f"{API}/votes/",
                {"item": item.pk, "decision": "include"},
                content_type="application/json",
            )
        return response

    answers = _race(clients.__getitem__, withdraw_then_vote_again)
    assert {code for code, _ in answers} <= {200, 400, 404}, answers
    assert Vote.objects.filter(item=item).count() <= 1
    item.refresh_from_db()
    assert item.claims == Assignment.objects.filter(item=item).count() == 1
