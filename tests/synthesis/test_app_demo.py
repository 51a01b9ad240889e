"""The BCG demo review ends in a synthesis like the seed's: the main analysis (log RR, REML)
with a funnel plot and Egger's test, a subgroup analysis by allocation method and the
sensitivity analysis without the studies at high risk of bias, all run and stored."""

from __future__ import annotations

import pytest

from demo.bcg import BCG_SLUG, demo_bcg_build
from demo.build import DEMO_USERS, _user
from synthesis import selectors
from synthesis.models import Analysis
from tests.conftest import client_for


def test_the_bcg_demo_has_its_analyses_run(db, django_capture_on_commit_callbacks):
    people = {u[0]: _user(u[0], u[1], u[2]) for u in DEMO_USERS}
    with django_capture_on_commit_callbacks(execute=True):
        review = demo_bcg_build(people)
    analyses = {a.name: a for a in Analysis.objects.filter(review=review)}
    assert len(analyses) == 3
    latest = {name: a.results.order_by("-pk").first() for name, a in analyses.items()}
    assert all(latest.values())
    main = latest["Main analysis: log risk ratio, REML"].results
    # metafor: rma(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
    assert main["main"]["k"] == 13
    assert main["main"]["estimate"] == pytest.approx(-0.7145323, abs=1e-6)
    assert main["main"]["tau2"] == pytest.approx(0.3132433, abs=1e-6)
    assert main["publication_bias"]["egger"]["pval"] is not None
    assert len(main["leave_one_out"]) == 13
    sub = latest["Subgroups by allocation method"].results
    assert len(sub["subgroups"]) == 3 and sub["subgroup_test"]["df"] == 2
    sens_result = latest["Sensitivity: without high risk of bias"].results
    (sens,) = sens_result["sensitivity"]
    assert sens["kind"] == "without_high_rob"
    # The studies left out are exactly those the RoB module judges at high risk.
    high = set(sens_result["spec"]["high_rob"])
    judged_high = sorted(s["study"] for s in sens_result["studies"] if s["rob"] in high)
    assert sorted(sens["excluded"]) == judged_high
    if judged_high:
        assert sens["k"] == 13 - len(judged_high)
    page = client_for(people["stats"]).get(f"/reviews/{BCG_SLUG}/synthesis/")
    assert page.status_code == 200 and page.content.count(b"/synthesis/results/") == 3
    # The dashboard's meta-analysis card counts the studies pooled.
    assert selectors.studies_in_meta_analysis(review) == 13
    dashboard = client_for(people["lead"]).get(f"/reviews/{BCG_SLUG}/").content.decode()
    assert "studies in meta-analysis" in dashboard and "/synthesis/" in dashboard
