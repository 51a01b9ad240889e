"""Several effect sizes per study through the app (issue 20): a test review whose snapshot has
the first seven studies of metadat's dat.assink2016 (Assink & Wibbelink 2016; 32 effect sizes,
standardised mean differences of delinquency measures: 6, 3, 10, 1, 1, 5 and 6 per study) as
extracted result rows. The option is offered pre-ticked on the form, the analysis runs the
three-level model, and the results page, forest plot, exports and API show it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from core.models import AuditEvent
from synthesis import bundle, services
from synthesis.models import Analysis
from tests.conftest import client_for
from tests.synthesis.app_world import snapshot_of, statistician_of
from tests.synthesis.test_bundle_multilevel import FIXTURES

PAGES = "/reviews/exercise/synthesis/"
API = "/api/reviews/exercise/synthesis/"
OUTCOME = "Delinquency"


def assink_rows(n_studies: int = 7) -> list[dict]:
    with open(FIXTURES / "multilevel_assink.csv", newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if int(r["study"]) <= n_studies]


def assink_studies() -> list[dict]:
    studies: dict[str, dict] = {}
    for r in assink_rows():
        label = f"Assink study {r['study']}"
        study = studies.setdefault(
            label, {"label": label, "reports": [], "form_version": 1, "values": {}, "effects": []}
        )
        study["effects"].append(
            {
                "outcome": OUTCOME,
                "arm1": "Intervention",
                "arm2": "Control",
                "timepoint": f"{r['deltype']} delinquency, measure {r['esid']}",
                "measure": "SMD",
                "yi": float(r["yi"]),
                "vi": float(r["vi"]),
            }
        )
    return list(studies.values())


@pytest.fixture
def stats(review, lead):
    snapshot_of(review, assink_studies(), user=lead)
    return statistician_of(review, lead)


DEFINITION = {
    "name": "Delinquency, three-level",
    "outcome": OUTCOME,
    "method": "REML",
    "test": "knha",
    "level": "95",
    "leave_one_out": "on",
    "publication_bias": "on",
    "dependent": "on",
    "dependent_rho": "0.6",
    "dependent_robust": "cr2",
}


def test_the_form_offers_the_option_pre_ticked_with_the_reason(review, stats):
    c = client_for(stats)
    page = c.get(f"{PAGES}new/?outcome={OUTCOME}").content.decode()
    assert 'name="dependent"' in page and "checked" in page.split('name="dependent"')[1][:80]
    assert "Offered because 5 studies have more than one result row" in page
    assert "Assink study 3 (10)" in page
    plain = c.get(f"{PAGES}new/").content.decode()
    assert "Offered because" not in plain
    assert "checked" not in plain.split('name="dependent"')[1][:80]


def test_without_the_option_the_clear_error_stays(review, stats):
    analysis = services.analysis_create(
        actor=stats, review=review, data={"name": "Plain", "outcome": OUTCOME}
    )
    with pytest.raises(Exception, match="several effect sizes per study") as err:
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    assert "Assink study 1 has 6 results" in str(err.value)


def test_define_run_results_page_forest_plot_and_exports(review, stats):
    c = client_for(stats)
    answer = c.post(f"{PAGES}new/", DEFINITION)
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    analysis = Analysis.objects.get(review=review, name=DEFINITION["name"])
    assert analysis.dependent == {"model": "three-level", "rho": 0.6, "robust": "cr2"}
    event = AuditEvent.objects.filter(verb="defined analysis").latest("pk")
    assert event.changes["dependent"] == analysis.dependent
    detail = c.get(f"{PAGES}{analysis.pk}/").content.decode()
    assert "CHE working correlation ρ = 0.6, cluster-robust CR2" in detail
    edit = c.get(f"{PAGES}{analysis.pk}/edit/").content.decode()
    assert "checked" in edit.split('name="dependent"')[1][:80] and 'value="0.6"' in edit
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    main = result.results["main"]
    # The same numbers as run() on the fixture's rows (checked against metafor elsewhere).
    rows = [
        {"study": f"Assink study {r['study']}", "es_id": str(i), "yi": r["yi"], "vi": r["vi"]}
        for i, r in enumerate(assink_rows())
    ]
    direct = bundle.run(
        {"method": "REML", "test": "knha", "dependent": {"rho": 0.6, "robust": "cr2"}}, rows
    )["main"]
    for key in ("estimate", "se", "ci_lb", "ci_ub", "robust_se", "robust_df"):
        assert main[key] == pytest.approx(direct[key], rel=1e-12), key
    assert main["sigma2"] == pytest.approx(direct["sigma2"], rel=1e-10)
    assert main["k"] == 32 and main["n_clusters"] == 7
    assert [s["es_id"] for s in result.results["studies"][:6]] == ["1", "2", "3", "4", "5", "6"]
    assert result.results["publication_bias"] is None
    assert any("assume independent" in n for n in result.results["notes"])
    assert len(result.results["leave_one_out"]) == 7

    page = c.get(f"{PAGES}results/{result.pk}/").content.decode()
    for text in ("Three-level model", "σ² between studies", "σ² within studies",
                 "Cluster-robust (CR2, by study)", "data-effect-sizes"):  # fmt: skip
        assert text in page, text
    assert page.count("data-study-group") == 7

    svg = c.get(f"{PAGES}results/{result.pk}/figures/forest.svg").content.decode()
    for label in [f"Assink study {i}" for i in range(1, 8)]:
        assert label in svg
    assert "Three-level model (REML, t test, CHE, ρ = 0.6" in svg
    assert "σ²(between studies)" in svg and "Cluster-robust (CR2" in svg
    assert c.get(f"{PAGES}results/{result.pk}/figures/leave_one_out.svg").status_code == 200
    assert c.get(f"{PAGES}results/{result.pk}/figures/forest.png").status_code == 200

    base = f"{PAGES}results/{result.pk}/export/?format="
    data = c.get(base + "data").content.decode()
    assert data.splitlines()[0].startswith("study,es_id,yi,vi") and len(data.splitlines()) == 33
    script = c.get(base + "r").content.decode()
    assert "rma.mv(" in script and "vcalc(" in script and "clubSandwich = TRUE" in script
    js = json.loads(c.get(base + "json").content)
    assert js["main"]["sigma2"] == main["sigma2"] and js["main"]["robust_type"] == "CR2"
    table = list(csv.DictReader(io.StringIO(c.get(base + "csv").content.decode())))
    assert table[0]["part"] == "main" and float(table[0]["sigma2_within"]) == main["sigma2"][1]
    assert float(table[0]["robust_df"]) == main["robust_df"] and table[0]["tau2"] == ""
    assert [r["part"] for r in table].count("leave-one-out") == 7
    book = load_workbook(io.BytesIO(c.get(base + "xlsx").content))
    assert [cell.value for cell in book["studies"][1]][:3] == ["study", "es_id", "label"]
    assert book["studies"].max_row == 33


def test_the_api_defines_a_three_level_analysis_and_refuses_bad_options(review, stats):
    c = client_for(stats)
    body = {"name": "API three-level", "outcome": OUTCOME, "method": "ML",
            "dependent": {"rho": None, "robust": "cr1"}}  # fmt: skip
    answer = c.post(f"{API}analyses/", body, content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["dependent"] == {"model": "three-level", "rho": None, "robust": "cr1"}
    bad = c.post(
        f"{API}analyses/", body | {"name": "Bad", "dependent": {"rho": 1.5}},
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 400 and "dependent" in bad.json()
    dl = c.post(
        f"{API}analyses/", body | {"name": "DL", "method": "DL"}, content_type="application/json"
    )
    assert dl.status_code == 400 and "dependent" in dl.json()
    assert not Analysis.objects.filter(name__in=["Bad", "DL"]).exists()
    form = client_for(stats).post(f"{PAGES}new/", DEFINITION | {"dependent_rho": "2"})
    assert form.status_code == 200 and "[0, 1)" in form.content.decode()
