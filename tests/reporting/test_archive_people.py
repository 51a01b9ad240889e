"""People in review archives (issue 13, item 1): an import never creates an account, never takes
a person of the archive for the account of the same username, and never makes anyone a member.
The imported review belongs to its importer alone; the people are kept as names on what they
did, unless the importer maps them to accounts, explicitly, on the import page."""

from __future__ import annotations

import io
import json

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.models import AuditEvent
from identification.models import Search
from reporting import archive
from reviews import services as review_services
from reviews.constants import Role
from reviews.models import Membership, Review
from screening import selectors
from screening import services as screening
from screening.models import Assignment, ScreeningItem, Vote, VoteEvent
from tests.conftest import client_for
from tests.deduplication.test_services import SCOPUS, import_file
from tests.reporting.test_archive import archive_of, import_in_browser, unpack

User = get_user_model()
TA = "title_abstract"


def vote_all(user, review, decide) -> None:
    """``user`` screens every record they are given: ``decide(record title)`` says how."""
    item = screening.assignment_next(user=user, review=review, stage=TA)
    while item is not None:
        screening.vote_cast(user=user, review=review, item=item, decision=decide(item.record))
        item = screening.assignment_next(user=user, review=review, stage=TA)


@pytest.fixture
def disputed(lead, review, reviewer_a, reviewer_b, django_capture_on_commit_callbacks):
    """Three records: reviewer_a includes all, reviewer_b excludes the first (a conflict) and
    includes the second; the third reviewer_b claimed and never voted on."""
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    screening.screening_prepare(review=review)
    vote_all(reviewer_a, review, lambda record: "include")
    first = screening.assignment_next(user=reviewer_b, review=review, stage=TA)
    screening.vote_cast(user=reviewer_b, review=review, item=first, decision="exclude")
    second = screening.assignment_next(user=reviewer_b, review=review, stage=TA)
    screening.vote_cast(user=reviewer_b, review=review, item=second, decision="include")
    screening.assignment_next(user=reviewer_b, review=review, stage=TA)  # claimed, left
    return archive.archive_bytes(review=review)


def with_people(data: bytes, extra: int) -> bytes:
    """The archive naming ``extra`` more people (placeholders of nobody here)."""
    files = unpack(data)
    people = [json.loads(line) for line in files["data/users.jsonl"].splitlines()]
    people += [
        {"username": f"placeholder{n}", "email": f"p{n}@example.org", "first_name": "P"}
        for n in range(extra)
    ]
    manifest = json.loads(files["manifest.json"])
    manifest["models"]["users"] = len(people)
    return archive_of(
        files
        | {
            "data/users.jsonl": "".join(json.dumps(p) + "\n" for p in people).encode(),
            "manifest.json": json.dumps(manifest).encode(),
        }
    )


# --- nobody is created, matched or enrolled ---------------------------------------------------


def test_every_reference_to_a_person_in_an_archived_model_keeps_a_name():
    """A model added to the archive with a user reference needs its ``<field>_name`` too, or
    the people it names would be lost on import."""
    for spec in archive.ARCHIVED:
        if spec.label == archive.TEAM:
            continue  # the team is kept as names on the review
        for field, name in archive._person_fields(apps.get_model(spec.label)):
            assert name is not None, f"{spec.label}.{field.name} keeps no name"


def test_two_hundred_people_in_an_archive_create_no_account_and_match_none(
    disputed, lead, reviewer_a, reviewer_b, outsider
):
    data = with_people(disputed, 200)
    users = User.objects.count()
    imported = archive.review_import(stream=io.BytesIO(data), slug="copy", actor=outsider)
    assert User.objects.count() == users
    # reviewer_a and reviewer_b have accounts here, of the same usernames: they are not taken
    # for the people of the archive, who stay names.
    votes = Vote.objects.filter(review=imported)
    assert votes.count() == 5 and not votes.filter(reviewer__isnull=False).exists()
    assert set(votes.values_list("reviewer_name", flat=True)) == {"reviewer_a", "reviewer_b"}
    assert not VoteEvent.objects.filter(review=imported, reviewer__isnull=False).exists()
    events = AuditEvent.objects.filter(review=imported)
    assert set(events.exclude(actor=outsider).values_list("actor", flat=True)) == {None}
    assert "lead" in set(events.values_list("actor_username", flat=True))
    assert imported.created_by is None and imported.created_by_name == "lead"
    # The importer is the only member; the archived team is names on the review.
    assert list(Membership.objects.filter(review=imported).values_list("user", "role")) == [
        (outsider.pk, Role.LEAD)
    ]
    team = {p["username"]: p["roles"] for p in imported.archived_people}
    assert team["lead"] == ["lead"] and team["reviewer_a"] == ["reviewer"]
    assert len(team) == 203 and team["placeholder7"] == []
    assert client_for(reviewer_a).get("/reviews/copy/").status_code == 404
    assert client_for(lead).get("/reviews/copy/").status_code == 404
    imported_event = events.get(verb="imported archive")
    assert imported_event.changes["people_mapped"] == {}
    assert "reviewer_b" in imported_event.changes["people_kept_as_names"]


def test_the_names_show_on_the_votes_the_stage_page_the_audit_log_and_their_csv(disputed, outsider):
    archive.review_import(stream=io.BytesIO(disputed), slug="copy", actor=outsider)
    client = client_for(outsider)
    votes = client.get(reverse("reporting:ta_votes_csv", kwargs={"slug": "copy"}))
    text = b"".join(votes.streaming_content).decode()
    assert votes.status_code == 200
    # (The third record waits for a vote: its one vote stays blinded, even to the lead.)
    assert text.count(",reviewer_a,") == 2 and text.count(",reviewer_b,") == 2
    stage = client.get(reverse("screening:ta", kwargs={"slug": "copy"})).content.decode()
    assert "reviewer_b <span" in stage and "(name from an imported archive)" in stage
    audit = client.get("/reviews/copy/audit/").content.decode()
    assert "<td>lead</td>" in audit
    log = b"".join(client.get("/reviews/copy/audit.csv").streaming_content).decode()
    assert ",lead," in log
    search_id = Search.objects.get(review__slug="copy").pk
    page = client.get(f"/reviews/copy/searches/{search_id}/").content.decode()
    assert "Recorded by</dt><dd>lead," in page


# --- screening goes on over people known by name ----------------------------------------------


def test_a_lead_resolves_a_conflict_between_two_named_voters_and_kappa_counts_them(
    disputed, outsider
):
    imported = archive.review_import(stream=io.BytesIO(disputed), slug="copy", actor=outsider)
    client = client_for(outsider)
    conflicts = client.get(reverse("screening:ta_conflicts", kwargs={"slug": "copy"}))
    page = conflicts.content.decode()
    assert "<strong>reviewer_a</strong>" in page and "<strong>reviewer_b</strong>" in page
    item = ScreeningItem.objects.get(review=imported, status="conflict")
    response = client.post(
        reverse("screening:ta_resolve", kwargs={"slug": "copy", "pk": item.pk}),
        {"decision": "include"},
    )
    assert response.status_code in (200, 302)
    item.refresh_from_db()
    assert item.status == "included"
    # Two people known only by name are two raters (a pair), never the importer.
    agreement = client.get(reverse("reporting:agreement_csv", kwargs={"slug": "copy"}))
    rows = agreement.content.decode().splitlines()
    pair = next(row for row in rows if row.startswith("title_abstract,reviewer_a,reviewer_b"))
    assert pair.split(",")[3] == "2"  # both voted on two records
    progress = selectors.stage_progress(imported, TA)
    named = {r.username: r for r in progress.reviewers if r.user_id is None}
    assert (named["reviewer_a"].votes, named["reviewer_b"].votes) == (3, 2)
    assert selectors.my_progress(user=outsider, review=imported, stage=TA).voted == 0


def test_a_claim_nobody_can_come_back_to_is_dropped_and_its_record_screened_by_others(
    disputed, outsider
):
    imported = archive.review_import(stream=io.BytesIO(disputed), slug="copy", actor=outsider)
    review_services.membership_add(
        actor=outsider, review=imported, identifier="outsider", roles=[Role.REVIEWER]
    )
    claims = Assignment.objects.filter(review=imported)
    # reviewer_b's claim without a vote is gone; the claims that go with votes stay.
    assert claims.count() == 5 and not claims.filter(voted_at__isnull=True).exists()
    left = ScreeningItem.objects.get(review=imported, stage=TA, status="pending")
    assert left.claims == 1
    item = screening.assignment_next(user=outsider, review=imported, stage=TA)
    assert item is not None and item.pk == left.pk
    screening.vote_cast(user=outsider, review=imported, item=item, decision="include")
    left.refresh_from_db()
    assert left.status == "included"
    # The importer's vote is theirs, and a named voter's never is.
    assert selectors.my_progress(user=outsider, review=imported, stage=TA).voted == 1


# --- the importer's explicit mapping ---------------------------------------------------------


def test_people_mapped_to_the_importer_and_to_another_account_get_those_accounts(
    disputed, lead, reviewer_a, outsider
):
    users = User.objects.count()
    imported = archive.review_import(
        stream=io.BytesIO(disputed),
        slug="copy",
        actor=outsider,
        mapping={"reviewer_a": "outsider", "reviewer_b": "lead@example.org", "lead": ""},
    )
    assert User.objects.count() == users
    votes = Vote.objects.filter(review=imported)
    assert votes.filter(reviewer=outsider).count() == 3
    assert votes.filter(reviewer=lead).count() == 2
    assert not votes.filter(reviewer__isnull=True).exists()
    assert not votes.exclude(reviewer_name="").exists()
    # Mapped people are still not members.
    assert list(Membership.objects.filter(review=imported).values_list("user", flat=True)) == [
        outsider.pk
    ]
    assert [p["username"] for p in imported.archived_people] == ["lead"]
    event = AuditEvent.objects.get(review=imported, verb="imported archive")
    assert event.changes["people_mapped"] == {"reviewer_a": "outsider", "reviewer_b": "lead"}
    assert event.changes["people_kept_as_names"] == ["lead"]
    # The vote of the person mapped to the importer is the importer's.
    assert selectors.my_progress(user=outsider, review=imported, stage=TA).voted == 3


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"reviewer_a": "nobody-here"}, "reviewer_a: No active user with the username"),
        ({"reviewer_a": "17"}, "reviewer_a: No active user with the username or e-mail '17'"),
        ({"someone_else": "outsider"}, "The archive names nobody called 'someone_else'"),
        (
            {"reviewer_a": "outsider", "reviewer_b": "OUTSIDER"},
            "reviewer_a and reviewer_b are both mapped to outsider",
        ),
        ({"reviewer_a": {"id": 1}}, "reviewer_a: Give a username or an e-mail address"),
    ],
)
def test_a_bad_mapping_is_refused_clearly_and_changes_nothing(disputed, outsider, mapping, message):
    before = (Review.objects.count(), User.objects.count(), AuditEvent.objects.count())
    with pytest.raises(archive.ArchiveChoiceError, match=message):
        archive.review_import(
            stream=io.BytesIO(disputed), slug="copy", actor=outsider, mapping=mapping
        )
    assert (Review.objects.count(), User.objects.count(), AuditEvent.objects.count()) == before


def test_the_import_page_lists_the_people_and_imports_with_the_mapping_chosen(
    disputed, lead, outsider
):
    client = client_for(outsider)
    users = User.objects.count()
    upload = io.BytesIO(disputed)
    upload.name = "a.zip"
    checked = client.post("/reviews/import/", {"archive": upload, "slug": "copy"})
    assert checked.status_code == 200 and not Review.objects.filter(slug="copy").exists()
    people = {p.username: p for p in checked.context["people_form"].people}
    assert (people["reviewer_a"].votes, people["reviewer_b"].votes) == (3, 2)
    assert people["lead"].audit_events > 0 and people["lead"].roles == ["lead"]
    page = checked.content.decode()
    assert "Account for reviewer_a" in page and "keep as a name" in page

    response = import_in_browser(client, disputed, slug="copy", mapping={"reviewer_a": "outsider"})
    assert response.status_code == 302 and response.url == "/reviews/copy/"
    imported = Review.objects.get(slug="copy")
    assert Vote.objects.filter(review=imported, reviewer=outsider).count() == 3
    assert Vote.objects.filter(review=imported, reviewer_name="reviewer_b").count() == 2
    assert User.objects.count() == users
    assert Membership.objects.filter(review=imported).count() == 1


def test_hostile_answers_on_the_import_page_get_a_clear_message_and_change_nothing(
    disputed, outsider, lead
):
    client = client_for(outsider)
    upload = io.BytesIO(disputed)
    upload.name = "a.zip"
    checked = client.post("/reviews/import/", {"archive": upload, "slug": "copy"})
    token = checked.context["people_form"].initial["pending"]
    n = len(checked.context["people_form"].people)
    before = (Review.objects.count(), User.objects.count(), AuditEvent.objects.count())

    def answer(body, who=client):
        response = who.post("/reviews/import/", {"pending": token, "slug": "copy"} | body)
        assert response.status_code == 400
        assert (Review.objects.count(), User.objects.count(), AuditEvent.objects.count()) == before
        return response.content.decode().replace("&#x27;", "'")

    assert f"This archive names {n} people; there is no person-{n + 1}" in answer(
        {f"person-{n + 1}": "outsider"}
    )
    assert "No active user with the username or e-mail 'ghost'" in answer({"person-1": "ghost"})
    assert "Ensure this value has at most 254 characters" in answer({"person-1": "x" * 300})
    # A forged or another person's upload: the token is only good for the one who uploaded.
    assert "no longer waiting" in answer({"pending": "../../etc/passwd"})
    assert "no longer waiting" in answer({"pending": "0" * 32})
    assert "no longer waiting" in answer({}, who=client_for(lead))
    # The upload still waits for a good answer.
    response = client.post("/reviews/import/", {"pending": token, "slug": "copy"})
    assert response.status_code == 302


def test_an_archive_naming_too_many_people_is_refused(disputed, outsider, monkeypatch):
    monkeypatch.setattr(archive, "MAX_PEOPLE", 50)
    users = User.objects.count()
    with pytest.raises(archive.ArchiveError, match="names more than 50 people"):
        archive.review_import(stream=io.BytesIO(with_people(disputed, 60)), actor=outsider)
    assert User.objects.count() == users


def test_the_command_maps_people_as_told(disputed, outsider, tmp_path, capsys):
    path = tmp_path / "a.zip"
    path.write_bytes(disputed)
    call_command(
        "import_review", str(path), "--slug", "copy", "--user", "outsider", "--map",
        "reviewer_b=outsider",
    )  # fmt: skip
    imported = Review.objects.get(slug="copy")
    assert Vote.objects.filter(review=imported, reviewer=outsider).count() == 2
    assert "1 people mapped to accounts, 2 kept as names" in capsys.readouterr().out
    with pytest.raises(CommandError, match="reviewer_a: No active user"):
        call_command("import_review", str(path), "--slug", "copy2", "--map", "reviewer_a=ghost")
    assert not Review.objects.filter(slug="copy2").exists()


# --- round trips ------------------------------------------------------------------------------


def test_a_name_that_is_also_an_account_stays_two_people_through_a_round_trip(
    disputed, lead, reviewer_a
):
    """The imported review's people are names; an account of the same username screens in it
    too. Its archive must keep them apart, or a re-import would merge two voters into one."""
    imported = archive.review_import(stream=io.BytesIO(disputed), slug="copy", actor=lead)
    review_services.membership_add(
        actor=lead, review=imported, identifier="reviewer_a", roles=[Role.REVIEWER]
    )
    # The record the named reviewer_a voted on, whose other claim was dropped, goes to the
    # account reviewer_a.
    vote_all(reviewer_a, imported, lambda record: "exclude")
    item = ScreeningItem.objects.get(review=imported, stage=TA, status="conflict", claims=2,
                                     votes__reviewer=reviewer_a)  # fmt: skip
    assert item.votes.get(reviewer__isnull=True).reviewer_name == "reviewer_a"
    files = unpack(archive.archive_bytes(review=imported))
    people = [json.loads(line)["username"] for line in files["data/users.jsonl"].splitlines()]
    # (lead imported it: the account lead leads it, and the archive's lead is a name.)
    assert people == [
        "lead",
        "lead (name only)",
        "reviewer_a",
        "reviewer_a (name only)",
        "reviewer_b",
    ]

    again = archive.review_import(stream=io.BytesIO(archive_of(files)), slug="again", actor=lead)
    voters = set(Vote.objects.filter(review=again).values_list("reviewer_name", flat=True))
    assert voters == {"reviewer_a", "reviewer_a (name only)", "reviewer_b"}
    assert Vote.objects.filter(review=again).count() == 6


def test_an_old_archive_without_names_imports_the_same(disputed, outsider):
    """Archives carry people as references only (no name columns), as before: one written
    before names existed imports, and an archive's own name columns are ignored."""
    files = unpack(disputed)
    assert b"reviewer_name" not in files["data/screening.vote.jsonl"]
    rows = [json.loads(line) for line in files["data/screening.vote.jsonl"].splitlines()]
    rows[0]["reviewer_name"] = "forged"
    files["data/screening.vote.jsonl"] = "".join(json.dumps(r) + "\n" for r in rows).encode()
    imported = archive.review_import(
        stream=io.BytesIO(archive_of(files)), slug="copy", actor=outsider
    )
    assert not Vote.objects.filter(review=imported, reviewer_name="forged").exists()
