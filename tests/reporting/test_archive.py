"""A whole review as one zip: round trip, completeness, and bad archives."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command

from core.models import AuditEvent
from deduplication import selectors as dedup_selectors
from identification.models import Record
from reporting import archive
from reviews.models import Review
from tests.conftest import client_for
from tests.deduplication.test_services import PUBMED, SCOPUS, import_file

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def populated(lead, review, reviewer_a, reviewer_b, capture):
    """A review with searches, files, a duplicate cluster, screening votes and a full text."""
    from screening import services as screening

    import_file(lead, review, SCOPUS, "Scopus", capture)
    import_file(lead, review, PUBMED, "MEDLINE", capture)
    screening.screening_prepare(review=review)
    for user in (reviewer_a, reviewer_b):
        item = screening.assignment_next(user=user, review=review, stage="title_abstract")
        while item is not None:
            screening.vote_cast(user=user, review=review, item=item, decision="include")
            item = screening.assignment_next(user=user, review=review, stage="title_abstract")
    return review


def import_in_browser(client, data: bytes, *, slug: str = "", mapping: dict | None = None):
    """The import page's two steps: upload the archive (checked), then say who is who
    (``mapping``: the archive's usernames to accounts; the rest kept as names). The answer to
    the last step taken: the upload's when it is refused."""
    upload = io.BytesIO(data)
    upload.name = "archive.zip"
    response = client.post("/reviews/import/", {"archive": upload, "slug": slug})
    if response.status_code != 200:
        return response
    people = response.context["people_form"]
    body = {"pending": people.initial["pending"], "slug": people.initial["slug"]}
    for n, person in enumerate(people.people, start=1):
        body[f"person-{n}"] = (mapping or {}).get(person.username, "")
    return client.post("/reviews/import/", body)


def archive_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def unpack(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_every_model_with_review_data_is_archived():
    covered = {m.label for m in archive.ARCHIVED} | archive.NOT_ARCHIVED
    for app in ("reviews", "screening", "extraction", "synthesis"):
        for model in apps.get_app_config(app).get_models():
            assert model._meta.label_lower in covered, (
                f"{model._meta.label_lower} is not in the archive"
            )


def test_an_archive_round_trips_through_a_fresh_database(
    lead, review, reviewer_a, reviewer_b, django_capture_on_commit_callbacks
):
    populated(lead, review, reviewer_a, reviewer_b, django_capture_on_commit_callbacks)
    first = archive.archive_bytes(review=review)
    files = unpack(first)
    assert b'"slug": "exercise"' in files["data/reviews.review.jsonl"]
    assert files["data/reviews.record.jsonl"].count(b"\n") == 5
    assert files["data/screening.vote.jsonl"].count(b"\n") > 0
    assert any(name.startswith("files/reviews.importbatch/") for name in files)

    # A fresh database: nothing of the review, and none of its people.
    Review.objects.all().delete()
    get_user_model().objects.all().delete()
    AuditEvent.objects.all().delete()
    imported = archive.review_import(stream=io.BytesIO(first))
    assert imported.slug == "exercise"
    # Nobody became an account: the people are names on what they did.
    assert get_user_model().objects.count() == 0
    cluster_member = Record.objects.get(duplicate_of__isnull=False)
    assert cluster_member.duplicate_of.cluster_id == cluster_member.cluster_id

    second = unpack(archive.archive_bytes(review=imported))
    # The team is not imported as memberships; it is kept as names on the review.
    people = {"data/users.jsonl", "data/reviews.membership.jsonl", "data/reviews.review.jsonl"}
    for name, content in files.items():
        if name in ("manifest.json", "data/reviews.auditevent.jsonl", *people):
            continue
        assert second[name] == content, name
    assert second["data/reviews.membership.jsonl"] == b""
    # The people written back as people: the same usernames and names, no e-mail addresses.
    first_people = [json.loads(line) for line in files["data/users.jsonl"].splitlines()]
    second_people = [json.loads(line) for line in second["data/users.jsonl"].splitlines()]
    assert [p | {"email": ""} for p in first_people] == second_people
    assert [p["username"] for p in second_people] == ["lead", "reviewer_a", "reviewer_b"]

    # The audit log is the same history (events on memberships no longer point at one), plus
    # one event saying the archive was imported.
    def events(data: bytes) -> list[dict]:
        found = [json.loads(line) for line in data.splitlines()]
        for event in found:
            if event["object_type"] == "reviews.membership":
                event["object_id"] = ""
        return found

    before = events(files["data/reviews.auditevent.jsonl"])
    after = events(second["data/reviews.auditevent.jsonl"])
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1 and after[-1]["verb"] == "imported archive"

    # Imported again, the archive of the imported review gives the same archive back.
    Review.objects.all().delete()
    again = archive.review_import(stream=io.BytesIO(archive_of(second)))
    third = unpack(archive.archive_bytes(review=again))
    for name, content in second.items():
        if name not in ("manifest.json", "data/reviews.auditevent.jsonl"):
            assert third[name] == content, name
    assert get_user_model().objects.count() == 0


def test_the_commands_export_and_import(
    lead, review, tmp_path, capsys, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    out = tmp_path / "a.zip"
    call_command("export_review", "--review", "exercise", "-o", str(out))
    call_command("import_review", str(out), "--slug", "exercise-copy", "--user", "lead")
    copy = Review.objects.get(slug="exercise-copy")
    assert Record.objects.filter(review=copy).count() == 3
    assert dedup_selectors.dedup_summary(review=copy)["records"] == 3
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="exists"):
        call_command("import_review", str(out))


def _rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: b"not a zip at all", "not a zip"),
        (lambda f: _rezip({k: v for k, v in f.items() if k != "manifest.json"}), "manifest"),
        (
            lambda f: _rezip(
                f
                | {"manifest.json": f["manifest.json"].replace(b"evident-review-archive", b"other")}
            ),
            "not an Evident",
        ),
        (lambda f: _rezip(f | {"files/reviews.importbatch/1": b"tampered"}), "damaged"),
        (lambda f: _rezip(f | {"data/reviews.record.jsonl": b"{broken\n"}), "not JSON"),
        (
            lambda f: _rezip(
                f
                | {
                    "data/reviews.record.jsonl": f["data/reviews.record.jsonl"].replace(
                        b'"search": 1', b'"search": 99'
                    )
                }
            ),
            "missing",
        ),
    ],
)
def test_a_bad_archive_is_refused_and_changes_nothing(
    lead, review, django_capture_on_commit_callbacks, damage, message
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    files = unpack(archive.archive_bytes(review=review))
    before = (Review.objects.count(), Record.objects.count(), get_user_model().objects.count())
    with pytest.raises(ValidationError, match=message):
        archive.review_import(stream=io.BytesIO(damage(files)), slug="damaged")
    assert (
        Review.objects.count(),
        Record.objects.count(),
        get_user_model().objects.count(),
    ) == before


def test_a_lead_downloads_the_archive_and_anyone_imports_it_in_the_browser(
    lead, review, reviewer_a, outsider, django_capture_on_commit_callbacks
):
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    assert client_for(reviewer_a).get("/reviews/exercise/archive.zip").status_code == 403
    data = client_for(lead).get("/reviews/exercise/archive.zip").content
    response = import_in_browser(client_for(outsider), data, slug="mine-now")
    assert response.status_code == 302 and response.url == "/reviews/mine-now/"
    assert client_for(outsider).get("/reviews/mine-now/records/").status_code == 200
    bad = io.BytesIO(b"nonsense")
    bad.name = "x.zip"
    response = client_for(outsider).post("/reviews/import/", {"archive": bad})
    assert response.status_code == 400 and "not a zip" in response.content.decode()


def test_reserved_addresses_cannot_be_review_slugs(lead):
    from reviews import services

    with pytest.raises(ValidationError):
        services.review_create(user=lead, title="x", slug="import")
    assert services.review_create(user=lead, title="Import").slug == "import-review"
