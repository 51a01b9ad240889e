"""A stored result's files (results CSV, XLSX, JSON; data CSV; R script), its figures drawn
once and kept, the results page's speed, ``export_analyses``, and the synthesis API."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from synthesis import bundle, services
from synthesis.models import AnalysisFigure, AnalysisResult
from tests.conftest import client_for
from tests.synthesis.app_world import MAIN, bcg_studies, snapshot_of, statistician_of, viewer_of

PAGES = "/reviews/exercise/synthesis/"
API = "/api/reviews/exercise/synthesis/"


@pytest.fixture
def stats(review, lead):
    return statistician_of(review, lead)


@pytest.fixture
def result(review, lead, stats):
    snapshot_of(review, bcg_studies(), user=lead)
    analysis = services.analysis_create(
        actor=stats,
        review=review,
        data=MAIN
        | {
            "subgroup": "alloc",
            "leave_one_out": True,
            "publication_bias": True,
            "without_high_rob": True,
        },
    )
    return services.analysis_run_now(actor=stats, review=review, analysis=analysis)


def test_every_export_of_a_result(review, lead, result):
    c = client_for(viewer_of(review, lead))  # every member may download
    base = f"{PAGES}results/{result.pk}/export/?format="
    rows = list(csv.DictReader(io.StringIO(c.get(base + "csv").content.decode())))
    parts = [r["part"] for r in rows]
    assert parts[0] == "main" and parts.count("subgroup") == 3 and "sensitivity" in parts
    assert parts.count("leave-one-out") == 13
    main = result.results["main"]
    assert float(rows[0]["estimate"]) == main["estimate"] and float(rows[0]["tau2"]) == main["tau2"]
    assert float(rows[0]["exp_estimate"]) == pytest.approx(0.48942094, rel=1e-7)
    book = load_workbook(io.BytesIO(c.get(base + "xlsx").content))
    assert book.sheetnames == ["results", "studies"]
    assert book["results"]["H2"].value == main["estimate"]
    assert book["studies"].max_row == 14
    answer = c.get(base + "json")
    assert answer["Content-Type"] == "application/json"
    assert answer.content.decode() == bundle.results_json(result.results)
    data = json.loads(answer.content)
    for key in ("method", "test", "level", "k", "estimate", "se", "ci_lb", "ci_ub", "tau2",
                "i2", "pi_lb", "pi_ub"):  # fmt: skip
        assert key in data["main"] or key in data, key
    assert isinstance(data["subgroups"], list) and isinstance(data["sensitivity"], list)
    assert c.get(base + "data").content.decode() == bundle.data_csv(result.results)
    script = c.get(base + "r")
    assert script.content.decode() == bundle.r_script(result.results)
    assert "metafor" in script.content.decode()
    assert 'filename="main-log-rr-reml-' in script["Content-Disposition"]
    refused = c.get(base + "exe")
    assert refused.status_code == 302
    api = c.get(f"{API}results/{result.pk}/export/?format=exe")
    assert api.status_code == 400 and "format" in api.json()
    assert c.get(f"{API}results/{result.pk}/export/?format=xlsx").status_code == 200


def test_figures_are_drawn_once_and_kept(review, result, stats, monkeypatch):
    c = client_for(stats)
    for kind in ("forest", "funnel", "leave_one_out"):
        for fmt, start in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")):
            answer = c.get(f"{PAGES}results/{result.pk}/figures/{kind}.{fmt}")
            assert answer.status_code == 200 and answer.content.startswith(start), (kind, fmt)
    assert AnalysisFigure.objects.filter(result=result).count() == 9
    first = c.get(f"{PAGES}results/{result.pk}/figures/forest.svg").content

    def no_drawing(*args, **kwargs):
        raise AssertionError("a stored figure was drawn again")

    monkeypatch.setattr(services, "_draw", no_drawing)
    again = c.get(f"{PAGES}results/{result.pk}/figures/forest.svg?download=1")
    assert again.content == first and "attachment" in again["Content-Disposition"]
    assert c.get(f"{API}results/{result.pk}/figures/funnel.png").status_code == 200
    # Unknown figures and formats are 404s, never an error.
    for path in ("figures/radar.svg", "figures/forest.gif", "figures/forest.svg.svg"):
        assert c.get(f"{PAGES}results/{result.pk}/{path}").status_code == 404, path


def test_a_figure_the_result_has_no_data_for_is_a_404(review, lead, stats):
    snapshot_of(review, bcg_studies(), user=lead)
    analysis = services.analysis_create(actor=stats, review=review, data=MAIN)
    plain = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    c = client_for(stats)
    assert c.get(f"{PAGES}results/{plain.pk}/figures/leave_one_out.svg").status_code == 404
    assert c.get(f"{API}results/{plain.pk}/figures/leave_one_out.svg").status_code == 404


def test_figures_are_drawn_once_and_the_results_page_draws_none(review, result, stats, monkeypatch):
    """The results page links its figures; each is drawn on first request, then served as
    stored (the page's speed is measured in bench/synthesis_app_bench.py, not asserted here)."""
    drawn = []
    real_draw = services._draw

    def counting_draw(*args, **kwargs):
        drawn.append(kwargs.get("kind"))
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(services, "_draw", counting_draw)
    c = client_for(stats)
    page = c.get(f"{PAGES}results/{result.pk}/")
    assert page.status_code == 200 and drawn == []
    first = c.get(f"{PAGES}results/{result.pk}/figures/forest.svg")
    assert first.status_code == 200 and drawn == ["forest"]
    again = c.get(f"{PAGES}results/{result.pk}/figures/forest.svg")
    assert again.content == first.content and drawn == ["forest"]
    assert AnalysisFigure.objects.filter(result=result, kind="forest", fmt="svg").count() == 1
    assert c.get(f"{PAGES}results/{result.pk}/").status_code == 200 and drawn == ["forest"]


def test_export_analyses_writes_a_folder_per_analysis(review, lead, stats, result, tmp_path):
    # A second analysis with the same slug of its name, and one never run.
    twin = services.analysis_create(
        actor=stats, review=review, data=MAIN | {"name": "Main: log RR; REML"}
    )
    services.analysis_run_now(actor=stats, review=review, analysis=twin)
    services.analysis_create(actor=stats, review=review, data=MAIN | {"name": "Never run"})
    out = io.StringIO()
    call_command("export_analyses", "--review", "exercise", "-o", str(tmp_path), stdout=out)
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert folders == ["main-log-rr-reml", "main-log-rr-reml-2"]
    for folder in folders:
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == [
            "analysis.R",
            "data.csv",
            "results.json",
        ]
    data = json.loads((tmp_path / "main-log-rr-reml" / "results.json").read_text())
    for key in ("method", "test", "level", "k", "estimate", "se", "ci_lb", "ci_ub", "tau2",
                "i2", "pi_lb", "pi_ub"):  # fmt: skip
        assert key in data["main"] or key in data, key
    assert [s["subset"] for s in data["subgroups"]]
    assert data["sensitivity"] and all("subset" in s for s in data["sensitivity"])
    lines = (tmp_path / "main-log-rr-reml" / "data.csv").read_text().splitlines()
    assert len(lines) == 14 and lines[0].startswith("study,yi,vi")
    assert "2 analyses written" in out.getvalue()


def test_export_analyses_refuses_clearly(review, tmp_path):
    with pytest.raises(CommandError, match="No review with the slug 'nope'"):
        call_command("export_analyses", "--review", "nope", "-o", str(tmp_path))
    with pytest.raises(CommandError, match="no stored analysis results"):
        call_command("export_analyses", "--review", "exercise", "-o", str(tmp_path))
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(CommandError, match="not a folder"):
        call_command("export_analyses", "--review", "exercise", "-o", str(a_file))


# --- The API ----------------------------------------------------------------------------------


def test_the_api_defines_runs_and_reads(review, lead, stats, django_capture_on_commit_callbacks):
    snapshot = snapshot_of(review, bcg_studies(), user=lead)
    c = client_for(stats)
    created = c.post(
        f"{API}analyses/",
        MAIN | {"subgroup": "alloc", "snapshot": snapshot.pk,
                "study_filters": [{"field": "alloc", "op": "in", "value": ["random", "alternate"]}]},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["snapshot"] == snapshot.pk and body["latest_result"] is None
    pk = body["id"]
    listed = c.get(f"{API}analyses/").json()  # paged like every list of the API
    assert listed["count"] == 1 and [a["id"] for a in listed["results"]] == [pk]
    with django_capture_on_commit_callbacks(execute=True):
        run = c.post(f"{API}analyses/{pk}/run/")
    assert run.status_code == 202
    status = c.get(run.json()["url"]).json()
    assert status["status"] == "succeeded" and status["progress"] == 100 and status["error"] == ""
    result = AnalysisResult.objects.get(pk=status["result"])
    detail = c.get(f"{API}results/{result.pk}/").json()
    assert detail["results"] == result.results and detail["inputs"]["rows"]
    assert detail["stale"] is False and detail["snapshot_number"] == 1
    results = c.get(f"{API}analyses/{pk}/results/").json()["results"]
    assert [r["id"] for r in results] == [result.pk]
    assert c.get(f"{API}analyses/{pk}/").json()["latest_result"] == result.pk
    replaced = c.put(
        f"{API}analyses/{pk}/", MAIN | {"method": "DL"}, content_type="application/json"
    )
    assert replaced.status_code == 200 and replaced.json()["method"] == "DL"
    assert replaced.json()["study_filters"] == []
    assert c.delete(f"{API}analyses/{pk}/").status_code == 204
    assert c.get(f"{API}analyses/{pk}/").status_code == 404


def test_a_failed_run_reads_its_error_in_the_api(
    review, lead, stats, django_capture_on_commit_callbacks
):
    snapshot_of(review, bcg_studies()[:1], user=lead)
    c = client_for(stats)
    pk = c.post(f"{API}analyses/", MAIN, content_type="application/json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        run = c.post(f"{API}analyses/{pk}/run/").json()
    status = client_for(viewer_of(review, lead)).get(run["url"]).json()
    assert status["status"] == "failed" and status["result"] is None
    assert status["error"] == "Only one study has this outcome: nothing to pool."


def test_the_forest_plot_s_rob_column(review, lead, stats, monkeypatch):
    from synthesis import selectors

    snapshot_of(review, bcg_studies(), user=lead)
    monkeypatch.setattr(
        selectors, "rob_of", lambda review, outcome: ({"Aronson 1948": "High"}, ["High"])
    )
    analysis = services.analysis_create(actor=stats, review=review, data=MAIN)
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    c = client_for(stats)
    page = c.get(f"{PAGES}results/{result.pk}/").content.decode()
    assert "figures/forest.svg?rob=1" in page
    with_rob = c.get(f"{PAGES}results/{result.pk}/figures/forest.svg?rob=1")
    without = c.get(f"{PAGES}results/{result.pk}/figures/forest.svg")
    assert with_rob.status_code == without.status_code == 200
    assert with_rob.content != without.content
    assert AnalysisFigure.objects.filter(result=result, kind="forest").count() == 2


def test_p_values_as_the_page_shows_them():
    from synthesis.templatetags.synthesis_numbers import p_is, pvalue

    assert pvalue(7e-05) == "< 0.0001" and p_is(7e-05) == "p < 0.0001"
    assert pvalue(0.01234) == "0.0123" and p_is(0.41321) == "p = 0.4132"
    assert pvalue(None) == "—" and pvalue(True) == "—"
