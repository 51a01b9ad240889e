"""Resolvers racing each other and the voters, on PostgreSQL, for real (issue 13: "Races:
concurrent voters, undoers and resolvers on the same records against PostgreSQL: no lost or
doubled votes, no record over its required votes, no 500").

Ten records in conflict. At once, through the API: the lead and a third reviewer each resolve
every one of them (in different orders, with different decisions), while the two voters change
and withdraw their votes on the same records. Each record ends with exactly one resolution and
the status it names, each loser is told why (4xx, never 5xx), and every vote change that was
accepted is in the history once.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.db import connections

from core.models import AuditEvent
from screening import services
from screening.constants import ItemStatus, VoteAction
from screening.models import Resolution, ScreeningItem, Vote, VoteEvent
from tests.conftest import client_for, require_postgres

from .factories import make_records, ta_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

API = "/api/reviews/exercise/screening/title-abstract"
CONFLICTS = 10


def _run_all(jobs) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


def test_resolvers_and_voters_at_once_settle_each_record_once(
    review, lead, reviewer_a, reviewer_b, reviewer_c
):
    require_postgres()
    services.settings_update(actor=lead, review=review, resolvers="third")
    make_records(review, CONFLICTS)
    items = ta_items(review)
    votes: dict[str, dict[int, int]] = {"a": {}, "b": {}}
    for item in items:
        votes["a"][item.pk] = services.vote_cast(
            user=reviewer_a, review=review, item=item, decision="include"
        ).pk
        votes["b"][item.pk] = services.vote_cast(
            user=reviewer_b, review=review, item=item, decision="exclude"
        ).pk
    assert {i.status for i in ScreeningItem.objects.filter(pk__in=[i.pk for i in items])} == {
        ItemStatus.CONFLICT
    }
    events_before = VoteEvent.objects.filter(review=review).count()
    answers: dict[str, list[tuple[int, int]]] = {}
    accepted_changes = Counter()

    def resolver(user, decision, seed):
        def job():
            client = client_for(user)
            order = [i.pk for i in items]
            random.Random(seed).shuffle(order)
            got = answers.setdefault(user.username, [])
            for pk in order:
                r = client.post(
                    f"{API}/conflicts/{pk}/resolve/",
                    {"decision": decision},
                    content_type="application/json",
                )
                got.append((pk, r.status_code))

        return job

    def voter(user, key, decision):
        def job():
            client = client_for(user)
            got = answers.setdefault(user.username, [])
            for pk, vote_id in votes[key].items():
                r = client.patch(
                    f"{API}/votes/{vote_id}/",
                    {"decision": decision},
                    content_type="application/json",
                )
                got.append((pk, r.status_code))
                if r.status_code == 200:
                    accepted_changes[user.username] += 1

        return job

    errors = _run_all(
        [
            resolver(lead, "include", 1),
            resolver(reviewer_c, "exclude", 2),
            voter(reviewer_a, "a", "exclude"),
            voter(reviewer_b, "b", "include"),
        ]
    )
    assert not errors, errors

    for name, got in answers.items():
        codes = Counter(code for _, code in got)
        assert all(code < 500 for code in codes), f"{name} got {codes}"
    # Each record was resolved exactly once, by one of the two, and says what that one chose.
    resolved_by = Counter()
    for item in ScreeningItem.objects.filter(pk__in=[i.pk for i in items]):
        resolutions = list(Resolution.objects.filter(item=item))
        assert len(resolutions) == 1, f"record {item.record_id}: {len(resolutions)} resolutions"
        [resolution] = resolutions
        expected = ItemStatus.INCLUDED if resolution.decision == "include" else ItemStatus.EXCLUDED
        assert item.status == expected
        resolved_by[resolution.resolved_by.username] += 1
        # Never more votes than required, and the voters' votes are still theirs.
        assert Vote.objects.filter(item=item).count() == 2
    assert sum(resolved_by.values()) == CONFLICTS
    wins = {name: sum(1 for _, code in answers[name] if code == 200) for name in resolved_by}
    assert wins == dict(resolved_by), "a 200 for a resolution that was not kept"
    for name in ("lead", "reviewer_c"):
        refused = [code for _, code in answers[name] if code != 200]
        assert set(refused) <= {400, 409}, f"{name}: {refused}"
    assert AuditEvent.objects.filter(review=review, verb="resolved conflict").count() == CONFLICTS
    # Every vote change that was answered 200 is in the history exactly once; the refused ones
    # (the record was settled first) left nothing.
    changes = Counter(
        VoteEvent.objects.filter(review=review, action=VoteAction.CHANGED).values_list(
            "reviewer__username", flat=True
        )
    )
    assert changes == accepted_changes
    assert VoteEvent.objects.filter(review=review).count() == events_before + sum(
        accepted_changes.values()
    )
