"""What ``export_analyses`` writes for an analysis run in the app reruns in R: Rscript with
metafor on the exported data.csv and analysis.R reproduces the stored main, subgroup and
sensitivity models (and the rest) to 1e-6. Skips only without Rscript and metafor (never
under .ci/run)."""

from __future__ import annotations

import io

from django.core.management import call_command

from synthesis import bundle, selectors, services
from tests.synthesis.app_world import MAIN, bcg_studies, snapshot_of, statistician_of
from tests.synthesis.test_bundle_rscript import compare_all, run_in_r


def test_the_exported_script_reproduces_the_stored_results_in_r(
    review, lead, tmp_path, monkeypatch
):
    stats = statistician_of(review, lead)
    snapshot_of(review, bcg_studies(), user=lead)
    monkeypatch.setattr(
        selectors,
        "rob_of",
        lambda review, outcome: ({"Aronson 1948": "High", "TPT Madras 1980": "High"}, ["High"]),
    )
    analysis = services.analysis_create(
        actor=stats,
        review=review,
        data=MAIN
        | {
            "subgroup": "alloc",
            "leave_one_out": True,
            "publication_bias": True,
            "without_high_rob": True,
            "sensitivity_filters": [{"field": "ablat", "op": "lt", "value": 30}],
        },
    )
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    call_command(
        "export_analyses", "--review", "exercise", "-o", str(tmp_path), stdout=io.StringIO()
    )
    folder = tmp_path / "main-log-rr-reml"
    assert (folder / "data.csv").read_text() == bundle.data_csv(result.results)
    assert (folder / "analysis.R").read_text() == bundle.r_script(result.results)
    r = run_in_r(result.results, folder)
    compare_all(result.results, r)
    assert len(result.results["subgroups"]) == 3 and len(result.results["sensitivity"]) == 2
