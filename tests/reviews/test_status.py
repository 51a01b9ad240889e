"""The review's status follows the work: records imported make it "searching", a first vote
"screening"; each change audited and attributed; never backwards; a lead still sets it."""

from __future__ import annotations

import io

import pytest

from core.models import AuditEvent
from identification import services as imports
from reviews import services
from reviews.constants import ReviewStatus
from reviews.models import Review
from screening import services as screening
from screening.constants import Stage
from tests.conftest import client_for
from tests.screening.factories import make_records

RIS = b"TY  - JOUR\nTI  - Gambling and debt\nAU  - Smith, J\nPY  - 2020\nER  - \n"


def import_file(lead, review, django_capture_on_commit_callbacks, title="Gambling and debt"):
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    content = RIS.replace(b"Gambling and debt", title.encode())
    with django_capture_on_commit_callbacks(execute=True):
        imports.batch_upload(
            actor=lead, search=search, fileobj=io.BytesIO(content), filename="export.ris"
        )


def status_events(review):
    return list(AuditEvent.objects.filter(review=review, verb="status advanced").order_by("pk"))


def first_vote(user, review):
    item = screening.assignment_next(user=user, review=review, stage=Stage.TITLE_ABSTRACT)
    screening.vote_cast(user=user, review=review, item=item, decision="include")


def test_an_import_moves_a_review_in_planning_to_searching_and_audits_it(
    lead, review, django_capture_on_commit_callbacks
):
    assert review.status == ReviewStatus.PLANNING
    import_file(lead, review, django_capture_on_commit_callbacks)
    review.refresh_from_db()
    assert review.status == ReviewStatus.SEARCHING
    (event,) = status_events(review)
    assert event.actor == lead
    assert event.changes == {"status": ["planning", "searching"], "because": "records imported"}
    # Another import changes nothing more.
    import_file(lead, review, django_capture_on_commit_callbacks, title="Lottery play")
    assert len(status_events(review)) == 1


def test_the_first_vote_moves_it_to_screening_once(review, reviewer_a, reviewer_b):
    make_records(review, 3)
    screening.screening_prepare(review=review)
    first_vote(reviewer_a, review)
    review.refresh_from_db()
    assert review.status == ReviewStatus.SCREENING
    (event,) = status_events(review)
    assert event.actor == reviewer_a and event.changes["status"] == ["planning", "screening"]
    first_vote(reviewer_b, review)
    assert len(status_events(review)) == 1


def test_the_list_and_dashboard_show_the_status_the_work_reached(
    lead, review, reviewer_a, django_capture_on_commit_callbacks
):
    import_file(lead, review, django_capture_on_commit_callbacks)
    first_vote(reviewer_a, review)
    client = client_for(lead)
    assert "Screening" in client.get("/reviews/").content.decode()
    assert "Planning (protocol)" not in client.get("/reviews/").content.decode()


@pytest.mark.parametrize(
    ("set_by_lead", "after"),
    [
        (ReviewStatus.PLANNING, ReviewStatus.SCREENING),
        (ReviewStatus.SEARCHING, ReviewStatus.SCREENING),
        (ReviewStatus.EXTRACTION, ReviewStatus.EXTRACTION),
        (ReviewStatus.COMPLETE, ReviewStatus.COMPLETE),
    ],
)
def test_it_moves_forward_only(
    set_by_lead, after, lead, review, reviewer_a, django_capture_on_commit_callbacks
):
    services.review_update(user=lead, review=review, status=set_by_lead)
    import_file(lead, review, django_capture_on_commit_callbacks)
    first_vote(reviewer_a, Review.objects.get(pk=review.pk))
    review.refresh_from_db()
    assert review.status == after
    moves = [e.changes["status"][1] for e in status_events(review)]
    assert all(services.STATUS_ORDER[m] > services.STATUS_ORDER[set_by_lead] for m in moves)
    assert bool(moves) == (after != set_by_lead)


def test_a_lead_still_sets_any_status(lead, review, reviewer_a, django_capture_on_commit_callbacks):
    import_file(lead, review, django_capture_on_commit_callbacks)
    review.refresh_from_db()
    response = client_for(lead).post(
        f"/reviews/{review.slug}/settings/",
        {"title": review.title, "research_question": "", "status": ReviewStatus.PLANNING},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.PLANNING
    event = AuditEvent.objects.filter(review=review, verb="updated").latest("pk")
    assert event.changes["status"] == ["searching", "planning"]


def test_an_advance_that_lost_a_race_changes_nothing(lead, review):
    """The review object in hand may be stale: the status is read again under a lock."""
    stale = Review.objects.get(pk=review.pk)
    services.review_update(user=lead, review=review, status=ReviewStatus.SYNTHESIS)
    assert not services.review_status_advance(
        review=stale, status=ReviewStatus.SCREENING, actor=lead, because="first vote cast"
    )
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.SYNTHESIS
    assert stale.status == ReviewStatus.SYNTHESIS
    assert status_events(review) == []
