"""The synthesis app (issue 18): analyses defined on a finalised snapshot, run as jobs, their
stored results equal to ``synthesis.bundle.run`` on the same rows, stale marking, clear errors,
permissions, hostile input, the protocol's plan and the deviation report's hook."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from core.constants import JobStatus
from core.models import AuditEvent, Job
from demo.bcg import trials
from reporting.deviations import _analyses as deviation_analyses
from reviews.protocol import services as protocol
from synthesis import bundle, selectors, services
from synthesis.models import Analysis, AnalysisResult
from synthesis.stats import escalc, meta_analyse
from tests.conftest import client_for
from tests.synthesis.app_world import (
    MAIN,
    bcg_studies,
    snapshot_of,
    statistician_of,
    viewer_of,
)

PAGES = "/reviews/exercise/synthesis/"


@pytest.fixture
def stats(review, lead):
    return statistician_of(review, lead)


@pytest.fixture
def snapshot(review, lead):
    return snapshot_of(review, bcg_studies(), user=lead)


def _define(review, who, **extra):
    return services.analysis_create(actor=who, review=review, data=MAIN | extra)


def test_a_run_stores_exactly_what_the_bundle_computes_on_the_snapshot_s_rows(
    review, stats, snapshot
):
    analysis = _define(
        review,
        stats,
        subgroup="alloc",
        leave_one_out=True,
        publication_bias=True,
        moderators=["ablat"],
        sensitivity_filters=[{"name": "Without alternate", "field": "alloc", "op": "eq",
                              "value": "alternate"}],
    )  # fmt: skip
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    # The rows are the snapshot's effect sizes, which are metafor's escalc of dat.bcg.
    rows = result.inputs["rows"]
    data = trials()
    rr = escalc(
        "RR",
        ai=[int(t["tpos"]) for t in data],
        bi=[int(t["tneg"]) for t in data],
        ci=[int(t["cpos"]) for t in data],
        di=[int(t["cneg"]) for t in data],
    )
    assert [r["study"] for r in rows] == [f"{t['author']} {t['year']}" for t in data]
    assert [r["yi"] for r in rows] == pytest.approx(list(rr.yi), rel=1e-12)
    assert [r["vi"] for r in rows] == pytest.approx(list(rr.vi), rel=1e-12)
    assert rows[0]["alloc"] == "random" and rows[0]["ablat"] == 44.0 and rows[0]["rob"] is None
    # The stored results are the bundle's on the same spec and rows, to the bit.
    again = json.loads(json.dumps(bundle.run(result.inputs["spec"], rows)))
    assert result.results == again
    # ... and the main model is the engine's.
    fit = meta_analyse(list(rr.yi), list(rr.vi), method="REML").fit
    assert result.results["main"]["estimate"] == pytest.approx(fit.estimate, rel=1e-12)
    assert result.results["main"]["estimate"] == pytest.approx(-0.7145323, abs=1e-6)  # metafor
    assert result.snapshot_number == snapshot.number
    assert result.snapshot_sha256 == snapshot.sha256
    assert "metafor" in result.engine
    assert {s["subset"] for s in result.results["subgroups"]} >= {"alloc = random"}
    assert [s["subset"] for s in result.results["sensitivity"]] == ["Without alternate"]
    assert len(result.results["leave_one_out"]) == 13
    assert result.job.status == JobStatus.SUCCEEDED
    verbs = set(AuditEvent.objects.filter(review=review).values_list("verb", flat=True))
    assert {"defined analysis", "ran analysis", "started job"} <= verbs


def test_a_newer_snapshot_marks_older_results_stale(review, lead, stats, snapshot, client):
    analysis = _define(review, stats)
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    assert not selectors.result_is_stale(result, selectors.latest_snapshot_number(review))
    snapshot_of(review, bcg_studies()[:5], user=lead)
    assert selectors.result_is_stale(result, selectors.latest_snapshot_number(review))
    page = client_for(stats).get(f"{PAGES}results/{result.pk}/")
    assert page.status_code == 200 and b"data-stale" in page.content
    listing = client_for(stats).get(PAGES)
    assert b"data-stale" in listing.content
    api = client_for(stats).get(f"/api/reviews/exercise/synthesis/results/{result.pk}/").json()
    assert api["stale"] is True and api["snapshot_number"] == 1
    # The next run reads the new snapshot (5 studies) and is current.
    newer = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    assert newer.snapshot_number == 2 and newer.results["main"]["k"] == 5
    assert not selectors.result_is_stale(newer, 2)


def test_one_study_fails_clearly_on_the_job_and_the_analysis_page(review, lead, stats):
    snapshot_of(review, bcg_studies()[:1], user=lead)
    analysis = _define(review, stats)
    with pytest.raises(ValidationError, match="Only one study has this outcome: nothing to pool"):
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    assert not AnalysisResult.objects.exists()
    job = Job.objects.get(kind="synthesis.run")
    assert job.status == JobStatus.FAILED and "Traceback" not in job.error
    for path in (f"{PAGES}{analysis.pk}/", f"{PAGES}runs/{job.pk}/"):
        page = client_for(stats).get(path).content.decode()
        assert "Only one study has this outcome: nothing to pool." in page, path
        assert "data-run-error" in page
    # Another member reads the error too: it is about the data.
    viewer = viewer_of(review, lead)
    assert b"nothing to pool" in client_for(viewer).get(f"{PAGES}runs/{job.pk}/").content


def test_a_study_with_two_matching_rows_is_named(review, lead, stats):
    snapshot_of(review, bcg_studies(extra_outcome=True), user=lead)
    analysis = _define(review, stats)
    with pytest.raises(ValidationError, match=r"Study Aronson 1948 has 2 results .*Placebo"):
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    # Picking the comparison by arm names resolves it.
    services.analysis_update(
        actor=stats, review=review, analysis=analysis, data=MAIN | {"arm2": "Control"}
    )
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    assert result.results["main"]["k"] == 13


def test_no_snapshot_and_unknown_outcome_are_clear(review, lead, stats):
    analysis = _define(review, stats)
    with pytest.raises(ValidationError, match="not been finalised"):
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    snapshot_of(review, bcg_studies(), user=lead)
    services.analysis_update(
        actor=stats, review=review, analysis=analysis, data=MAIN | {"outcome": "Mortality"}
    )
    with pytest.raises(ValidationError, match=r"No study .* “Mortality”: nothing to pool"):
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)


def test_a_study_filter_and_a_measure_mismatch(review, stats, snapshot):
    analysis = _define(review, stats, study_filters=[{"field": "ablat", "op": "gt", "value": 30}])
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    assert all(r["ablat"] > 30 for r in result.inputs["rows"])
    assert result.results["main"]["k"] == sum(float(t["ablat"]) > 30 for t in trials())
    assert any("left out by the analysis's study filter" in n for n in result.results["notes"])
    services.analysis_update(
        actor=stats, review=review, analysis=analysis, data=MAIN | {"measure": "OR"}
    )
    with pytest.raises(ValidationError, match=r"asks for the measure OR.*are RR"):
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    services.analysis_update(
        actor=stats,
        review=review,
        analysis=analysis,
        data=MAIN | {"study_filters": [{"field": "alloc", "op": "eq", "value": "none"}]},
    )
    with pytest.raises(ValidationError, match="matches the analysis's study filter"):
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    services.analysis_update(
        actor=stats, review=review, analysis=analysis, data=MAIN | {"moderators": ["design2"]}
    )
    with pytest.raises(ValidationError, match="Aronson 1948 has no value for the moderator"):
        services.analysis_run_now(actor=stats, review=review, analysis=analysis)


def test_without_high_rob_works_without_any_judgement(review, stats, snapshot):
    analysis = _define(review, stats, without_high_rob=True)
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    (sens,) = result.results["sensitivity"]
    assert sens["kind"] == "without_high_rob" and sens["excluded"] == []


def test_rob_judgements_reach_the_rows(review, stats, snapshot, monkeypatch):
    monkeypatch.setattr(
        selectors,
        "rob_of",
        lambda review, outcome: ({"Aronson 1948": "High", "Rosenthal 1960": "Low"}, ["High"]),
    )
    analysis = _define(review, stats, without_high_rob=True, subgroup="rob")
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    rows = {r["study"]: r for r in result.inputs["rows"]}
    assert rows["Aronson 1948"]["rob"] == "High" and rows["Ferguson & Simes 1949"]["rob"] is None
    assert result.inputs["spec"]["high_rob"] == ["High"]
    (sens,) = result.results["sensitivity"]
    assert sens["excluded"] == ["Aronson 1948"] and sens["k"] == 12


# --- Permissions and hostile input -------------------------------------------------------------


def test_who_may_define_edit_run_and_delete(review, lead, reviewer_a, stats, snapshot, outsider):
    viewer = viewer_of(review, lead)
    for who in (viewer, reviewer_a):
        with pytest.raises(PermissionDenied):
            _define(review, who)
    with pytest.raises(Http404):
        _define(review, outsider)
    analysis = _define(review, stats)
    assert _define(review, lead, name="The lead's").pk
    for who in (viewer, reviewer_a):
        c = client_for(who)
        assert c.get(f"{PAGES}new/").status_code == 403
        assert c.post(f"{PAGES}{analysis.pk}/run/").status_code == 403
        assert c.post(f"{PAGES}{analysis.pk}/delete/").status_code == 403
        assert c.get(f"{PAGES}{analysis.pk}/").status_code == 200
        api = f"/api/reviews/exercise/synthesis/analyses/{analysis.pk}/"
        assert c.put(api, MAIN, content_type="application/json").status_code == 403
        assert c.delete(api).status_code == 403
        assert c.post(f"{api}run/").status_code == 403
    o = client_for(outsider)
    for path in (PAGES, f"{PAGES}{analysis.pk}/", f"{PAGES}new/"):
        assert o.get(path).status_code == 404
    assert o.get("/api/reviews/exercise/synthesis/analyses/").status_code == 404
    assert Analysis.objects.filter(review=review).count() == 2


def test_forged_ids_are_404(review, lead, stats, snapshot, outsider):
    from reviews import services as review_services

    theirs = review_services.review_create(user=outsider, title="Theirs", slug="theirs")
    snapshot_of(theirs, bcg_studies()[:3], user=outsider)
    other = services.analysis_create(actor=outsider, review=theirs, data=MAIN)
    other_result = services.analysis_run_now(actor=outsider, review=theirs, analysis=other)
    c = client_for(stats)
    for path in (
        f"{PAGES}{other.pk}/",
        f"{PAGES}{other.pk}/edit/",
        f"{PAGES}results/{other_result.pk}/",
        f"{PAGES}results/{other_result.pk}/figures/forest.svg",
        f"{PAGES}results/{other_result.pk}/export/?format=csv",
        f"{PAGES}runs/{other_result.job_id}/",
        f"/api/reviews/exercise/synthesis/analyses/{other.pk}/",
        f"/api/reviews/exercise/synthesis/results/{other_result.pk}/",
        f"/api/reviews/exercise/synthesis/runs/{other_result.job_id}/",
    ):
        assert c.get(path).status_code == 404, path
    assert c.post(f"{PAGES}{other.pk}/run/").status_code == 404
    assert c.post(f"{PAGES}{other.pk}/delete/").status_code == 404
    # A run (job) of another kind of this review is not an analysis's run.
    mine = Job.objects.create(review=review, kind="dedup", params={})
    assert c.get(f"{PAGES}runs/{mine.pk}/").status_code == 404
    # A snapshot of another review cannot be chosen.
    with pytest.raises(ValidationError, match="No such snapshot"):
        _define(review, stats, snapshot=theirs.extraction_snapshots.get().pk)
    assert Analysis.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 201),
        ("name", ["list"]),
        ("outcome", ""),
        ("method", "BAYES"),
        ("test", "t"),
        ("level", "nan"),
        ("level", 100),
        ("level", "abc"),
        ("measure", "HR"),
        ("subgroup", "../../etc/passwd"),
        ("moderators", ["rob"]),
        ("moderators", {"a": 1}),
        ("study_filters", [{"field": "alloc", "op": "regex", "value": ".*"}]),
        ("study_filters", [{"field": "x; DROP TABLE", "op": "eq", "value": 1}]),
        ("study_filters", "alloc = random"),
        ("sensitivity_filters", [{"field": "alloc", "op": "eq", "value": {"$gt": 1}}]),
        ("snapshot", "abc"),
        ("leave_one_out", "maybe"),
    ],
)
def test_bad_definitions_are_refused_with_a_message_and_change_nothing(review, stats, field, value):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        _define(review, stats, **{field: value})
    assert field in caught.value.message_dict
    assert not Analysis.objects.exists() and AuditEvent.objects.count() == before
    response = client_for(stats).post(
        "/api/reviews/exercise/synthesis/analyses/",
        MAIN | {field: value},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert not Analysis.objects.exists()


def test_a_duplicate_name_is_refused(review, stats):
    _define(review, stats)
    with pytest.raises(ValidationError, match="already has this name"):
        _define(review, stats)


def test_hostile_text_is_escaped_on_every_page(review, stats, snapshot):
    evil = "<script>alert(1)</script>"
    analysis = _define(
        review,
        stats,
        name=evil,
        sensitivity_filters=[{"name": evil, "field": "alloc", "op": "eq", "value": evil}],
    )
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    c = client_for(stats)
    for path in (PAGES, f"{PAGES}{analysis.pk}/", f"{PAGES}results/{result.pk}/"):
        body = c.get(path).content.decode()
        assert evil not in body and "&lt;script&gt;" in body, path
    csv_body = c.get(f"{PAGES}results/{result.pk}/export/?format=csv").content.decode()
    assert "<script>" in csv_body  # text, never a formula
    assert ",=" not in csv_body


# --- Pages --------------------------------------------------------------------------------------


def test_the_form_defines_and_edits_an_analysis(
    review, stats, snapshot, django_capture_on_commit_callbacks
):
    c = client_for(stats)
    page = c.get(f"{PAGES}new/")
    assert page.status_code == 200 and b"Tuberculosis" in page.content
    form = {
        "name": "From the form",
        "outcome": "Tuberculosis",
        "method": "DL",
        "test": "knha",
        "level": "90",
        "subgroup": "alloc",
        "study_filters": "ablat > 20",
        "sensitivity_filters": "No systematic: alloc = systematic\nalloc in random, alternate",
        "moderators": "ablat",
        "leave_one_out": "on",
    }
    response = c.post(f"{PAGES}new/", form)
    assert response.status_code == 302
    analysis = Analysis.objects.get(name="From the form")
    assert analysis.study_filters == [{"field": "ablat", "op": "gt", "value": "20"}]
    assert analysis.sensitivity_filters[0]["name"] == "No systematic"
    assert analysis.sensitivity_filters[1]["value"] == ["random", "alternate"]
    assert analysis.level == 90 and analysis.test == "knha" and analysis.leave_one_out
    edit = c.get(f"{PAGES}{analysis.pk}/edit/").content.decode()
    assert "No systematic: alloc = systematic" in edit
    bad = c.post(f"{PAGES}{analysis.pk}/edit/", form | {"study_filters": "ablat ~ 3"})
    assert bad.status_code == 200 and "Line 1: write a filter" in bad.content.decode()
    response = c.post(f"{PAGES}{analysis.pk}/edit/", form | {"method": "PM"})
    assert response.status_code == 302
    analysis.refresh_from_db()
    assert analysis.method == "PM"
    assert AuditEvent.objects.filter(verb="edited analysis", changes__method=["DL", "PM"]).exists()
    # Run it from the page: the browser goes to the run's page, then the results.
    with django_capture_on_commit_callbacks(execute=True):
        run = c.post(f"{PAGES}{analysis.pk}/run/")
    assert run.status_code == 302 and "/synthesis/runs/" in run["Location"]
    page = c.get(run["Location"]).content.decode()
    assert "data-run-done" in page
    result = AnalysisResult.objects.get(analysis=analysis)
    assert result.results["main"]["method"] == "PM" and result.results["main"]["test"] == "knha"
    results = c.get(f"{PAGES}results/{result.pk}/").content.decode()
    for marker in ("data-main", "data-subgroups", "data-subgroup-test", "data-sensitivity",
                   "data-leave-one-out", "data-forest-img", "data-exports"):  # fmt: skip
        assert marker in results, marker
    assert c.post(f"{PAGES}{analysis.pk}/delete/").status_code == 302
    assert not Analysis.objects.exists() and not AnalysisResult.objects.exists()
    assert AuditEvent.objects.filter(verb="deleted analysis").exists()


def test_the_results_page_shows_back_transformed_ratios(review, stats, snapshot):
    analysis = _define(review, stats, publication_bias=True)
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    body = client_for(stats).get(f"{PAGES}results/{result.pk}/").content.decode()
    assert "data-estimate-exp>0.4894<" in body  # exp(-0.7145), metafor's RR
    assert "data-egger" in body and "data-funnel" in body


# --- The protocol's plan ------------------------------------------------------------------------

PLAN = {
    "synthesis": {
        "effect_measure": "RR",
        "model": "random",
        "tau2_estimator": "REML",
        "knapp_hartung": False,
        "subgroups": [{"name": "Allocation", "variable": "alloc", "description": "How."}],
        "sensitivity": [{"name": "Leave-one-out", "description": "Each in turn."}],
        "publication_bias": ["funnel", "egger"],
    }
}


def test_the_plan_pre_fills_and_departures_are_flagged_and_reported(review, lead, stats, snapshot):
    protocol.draft_save(actor=lead, review=review, content=PLAN, partial=True)
    c = client_for(stats)
    listing = c.get(PAGES).content.decode()
    assert "data-use-plan" in listing
    form = c.get(f"{PAGES}new/?plan=1").context["form"]
    assert form.initial["method"] == "REML" and form.initial["measure"] == "RR"
    assert form.initial["subgroup"] == "alloc" and form.initial["leave_one_out"]
    assert form.initial["publication_bias"] and not form.initial["without_high_rob"]
    as_planned = _define(
        review, stats, measure="RR", subgroup="alloc", leave_one_out=True, publication_bias=True
    )
    assert selectors.departures(as_planned) == []
    assert b"data-departures" not in c.get(f"{PAGES}{as_planned.pk}/").content
    departing = _define(
        review, stats, name="Departing", method="DL", test="knha", subgroup="ablat",
        without_high_rob=True,
    )  # fmt: skip
    found = selectors.departures(departing)
    assert any("Method DL; the protocol planned REML" in d for d in found)
    assert any("Test knha" in d for d in found)
    assert any("“ablat”" in d for d in found)
    assert any("without high risk of bias" in d for d in found)
    assert any("Publication bias not assessed" in d for d in found)
    page = c.get(f"{PAGES}{departing.pk}/").content.decode()
    assert "data-departures" in page and "Method DL" in page
    # The deviation report hears of analyses once they are run.
    assert deviation_analyses(review) == []
    services.analysis_run_now(actor=stats, review=review, analysis=departing)
    (reported,) = deviation_analyses(review)
    assert reported == {
        "name": "Departing",
        "effect_measure": "RR",
        "estimator": "DL",
        "knapp_hartung": True,
        "subgroups": ["ablat"],
        "sensitivity": ["without high risk of bias"],
        "publication_bias": [],
    }
    report = c.get("/reviews/exercise/protocol/deviations/")
    assert report.status_code == 200 and "Departing" in report.content.decode()


def test_round_analyses_answers_honestly(review):
    assert selectors.round_analyses(review, 2) == []


def test_the_page_roles_are_the_service_s():
    from reviews.access import PAGE_ROLES
    from synthesis.constants import ANALYSIS_ROLES

    assert PAGE_ROLES["synthesis_define"] == ANALYSIS_ROLES


def test_the_update_change_log_shows_each_analysis_before_and_after_the_round(
    review, lead, stats, snapshot
):
    """Issue 21's change log, once synthesis runs analyses: a result belongs to the round it
    was computed in; before = newest result before the round opened, after = newest during it."""
    from identification import rounds
    from reporting import changelog

    analysis = _define(review, stats)
    first = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    assert changelog.round_change(review, 1).analyses == [
        {
            "name": analysis.name,
            "before": None,
            "after": {
                "estimate": first.results["main"]["estimate"],
                "ci_low": first.results["main"]["ci_lb"],
                "ci_high": first.results["main"]["ci_ub"],
                "tau2": first.results["main"]["tau2"],
                "k": 13,
                "snapshot": 1,
            },
        }
    ]
    rounds.round_open(actor=lead, review=review, date="2026-01-01", reason="yearly update")
    opened = changelog.round_change(review, 2).analyses
    assert opened[0]["before"]["estimate"] == first.results["main"]["estimate"]
    assert opened[0]["after"] is None  # not rerun yet in round 2
    snapshot_of(review, bcg_studies()[:5], user=lead)
    second = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    change = changelog.round_change(review, 2).analyses[0]
    assert change["before"]["k"] == 13 and change["after"]["k"] == 5
    assert change["after"]["tau2"] == second.results["main"]["tau2"]
    # Round 1 keeps its own result as its "after"; the Markdown shows both numbers.
    assert changelog.round_change(review, 1).analyses[0]["after"]["k"] == 13
    md = changelog.change_log_markdown(review)
    assert "No analyses yet" not in md and md.count(f"| {analysis.name} |") == 2
