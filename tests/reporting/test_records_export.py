"""The record list's export (RIS, CSV) is the filtered set the list shows, not everything:
primary records by default, the same search, the same screening filters under blinding; a
filter it does not understand exports nothing and says why."""

from __future__ import annotations

import csv
import io

from identification.models import Record
from tests.conftest import client_for
from tests.identification.test_records_list import five_copies, screened  # noqa: F401

URL = "/reviews/exercise/records/export/"


def _export(client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


def _csv_ids(text: str) -> list[int]:
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(text))]


def test_the_export_holds_the_primary_records_the_list_shows(lead, review, five_copies):  # noqa: F811
    client = client_for(lead)
    ris = _export(client, format="ris")
    # The issue as found: the export held every copy (five of this paper).
    assert ris.count("TI  - Wildfire smoke and asthma admissions") == 1
    assert ris.count("ER  -") == 6
    everything = _export(client, format="ris", duplicates="all")
    assert everything.count("TI  - Wildfire smoke and asthma admissions") == 5
    assert _csv_ids(_export(client, format="csv", duplicates="duplicates")) == list(
        Record.objects.filter(duplicate_of=five_copies).order_by("pk").values_list("pk", flat=True)
    )


def test_the_export_takes_the_search_of_the_list(lead, review, five_copies):  # noqa: F811
    client = client_for(lead)
    assert _csv_ids(_export(client, format="csv", q='"wildfire smoke"')) == [five_copies.pk]
    assert _csv_ids(_export(client, format="csv", q="found NOT database")) == []
    ris = _export(client, format="ris", q="databa* AND NOT (asthma OR title:4)")
    assert ris.count("ER  -") == 4 and "database 4" not in ris


def test_the_export_filters_by_screening_as_the_user_may_see_it(
    lead,
    reviewer_a,
    review,
    screened,  # noqa: F811
):
    conflict = Record.objects.filter(review=review).order_by("pk").first()
    assert _csv_ids(_export(client_for(lead), format="csv", decision="conflict")) == [conflict.pk]
    # Reviewer A voted on the conflict: blinded, it is a record awaiting votes to them.
    assert _csv_ids(_export(client_for(reviewer_a), format="csv", decision="conflict")) == []
    waiting = _csv_ids(
        _export(client_for(reviewer_a), format="csv", stage="title_abstract", decision="pending")
    )
    assert conflict.pk in waiting


def test_a_filter_the_export_does_not_understand_exports_nothing_and_says_why(lead, review):
    client = client_for(lead)
    response = client.get(URL, {"format": "ris", "q": "x" * 10_000})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    response = client.get(URL, {"format": "exe"})
    assert response.status_code == 400 and "choose ris or csv" in response.content.decode()
    response = client.get(URL, {"decision": "maybe"})
    assert response.status_code == 400 and "Screening decision" in response.content.decode()
