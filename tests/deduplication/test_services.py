"""Deduplication stored in the database: clusters, the queue, decisions, undo, reruns."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.models import AuditEvent
from deduplication import selectors as dedup_selectors
from deduplication import services as deduplication
from deduplication.constants import PairStatus
from deduplication.models import DuplicateCluster, DuplicatePair
from identification import services as imports
from identification.models import Record
from reviews import services
from tests.conftest import client_for
from tests.paths import DEMO_DATA

DEMO = DEMO_DATA


def ris(*records: dict) -> bytes:
    out = []
    for r in records:
        lines = ["TY  - JOUR"]
        for tag, value in r.items():
            for v in value if isinstance(value, list) else [value]:
                lines.append(f"{tag}  - {v}")
        lines.append("ER  - ")
        out.append("\n".join(lines))
    return ("\n\n".join(out) + "\n").encode()


SCOPUS = ris(
    {
        "TI": "Problem gambling and household debt: a cohort study",
        "AU": ["Smith, John", "Lee, Kim"],
        "PY": "2020",
        "JO": "Journal of Gambling Studies",
        "VL": "36",
        "SP": "123",
        "EP": "139",
        "DO": "10.1007/s10899-020-09999-1",
    },
    {
        "TI": "Loot boxes and adolescent gambling",
        "AU": ["Zendle, D"],
        "PY": "2019",
        "JO": "Royal Society Open Science",
        "AB": "Loot boxes are purchasable items in video games.",
    },
    {
        "TI": "Electronic gaming machines in Finland",
        "AU": ["Marionneau, V"],
        "PY": "2022",
        "JO": "BMC Public Health",
    },
)
PUBMED = ris(
    {
        "TI": "Problem Gambling and Household Debt: A Cohort Study.",
        "AU": ["Smith J", "Lee K"],
        "PY": "2020",
        "JO": "J Gambl Stud",
        "VL": "36",
        "SP": "123",
        "EP": "39",
        "AB": "We followed 2,000 households for five years.",
    },
    {
        "TI": "Sports betting advertising and young men",
        "AU": ["Torrance, J"],
        "PY": "2021",
        "JO": "Addiction",
    },
)


def import_file(lead, review, content: bytes, database: str, capture, confirm=False) -> None:
    search = imports.search_create(actor=lead, review=review, database=database)
    with capture(execute=True):
        imports.batch_upload(
            actor=lead,
            search=search,
            fileobj=io.BytesIO(content),
            filename=f"{database}.ris",
            confirm_duplicate=confirm,
        )


def test_an_import_merges_a_duplicate_found_in_another_database(
    lead, review, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    cluster = DuplicateCluster.objects.get()
    members = list(cluster.members.order_by("pk"))
    assert [m.search.database for m in members] == ["Scopus", "MEDLINE"]
    primary = cluster.primary
    # The Scopus record has the DOI, so it is primary; it takes the abstract PubMed had.
    assert primary.search.database == "Scopus"
    assert primary.abstract == "We followed 2,000 households for five years."
    assert primary.filled["abstract"]["from"] == members[1].pk
    assert members[1].duplicate_of_id == primary.pk and primary.duplicate_of_id is None
    assert dedup_selectors.duplicates_removed(review) == 1
    assert Record.objects.filter(review=review).count() == 5  # every record keeps its row


def test_a_later_search_finds_duplicates_of_earlier_imports_and_reruns_change_nothing(
    lead, review, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    assert not DuplicateCluster.objects.exists()
    assert not Record.objects.filter(dedup_checked=False).exists()
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    assert DuplicateCluster.objects.count() == 1
    before = list(Record.objects.order_by("pk").values("cluster_id", "duplicate_of_id", "abstract"))
    summary = deduplication.dedup_run(review=review, full=True)
    assert summary["merged"] == 1 and summary["clusters"] == 1
    assert (
        list(Record.objects.order_by("pk").values("cluster_id", "duplicate_of_id", "abstract"))
        == before
    )


def test_a_merge_never_crosses_reviews(lead, review, django_capture_on_commit_callbacks):
    other = services.review_create(user=lead, title="Another review", slug="another")
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, other, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    assert not DuplicateCluster.objects.exists()
    assert not Record.objects.filter(duplicate_of__isnull=False).exists()


def test_undo_takes_a_record_out_restores_fields_and_keeps_it_apart(
    lead, review, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    cluster = DuplicateCluster.objects.get()
    pubmed = cluster.members.get(search__database="MEDLINE")
    deduplication.record_unmerge(actor=lead, record=pubmed)
    assert not DuplicateCluster.objects.exists()
    scopus = Record.objects.get(search__database="Scopus", title__startswith="Problem")
    assert scopus.abstract == "" and scopus.filled == {}
    assert DuplicatePair.objects.get(left=min(scopus.pk, pubmed.pk)).status == PairStatus.UNDONE
    deduplication.dedup_run(review=review, full=True)
    assert not DuplicateCluster.objects.exists()  # a person's undo outlives reruns
    assert AuditEvent.objects.filter(verb="undid merge", actor=lead).exists()


def test_queued_pairs_drop_out_once_their_records_are_merged(
    lead, review, reviewer_a, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    a, b, c = Record.objects.filter(review=review).order_by("pk")
    ab = DuplicatePair.objects.create(review=review, left=a, right=b, score=3.0, status="queued")
    bc = DuplicatePair.objects.create(review=review, left=b, right=c, score=3.0, status="queued")
    ac = DuplicatePair.objects.create(review=review, left=a, right=c, score=3.0, status="queued")
    deduplication.pair_decide(actor=reviewer_a, pair=ab, same=True)
    deduplication.pair_decide(actor=reviewer_a, pair=bc, same=True)
    ac.refresh_from_db()
    assert ac.status == PairStatus.AUTO
    assert dedup_selectors.dedup_summary(review=review)["queued"] == []


def test_a_person_decides_queued_pairs(
    lead, review, reviewer_a, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    a, b = Record.objects.filter(review=review).order_by("pk")[:2]
    pair = DuplicatePair.objects.create(
        review=review, left=a, right=b, score=3.0, status=PairStatus.QUEUED
    )
    deduplication.pair_decide(actor=reviewer_a, pair=pair, same=True, primary_id=b.pk)
    cluster = DuplicateCluster.objects.get()
    assert cluster.primary_id == b.pk and cluster.primary_pinned
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == (PairStatus.SAME, reviewer_a)
    with pytest.raises(Exception, match="already decided"):
        deduplication.pair_decide(actor=reviewer_a, pair=pair, same=False)
    # A rerun keeps the person's merge and primary.
    deduplication.dedup_run(review=review, full=True)
    assert DuplicateCluster.objects.get().primary_id == b.pk


def test_records_kept_apart_by_a_person_stay_apart_when_a_third_copy_arrives(
    lead, review, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    pubmed = Record.objects.get(search__database="MEDLINE", title__startswith="Problem")
    scopus = Record.objects.get(search__database="Scopus", title__startswith="Problem")
    deduplication.record_unmerge(actor=lead, record=pubmed)
    # A third database returns the same study: it may join one of them, never both.
    import_file(lead, review, PUBMED, "Embase", django_capture_on_commit_callbacks, confirm=True)
    pubmed.refresh_from_db()
    scopus.refresh_from_db()
    assert pubmed.cluster_id is None or pubmed.cluster_id != scopus.cluster_id
    assert dedup_selectors.dedup_summary(review=review)["merged"] >= 1


def test_the_dedup_command_prints_the_agreed_keys(db, capsys):
    for name, db_name in [
        ("20221207_gambling-harms_lens_49.ris", "Lens"),
        ("20221207_gambling-harms_crimjust_41.ris", "CJA"),
    ]:
        call_command(
            "import_records", str(DEMO / name), "--review", "dd", "--create", "--database", db_name
        )
    capsys.readouterr()
    call_command("dedup", "--review", "dd")
    summary = json.loads(capsys.readouterr().out)
    assert {"records", "clusters", "merged", "queued"} <= set(summary)
    assert summary["records"] == 90
    assert summary["merged"] == Record.objects.filter(duplicate_of__isnull=False).count() > 0
    assert all(isinstance(p, list) and len(p) == 2 for p in summary["queued"])


def test_the_csv_export_names_clusters_and_primaries(
    lead, review, django_capture_on_commit_callbacks, tmp_path
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    out = tmp_path / "r.csv"
    call_command("export_records", "--review", "exercise", "--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    cluster = DuplicateCluster.objects.get()
    by_id = {int(r["id"]): r for r in rows}
    member = cluster.members.exclude(pk=cluster.primary_id).get()
    assert by_id[member.pk]["duplicate_of"] == str(cluster.primary_id)
    assert (
        by_id[member.pk]["cluster_id"] == by_id[cluster.primary_id]["cluster_id"] == str(cluster.pk)
    )
    assert by_id[cluster.primary_id]["duplicate_of"] == ""
    singles = [r for r in rows if not r["cluster_id"]]
    assert len(singles) == 3 and all(r["duplicate_of"] == "" for r in singles)


def queued_title_pair(review, left, right, *, score: float, status: str, similarity: float):
    """A doubtful pair as the engine queues it, with the two titles side by side."""
    return DuplicatePair.objects.create(
        review=review,
        left=left,
        right=right,
        score=score,
        status=PairStatus.QUEUED,
        fields=[
            {
                "field": "title",
                "left": left.title,
                "right": right.title,
                "status": status,
                "similarity": similarity,
            }
        ],
    )


def test_the_queue_page_shows_a_pair_side_by_side_and_takes_decisions(
    lead, review, reviewer_a, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    a, b = Record.objects.filter(review=review).order_by("pk")[:2]
    pair = queued_title_pair(review, a, b, score=3.0, status="different", similarity=0.3)
    client = client_for(reviewer_a)
    page = client.get("/reviews/exercise/duplicates/queue/").content.decode()
    assert (
        a.title in page and b.title in page and "field-different" in page and "<kbd>S</kbd>" in page
    )
    bad = client.post(
        f"/reviews/exercise/duplicates/pairs/{pair.pk}/decide/",
        {"decision": "maybe"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/reviews/exercise/duplicates/pairs/{pair.pk}/decide/",
        {"decision": "different"},
        headers={"HX-Request": "true"},
    )
    assert (
        ok.status_code == 200
        and "<html" not in ok.content.decode()
        and "No doubtful pairs" in ok.content.decode()
    )
    again = client.post(
        f"/reviews/exercise/duplicates/pairs/{pair.pk}/decide/",
        {"decision": "same"},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 409
    pair.refresh_from_db()
    assert pair.status == PairStatus.DIFFERENT


def test_the_overview_page_undoes_and_a_viewer_cannot(
    lead, review, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    from tests.conftest import make_user

    make_user("vera")
    services.membership_add(actor=lead, review=review, identifier="vera", roles=["viewer"])
    cluster = DuplicateCluster.objects.get()
    member = cluster.members.exclude(pk=cluster.primary_id).get()
    viewer = client_for(get_user_model().objects.get(username="vera"))
    assert viewer.get("/reviews/exercise/duplicates/").status_code == 200
    assert (
        viewer.post(f"/reviews/exercise/duplicates/records/{member.pk}/unmerge/").status_code == 403
    )
    assert DuplicateCluster.objects.exists()
    client = client_for(lead)
    page = client.get("/reviews/exercise/duplicates/").content.decode()
    assert "Cluster" in page and "undo merge" in page
    response = client.post(
        f"/reviews/exercise/duplicates/records/{member.pk}/unmerge/",
        {"next": "https://evil.example/"},
    )
    assert response.url == "/reviews/exercise/duplicates/"
    assert not DuplicateCluster.objects.exists()


def test_the_dashboard_counts_duplicates_removed(lead, review, django_capture_on_commit_callbacks):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    page = client_for(lead).get("/reviews/exercise/").content.decode()
    assert 'aria-label="1 duplicate removed"' in page


def test_a_record_already_screened_stays_primary_when_a_more_complete_copy_arrives(
    lead, review, reviewer_a, django_capture_on_commit_callbacks
):
    from screening import services as screening

    # MEDLINE first: its copy has no DOI, so on its own a later Scopus copy would be primary.
    import_file(lead, review, PUBMED, "MEDLINE", django_capture_on_commit_callbacks)
    pubmed = Record.objects.get(title__startswith="Problem")
    item = screening.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    while item is not None and item.record_id != pubmed.pk:
        screening.vote_cast(user=reviewer_a, review=review, item=item, decision="exclude")
        item = screening.assignment_next(user=reviewer_a, review=review, stage="title_abstract")
    screening.vote_cast(user=reviewer_a, review=review, item=item, decision="include")
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    cluster = DuplicateCluster.objects.get()
    assert cluster.primary_id == pubmed.pk
    scopus = cluster.members.exclude(pk=pubmed.pk).get()
    assert scopus.duplicate_of_id == pubmed.pk
    pubmed.refresh_from_db()
    assert pubmed.doi == "10.1007/s10899-020-09999-1"  # the primary took the DOI it lacked
