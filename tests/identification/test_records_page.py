"""The record page: its duplicates, and, to those allowed, its votes, notes and history.

Votes, notes and history come from screening through ``identification.hooks.record_steps``
(``screening/record_hooks.py``), under the blinding rules of ``screening/selectors/policy.py``.
"""

from __future__ import annotations

from identification.models import Record
from reviews import services as review_services
from reviews.constants import Role
from screening import services as screening
from screening.constants import Stage
from screening.models import ScreeningItem
from tests.conftest import client_for, make_user
from tests.identification.test_records_list import five_copies, screened  # noqa: F401
from tests.screening.factories import reason


def _page(user, record_pk: int) -> str:
    response = client_for(user).get(f"/reviews/exercise/records/{record_pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _record(review, n: int) -> Record:
    return Record.objects.filter(review=review).order_by("pk")[n]


def test_the_page_of_a_primary_record_lists_its_duplicates(lead, review, five_copies):  # noqa: F811
    page = _page(lead, five_copies.pk)
    copies = Record.objects.filter(duplicate_of=five_copies)
    assert "Records merged into this one as its duplicates (4)" in page
    for copy in copies:
        assert f'href="/reviews/exercise/records/{copy.pk}/"' in page
    copy = copies.first()
    page = _page(lead, copy.pk)
    assert "This record is a duplicate of" in page
    assert f'href="/reviews/exercise/records/{five_copies.pk}/"' in page
    assert "Other records merged with it (3)" in page


def test_a_record_without_duplicates_says_so(lead, review, screened):  # noqa: F811
    assert "No duplicates of this record were found." in _page(lead, _record(review, 4).pk)


def test_the_lead_sees_both_votes_notes_and_history_of_a_conflict(lead, review, screened):  # noqa: F811
    page = _page(lead, _record(review, 0).pk)
    assert "Screening: title and abstract" in page and "In conflict" in page
    assert "A thinks so" in page and "B-SECRET-NOTE" in page
    assert "reviewer_b" in page and "History (2)" in page


def test_a_blinded_voter_sees_only_their_own_vote_on_a_record_in_conflict(
    reviewer_a,
    review,
    screened,  # noqa: F811
):
    page = _page(reviewer_a, _record(review, 0).pk)
    assert "A thinks so" in page and "History (1)" in page
    assert "B-SECRET-NOTE" not in page and "reviewer_b" not in page
    assert "In conflict" not in page and "Awaiting votes" in page
    assert "votes and notes on this record stay hidden until it is settled" in page
    # A record only B voted on: nothing of B's vote, not even that there is one.
    page = _page(reviewer_a, _record(review, 3).pk)
    assert "B-ALONE-NOTE" not in page and "reviewer_b" not in page and "History" not in page


def test_a_settled_record_shows_every_vote_to_every_member(review, lead, reviewer_a, screened):  # noqa: F811
    viewer = make_user("viewer")
    review_services.membership_add(
        actor=lead, review=review, identifier="viewer", roles=[Role.VIEWER]
    )
    for user in (reviewer_a, viewer):
        page = _page(user, _record(review, 2).pk)
        assert "B settled note" in page and "Excluded (" in page
    # The viewer may resolve nothing: the conflict and B's notes stay hidden from them.
    page = _page(viewer, _record(review, 0).pk)
    assert "B-SECRET-NOTE" not in page and "A thinks so" not in page
    assert "In conflict" not in page


def test_a_reviewer_allowed_to_resolve_sees_the_conflict(review, lead, screened):  # noqa: F811
    third = make_user("third")
    review_services.membership_add(
        actor=lead, review=review, identifier="third", roles=[Role.REVIEWER]
    )
    page = _page(third, _record(review, 0).pk)
    assert "In conflict" in page and "B-SECRET-NOTE" in page and "A thinks so" in page


def test_once_resolved_the_voters_see_the_other_vote_and_the_resolution(
    review,
    lead,
    reviewer_a,
    screened,  # noqa: F811
):
    item = ScreeningItem.objects.get(record=_record(review, 0), stage=Stage.TITLE_ABSTRACT)
    screening.conflict_resolve(
        user=lead,
        review=review,
        item=item,
        decision="exclude",
        reason=reason(review),
        note="Lead's resolution note",
    )
    page = _page(reviewer_a, _record(review, 0).pk)
    assert "B-SECRET-NOTE" in page and "Resolved the conflict: Exclude" in page
    assert "Lead&#x27;s resolution note" in page
