"""The named filters of screening items and votes: of a review, at a stage, settled, open and
primary, each defined once in ``screening/managers.py``."""

from __future__ import annotations

from django.db import connection

from identification.models import Record
from reviews.models import Review
from screening.constants import ItemStatus, Stage
from screening.managers import merged_records_screened, primary_record_sql
from screening.models import ScreeningItem, Vote

from .factories import make_records, ta_items, vote


def _ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def _fresh(review: Review) -> Review:
    # A new request: nothing the last one kept on the review object.
    return Review.objects.get(pk=review.pk)


def test_items_chain_by_review_and_stage(review, outsider, reviewer_a, reviewer_b, records):
    elsewhere = Review.objects.get(slug="elsewhere")
    make_records(elsewhere, 2)
    ours, theirs = ta_items(review), ta_items(elsewhere)
    vote(reviewer_a, review, ours[0], "include")
    vote(reviewer_b, review, ours[0], "include")  # on to full text
    assert _ids(ScreeningItem.objects.of_review(review)) == {i.pk for i in ours} | {
        ScreeningItem.objects.get(stage=Stage.FULL_TEXT).pk
    }
    assert _ids(ScreeningItem.objects.of_review(review).at(Stage.TITLE_ABSTRACT)) == {
        i.pk for i in ours
    }
    assert _ids(ScreeningItem.objects.of_review(elsewhere).at(Stage.FULL_TEXT)) == set()
    assert _ids(ScreeningItem.objects.at(Stage.TITLE_ABSTRACT).of_review(elsewhere)) == {
        i.pk for i in theirs
    }


def test_settled_means_included_or_excluded_and_open_means_votes_may_still_change(review, records):
    items = ta_items(review)
    statuses = [
        ItemStatus.PENDING,
        ItemStatus.CONFLICT,
        ItemStatus.INCLUDED,
        ItemStatus.EXCLUDED,
        ItemStatus.NOT_RETRIEVED,
    ]
    for item, status in zip(items, statuses, strict=False):
        ScreeningItem.objects.filter(pk=item.pk).update(status=status)
    by_status = {s: items[n].pk for n, s in enumerate(statuses)}
    qs = ScreeningItem.objects.of_review(review).filter(pk__in=by_status.values())
    assert _ids(qs.settled()) == {by_status[ItemStatus.INCLUDED], by_status[ItemStatus.EXCLUDED]}
    assert _ids(qs.open()) == {by_status[ItemStatus.PENDING], by_status[ItemStatus.CONFLICT]}
    # The properties of one item say the same as the filters.
    for item in qs:
        assert item.is_settled == (item.pk in _ids(qs.settled()))
        assert item.is_open == (item.pk in _ids(qs.open()))


def test_primary_leaves_out_items_of_records_merged_into_another(review, reviewer_a, records):
    items = ta_items(review)
    vote(reviewer_a, review, items[1], "exclude")
    # Deduplication merges the second record into the first after it was screened.
    Record.objects.filter(pk=records[1].pk).update(duplicate_of=records[0])
    review = _fresh(review)
    assert merged_records_screened(review)
    assert items[1].pk not in _ids(ScreeningItem.objects.of_review(review).primary())
    assert items[1].pk not in _ids(ScreeningItem.objects.of_review(review).primary(review))
    assert len(_ids(ScreeningItem.objects.of_review(review).primary(review))) == len(items) - 1
    assert not Vote.objects.of_review(review).primary(review).exists()
    assert Vote.objects.of_review(review).count() == 1


def test_primary_of_a_review_skips_the_join_when_no_merged_record_has_items(review, records):
    items = ta_items(review)
    # A duplicate merged before screening has no item, so no item needs filtering out.
    duplicate = make_records(review, 1, prefix="Copy: ")[0]
    Record.objects.filter(pk=duplicate.pk).update(duplicate_of=records[0])
    review = _fresh(review)
    assert not merged_records_screened(review)
    cheap = ScreeningItem.objects.of_review(review).primary(review)
    full = ScreeningItem.objects.of_review(review).primary()
    assert Record._meta.db_table not in str(cheap.query)
    assert Record._meta.db_table in str(full.query)
    assert _ids(cheap) == _ids(full) == {i.pk for i in items}


def test_votes_on_settled_items_only(review, reviewer_a, reviewer_b, records):
    settled, waiting = ta_items(review)[:2]
    vote(reviewer_a, review, settled, "exclude")
    vote(reviewer_b, review, settled, "exclude")
    vote(reviewer_a, review, waiting, "include")
    on_settled = Vote.objects.of_review(review).at(Stage.TITLE_ABSTRACT).on_settled()
    assert {v.item_id for v in on_settled} == {settled.pk}


def test_the_queue_sql_and_the_orm_agree_on_what_a_primary_record_is(review, records):
    Record.objects.filter(pk__in=[records[1].pk, records[2].pk]).update(duplicate_of=records[0])
    table = Record._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE review_id = %s AND {primary_record_sql(connection)}",  # noqa: S608
            [review.pk],
        )
        raw = {row[0] for row in cursor.fetchall()}
    assert raw == _ids(Record.objects.of_review(review).primary())
    assert records[1].pk not in raw and records[0].pk in raw
