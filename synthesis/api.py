"""The machine API of the synthesis step, under ``api/reviews/<slug>/synthesis/``.

The pages' rules: every member reads analyses, runs and results; statisticians and leads
define, edit, delete and run (the role is checked before the input is read). An analysis, run
or result of another review is a 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import job_display
from core.api_files import FileAnswerMixin
from core.models import Job
from core.pagination import page_parameters, page_serializer, paginated
from reviews.access import scoped_get
from reviews.api import ReviewScoped
from reviews.models import Review
from synthesis import exports, selectors, services
from synthesis.constants import ANALYSIS_ROLES, FIGURE_FORMATS, FIGURE_KINDS, JOB_KIND
from synthesis.models import Analysis, AnalysisResult
from synthesis.serializers import (
    AnalysisSerializer,
    AnalysisWriteSerializer,
    ResultDetailSerializer,
    ResultSerializer,
    RunSerializer,
)


class _SynthesisAPI(ReviewScoped):
    roles = tuple(ANALYSIS_ROLES)

    def get_analysis(self, pk) -> Analysis:
        return scoped_get(selectors.analyses_of(self.get_review()), review=self.get_review(), pk=pk)

    def get_result(self, pk) -> AnalysisResult:
        return scoped_get(
            AnalysisResult.objects.select_related("analysis"), review=self.get_review(), pk=pk
        )


def _analysis_data(analysis: Analysis, latest_number: int | None, plan) -> dict:
    latest = selectors.latest_result(analysis)
    data = {k: getattr(analysis, k) for k in AnalysisWriteSerializer().fields if k != "snapshot"}
    return data | {
        "id": analysis.pk,
        "snapshot_id": analysis.snapshot_id,
        "created_by": analysis.created_by.username
        if analysis.created_by
        else analysis.created_by_name,
        "created_at": analysis.created_at,
        "updated_at": analysis.updated_at,
        "latest_result": latest.pk if latest else None,
        "stale": bool(latest) and selectors.result_is_stale(latest, latest_number),
        "departures": selectors.departures(analysis, plan),
    }


def _one(analysis: Analysis) -> dict:
    from reviews.protocol.selectors import synthesis_plan

    review = analysis.review
    return _analysis_data(
        analysis, selectors.latest_snapshot_number(review), synthesis_plan(review)
    )


def _input(request) -> dict:
    payload = AnalysisWriteSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    return dict(payload.validated_data)


class AnalysisListAPI(_SynthesisAPI, APIView):
    """The review's analyses; POST (a statistician or lead) defines one."""

    @extend_schema(
        operation_id="reviews_synthesis_analyses_list",
        responses=page_serializer(AnalysisSerializer, "AnalysisPage"),
        parameters=page_parameters(),
    )
    def get(self, request, slug):
        from reviews.protocol.selectors import synthesis_plan

        review = self.get_review()
        latest_number = selectors.latest_snapshot_number(review)
        plan = synthesis_plan(review)
        found = [_analysis_data(a, latest_number, plan) for a in selectors.analyses_of(review)]
        return paginated(self, request, found, AnalysisSerializer)

    @extend_schema(request=AnalysisWriteSerializer, responses={201: AnalysisSerializer})
    def post(self, request, slug):
        review = self.require("define analyses")
        analysis = services.analysis_create(actor=request.user, review=review, data=_input(request))
        return Response(
            AnalysisSerializer(_one(self.get_analysis(analysis.pk))).data,
            status=status.HTTP_201_CREATED,
        )


class AnalysisDetailAPI(_SynthesisAPI, APIView):
    """One analysis: read it, replace its definition (PUT) or delete it with its results."""

    @extend_schema(responses=AnalysisSerializer)
    def get(self, request, slug, pk):
        return Response(AnalysisSerializer(_one(self.get_analysis(pk))).data)

    @extend_schema(request=AnalysisWriteSerializer, responses=AnalysisSerializer)
    def put(self, request, slug, pk):
        analysis = self.get_analysis(pk)
        review = self.require("edit analyses")
        services.analysis_update(
            actor=request.user, review=review, analysis=analysis, data=_input(request)
        )
        return Response(AnalysisSerializer(_one(self.get_analysis(pk))).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, slug, pk):
        analysis = self.get_analysis(pk)
        review = self.require("delete analyses")
        services.analysis_delete(actor=request.user, review=review, analysis=analysis)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _run_data(review: Review, job: Job) -> dict:
    job = job_display.with_live_progress(job)
    return {
        "job": job.pk,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "result": (job.result or {}).get("result"),
        "url": reverse("api-synthesis-run", args=[review.slug, job.pk]),
    }


class AnalysisRunAPI(_SynthesisAPI, APIView):
    """Run the analysis: a job (202); poll its ``url`` for progress and the result's id."""

    @extend_schema(request=None, responses={202: RunSerializer})
    def post(self, request, slug, pk):
        analysis = self.get_analysis(pk)
        review = self.require("run analyses")
        job = services.analysis_run(actor=request.user, review=review, analysis=analysis)
        job = Job.objects.get(pk=job.pk)
        return Response(RunSerializer(_run_data(review, job)).data, status=status.HTTP_202_ACCEPTED)


class RunDetailAPI(_SynthesisAPI, APIView):
    """A run's status: queued, running (with progress), succeeded (the result's id) or failed
    (the error, for every member: it is about the data)."""

    @extend_schema(responses=RunSerializer)
    def get(self, request, slug, pk):
        review = self.get_review()
        found = scoped_get(Job.objects.filter(kind=JOB_KIND), review=review, pk=pk)
        return Response(RunSerializer(_run_data(review, found)).data)


def _result_data(result: AnalysisResult, latest_number: int | None, detail=False) -> dict:
    data = {
        "id": result.pk,
        "analysis_id": result.analysis_id,
        "snapshot_number": result.snapshot_number,
        "snapshot_sha256": result.snapshot_sha256,
        "engine": result.engine,
        "stale": selectors.result_is_stale(result, latest_number),
        "seconds": result.seconds,
        "created_at": result.created_at,
    }
    if detail:
        data |= {"inputs": result.inputs, "results": result.results}
    return data


class ResultListAPI(_SynthesisAPI, APIView):
    """The analysis's stored results, newest first (without their data)."""

    @extend_schema(
        operation_id="reviews_synthesis_analyses_results_list",
        responses=page_serializer(ResultSerializer, "ResultPage"),
        parameters=page_parameters(),
    )
    def get(self, request, slug, pk):
        analysis = self.get_analysis(pk)
        latest_number = selectors.latest_snapshot_number(self.get_review())
        found = analysis.results.defer("inputs", "results").order_by("-pk")
        rows = [_result_data(r, latest_number) for r in found]
        return paginated(self, request, rows, ResultSerializer)


class ResultDetailAPI(_SynthesisAPI, APIView):
    """A stored result: the exact inputs and every number."""

    @extend_schema(responses=ResultDetailSerializer)
    def get(self, request, slug, pk):
        found = self.get_result(pk)
        latest_number = selectors.latest_snapshot_number(self.get_review())
        return Response(ResultDetailSerializer(_result_data(found, latest_number, True)).data)


class ResultExportAPI(FileAnswerMixin, _SynthesisAPI, APIView):
    """A result's file: results as CSV, XLSX or JSON, the analysis data (CSV) or the R script."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, OpenApiParameter.QUERY, required=False, enum=list(exports.FILES)
            )
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.XLSX): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiTypes.BINARY,
            (200, "text/plain"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="An unknown format."),
        },
    )
    def get(self, request, slug, pk):
        found = self.get_result(pk)
        fmt = request.query_params.get("format", "csv")
        if fmt not in exports.FILES:
            raise ValidationError({"format": f"Choose one of {', '.join(exports.FILES)}."})
        body, media_type, filename = exports.export_bytes(found, fmt)
        response = HttpResponse(body, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ResultFigureAPI(FileAnswerMixin, _SynthesisAPI, APIView):
    """A figure of a result: forest (``rob=1`` adds the RoB column), funnel or leave_one_out, as
    svg, png or pdf; drawn once and stored."""

    @extend_schema(
        parameters=[
            OpenApiParameter("rob", str, OpenApiParameter.QUERY, required=False, enum=["0", "1"])
        ],
        responses={
            (200, "image/svg+xml"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, slug, pk, figure, fmt):
        kind = figure
        found = self.get_result(pk)
        if kind not in FIGURE_KINDS or fmt not in FIGURE_FORMATS:
            raise Http404("No such figure.")
        try:
            body = services.figure_bytes(
                found, kind=kind, fmt=fmt, rob=request.query_params.get("rob") == "1"
            )
        except ValueError as exc:
            raise Http404(str(exc)) from None
        return HttpResponse(body, content_type=FIGURE_FORMATS[fmt])
