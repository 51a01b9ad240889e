"""The summary of findings in the BCG demo (absolute effects equal the pure function's), its
exports (HTML, XLSX, CSV with numbered footnotes and safe cells), the API with the pages'
permissions, and the archive round trip."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from core.models import AuditEvent
from demo.bcg import BCG_SLUG, demo_bcg_build
from demo.build import DEMO_USERS, _user
from reporting import archive
from reviews.models import Review
from synthesis import grade
from synthesis import services as synthesis
from synthesis.sof import selectors, services
from synthesis.sof.models import SofJudgement, SofRow, SofTable
from tests.conftest import client_for
from tests.synthesis.app_world import MAIN, bcg_studies, snapshot_of, statistician_of, viewer_of

API = "/api/reviews/exercise/synthesis/sof/"
PAGE = "/reviews/exercise/synthesis/sof/"


@pytest.fixture
def stats(review, lead):
    return statistician_of(review, lead)


@pytest.fixture
def row(review, lead, stats):
    snapshot_of(review, bcg_studies(), user=lead)
    analysis = synthesis.analysis_create(actor=stats, review=review, data=MAIN)
    synthesis.analysis_run_now(actor=stats, review=review, analysis=analysis)
    services.table_save(actor=stats, review=review, data={"intervention": "=BCG vaccine"})
    row = services.row_add(actor=stats, review=review, data={"analysis": analysis.pk})
    services.judge(
        actor=stats,
        review=review,
        row=row,
        domain="indirectness",
        judgement="serious",
        reason='=HYPERLINK("x") older trials',
    )
    services.judge(
        actor=stats,
        review=review,
        row=row,
        domain="inconsistency",
        judgement="serious",
        reason="Latitude.",
    )
    return row


def test_the_demo_shows_a_summary_of_findings_for_tuberculosis(
    db, django_capture_on_commit_callbacks
):
    people = {u[0]: _user(u[0], u[1], u[2]) for u in DEMO_USERS}
    with django_capture_on_commit_callbacks(execute=True):
        review = demo_bcg_build(people)
    view = selectors.table_view(review)
    (rv,) = view["rows"]
    assert rv.row.outcome_label == "tuberculosis" and rv.k == 13 and not rv.stale
    main = rv.result.results["main"]
    # Absolute effects per 1,000 equal the pure function's on the stored result.
    expected = grade.absolute_effect("RR", main["estimate"], main["ci_lb"], main["ci_ub"], rv.acr)
    assert rv.absolute == expected
    assert rv.absolute.risk_per_1000 == pytest.approx(rv.acr * math.exp(main["estimate"]) * 1000)
    assert rv.certainty in ("high", "moderate", "low", "very low") and not rv.pending
    assert rv.statement.startswith("BCG vaccination")
    judgements = {j.domain: j for j in SofJudgement.objects.filter(row=rv.row)}
    assert (
        judgements["indirectness"].reason and judgements["indirectness"].judgement == "no concern"
    )
    assert judgements["inconsistency"].suggested == "very serious"
    assert (
        judgements["inconsistency"].judgement == "serious"
        and "Colditz" in judgements["inconsistency"].reason
    )
    page = (
        client_for(people["reviewer_a"]).get(f"/reviews/{BCG_SLUG}/synthesis/sof/").content.decode()
    )
    assert "tuberculosis" in page and f"{round(rv.absolute.risk_per_1000)} per 1,000" in page


def test_exports_number_footnotes_and_make_cells_safe(review, stats, row):
    client = client_for(stats)
    html = client.get(f"{PAGE}export/?format=html")
    assert html.status_code == 200 and b"<table" in html.content
    body = html.content.decode()
    assert '<li value="1">' in body and '<li value="2">' in body and "<sup>1,2</sup>" in body
    assert "style=" in body and "<script" not in body
    text = client.get(f"{PAGE}export/?format=csv").content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Outcome" and rows[1][8] == "1,2"
    notes = [r for r in rows if r and r[0] in ("1", "2")]
    assert [n[1].split(":")[0] for n in notes] == ["Inconsistency", "Indirectness"]
    assert "older trials" in notes[1][1] and "— stats" in notes[1][1]
    # A hostile outcome label cannot run as a formula in a spreadsheet.
    SofRow.objects.filter(pk=row.pk).update(outcome_label="=1+1")
    text = client.get(f"{PAGE}export/?format=csv").content.decode()
    assert list(csv.reader(io.StringIO(text)))[1][0] == "'=1+1"
    book = load_workbook(io.BytesIO(client.get(f"{PAGE}export/?format=xlsx").content))
    sheet = book["summary of findings"]
    assert sheet.cell(2, 1).value == "'=1+1"
    assert [c.value for c in book["footnotes"]["A"]][1:] == [1, 2]
    assert client.get(f"{PAGE}export/?format=exe").status_code == 404


def test_the_api_mirrors_the_pages(review, lead, stats, row):
    viewer = viewer_of(review, lead)
    data = client_for(viewer).get(API).json()
    assert data["exists"] and data["rows"][0]["k"] == 13
    assert [f["n"] for f in data["footnotes"]] == [1, 2]
    domains = {d["domain"]: d for d in data["rows"][0]["domains"]}
    assert domains["inconsistency"]["suggested"] == "very serious"
    assert domains["inconsistency"]["judgement"] == "serious"
    assert "5.2.2" in domains["inconsistency"]["handbook"]
    url = f"{API}rows/{row.pk}/judge/"
    body = {"domain": "imprecision", "judgement": "very serious"}
    refused = client_for(viewer).post(url, body, content_type="application/json")
    assert refused.status_code == 403
    client = client_for(stats)
    r = client.post(url, body, content_type="application/json")
    assert r.status_code == 400 and "reason" in r.content.decode()
    r = client.post(url, body | {"reason": "Few events."}, content_type="application/json")
    assert r.status_code == 200
    assert {d["domain"]: d for d in r.json()["domains"]}["imprecision"]["reason"] == "Few events."
    r = client.put(
        f"{API}rows/{row.pk}/statement/", {"statement": "Edited."}, content_type="application/json"
    )
    assert (
        r.status_code == 200 and r.json()["statement"] == "Edited." and r.json()["statement_edited"]
    )
    assert client.get(f"{API}rows/999999/").status_code == 404
    r = client.post(f"{API}rows/", {"analysis": row.analysis_id}, content_type="application/json")
    assert r.status_code == 400  # already has a row
    assert client.get(f"{API}export/?format=csv").status_code == 200


def test_a_row_of_another_review_is_a_404(review, lead, stats, row):
    from reviews import services as review_services

    other = review_services.review_create(user=stats, title="Other review")
    client = client_for(stats)
    assert client.get(f"/reviews/{other.slug}/synthesis/sof/rows/{row.pk}/").status_code == 404
    assert client.get(f"/api/reviews/{other.slug}/synthesis/sof/rows/{row.pk}/").status_code == 404


def test_the_table_round_trips_through_the_archive(review, stats, row):
    before = selectors.table_view(review)
    data = archive.archive_bytes(review=review)
    Review.objects.all().delete()
    get_user_model().objects.all().delete()
    AuditEvent.objects.all().delete()
    imported = archive.review_import(stream=io.BytesIO(data))
    table = SofTable.objects.get(review=imported)
    assert table.intervention == "=BCG vaccine" and table.created_by_name == "stats"
    copy = SofRow.objects.get(review=imported)
    assert copy.analysis.review == imported and copy.result.analysis == copy.analysis
    judgements = {j.domain: j for j in copy.judgements.all()}
    assert judgements["inconsistency"].reason == "Latitude."
    assert judgements["inconsistency"].decided_by is None
    assert judgements["inconsistency"].decided_by_name == "stats"
    after = selectors.table_view(imported)
    assert [f["text"] for f in after["footnotes"]] == [f["text"] for f in before["footnotes"]]
    assert after["rows"][0].absolute == before["rows"][0].absolute
    assert json.dumps(after["rows"][0].effect) == json.dumps(before["rows"][0].effect)
