"""Differences from the protocol, drawn from the data: databases planned against searched,
eligibility amended, analyses run against planned."""

from __future__ import annotations

import pytest

from identification import services as imports
from reporting import deviations
from reviews.protocol.hooks import analyses_run
from tests.conftest import client_for
from tests.deduplication.test_services import PUBMED, SCOPUS, import_file
from tests.reviews.protocol_factories import amend, register

# The protocol (tests.reviews.protocol_factories.CONTENT) plans MEDLINE, Embase and Scopus.


@pytest.fixture
def searched(review, lead, django_capture_on_commit_callbacks):
    """Scopus and MEDLINE (as "medline") imported; Embase never searched; CINAHL searched (a
    search recorded, nothing imported) though the protocol does not plan it."""
    register(review, lead)
    import_file(lead, review, SCOPUS, "Scopus", django_capture_on_commit_callbacks)
    import_file(lead, review, PUBMED, "medline", django_capture_on_commit_callbacks)
    imports.search_create(actor=lead, review=review, database="CINAHL")
    return review


def test_a_database_planned_but_not_searched_is_listed(searched):
    report = deviations.deviation_report(searched)
    assert report.databases.searched == ["MEDLINE", "Scopus"]
    assert report.databases.not_searched == ["Embase"]
    assert report.databases.unplanned == ["CINAHL"]
    assert "Embase was planned as a source but not searched." in report.differences
    assert "CINAHL was searched but is not a source the protocol plans." in report.differences
    text = deviations.report_markdown(report)
    assert "- Planned but not searched: Embase." in text
    assert "- No analyses run yet." in text


def test_a_planned_database_is_searched_once_its_file_is_imported(
    searched, lead, django_capture_on_commit_callbacks
):
    search = imports.search_create(actor=lead, review=searched, database="Embase")
    report = deviations.deviation_report(searched)
    assert report.databases.not_imported == ["Embase"] and report.databases.not_searched == []
    import io

    from tests.reviews.test_access import TINY_RIS

    with django_capture_on_commit_callbacks(execute=True):
        imports.batch_upload(
            actor=lead, search=search, fileobj=io.BytesIO(TINY_RIS), filename="e.ris"
        )
    report = deviations.deviation_report(searched)
    assert report.databases.searched == ["MEDLINE", "Embase", "Scopus"]
    assert not report.databases.not_imported


def test_amended_eligibility_criteria_and_sources_are_listed(searched, lead):
    amend(
        searched,
        lead,
        {
            "eligibility": {
                "inclusion": ["Adults with depression", "Randomised trials"],
                "exclusion": ["Children only", "Cluster trials"],
                "languages": "English",
            },
            "information_sources": {"databases": ["MEDLINE", "Scopus", "CINAHL"]},
        },
        rationale="Cluster trials need other methods; CINAHL covers nursing trials.",
    )
    report = deviations.deviation_report(searched)
    (change,) = report.eligibility_changes
    assert (change.version, change.added_exclusion, change.removed_exclusion) == (
        2, ["Cluster trials"], ["No control group"],
    )  # fmt: skip
    assert change.other_changes == ["Languages"]
    assert report.databases.unplanned == [] and report.databases.not_searched == []
    sentence = next(d for d in report.differences if d.startswith("Amendment 2"))
    assert "added the source CINAHL" in sentence and "removed the source Embase" in sentence
    assert "added the exclusion criterion “Cluster trials”" in sentence
    assert "Rationale: Cluster trials need other methods" in sentence


def _one_analysis(review, **kwargs):
    """What the synthesis step will answer: one analysis, run with DerSimonian-Laird, a
    subgroup analysis by country and Begg's test, none of them planned."""
    return [
        {
            "name": "Depressive symptoms",
            "effect_measure": "SMD",
            "estimator": "DL",
            "knapp_hartung": True,
            "subgroups": ["Country"],
            "sensitivity": ["Leave-one-out"],
            "publication_bias": ["funnel", "rank"],
        }
    ]


@pytest.fixture
def an_analysis_run():
    analyses_run.connect(_one_analysis, key="tests.analysis")
    yield
    analyses_run.disconnect("tests.analysis")


def test_an_analysis_run_but_not_planned_is_listed(searched, an_analysis_run):
    report = deviations.deviation_report(searched)
    texts = [d.text for d in report.analysis_deviations]
    assert "Depressive symptoms used the estimator DL; the protocol planned REML." in texts
    assert (
        "The subgroup analysis by “Country” (Depressive symptoms) was run but not planned." in texts
    )
    assert "Begg's rank correlation test (Depressive symptoms) was run but not planned." in texts
    # And what was planned but not run.
    assert "The planned subgroup analysis by “Exercise type” was not run." in texts
    assert "Egger's regression test was planned but not run." in texts
    # Run as planned: no deviation for the measure, Knapp-Hartung, leave-one-out, funnel.
    assert not any(
        d.area in ("effect_measure", "knapp_hartung") for d in report.analysis_deviations
    )
    assert not any("Leave-one-out" in t or "Funnel" in t for t in texts)
    assert set(texts) <= set(report.differences)
    assert deviations.NO_ANALYSES not in deviations.report_markdown(report)


def test_without_a_protocol_the_report_says_so(review):
    report = deviations.deviation_report(review)
    assert deviations.protocol_line(report) == "The review has no protocol."
    assert report.differences == []


def test_the_page_the_files_and_the_api(searched, reviewer_a, an_analysis_run):
    client = client_for(reviewer_a)
    page = client.get("/reviews/exercise/protocol/deviations/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-row="not-searched"><td>Embase</td>' in html
    md = client.get("/reviews/exercise/protocol/deviations/download/?as=md")
    assert md["Content-Type"].startswith("text/markdown")
    assert b"Planned but not searched: Embase." in md.content
    standalone = client.get("/reviews/exercise/protocol/deviations/download/?as=html")
    assert standalone.content.startswith(b"<!doctype html>")
    assert b"<li>Planned but not searched: Embase.</li>" in standalone.content
    assert client.get("/reviews/exercise/protocol/deviations/download/?as=pdf").status_code == 400
    data = client.get("/api/reviews/exercise/protocol/deviations/").json()
    assert data["databases"]["not_searched"] == ["Embase"]
    assert data["analyses_run"] == 1
    assert {"area": "subgroups", "deviation": "not_planned", "analysis": "Depressive symptoms",
            "text": "The subgroup analysis by “Country” (Depressive symptoms) was run but not "
            "planned."} in data["analysis_deviations"]  # fmt: skip
    assert data["protocol"]["registration_id"] == "CRD42099000001"
