"""Studies from reports (issue 16, part 1): reports included at full text are linked to their
studies by a person, helped by suggestions; PRISMA, the dashboard and the exports count studies
and reports apart."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from extraction import selectors, services
from extraction.models import Study, StudyReport
from reporting.selectors import prisma_report, studies_included
from reviews import services as review_services
from reviews.constants import Role
from screening.constants import Stage
from screening.fulltext import services as fulltext
from screening.models import ScreeningItem
from tests.conftest import client_for, make_user
from tests.screening.factories import make_records, ta_items, vote


@pytest.fixture
def extractor(review, lead):
    user = make_user("extractor")
    review_services.membership_add(
        actor=lead, review=review, identifier="extractor", roles=[Role.EXTRACTOR]
    )
    return user


def include_at_full_text(review, a, b, records):
    """Both reviewers include ``records`` at title/abstract and at full text."""
    wanted = {r.pk for r in records}
    for item in ta_items(review):
        if item.record_id in wanted:
            vote(a, review, item, "include")
            vote(b, review, item, "include")
    for item in ScreeningItem.objects.filter(review=review, stage=Stage.FULL_TEXT):
        fulltext.report_attach(user=a, review=review, item=item, url="https://example.org/a.pdf")
        vote(a, review, item, "include")
        vote(b, review, item, "include")


@pytest.fixture
def reports(review, reviewer_a, reviewer_b):
    """Four included reports: two of them the same trial (registry id), one more of the same
    first author and year, and one left excluded at title/abstract."""
    records = make_records(review, 5)
    records[0].abstract += " Registered as NCT01234567."
    records[1].abstract += " Trial registration: nct01234567."
    records[2].authors, records[2].year = ["Doe, A"], 2018
    records[3].authors, records[3].year = ["Doe, A."], 2018
    for i, r in enumerate(records):
        r.title = ["Lotteries", "Casino harm", "Sports betting ads", "Loot boxes", "Bingo"][i]
        if i >= 2:
            r.authors = r.authors if i in (2, 3) else ["Other, B"]
        r.save()
    include_at_full_text(review, reviewer_a, reviewer_b, records[:4])
    return records


def test_an_unlinked_report_is_a_study_of_its_own_and_linking_two_makes_one(review, lead, reports):
    assert selectors.studies_included(review) == 4
    counts = prisma_report(review=review).counts
    assert (counts.new_studies, counts.new_reports) == (4, 4)

    study = services.study_create(
        actor=lead, review=review, records=[reports[0].pk, reports[1].pk], basis="registry"
    )
    assert study.label == "Smith 2020"
    counts = prisma_report(review=review).counts
    assert (counts.new_studies, counts.new_reports) == (3, 4)
    assert studies_included(review) == 3  # the dashboard's card
    assert selectors.counts(review) == {"studies": 3, "reports": 4, "unlinked_reports": 2}
    event = AuditEvent.objects.get(review=review, verb="study created")
    assert event.actor == lead and event.changes["records"] == [reports[0].pk, reports[1].pk]


def test_the_characteristics_export_names_each_reports_study(review, lead, reports):
    study = services.study_create(
        actor=lead, review=review, records=[reports[0].pk, reports[1].pk], label="TRIAL-1"
    )
    body = client_for(lead).get("/reviews/exercise/exports/characteristics-csv/").content
    rows = {int(r["record_id"]): r for r in csv.DictReader(io.StringIO(body.decode()))}
    assert rows[reports[0].pk]["study"] == rows[reports[1].pk]["study"] == "TRIAL-1"
    assert rows[reports[0].pk]["study_id"] == str(study.pk)
    assert rows[reports[2].pk]["study_id"] == ""


def test_suggestions_by_registry_id_and_by_first_author_and_year(review, lead, reports):
    found = {s.record.pk: s for s in selectors.suggestions(review)}
    assert [(r.pk, why) for r, why in found[reports[0].pk].reports] == [
        (reports[1].pk, "same trial registry id NCT01234567")
    ]
    assert [(r.pk, why) for r, why in found[reports[2].pk].reports] == [
        (reports[3].pk, "same first author and year")
    ]
    assert not StudyReport.objects.exists()  # suggested, never linked without a person
    study = services.study_create(actor=lead, review=review, records=[reports[0].pk])
    found = {s.record.pk: s for s in selectors.suggestions(review)}
    assert found[reports[1].pk].studies == [(study, "same trial registry id NCT01234567")]


def test_only_included_reports_not_linked_yet_can_be_linked(review, lead, reports):
    with pytest.raises(ValidationError, match="included at full text"):
        services.study_create(actor=lead, review=review, records=[reports[4].pk])
    study = services.study_create(actor=lead, review=review, records=[reports[0].pk])
    with pytest.raises(ValidationError, match="Already linked"):
        services.study_create(actor=lead, review=review, records=[reports[0].pk])
    with pytest.raises(ValidationError, match="not a record id"):
        services.study_link(actor=lead, review=review, study=study, records=["x"])
    assert Study.objects.count() == 1 and StudyReport.objects.count() == 1


def test_extractors_link_reviewers_may_not(review, reports, reviewer_a, extractor):
    with pytest.raises(PermissionDenied):
        services.study_create(actor=reviewer_a, review=review, records=[reports[0].pk])
    study = services.study_create(actor=extractor, review=review, records=[reports[0].pk])
    services.study_link(actor=extractor, review=review, study=study, records=[reports[1].pk])
    assert study.links.count() == 2


def test_unlinking_the_last_report_deletes_the_study(review, lead, reports):
    study = services.study_create(actor=lead, review=review, records=[reports[0].pk, reports[1].pk])
    assert services.study_unlink(actor=lead, review=review, study=study, record=reports[0].pk)
    assert (
        services.study_unlink(actor=lead, review=review, study=study, record=reports[1].pk) is None
    )
    assert not Study.objects.exists()
    assert selectors.studies_included(review) == 4


def test_pages_for_members_404_for_outsiders(review, lead, reviewer_a, outsider, reports):
    page = client_for(reviewer_a).get("/reviews/exercise/extraction/studies/")
    assert page.status_code == 200 and b"same trial registry id" in page.content
    assert b"Make one study of both" not in page.content  # a reviewer may not link
    lead_client = client_for(lead)
    answer = lead_client.post(
        "/reviews/exercise/extraction/studies/new/",
        {"records": [reports[0].pk, reports[1].pk], "label": "One trial"},
    )
    assert answer.status_code == 302
    study = Study.objects.get(label="One trial")
    assert (
        client_for(outsider).get(f"/reviews/exercise/extraction/studies/{study.pk}/").status_code
        == 404
    )
    assert (
        client_for(reviewer_a)
        .post("/reviews/exercise/extraction/studies/new/", {"records": [reports[2].pk]})
        .status_code
        == 403
    )
    # Bad input: a message, nothing changed.
    answer = lead_client.post(
        "/reviews/exercise/extraction/studies/new/", {"records": ["zz"]}, follow=True
    )
    assert b"is not a record id" in answer.content and Study.objects.count() == 1


def test_the_api_lists_creates_renames_and_deletes(review, lead, reviewer_a, outsider, reports):
    api = client_for(lead)
    base = "/api/reviews/exercise/extraction/studies/"
    made = api.post(
        base, {"records": [reports[0].pk, reports[1].pk]}, content_type="application/json"
    )
    assert made.status_code == 201 and len(made.json()["reports"]) == 2
    pk = made.json()["id"]
    assert api.get(base + "counts/").json() == {"studies": 3, "reports": 4, "unlinked_reports": 2}
    renamed = api.patch(f"{base}{pk}/", {"label": "Renamed"}, content_type="application/json")
    assert renamed.json()["label"] == "Renamed"
    assert client_for(reviewer_a).get(base).json()["results"][0]["label"] == "Renamed"
    assert (
        client_for(reviewer_a)
        .post(base, {"records": [reports[2].pk]}, content_type="application/json")
        .status_code
        == 403
    )
    assert client_for(outsider).get(base).status_code == 404
    bad = api.post(base, {"records": [reports[4].pk]}, content_type="application/json")
    assert bad.status_code == 400 and "records" in bad.json()
    assert api.delete(f"{base}{pk}/").status_code == 204
    assert not Study.objects.exists()


def test_studies_travel_in_the_archive_with_the_names_of_who_linked_them(
    review, lead, outsider, reports, extractor
):
    from reporting import archive

    services.study_create(
        actor=extractor, review=review, records=[reports[0].pk, reports[1].pk], label="TRIAL-1"
    )
    data = archive.archive_bytes(review=review)
    imported = archive.review_import(stream=io.BytesIO(data), slug="again", actor=outsider)
    study = Study.objects.get(review=imported)
    assert study.label == "TRIAL-1" and study.created_by is None
    assert study.created_by_name == "extractor"
    links = StudyReport.objects.filter(study=study)
    assert {link.linked_by_name for link in links} == {"extractor"}
    assert {link.record.review_id for link in links} == {imported.pk}
    assert selectors.studies_included(imported) == 3
