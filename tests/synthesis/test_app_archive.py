"""Analyses and their stored results travel with the review's archive (people as names); the
figures drawn from a result do not: they are drawn again from it."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model

from core.models import AuditEvent
from reporting import archive
from reviews.models import Review
from synthesis import services
from synthesis.models import Analysis, AnalysisFigure, AnalysisResult
from tests.synthesis.app_world import MAIN, bcg_studies, snapshot_of, statistician_of


def test_analyses_and_results_round_trip_through_the_archive(review, lead):
    stats = statistician_of(review, lead)
    snapshot = snapshot_of(review, bcg_studies(), user=lead)
    analysis = services.analysis_create(
        actor=stats,
        review=review,
        data=MAIN | {"snapshot": snapshot.pk, "subgroup": "alloc", "leave_one_out": True},
    )
    result = services.analysis_run_now(actor=stats, review=review, analysis=analysis)
    services.figure_bytes(result, kind="forest", fmt="svg")
    stored = {"inputs": result.inputs, "results": result.results, "sha256": result.sha256}
    data = archive.archive_bytes(review=review)

    Review.objects.all().delete()
    get_user_model().objects.all().delete()
    AuditEvent.objects.all().delete()
    imported = archive.review_import(stream=io.BytesIO(data))
    copy = Analysis.objects.get(review=imported)
    assert copy.name == analysis.name and copy.subgroup == "alloc" and copy.leave_one_out
    assert copy.created_by is None and copy.created_by_name == "stats"
    assert copy.snapshot.review == imported and copy.snapshot.number == 1
    again = AnalysisResult.objects.get(review=imported)
    assert again.analysis == copy and again.created_by_name == "stats"
    assert {"inputs": again.inputs, "results": again.results, "sha256": again.sha256} == stored
    assert again.snapshot_number == 1 and again.engine == result.engine
    assert not AnalysisFigure.objects.exists()
    assert services.figure_bytes(again, kind="forest", fmt="svg").startswith(b"<?xml")
