"""The risk-of-bias API, under ``api/reviews/<slug>/extraction/rob/``: the pages' rules and
blinding (an assessor reads the other's assessment only once both are done; members who do not
assess read finished consensus only); a study of another review is a 404."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_files import FileAnswerMixin
from core.pagination import page_parameters, page_serializer, paginated
from extraction.models import Study
from extraction.rob import exports, selectors, services
from extraction.rob.serializers import (
    RobAssessmentSaveSerializer,
    RobAssessmentSerializer,
    RobComparisonSerializer,
    RobConsensusSaveSerializer,
    RobDoneSerializer,
    RobOverviewSerializer,
    RobSettingsAnswerSerializer,
    RobSettingsSerializer,
)
from reviews.access import PAGE_ROLES, require_role, scoped_get
from reviews.api import ReviewScoped

OUTCOME = OpenApiParameter(
    "outcome",
    str,
    OpenApiParameter.QUERY,
    required=False,
    description="Per-outcome reviews: the outcome's name; empty for the per-study assessment.",
)


def assessment_data(a) -> dict:
    return {
        "id": a.pk,
        "study": a.study_id,
        "study_label": a.study.label,
        "outcome": a.outcome,
        "kind": a.kind,
        "assessor": a.assessor.get_username() if a.assessor else a.assessor_name,
        "tool": a.tool,
        "d2_variant": a.d2_variant,
        "answers": a.answers,
        "support": a.support,
        "domains": a.domains,
        "overall_proposed": a.overall_proposed,
        "overall": a.overall,
        "overall_justification": a.overall_justification,
        "done": a.done,
        "updated_at": a.updated_at,
    }


class _RobAPI(ReviewScoped):
    def get_study(self, pk) -> Study:
        return scoped_get(Study.objects.all(), review=self.get_review(), pk=pk)

    def outcome(self) -> str:
        value = self.request.query_params.get("outcome", "")
        return value if isinstance(value, str) else ""


class RobSettingsAPI(_RobAPI, APIView):
    """The review's tool (RoB 2, ROBINS-I or custom) and per study or per outcome; PUT: leads."""

    def _answer(self, review):
        settings = selectors.settings_of(review)
        tool = selectors.tool_of(settings)
        return {
            "tool": settings.tool,
            "per_outcome": settings.per_outcome,
            "described": {
                "key": tool["key"],
                "name": tool["name"],
                "domains": [{"id": d["id"], "name": d["name"]} for d in tool["domains"]],
                "judgements": tool["judgements"],
                "high": tool["high"],
            },
            "outcomes": selectors.outcome_names(review),
        }

    @extend_schema(responses=RobSettingsAnswerSerializer)
    def get(self, request, slug):
        return Response(RobSettingsAnswerSerializer(self._answer(self.get_review())).data)

    @extend_schema(request=RobSettingsSerializer, responses=RobSettingsAnswerSerializer)
    def put(self, request, slug):
        review = self.get_review()
        require_role(
            user=request.user,
            review=review,
            roles=PAGE_ROLES["rob_settings"],
            action="set up risk of bias",
        )
        payload = RobSettingsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.settings_save(actor=request.user, review=review, **payload.validated_data)
        return Response(RobSettingsAnswerSerializer(self._answer(review)).data)


class RobOverviewAPI(_RobAPI, APIView):
    """Every study (and outcome) with its status and finished consensus overall judgement."""

    @extend_schema(
        operation_id="reviews_extraction_rob_assessments_list",
        responses=page_serializer(RobOverviewSerializer, "RobOverviewPage"),
        parameters=page_parameters(),
    )
    def get(self, request, slug):
        rows = selectors.overview(self.get_review())
        data = [
            {
                "study": r["study"].pk,
                "study_label": r["study"].label,
                "outcome": r["outcome"],
                "status": r["status"],
                "overall": r["overall"],
            }
            for r in rows
        ]
        return paginated(self, request, data, RobOverviewSerializer)


class RobAssessmentListAPI(_RobAPI, APIView):
    """The study's assessor assessments the caller may read (their own; both once both are
    done, or for a lead who did not assess); PUT saves the caller's own (domains given replace
    theirs)."""

    @extend_schema(parameters=[OUTCOME], responses=RobAssessmentSerializer(many=True))
    def get(self, request, slug, pk):
        study = self.get_study(pk)
        found = selectors.visible_assessments(
            request.user, self.get_review(), study, self.outcome()
        )
        return Response(
            RobAssessmentSerializer([assessment_data(a) for a in found], many=True).data
        )

    @extend_schema(request=RobAssessmentSaveSerializer, responses=RobAssessmentSerializer)
    def put(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.get_review()
        require_role(
            user=request.user,
            review=review,
            roles=services.ASSESS_ROLES,
            action="assess risk of bias",
        )
        payload = RobAssessmentSaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        saved = services.assessment_save(
            actor=request.user, review=review, study=study, **payload.validated_data
        )
        return Response(RobAssessmentSerializer(assessment_data(saved)).data)


class RobDoneAPI(_RobAPI, APIView):
    """Mark the caller's assessment done (``done``: true) or reopen it (false)."""

    @extend_schema(request=RobDoneSerializer, responses=RobAssessmentSerializer)
    def post(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.get_review()
        require_role(
            user=request.user,
            review=review,
            roles=services.ASSESS_ROLES,
            action="assess risk of bias",
        )
        payload = RobDoneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        saved = services.assessment_mark(
            actor=request.user, review=review, study=study, **payload.validated_data
        )
        return Response(RobAssessmentSerializer(assessment_data(saved)).data)


class RobComparisonAPI(_RobAPI, APIView):
    """Both assessments domain by domain and question by question, differences flagged; empty
    while blinded."""

    @extend_schema(parameters=[OUTCOME], responses=RobComparisonSerializer)
    def get(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.get_review()
        outcome = self.outcome()
        visible = selectors.sees_all_assessments(request.user, review, study, outcome)
        pair = selectors.done_pair(study, outcome) if visible else []
        tool = selectors.tool_of(selectors.settings_of(review))
        rows = selectors.comparison(pair[0], pair[1], tool) if len(pair) == 2 else []
        data = {
            "visible": visible,
            "status": selectors.status_of(list(selectors.assessments_of(study, outcome))),
            "rows": rows,
        }
        return Response(RobComparisonSerializer(data).data)


class RobConsensusAPI(_RobAPI, APIView):
    """The consensus (404 before it begins; to members who do not assess, before it is
    finished); POST resolves differing domains (a lead, or an extractor who did not assess)."""

    @extend_schema(parameters=[OUTCOME], responses=RobAssessmentSerializer)
    def get(self, request, slug, pk):
        study = self.get_study(pk)
        consensus = selectors.visible_consensus(
            request.user, self.get_review(), study, self.outcome()
        )
        if consensus is None:
            raise Http404("No consensus of this study to read.")
        return Response(RobAssessmentSerializer(assessment_data(consensus)).data)

    @extend_schema(request=RobConsensusSaveSerializer, responses=RobAssessmentSerializer)
    def post(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.get_review()
        payload = RobConsensusSaveSerializer(data=request.data)
        if not selectors.may_assess(request.user, review):
            raise PermissionDenied("A lead or a member who did not assess makes the consensus.")
        payload.is_valid(raise_exception=True)
        saved = services.consensus_save(
            actor=request.user, review=review, study=study, **payload.validated_data
        )
        return Response(RobAssessmentSerializer(assessment_data(saved)).data)


class RobExportAPI(FileAnswerMixin, _RobAPI, APIView):
    """The finished consensus table as CSV or XLSX (one row per study, and outcome)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, OpenApiParameter.QUERY, required=False, enum=["csv", "xlsx"]
            )
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.XLSX): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="An unknown format."),
        },
    )
    def get(self, request, slug):
        review = self.get_review()
        fmt = request.query_params.get("format", "csv")
        if fmt not in exports.FORMATS:
            raise ValidationError({"format": "Choose csv or xlsx."})
        body, media, name = exports.table_file(review, fmt)
        response = HttpResponse(body, content_type=media)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class RobFigureAPI(FileAnswerMixin, _RobAPI, APIView):
    """A figure of the finished consensus: ``traffic_light`` or ``summary``, SVG or PNG."""

    @extend_schema(
        parameters=[
            OpenApiParameter("rob_figure", str, OpenApiParameter.PATH, enum=list(exports.FIGURES)),
            OpenApiParameter(
                "format", str, OpenApiParameter.QUERY, required=False, enum=["svg", "png"]
            ),
        ],
        responses={
            (200, "image/svg+xml"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="An unknown format."),
            404: OpenApiResponse(description="An unknown figure, or no finished consensus."),
        },
    )
    def get(self, request, slug, rob_figure):
        kind = rob_figure
        review = self.get_review()
        fmt = request.query_params.get("format", "svg")
        if kind not in exports.FIGURES:
            raise Http404("No such figure.")
        if fmt not in exports.FIGURE_FORMATS:
            raise ValidationError({"format": "Choose svg or png."})
        if not selectors.domain_table(review):
            raise Http404("No finished consensus assessment yet.")
        body = exports.figure_bytes(review, kind, fmt)
        response = HttpResponse(body, content_type=exports.FIGURE_FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="risk-of-bias-{kind}.{fmt}"'
        return response
