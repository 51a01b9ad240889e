"""Blinded dual screening leaks nothing through timing (issue 13, item 2: "A voter must learn
nothing of the other vote from any count, status, timing or response").

Wall-clock times are too noisy to assert on a shared machine; what decides them is the work a
request does, and that is deterministic: the SQL statements it sends. For every request a
blinded reviewer makes about a record (read the item, cast a vote, change it, withdraw it), the
statements must be the same, in the same order and shape, whether the other reviewer has not
voted, voted the same, or voted differently. A state the server treats differently (opening a
conflict) may change the values written, never which statements run.
"""

from __future__ import annotations

import difflib
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from screening import services
from screening.constants import ItemStatus
from tests.conftest import client_for

from .factories import status, ta_items

API = "/api/reviews/exercise/screening/title-abstract"
PAGE = "/reviews/exercise/screening/title-abstract/"
#: The states of the other vote a blinded voter must not tell apart. (Agreeing votes settle the
#: record, which every member then sees settled: that is the rule of dual screening, not a
#: leak. A disagreement is shown to the voter as a record still waiting for its second vote.)
OTHER = {"none": None, "disagrees": "exclude"}


def shape(sql: str) -> str:
    """A statement with its values taken out: what it does, not what it carries."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    sql = re.sub(r"\(\?(?:, \?)*\)", "(?...)", sql)
    # Savepoint names carry a random suffix.
    return re.sub(r'"?s\w+_x\d+"?', "SAVEPOINT", sql)


def statements(client, method: str, path: str, data=None) -> tuple[int, list[str]]:
    call = getattr(client, method)
    with CaptureQueriesContext(connection) as ctx:
        args = () if data is None else (data,)
        response = call(path, *args, content_type="application/json")
    return response.status_code, [shape(q["sql"]) for q in ctx.captured_queries]


def assert_same_work(runs: dict[str, tuple[int, list[str]]]) -> None:
    (first_name, first), *rest = runs.items()
    for name, other in rest:
        assert other[0] == first[0], f"status {other[0]} when the other vote {name}"
        diff = "\n".join(
            line[:160]
            for line in difflib.unified_diff(first[1], other[1], first_name, name, lineterm="")
        )
        assert other[1] == first[1], (
            f"the request does different work when the other vote {name} than when it "
            f"{first_name}:\n{diff}"
        )


@pytest.fixture
def items(review, records, reviewer_b):
    items = ta_items(review)
    # Screening is under way: a vote on another record (the review's own first-vote
    # bookkeeping is not what is compared here).
    services.vote_cast(user=reviewer_b, review=review, item=items[-1], decision="include")
    return items


def in_each_world(review, reviewer_b, item, run) -> dict[str, tuple[int, list[str]]]:
    """``run()`` once per state of the other reviewer's vote on ``item``, each from the same
    starting point (a savepoint rolled back afterwards), so that only that state differs."""
    runs = {}
    for name, decision in OTHER.items():
        sid = transaction.savepoint()
        try:
            if decision is not None:
                services.vote_cast(user=reviewer_b, review=review, item=item, decision=decision)
            runs[name] = run()
        finally:
            transaction.savepoint_rollback(sid)
    return runs


def test_casting_the_second_vote_does_the_same_work_whatever_the_first(
    items, review, reviewer_a, reviewer_b
):
    a = client_for(reviewer_a)
    a.get(f"{API}/progress/")  # the session and the review's settings are read once
    item = items[0]
    seen = []

    def cast():
        result = statements(a, "post", f"{API}/votes/", {"item": item.pk, "decision": "include"})
        seen.append(status(item))
        return result

    runs = in_each_world(review, reviewer_b, item, cast)
    assert seen == [ItemStatus.PENDING, ItemStatus.CONFLICT]
    assert_same_work(runs)


@pytest.mark.parametrize(
    "request_",
    [
        "read the item",
        "change the vote",
        "withdraw the vote",
        "read the progress",
        "list my votes",
        "open the stage page",
        "open the record's page",
    ],
)
def test_what_a_voter_does_after_voting_does_the_same_work_whatever_the_other(
    items, review, reviewer_a, reviewer_b, request_
):
    a = client_for(reviewer_a)
    item = items[0]
    answer = a.post(
        f"{API}/votes/", {"item": item.pk, "decision": "include"}, content_type="application/json"
    )
    vote = answer.json()["vote"]["id"]
    a.get(f"{API}/progress/")
    call = {
        "read the item": ("get", f"{API}/items/{item.pk}/", None),
        "change the vote": ("patch", f"{API}/votes/{vote}/", {"decision": "exclude"}),
        "withdraw the vote": ("delete", f"{API}/votes/{vote}/", None),
        "read the progress": ("get", f"{API}/progress/", None),
        "list my votes": ("get", f"{API}/votes/", None),
        "open the stage page": ("get", PAGE, None),
        "open the record's page": ("get", f"/reviews/exercise/records/{item.record_id}/", None),
    }[request_]
    assert_same_work(in_each_world(review, reviewer_b, item, lambda: statements(a, *call)))
