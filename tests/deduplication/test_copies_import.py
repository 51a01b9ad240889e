"""An export of every record many times over, imported into a review already holding them
(issue 13, item 6): the import ends, and the queue for people grows with the records, not with
the pairs of copies."""

from __future__ import annotations

from core.constants import JobStatus
from deduplication.constants import PairStatus
from deduplication.models import DuplicatePair
from identification.models import Record
from tests.identification.conftest import upload

TITLES = 150
COPIES = 12


def ris(copies: int) -> bytes:
    # Titles only, as in the hostile file: no record reaches the automatic threshold, so
    # every candidate pair is doubtful.
    return "".join(
        f"TY  - JOUR\nTI  - Gambling harm among young adults, cohort number {n}\nER  - \n\n"
        for _ in range(copies)
        for n in range(TITLES)
    ).encode()


def test_copies_of_every_record_leave_a_bounded_queue(
    lead, review, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(lead, review, ris(1), name="once.ris")
    with django_capture_on_commit_callbacks(execute=True):
        again = upload(lead, review, ris(COPIES), name="twelve-times.ris")
    for batch in (first, again):
        batch.refresh_from_db()
        assert batch.job.status == JobStatus.SUCCEEDED, batch.job.error
    records = Record.objects.filter(review=review).count()
    assert records == TITLES * (COPIES + 1)
    queued = DuplicatePair.objects.filter(review=review, status=PairStatus.QUEUED).count()
    # Before the bound: every pair of the 13 copies of a title, 78 a title (over 11,700 here).
    # Now: the pairs that join the copies (12 a title, and some between look-alike titles),
    # and a few more a group (DedupConfig.max_extra_queued).
    assert queued <= 1.5 * records
    summary = again.job.result["dedup"]
    assert summary["new_records"] == TITLES * COPIES
