"""Searches are corrected and deleted (with their files and records, until screening starts), in
the browser and the API, by leads only, and every change is audited. Deleting records goes
through the hooks: deduplication mends the clusters, screening drops the items."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent, Job
from deduplication.models import DuplicateCluster, DuplicatePair
from identification import hooks
from identification import services as imports
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record, Search
from reviews import services as review_services
from reviews.constants import Role
from screening.constants import Stage
from screening.models import ScreeningItem
from tests.conftest import client_for, make_user
from tests.identification.conftest import RIS, upload
from tests.screening.factories import vote

#: Two papers with DOIs, as three databases export them (the bytes differ, so no file is a
#: copy of another): deduplication merges each paper's three records into one cluster.
PAPERS = (
    "TY  - JOUR\nTI  - Gambling and debt\nAU  - Smith, J\nPY  - 2020\nDO  - 10.1000/abc\n{a}ER  - \n\n"
    "TY  - JOUR\nTI  - Lottery play\nAU  - Jones, K\nPY  - 2019\nDO  - 10.1000/lot\n{b}ER  - \n"
)
RIS_FIRST = PAPERS.format(a="", b="")
RIS_AGAIN = PAPERS.format(a="AB  - Debt follows.\n", b="")
RIS_THIRD = PAPERS.format(a="", b="KW  - lottery\n")


def _search(lead, review, database="Scopus", **fields):
    return imports.search_create(actor=lead, review=review, database=database, **fields)


def _events(verb):
    return list(AuditEvent.objects.filter(verb=verb))


@pytest.fixture
def viewer(review, lead):
    make_user("vera")
    review_services.membership_add(
        actor=lead, review=review, identifier="vera", roles=[Role.VIEWER]
    )
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="vera")


# --- editing ---------------------------------------------------------------------------------


def test_a_lead_corrects_a_search_and_the_audit_log_keeps_the_old_values(lead, review):
    search = _search(lead, review, platform="Ovid", reported_hits=120)
    client = client_for(lead)
    page = client.get(f"/reviews/exercise/searches/{search.pk}/edit/")
    assert page.status_code == 200 and 'value="Scopus"' in page.content.decode()
    response = client.post(
        f"/reviews/exercise/searches/{search.pk}/edit/",
        {
            "database": "Embase",
            "kind": "database",
            "platform": "Ovid",
            "date_searched": "2024-03-01",
            "query": "exercise AND depression",
            "reported_hits": "124",
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert response.url == f"/reviews/exercise/searches/{search.pk}/"
    search.refresh_from_db()
    assert (search.database, search.reported_hits, search.query) == (
        "Embase",
        124,
        "exercise AND depression",
    )
    (event,) = _events("edited search")
    assert event.actor == lead and event.object_id == str(search.pk)
    assert event.changes["database"] == {"from": "Scopus", "to": "Embase"}
    assert event.changes["reported_hits"] == {"from": 120, "to": 124}
    assert event.changes["date_searched"] == {"from": None, "to": "2024-03-01"}
    assert "platform" not in event.changes  # unchanged fields are not claimed as changes


def test_a_bad_correction_says_why_and_changes_nothing(lead, review):
    search = _search(lead, review)
    client = client_for(lead)
    response = client.post(
        f"/reviews/exercise/searches/{search.pk}/edit/",
        {"database": "", "date_searched": "2999-01-01"},
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    with pytest.raises(ValidationError) as exc:
        imports.search_update(actor=lead, search=search, date_searched="2999-01-01")
    assert "future" in str(exc.value)
    with pytest.raises(ValidationError):
        imports.search_update(actor=lead, search=search, review=None)
    search.refresh_from_db()
    assert search.database == "Scopus" and search.date_searched is None
    assert not _events("edited search")


# --- deleting ----------------------------------------------------------------------------------


def test_a_search_recorded_without_a_file_is_deleted_and_leaves_the_prisma_diagram(lead, review):
    client = client_for(lead)
    response = client.post("/reviews/exercise/searches/", {"database": "CINAHL"})
    assert response.status_code == 302
    search = Search.objects.get(database="CINAHL")
    assert "CINAHL" in client.get("/reviews/exercise/prisma/").content.decode()
    confirm = client.get(f"/reviews/exercise/searches/{search.pk}/delete/")
    assert confirm.status_code == 200
    assert "0 files" in confirm.content.decode() and "0 records" in confirm.content.decode()
    response = client.post(f"/reviews/exercise/searches/{search.pk}/delete/")
    assert response.status_code == 302 and response.url == "/reviews/exercise/searches/"
    assert not Search.objects.exists()
    assert "“CINAHL” deleted" in client.get(response.url).content.decode()
    assert "CINAHL" not in client.get("/reviews/exercise/prisma/").content.decode()
    (event,) = _events("deleted search")
    assert event.actor == lead and event.changes["database"] == "CINAHL"
    assert event.changes["records"] == 0 and event.changes["files"] == []


def test_a_search_whose_import_failed_is_deleted_with_its_file(lead, review, on_commit):
    search = _search(lead, review)
    broken = RIS.encode() + b"TY  - JOUR\nTI  - cut short\n"
    with on_commit():
        batch = upload(lead, review, b"TY  - JOUR\nXX  - nothing usable\nER  - \n", search=search)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED, broken
    path = batch.file.path
    assert os.path.exists(path)
    with on_commit():
        summary = imports.search_delete(actor=lead, search=search)
    assert summary["files"] == ["export.ris"] and summary["records"] == 0
    assert not Search.objects.exists() and not ImportBatch.objects.exists()
    assert not os.path.exists(path)
    # The failed job stays in the job list, as history.
    assert Job.objects.filter(kind="import_records", status="failed").exists()


def test_deleting_a_search_takes_its_records_duplicates_and_screening_items(
    lead, review, on_commit
):
    first, second, third = (_search(lead, review, name) for name in ("Scopus", "Embase", "Lens"))
    with on_commit():
        upload(lead, review, RIS_FIRST.encode(), search=first, name="scopus.ris")
    with on_commit():
        upload(lead, review, RIS_AGAIN.encode(), search=second, name="embase.ris")
    with on_commit():
        upload(lead, review, RIS_THIRD.encode(), search=third, name="lens.ris")
    # Each paper is one cluster of three records, one from each search.
    assert DuplicateCluster.objects.count() == 2
    gambling = DuplicateCluster.objects.get(primary__title="Gambling and debt")
    # The Embase copy has the abstract: make it the primary, as deduplication might have.
    embase_copy = Record.objects.get(search=second, title="Gambling and debt")
    from deduplication import services as dedup

    dedup.cluster_set_primary(actor=lead, record=embase_copy)
    gambling.refresh_from_db()
    assert gambling.primary_id == embase_copy.pk
    assert ScreeningItem.objects.filter(record=embase_copy).exists()
    embase_records = set(Record.objects.filter(search=second).values_list("pk", flat=True))
    embase_file = ImportBatch.objects.get(search=second).file.path

    with on_commit():
        summary = imports.search_delete(actor=lead, search=second)

    assert summary["records"] == 2 and summary["files"] == ["embase.ris"]
    assert not Record.objects.filter(pk__in=embase_records).exists()
    assert not os.path.exists(embase_file)
    # The clusters keep the other two searches' records, and one of them is primary again.
    gambling.refresh_from_db()
    members = list(Record.objects.filter(cluster=gambling))
    assert {m.search_id for m in members} == {first.pk, third.pk}
    assert gambling.primary_id in {m.pk for m in members}
    assert not gambling.primary_pinned
    new_primary = Record.objects.get(pk=gambling.primary_id)
    # The abstract came from the deleted copy: the new primary does not keep it.
    assert new_primary.abstract == "" and "abstract" not in new_primary.filled
    assert Record.objects.filter(cluster=gambling, duplicate_of=new_primary).count() == 1
    # The new primary is screened; nothing of the deleted records is left to screen.
    assert ScreeningItem.objects.filter(record=new_primary, stage=Stage.TITLE_ABSTRACT).exists()
    assert not ScreeningItem.objects.filter(record_id__in=embase_records).exists()
    assert set(ScreeningItem.objects.values_list("record__duplicate_of", flat=True)) == {None}
    assert not DuplicatePair.objects.filter(left_id__in=embase_records).exists()
    assert not DuplicatePair.objects.filter(right_id__in=embase_records).exists()
    (event,) = _events("deleted search")
    assert event.changes["records"] == 2
    assert event.changes["screening_items_removed"] == 1  # the primary's; its copy had none
    assert event.changes["clusters_mended"] == 2

    # Deleting a second search leaves single records: their clusters dissolve.
    with on_commit():
        summary = imports.search_delete(actor=lead, search=third)
    assert summary["clusters_dissolved"] == 2
    assert not DuplicateCluster.objects.exists()
    left = list(Record.objects.all())
    assert {r.search_id for r in left} == {first.pk} and len(left) == 2
    assert all(r.cluster_id is None and r.duplicate_of_id is None and not r.filled for r in left)
    assert ScreeningItem.objects.filter(record__in=left).count() == 2
    assert ScreeningItem.objects.count() == 2


def test_a_search_with_a_screened_record_is_kept_and_the_reason_given(
    lead, review, reviewer_a, on_commit
):
    search = _search(lead, review)
    with on_commit():
        upload(lead, review, RIS.encode(), search=search)
    item = ScreeningItem.objects.filter(stage=Stage.TITLE_ABSTRACT).first()
    vote(reviewer_a, review, item, "include")
    with pytest.raises(ValidationError) as exc:
        imports.search_delete(actor=lead, search=search)
    assert "1 of its records has been screened" in str(exc.value)

    client = client_for(lead)
    page = client.get(f"/reviews/exercise/searches/{search.pk}/delete/").content.decode()
    assert "cannot be deleted" in page and "screened" in page
    assert "Delete the search and" not in page  # no button
    response = client.post(f"/reviews/exercise/searches/{search.pk}/delete/")
    assert response.status_code == 400 and "screened" in response.content.decode()
    api = client.delete(f"/api/reviews/exercise/searches/{search.pk}/")
    assert api.status_code == 400 and "screened" in json.dumps(api.json())
    assert Search.objects.filter(pk=search.pk).exists() and Record.objects.count() == 2
    assert not _events("deleted search")


def test_a_search_whose_file_is_still_being_imported_is_not_deleted(lead, review):
    search = _search(lead, review)
    upload(lead, review, RIS.encode(), search=search)  # its job is queued, not run yet
    with pytest.raises(ValidationError) as exc:
        imports.search_delete(actor=lead, search=search)
    assert "still being imported" in str(exc.value)
    assert ImportBatch.objects.filter(search=search).exists()


def test_the_records_in_use_hook_asks_later_steps_about_these_records_only(
    lead, review, reviewer_a, on_commit
):
    screened, fresh = _search(lead, review, "Scopus"), _search(lead, review, "ERIC")
    with on_commit():
        upload(lead, review, RIS.encode(), search=screened)
    with on_commit():
        upload(lead, review, b"TY  - JOUR\nTI  - Something else entirely\nER  - \n", search=fresh)
    item = ScreeningItem.objects.get(record__search=screened, record__title="Lottery play")
    vote(reviewer_a, review, item, "exclude")
    # Deduplication mends clusters before screening drops items (and queues new primaries).
    assert [key.split(".")[0] for key in hooks.records_removed.receivers] == [
        "deduplication",
        "screening",
    ]
    in_use = hooks.records_in_use.collect(review=review, records=Record.objects.all())
    assert in_use == {item.record_id}
    assert not hooks.records_in_use.collect(
        review=review, records=Record.objects.filter(search=fresh)
    )
    with pytest.raises(ValidationError):
        imports.search_delete(actor=lead, search=screened)
    imports.search_delete(actor=lead, search=fresh)
    assert list(Search.objects.values_list("database", flat=True)) == ["Scopus"]


def test_only_leads_edit_or_delete_a_search(lead, review, reviewer_a, viewer):
    search = _search(lead, review)
    for user in (reviewer_a, viewer):
        client = client_for(user)
        base = f"/reviews/exercise/searches/{search.pk}"
        assert client.get(f"{base}/edit/").status_code == 403
        assert client.post(f"{base}/edit/", {"database": "Hacked"}).status_code == 403
        assert client.get(f"{base}/delete/").status_code == 403
        assert client.post(f"{base}/delete/").status_code == 403
        api = f"/api/reviews/exercise/searches/{search.pk}/"
        patch = client.patch(api, {"database": "Hacked"}, content_type="application/json")
        assert patch.status_code == 403
        assert client.delete(api).status_code == 403
        page = client.get(f"{base}/").content.decode()
        assert "/edit/" not in page and "/delete/" not in page
        with pytest.raises(PermissionDenied):
            imports.search_update(actor=user, search=search, database="Hacked")
        with pytest.raises(PermissionDenied):
            imports.search_delete(actor=user, search=search)
    search.refresh_from_db()
    assert search.database == "Scopus"
    assert not _events("edited search") and not _events("deleted search")
    lead_page = client_for(lead).get(f"/reviews/exercise/searches/{search.pk}/").content.decode()
    assert "/edit/" in lead_page and "/delete/" in lead_page


def test_the_api_corrects_and_deletes_a_search(lead, review, on_commit):
    search = _search(lead, review, platform="Ovid")
    client = client_for(lead)
    api = f"/api/reviews/exercise/searches/{search.pk}/"
    patch = client.patch(api, {"reported_hits": 7}, content_type="application/json")
    assert patch.status_code == 200, patch.content
    assert patch.json()["reported_hits"] == 7 and patch.json()["platform"] == "Ovid"
    unnamed = client.put(api, {"platform": "EBSCOhost"}, content_type="application/json")
    assert unnamed.status_code == 400 and "database" in unnamed.json()
    put = client.put(api, {"database": "Embase", "platform": ""}, content_type="application/json")
    assert put.status_code == 200
    search.refresh_from_db()
    assert (search.database, search.platform, search.reported_hits) == ("Embase", "", 7)
    bad = client.patch(api, {"reported_hits": -1}, content_type="application/json")
    assert bad.status_code == 400 and "reported_hits" in bad.json()
    assert [e.changes for e in AuditEvent.objects.filter(verb="edited search").order_by("pk")] == [
        {"reported_hits": {"from": None, "to": 7}},
        {"database": {"from": "Scopus", "to": "Embase"}, "platform": {"from": "Ovid", "to": ""}},
    ]
    with on_commit():
        upload(lead, review, RIS.encode(), search=search)
    assert client.delete(api).status_code == 204
    assert not Search.objects.exists() and not Record.objects.exists()
    assert client.get(api).status_code == 404
    assert _events("deleted search")[0].changes["records"] == 2


def test_a_file_imported_twice_is_named_once(lead, review, on_commit):
    with on_commit():
        upload(lead, review, RIS.encode(), name="scopus.ris")
    with pytest.raises(ValidationError) as exc:
        upload(lead, review, RIS.encode(), name="scopus.ris")
    message = " ".join(exc.value.messages)
    assert message.count("scopus.ris") == 1, message
    assert "already imported" in message and "import anyway" in message
    with pytest.raises(ValidationError) as exc:
        upload(lead, review, RIS.encode(), name="other-name.ris")
    message = " ".join(exc.value.messages)
    assert "other-name.ris is identical to scopus.ris" in message


def test_a_failed_import_shows_no_success_banner_on_its_job_page(lead, review, on_commit):
    client = client_for(lead)
    bad = io.BytesIO(b"TY  - JOUR\nXX  - nothing usable\nER  - \n")
    bad.name = "empty.ris"
    with on_commit():
        response = client.post("/reviews/exercise/searches/", {"database": "Scopus", "files": bad})
    assert response.status_code == 302 and "/jobs/" in response.url
    page = client.get(response.url).content.decode()
    assert "The job failed" in page
    assert "message success" not in page and "recorded." not in page
    # The page says what happened to the search, and links to it.
    search = Search.objects.get()
    assert "is kept without this file" in page
    assert f"/reviews/exercise/searches/{search.pk}/" in page
