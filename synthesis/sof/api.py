"""The summary-of-findings API, under ``api/reviews/<slug>/synthesis/sof/``: the pages' rules
(every member reads; statisticians and leads write, the role checked before the input is
read); a row of another review is a 404."""

from __future__ import annotations

from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_files import FileAnswerMixin
from reviews.access import scoped_get
from reviews.api import ReviewScoped
from synthesis.constants import ANALYSIS_ROLES
from synthesis.sof import exports, selectors, services
from synthesis.sof.serializers import (
    SofJudgeSerializer,
    SofRowAddSerializer,
    SofRowSerializer,
    SofRowSettingsSerializer,
    SofStatementSerializer,
    SofTableSerializer,
    SofTableWriteSerializer,
)


class _SofAPI(ReviewScoped):
    roles = tuple(ANALYSIS_ROLES)

    def require(self, action: str = "edit the summary of findings"):
        return super().require(action)

    def get_row(self, pk):
        review = self.get_review()
        return scoped_get(selectors.rows_of(review), review=review, pk=pk)


def _input(serializer_class, request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return dict(payload.validated_data)


def row_data(rv, footnotes: dict[str, int] | None = None) -> dict:
    row = rv.row
    domains = []
    for d in rv.domains:
        j = d.judgement
        domains.append(
            {
                "domain": d.domain,
                "label": d.label,
                "handbook": d.handbook,
                "suggested": d.suggested,
                "evidence": d.evidence,
                "rule": d.rule,
                "judgement": j.judgement if j else None,
                "reason": j.reason if j else "",
                "suggested_when_judged": (j.suggested or None) if j else None,
                "judged_by": (j.decided_by_name or "") if j else "",
                "judged_at": j.decided_at if j else None,
                "judged_against_result": j.result_id if j else None,
                "footnote": d.footnote,
            }
        )
    absolute = None
    if rv.absolute:
        absolute = asdict(rv.absolute) | {"text": rv.absolute.text()}
    return {
        "id": row.pk,
        "outcome_label": row.outcome_label,
        "analysis_id": row.analysis_id,
        "result_id": row.result_id,
        "snapshot_number": row.snapshot_number,
        "latest_result_id": rv.latest.pk if rv.latest else None,
        "stale": rv.stale,
        "stale_reasons": rv.stale_reasons,
        "randomised": row.randomised,
        "mid": row.mid,
        "ois": row.ois,
        "dose_response": row.dose_response,
        "k": rv.k,
        "participants": rv.participants,
        "participants_source": rv.participants_source,
        "measure": rv.measure,
        "effect": rv.effect,
        "acr": rv.acr,
        "acr_source": rv.acr_source,
        "absolute": absolute,
        "domains": domains,
        "certainty": rv.certainty,
        "statement": rv.statement,
        "statement_edited": row.statement_edited,
        "draft_statement": rv.draft_statement,
        "errors": rv.errors,
    }


def _table_data(review) -> dict:
    view = selectors.table_view(review)
    t = view["table"]
    return {
        "exists": t is not None,
        **{
            k: getattr(t, k, "") or ""
            for k in ("intervention", "comparison", "population", "setting", "title")
        },
        "rows": [row_data(rv) for rv in view["rows"]],
        "footnotes": view["footnotes"],
    }


def _row_one(review, pk) -> dict:
    view = selectors.table_view(review)
    return row_data(next(r for r in view["rows"] if r.row.pk == pk))


class SofTableAPI(_SofAPI, APIView):
    """The review's summary-of-findings table with every row and the numbered footnotes; PUT
    (a statistician or lead) creates or edits the table's intervention and comparison."""

    @extend_schema(responses=SofTableSerializer)
    def get(self, request, slug):
        return Response(SofTableSerializer(_table_data(self.get_review())).data)

    @extend_schema(request=SofTableWriteSerializer, responses=SofTableSerializer)
    def put(self, request, slug):
        review = self.require()
        services.table_save(
            actor=request.user, review=review, data=_input(SofTableWriteSerializer, request)
        )
        return Response(SofTableSerializer(_table_data(review)).data)


class SofRowsAPI(_SofAPI, APIView):
    """Add an outcome: an analysis of the review, drafted from its latest result."""

    @extend_schema(request=SofRowAddSerializer, responses={201: SofRowSerializer})
    def post(self, request, slug):
        review = self.require()
        row = services.row_add(
            actor=request.user, review=review, data=_input(SofRowAddSerializer, request)
        )
        return Response(
            SofRowSerializer(_row_one(review, row.pk)).data, status=status.HTTP_201_CREATED
        )


class SofRowAPI(_SofAPI, APIView):
    """One row: its numbers and sources, each domain's suggestion, judgement and reason."""

    @extend_schema(responses=SofRowSerializer)
    def get(self, request, slug, pk):
        row = self.get_row(pk)
        return Response(SofRowSerializer(_row_one(self.get_review(), row.pk)).data)

    @extend_schema(request=SofRowSettingsSerializer, responses=SofRowSerializer)
    def put(self, request, slug, pk):
        row = self.get_row(pk)
        review = self.require()
        data = _input(SofRowSettingsSerializer, request)
        data.setdefault("outcome_label", row.outcome_label)
        if not data["outcome_label"]:
            data["outcome_label"] = row.outcome_label
        services.row_update(actor=request.user, review=review, row=row, data=data)
        return Response(SofRowSerializer(_row_one(review, row.pk)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, slug, pk):
        row = self.get_row(pk)
        review = self.require()
        services.row_remove(actor=request.user, review=review, row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SofJudgeAPI(_SofAPI, APIView):
    """Accept or change a domain's suggestion (a reason when changing or where none)."""

    @extend_schema(request=SofJudgeSerializer, responses=SofRowSerializer)
    def post(self, request, slug, pk):
        row = self.get_row(pk)
        review = self.require()
        data = _input(SofJudgeSerializer, request)
        services.judge(actor=request.user, review=review, row=row, **data)
        return Response(SofRowSerializer(_row_one(review, row.pk)).data)


class SofStatementAPI(_SofAPI, APIView):
    """Replace the plain-language statement (blank: back to the generated one)."""

    @extend_schema(request=SofStatementSerializer, responses=SofRowSerializer)
    def put(self, request, slug, pk):
        row = self.get_row(pk)
        review = self.require()
        data = _input(SofStatementSerializer, request)
        services.statement_edit(actor=request.user, review=review, row=row, text=data["statement"])
        return Response(SofRowSerializer(_row_one(review, row.pk)).data)


class SofRedraftAPI(_SofAPI, APIView):
    """Draft a (stale) row from its analysis's latest result."""

    @extend_schema(request=None, responses=SofRowSerializer)
    def post(self, request, slug, pk):
        row = self.get_row(pk)
        review = self.require()
        services.row_redraft(actor=request.user, review=review, row=row)
        return Response(SofRowSerializer(_row_one(review, row.pk)).data)


class SofExportAPI(FileAnswerMixin, _SofAPI, APIView):
    """The table as standalone HTML (Word-friendly), XLSX or CSV, footnotes numbered."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, OpenApiParameter.QUERY, required=False, enum=list(exports.FORMATS)
            )
        ],
        responses={
            (200, "text/html"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.FORMATS["xlsx"][0]): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="An unknown format, or no table yet."),
        },
    )
    def get(self, request, slug):
        review = self.get_review()
        fmt = request.query_params.get("format", "html")
        if fmt not in exports.FORMATS:
            raise ValidationError({"format": f"Choose one of {', '.join(exports.FORMATS)}."})
        view = selectors.table_view(review)
        if view["table"] is None:
            raise ValidationError("This review has no summary-of-findings table yet.")
        body, media_type, filename = exports.export_bytes(review, view, fmt)
        response = HttpResponse(body, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
