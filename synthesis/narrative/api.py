"""The narrative synthesis API, under ``api/reviews/<slug>/synthesis/narrative/``.

The pages' rules: every member reads; statisticians and leads define, edit, delete, set
directions and write the SWiM checklist (the role is checked before the input is read). A
synthesis of another review is a 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_files import FileAnswerMixin
from core.pagination import page_parameters, page_serializer, paginated
from reviews.access import scoped_get
from reviews.api import ReviewScoped
from synthesis.constants import ANALYSIS_ROLES
from synthesis.narrative import exports, selectors, services
from synthesis.narrative.models import NarrativeDirection, NarrativeSynthesis
from synthesis.narrative.serializers import (
    DirectionSerializer,
    DirectionWriteSerializer,
    DomainsSerializer,
    DomainsWriteSerializer,
    NarrativeResultsSerializer,
    NarrativeSerializer,
    NarrativeWriteSerializer,
    SwimItemSerializer,
    SwimWriteSerializer,
)


class _NarrativeAPI(ReviewScoped):
    roles = tuple(ANALYSIS_ROLES)

    def get_synthesis(self, pk) -> NarrativeSynthesis:
        review = self.get_review()
        return scoped_get(selectors.syntheses_of(review), review=review, pk=pk)


def _data(s: NarrativeSynthesis) -> dict:
    return {
        "id": s.pk,
        "name": s.name,
        "snapshot_id": s.snapshot_id,
        "group_by": s.group_by,
        "selection": s.selection,
        "studies": s.studies,
        "outcomes": s.outcomes,
        "domains": s.domains or {},
        "description": s.description,
        "created_by": s.created_by.username if s.created_by else s.created_by_name,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _direction(d: NarrativeDirection) -> dict:
    return {
        "id": d.pk,
        "study": d.study,
        "outcome": d.outcome,
        "direction": d.direction,
        "p_value": d.p_value,
        "reason": d.reason,
        "set_by": d.set_by.username if d.set_by else d.set_by_name,
        "set_at": d.set_at,
    }


def _input(request, serializer) -> dict:
    payload = serializer(data=request.data)
    payload.is_valid(raise_exception=True)
    return dict(payload.validated_data)


def _definition(request) -> dict:
    data = _input(request, NarrativeWriteSerializer)
    data["outcomes"] = [dict(o) for o in data.get("outcomes", [])]
    return data


class NarrativeListAPI(_NarrativeAPI, APIView):
    """The review's narrative syntheses; POST (a statistician or lead) defines one."""

    @extend_schema(
        operation_id="reviews_synthesis_narrative_list",
        responses=page_serializer(NarrativeSerializer, "NarrativePage"),
        parameters=page_parameters(),
    )
    def get(self, request, slug):
        found = [_data(s) for s in selectors.syntheses_of(self.get_review())]
        return paginated(self, request, found, NarrativeSerializer)

    @extend_schema(request=NarrativeWriteSerializer, responses={201: NarrativeSerializer})
    def post(self, request, slug):
        review = self.require("define narrative syntheses")
        made = services.synthesis_create(
            actor=request.user, review=review, data=_definition(request)
        )
        return Response(
            NarrativeSerializer(_data(self.get_synthesis(made.pk))).data,
            status=status.HTTP_201_CREATED,
        )


class NarrativeDetailAPI(_NarrativeAPI, APIView):
    """One narrative synthesis: read, replace its definition (PUT) or delete it."""

    @extend_schema(responses=NarrativeSerializer)
    def get(self, request, slug, pk):
        return Response(NarrativeSerializer(_data(self.get_synthesis(pk))).data)

    @extend_schema(request=NarrativeWriteSerializer, responses=NarrativeSerializer)
    def put(self, request, slug, pk):
        found = self.get_synthesis(pk)
        review = self.require("edit narrative syntheses")
        saved = services.synthesis_update(
            actor=request.user, review=review, synthesis=found, data=_definition(request)
        )
        return Response(NarrativeSerializer(_data(self.get_synthesis(saved.pk))).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, pk):
        found = self.get_synthesis(pk)
        review = self.require("delete narrative syntheses")
        services.synthesis_delete(actor=request.user, review=review, synthesis=found)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NarrativeResultsAPI(_NarrativeAPI, APIView):
    """Every study's direction per group and outcome, vote counting with the sign test and its
    CI, the summary of estimates sharing a metric and combined p-values."""

    @extend_schema(responses=NarrativeResultsSerializer)
    def get(self, request, slug, pk):
        return Response(NarrativeResultsSerializer(selectors.compute(self.get_synthesis(pk))).data)


class NarrativeDirectionsAPI(_NarrativeAPI, APIView):
    """Directions set by hand (and p-values entered); POST sets one (reason required) or clears
    it (``clear``)."""

    @extend_schema(responses=DirectionSerializer(many=True))
    def get(self, request, slug, pk):
        found = self.get_synthesis(pk)
        entries = found.directions.select_related("set_by")
        return Response(DirectionSerializer([_direction(d) for d in entries], many=True).data)

    @extend_schema(
        request=DirectionWriteSerializer,
        responses={200: DirectionSerializer, 204: OpenApiResponse(description="Cleared.")},
    )
    def post(self, request, slug, pk):
        found = self.get_synthesis(pk)
        review = self.require("set effect directions")
        entry = services.direction_set(
            actor=request.user,
            review=review,
            synthesis=found,
            data=_input(request, DirectionWriteSerializer),
        )
        if entry is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(DirectionSerializer(_direction(entry)).data)


def _domains(s: NarrativeSynthesis) -> dict:
    return {
        "mapping": {o["outcome"]: selectors.domain_of(s, o["outcome"]) for o in s.outcomes},
        "domains": selectors.domains_of(s),
    }


class NarrativeDomainsAPI(_NarrativeAPI, APIView):
    """The outcome domains (each outcome's domain); PUT replaces the mapping (a statistician or
    lead), audited."""

    @extend_schema(responses=DomainsSerializer)
    def get(self, request, slug, pk):
        return Response(DomainsSerializer(_domains(self.get_synthesis(pk))).data)

    @extend_schema(request=DomainsWriteSerializer, responses=DomainsSerializer)
    def put(self, request, slug, pk):
        found = self.get_synthesis(pk)
        review = self.require("map outcome domains")
        mapping = _input(request, DomainsWriteSerializer)["mapping"]
        services.domains_set(actor=request.user, review=review, synthesis=found, data=dict(mapping))
        return Response(DomainsSerializer(_domains(self.get_synthesis(pk))).data)


class NarrativeSwimAPI(_NarrativeAPI, APIView):
    """The SWiM checklist: each item filled from what the team did and the team's own text;
    PUT writes the team's text (``?format=md`` on GET: the Markdown file)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, OpenApiParameter.QUERY, required=False, enum=["md"])
        ],
        responses={200: SwimItemSerializer(many=True), (200, "text/markdown"): OpenApiTypes.BINARY},
    )
    def get(self, request, slug, pk):
        found = self.get_synthesis(pk)
        data = selectors.compute(found)
        if request.query_params.get("format") == "md":
            body = selectors.swim_markdown(found, data)
            response = HttpResponse(body.encode("utf-8"), content_type="text/markdown")
            name = f"{exports.safe_slug(found.name)}-swim.md"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return Response(SwimItemSerializer(selectors.swim_checklist(found, data), many=True).data)

    @extend_schema(request=SwimWriteSerializer, responses=SwimItemSerializer(many=True))
    def put(self, request, slug, pk):
        found = self.get_synthesis(pk)
        review = self.require("write the SWiM checklist")
        items = _input(request, SwimWriteSerializer)["items"]
        services.swim_save(actor=request.user, review=review, synthesis=found, data=dict(items))
        found.refresh_from_db()
        checklist = selectors.swim_checklist(found, selectors.compute(found))
        return Response(SwimItemSerializer(checklist, many=True).data)


class NarrativeExportAPI(FileAnswerMixin, _NarrativeAPI, APIView):
    """The characteristics and results of the included studies (or, ``table=domains``, the
    directions per outcome domain), as CSV or XLSX."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=list(exports.TABLE_FORMATS),
            ),
            OpenApiParameter(
                "table",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=list(exports.TABLES),
                description="CSV only: per study and outcome (studies) or per outcome domain.",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.TABLE_FORMATS["xlsx"]): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, slug, pk):
        found = self.get_synthesis(pk)
        fmt = request.query_params.get("format", "csv")
        table = request.query_params.get("table", "studies")
        if fmt not in exports.TABLE_FORMATS:
            raise ValidationError({"format": "Choose csv or xlsx."})
        if table not in exports.TABLES:
            raise ValidationError({"table": "Choose studies or domains."})
        body, media_type, filename = exports.table_bytes(
            found, selectors.compute(found), fmt, table
        )
        response = HttpResponse(body, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class NarrativeFigureAPI(FileAnswerMixin, _NarrativeAPI, APIView):
    """The effect-direction plot or the harvest plot, as svg, png or pdf."""

    @extend_schema(
        responses={
            (200, "image/svg+xml"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, slug, pk, narrative_figure, fmt):
        found = self.get_synthesis(pk)
        if narrative_figure not in exports.FIGURE_KINDS or fmt not in exports.FIGURE_FORMATS:
            raise Http404("No such figure.")
        body = exports.figure_bytes(found, selectors.compute(found), narrative_figure, fmt)
        return HttpResponse(body, content_type=exports.FIGURE_FORMATS[fmt])
