"""Risk of bias's outputs: the table export (CSV/XLSX, formula-safe), the figures (SVG/PNG,
cached by the table's fingerprint) and the archive round trip (issue 17)."""

from __future__ import annotations

import csv
import io
from unittest import mock

import pytest
from openpyxl import load_workbook

from extraction.rob import selectors, services
from extraction.rob.models import RobAssessment, RobSettings
from reporting import archive
from reviews.models import Review
from tests.conftest import client_for
from tests.extraction.rob.rob_world import assess

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(review, lead, rob_a, rob_b, trial):
    assess(review, rob_a, trial, prefer=("Y", "PY", "N", "NI"))
    assess(review, rob_b, trial, prefer=("N", "PN", "NI", "Y"))
    a, b = selectors.done_pair(trial)
    tool = selectors.tool_of(selectors.settings_of(review))
    differing = [r["id"] for r in selectors.comparison(a, b, tool) if r["differs"]]
    picks = {k: {"pick": "a"} for k in differing}
    picks[differing[0]] = {
        "pick": "own",
        "judgement": "High",
        "justification": '=HYPERLINK("http://evil")',
    }
    return services.consensus_save(actor=lead, review=review, study=trial, picks=picks, finish=True)


def test_the_table_exports_as_csv_and_xlsx_with_safe_cells(review, lead, rob_viewer, finished):
    client = client_for(rob_viewer)
    response = client.get(f"/reviews/{review.slug}/extraction/rob/export/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1 and rows[0]["study"] == "Aronson 1948"
    assert rows[0]["overall"] == finished.overall
    key = next(k for k, d in finished.domains.items() if d.get("justification"))
    assert rows[0][key] == "High"
    assert rows[0][f"{key}.justification"].startswith("'=HYPERLINK")
    xlsx = client.get(f"/reviews/{review.slug}/extraction/rob/export/?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index(f"{key}.justification") + 1).value.startswith("'=")
    api = client.get(f"/api/reviews/{review.slug}/extraction/rob/export/?format=csv")
    assert api.status_code == 200 and api.content == response.content
    bad = client.get(f"/api/reviews/{review.slug}/extraction/rob/export/?format=exe")
    assert bad.status_code == 400


def test_the_figures_are_served_and_cached(review, rob_viewer, finished):
    client = client_for(rob_viewer)
    page = client.get(f"/reviews/{review.slug}/extraction/rob/figures/")
    assert page.status_code == 200 and b"traffic_light.svg" in page.content
    for kind in ("traffic_light", "summary"):
        svg = client.get(f"/reviews/{review.slug}/extraction/rob/figures/{kind}.svg")
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        assert b"<svg" in svg.content
        png = client.get(f"/api/reviews/{review.slug}/extraction/rob/figures/{kind}/?format=png")
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    with mock.patch("extraction.rob.figures.traffic_light") as draw:
        again = client.get(f"/reviews/{review.slug}/extraction/rob/figures/traffic_light.svg")
    assert again.status_code == 200 and not draw.called
    assert client.get(f"/reviews/{review.slug}/extraction/rob/figures/pie.svg").status_code == 404
    assert (
        client.get(f"/reviews/{review.slug}/extraction/rob/figures/summary.gif").status_code == 404
    )
    assert (
        client.get(
            f"/api/reviews/{review.slug}/extraction/rob/figures/summary/?format=gif"
        ).status_code
        == 400
    )


def test_no_figure_before_a_finished_consensus(review, lead):
    client = client_for(lead)
    assert (
        client.get(f"/reviews/{review.slug}/extraction/rob/figures/summary.svg").status_code == 404
    )
    assert client.get(f"/reviews/{review.slug}/extraction/rob/figures/").status_code == 200


def test_risk_of_bias_round_trips_through_the_archive(review, lead, finished):
    services.settings_save(actor=lead, review=review, tool="rob2", per_outcome=False)
    first = archive.archive_bytes(review=review)
    Review.objects.all().delete()
    imported = archive.review_import(stream=io.BytesIO(first))
    assert RobSettings.objects.filter(review=imported).count() == 1
    found = RobAssessment.objects.filter(review=imported)
    assert found.count() == 3
    consensus = found.get(kind="consensus")
    assert consensus.assessor is None and consensus.assessor_name == "lead"
    assert consensus.domains == finished.domains and consensus.overall == finished.overall
    assert selectors.overall_by_study(imported) == {"Aronson 1948": finished.overall}
