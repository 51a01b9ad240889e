"""End to end on PostgreSQL with the real Celery worker (the second stage of .ci/run): a
finalised extraction, an analysis job through the broker, stored results equal to the
engine's. Elsewhere it skips and says why."""

from __future__ import annotations

import json
import time

import pytest

from core.constants import JobStatus
from reviews import services as review_services
from synthesis import bundle, services
from synthesis.models import AnalysisResult
from synthesis.stats import meta_analyse
from tests.conftest import make_user
from tests.core.test_celery_worker import wait_for, worker  # noqa: F401 - the fixture
from tests.synthesis.app_world import MAIN, finalised_through_services, statistician_of

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_an_analysis_runs_on_the_worker_and_stores_the_engine_s_results(worker):  # noqa: F811
    lead = make_user("lead")
    review = review_services.review_create(user=lead, title="Worker synthesis", slug="ws")
    snapshot = finalised_through_services(review, lead, n=6)
    stats = statistician_of(review, lead)
    analysis = services.analysis_create(
        actor=stats,
        review=review,
        data=MAIN | {"leave_one_out": True, "publication_bias": True, "without_high_rob": True},
    )
    queued = time.monotonic()
    job = services.analysis_run(actor=stats, review=review, analysis=analysis)
    job, _ = wait_for(job, timeout=60)
    elapsed = time.monotonic() - queued
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.worker, "the job ran on a worker"
    result = AnalysisResult.objects.get(pk=job.result["result"])
    assert result.job_id == job.pk and result.snapshot_number == snapshot.number
    rows = result.inputs["rows"]
    effects = [s["effects"][0] for s in snapshot.content["studies"]]
    assert [r["yi"] for r in rows] == [e["yi"] for e in effects]
    assert [r["vi"] for r in rows] == [e["vi"] for e in effects]
    assert result.results == json.loads(json.dumps(bundle.run(result.inputs["spec"], rows)))
    fit = meta_analyse([e["yi"] for e in effects], [e["vi"] for e in effects], method="REML").fit
    assert result.results["main"]["estimate"] == pytest.approx(fit.estimate, rel=1e-12)
    assert result.results["main"]["tau2"] == pytest.approx(fit.tau2, rel=1e-12, abs=1e-15)
    assert elapsed < 10, elapsed


def test_a_failing_analysis_on_the_worker_says_why(worker):  # noqa: F811
    lead = make_user("lead")
    review = review_services.review_create(user=lead, title="Worker failure", slug="wf")
    finalised_through_services(review, lead, n=1)
    analysis = services.analysis_create(actor=lead, review=review, data=MAIN)
    job, _ = wait_for(services.analysis_run(actor=lead, review=review, analysis=analysis))
    assert job.status == JobStatus.FAILED
    assert job.error == "Only one study has this outcome: nothing to pool."
    assert not AnalysisResult.objects.filter(review=review).exists()


def test_a_100_study_bundle_runs_on_the_worker(worker):  # noqa: F811
    """Issue 18's speed case (100 studies with leave-one-out, a filter and publication bias)
    runs whole on the real worker; its time is measured in bench/synthesis_app_bench.py."""
    import random

    from tests.synthesis.app_world import snapshot_of

    lead = make_user("lead")
    review = review_services.review_create(user=lead, title="Worker speed", slug="wspeed")
    rng = random.Random(18)
    studies = []
    for i in range(100):
        yi, vi = rng.gauss(-0.5, 0.4), rng.uniform(0.01, 0.2)
        studies.append(
            {
                "label": f"Study {i:03d}",
                "reports": [],
                "form_version": 1,
                "values": {"alloc": rng.choice(["random", "alternate"])},
                "effects": [{"row": 1, "outcome": "Tuberculosis", "timepoint": "", "arm1": "A",
                             "arm2": "B", "measure": "RR", "yi": yi, "vi": vi}],
            }
        )  # fmt: skip
    snapshot_of(review, studies, user=lead)
    analysis = services.analysis_create(
        actor=lead,
        review=review,
        data=MAIN
        | {
            "subgroup": "alloc",
            "leave_one_out": True,
            "publication_bias": True,
            "without_high_rob": True,
            "sensitivity_filters": [{"field": "alloc", "op": "eq", "value": "alternate"}],
        },
    )
    job, _ = wait_for(services.analysis_run(actor=lead, review=review, analysis=analysis))
    assert job.status == JobStatus.SUCCEEDED, job.error
    result = AnalysisResult.objects.get(pk=job.result["result"])
    assert result.results["main"]["k"] == 100 and len(result.results["leave_one_out"]) == 100
