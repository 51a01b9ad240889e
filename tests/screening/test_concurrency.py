"""Two reviewers asking for the last slot at the same moment: on PostgreSQL, for real."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from screening import services
from screening.models import Assignment, ScreeningItem
from tests.conftest import require_postgres

from .factories import make_records, ta_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(users, review, stage: str, rounds: int) -> dict[str, list[int]]:
    barrier = threading.Barrier(len(users))
    got: dict[str, list[int]] = {u.username: [] for u in users}
    errors: list[BaseException] = []

    def run(user) -> None:
        try:
            for _ in range(rounds):
                barrier.wait(timeout=30)
                item = services.assignment_next(user=user, review=review, stage=stage)
                if item is not None:
                    got[user.username].append(item.pk)
                    services.vote_cast(user=user, review=review, item=item, decision="include")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return got


def test_two_reviewers_racing_for_the_last_slot_do_not_both_get_it(
    review, lead, reviewer_a, reviewer_b, reviewer_c
):
    require_postgres()
    make_records(review, 1)
    item = ta_items(review)[0]
    services.vote_cast(user=lead, review=review, item=item, decision="include")  # 1 of 2
    got = _race([reviewer_a, reviewer_b], review, "title_abstract", rounds=1)
    winners = [name for name, pks in got.items() if pks]
    assert len(winners) == 1
    item.refresh_from_db()
    assert item.claims == 2 and Assignment.objects.filter(item=item).count() == 2


def test_many_reviewers_at_once_fill_every_record_exactly(
    review, lead, reviewer_a, reviewer_b, reviewer_c
):
    require_postgres()
    make_records(review, 30)
    ta_items(review)
    users = [lead, reviewer_a, reviewer_b, reviewer_c]
    got = _race(users, review, "title_abstract", rounds=20)
    for pks in got.values():
        assert len(pks) == len(set(pks))
    assert sum(len(p) for p in got.values()) == 60
    for item in ScreeningItem.objects.filter(review=review, stage="title_abstract"):
        assert item.claims == 2 and item.votes.count() == 2 and item.status == "included"
