"""The Duplicates page's numbers (issue 12)."""

from __future__ import annotations

from identification.models import Record
from tests.conftest import client_for
from tests.screening.factories import make_records


def test_the_duplicates_page_shows_the_unique_count_not_a_sum_to_do(review, lead):
    records = make_records(review, 5)
    Record.objects.filter(pk__in=[records[1].pk, records[2].pk]).update(duplicate_of=records[0])
    page = client_for(lead).get("/reviews/exercise/duplicates/").content.decode()
    assert "<dt>Unique records</dt><dd data-unique>3</dd>" in page
    assert "−" not in page.split("<dt>Unique records</dt>")[1].split("</dd>")[0]
    assert "2 (records merged into another)" in page
    Record.objects.filter(pk=records[2].pk).update(duplicate_of=None)
    page = client_for(lead).get("/reviews/exercise/duplicates/").content.decode()
    assert "1 (record merged into another)" in page
