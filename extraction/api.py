"""The machine API of data extraction, under ``api/reviews/<slug>/extraction/``.

The pages' rules: every member reads; extractors (and leads) link reports to studies. The role
is checked by the service before the input is read, so a member without it learns nothing from
field errors; a study of another review is a 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_files import FileAnswerMixin
from extraction import exports, selectors, services
from extraction.constants import STUDY_ROLES
from extraction.models import Study
from extraction.serializers import (
    ComparisonSerializer,
    ConsensusSaveSerializer,
    EffectSerializer,
    ExtractionDoneSerializer,
    ExtractionSaveSerializer,
    ExtractionSerializer,
    FormDraftSerializer,
    FormSerializer,
    FormVersionSerializer,
    ImportReportSerializer,
    ImportSerializer,
    SnapshotDetailSerializer,
    SnapshotSerializer,
    StudyChangeSerializer,
    StudyCountsSerializer,
    StudyCreateSerializer,
    StudyLinkSerializer,
    StudySerializer,
    StudyUnlinkSerializer,
    SuggestionSerializer,
)
from reviews.access import require_role, scoped_get
from reviews.api import ReviewScoped


class _ExtractionAPI(ReviewScoped):
    roles = tuple(STUDY_ROLES)

    def get_study(self, pk) -> Study:
        return scoped_get(selectors.studies_of(self.get_review()), review=self.get_review(), pk=pk)


class StudyListAPI(_ExtractionAPI, generics.ListAPIView):
    """The review's studies, each with its reports; POST makes a study of included reports."""

    serializer_class = StudySerializer

    def get_queryset(self):
        return selectors.studies_of(self.get_review()).order_by("label", "pk")

    @extend_schema(request=StudyCreateSerializer, responses={201: StudySerializer})
    def post(self, request, slug):
        review = self.require("link reports to studies")
        payload = StudyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        study = services.study_create(actor=request.user, review=review, **payload.validated_data)
        return Response(
            StudySerializer(self.get_study(study.pk)).data, status=status.HTTP_201_CREATED
        )


class StudyDetailAPI(_ExtractionAPI, APIView):
    """One study: read it, rename it or note on it, or delete it (its reports are unlinked)."""

    @extend_schema(responses=StudySerializer)
    def get(self, request, slug, pk):
        return Response(StudySerializer(self.get_study(pk)).data)

    @extend_schema(request=StudyChangeSerializer, responses=StudySerializer)
    def patch(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.require("edit studies")
        payload = StudyChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.study_update(
            actor=request.user, review=review, study=study, **payload.validated_data
        )
        return Response(StudySerializer(self.get_study(pk)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.require("delete studies")
        services.study_delete(actor=request.user, review=review, study=study)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudyLinkAPI(_ExtractionAPI, APIView):
    """Link included reports to this study (a suggestion confirmed, or a person's choice)."""

    @extend_schema(request=StudyLinkSerializer, responses=StudySerializer)
    def post(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.require("link reports to studies")
        payload = StudyLinkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.study_link(
            actor=request.user, review=review, study=study, **payload.validated_data
        )
        return Response(StudySerializer(self.get_study(pk)).data)


class StudyUnlinkAPI(_ExtractionAPI, APIView):
    """Take a report out of this study; a study left without reports is deleted (204)."""

    @extend_schema(request=StudyUnlinkSerializer, responses={200: StudySerializer, 204: None})
    def post(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.require("link reports to studies")
        payload = StudyUnlinkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        left = services.study_unlink(
            actor=request.user, review=review, study=study, record=payload.validated_data["record"]
        )
        if left is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(StudySerializer(self.get_study(pk)).data)


class StudyCountsAPI(_ExtractionAPI, APIView):
    """PRISMA's studies included and reports of included studies, and reports not linked yet."""

    @extend_schema(responses=StudyCountsSerializer)
    def get(self, request, slug):
        return Response(StudyCountsSerializer(selectors.counts(self.get_review())).data)


class SuggestionListAPI(_ExtractionAPI, APIView):
    """Unlinked included reports and the studies or reports they may be one with, and why."""

    @extend_schema(responses=SuggestionSerializer(many=True))
    def get(self, request, slug):
        data = [
            {
                "record": s.record.pk,
                "title": s.record.title,
                "studies": [
                    {"study": st.pk, "label": st.label, "reason": reason}
                    for st, reason in s.studies
                ],
                "reports": [
                    {"record": r.pk, "title": r.title, "reason": reason} for r, reason in s.reports
                ],
            }
            for s in selectors.suggestions(self.get_review())
        ]
        return Response(SuggestionSerializer(data, many=True).data)


# --- Forms, extractions, comparison, consensus, effect sizes (issue 16, parts 2-5) ------------


def _extraction_data(e) -> dict:
    from extraction.schema import cross_checks

    return {
        "id": e.pk,
        "kind": e.kind,
        "extractor": e.extractor.get_username() if e.extractor else e.extractor_name,
        "form_version": e.form_version.number,
        "values": e.values,
        "done": e.done,
        "updated_at": e.updated_at,
        "problems": cross_checks(e.values),
    }


class FormAPI(_ExtractionAPI, APIView):
    """The extraction form's draft and latest version; a lead replaces the draft (PUT)."""

    def _data(self, review):
        from extraction.schema import empty_schema

        form = selectors.form_of(review)
        latest = selectors.latest_version(review)
        draft = form.draft if form else empty_schema()
        return {
            "draft": draft,
            "latest_version": latest.number if latest else None,
            "unpublished": bool(form and (latest is None or latest.schema != form.draft)),
        }

    @extend_schema(responses=FormSerializer)
    def get(self, request, slug):
        return Response(FormSerializer(self._data(self.get_review())).data)

    @extend_schema(request=FormDraftSerializer, responses=FormSerializer)
    def put(self, request, slug):
        from extraction.constants import FORM_ROLES

        review = self.get_review()
        require_role(
            user=request.user, review=review, roles=FORM_ROLES, action="edit the extraction form"
        )
        payload = FormDraftSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.form_save_draft(
            actor=request.user, review=review, schema=payload.validated_data["schema"]
        )
        return Response(FormSerializer(self._data(review)).data)


class FormPublishAPI(_ExtractionAPI, APIView):
    """Publish the draft as a new version (201), or answer the latest one unchanged (200)."""

    @extend_schema(request=None, responses={200: FormVersionSerializer, 201: FormVersionSerializer})
    def post(self, request, slug):
        version, created = services.form_publish(actor=request.user, review=self.get_review())
        return Response(
            _version_data(version),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _version_data(v) -> dict:
    return {
        "number": v.number,
        "schema": v.schema,
        "published_by": v.published_by.get_username() if v.published_by else v.published_by_name,
        "published_at": v.published_at,
    }


class FormVersionListAPI(_ExtractionAPI, APIView):
    """Every published version of the form, newest first."""

    @extend_schema(responses=FormVersionSerializer(many=True))
    def get(self, request, slug):
        from extraction.models import FormVersion

        versions = FormVersion.objects.filter(review=self.get_review()).order_by("-number")
        return Response([_version_data(v) for v in versions.select_related("published_by")])


class ExtractionListAPI(_ExtractionAPI, APIView):
    """The study's extractions the caller may read (their own; both once both are done, or
    for a lead); POST saves some of the caller's own values."""

    @extend_schema(responses=ExtractionSerializer(many=True))
    def get(self, request, slug, pk):
        study = self.get_study(pk)
        found = selectors.visible_extractions(request.user, self.get_review(), study)
        return Response([_extraction_data(e) for e in found])

    @extend_schema(request=ExtractionSaveSerializer, responses=ExtractionSerializer)
    def post(self, request, slug, pk):
        from extraction.constants import EXTRACT_ROLES

        study = self.get_study(pk)
        review = self.get_review()
        require_role(user=request.user, review=review, roles=EXTRACT_ROLES, action="extract data")
        payload = ExtractionSaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        saved = services.extraction_save(
            actor=request.user, review=review, study=study, values=payload.validated_data["values"]
        )
        return Response(_extraction_data(saved))


class ExtractionDoneAPI(_ExtractionAPI, APIView):
    """Mark the caller's extraction done (``done``: true) or reopen it (false)."""

    @extend_schema(request=ExtractionDoneSerializer, responses=ExtractionSerializer)
    def post(self, request, slug, pk):
        from extraction.constants import EXTRACT_ROLES

        study = self.get_study(pk)
        review = self.get_review()
        require_role(user=request.user, review=review, roles=EXTRACT_ROLES, action="extract data")
        payload = ExtractionDoneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        saved = services.extraction_mark(
            actor=request.user, review=review, study=study, done=payload.validated_data["done"]
        )
        return Response(_extraction_data(saved))


class ComparisonAPI(_ExtractionAPI, APIView):
    """Both extractions field by field, differing ones flagged; empty while blinded."""

    @extend_schema(responses=ComparisonSerializer)
    def get(self, request, slug, pk):
        study = self.get_study(pk)
        review = self.get_review()
        visible = selectors.sees_all_extractions(request.user, review, study)
        version = selectors.latest_version(review)
        rows = selectors.comparison(study, version.schema) if visible and version else []
        data = {"visible": visible, "status": selectors.study_status(study), "rows": rows}
        return Response(ComparisonSerializer(data).data)


class ConsensusAPI(_ExtractionAPI, APIView):
    """The study's consensus (404 before it begins); POST resolves differing fields (a lead,
    or an extractor who did not extract this study)."""

    @extend_schema(responses=ExtractionSerializer)
    def get(self, request, slug, pk):
        from django.http import Http404

        consensus = selectors.consensus_of(self.get_study(pk))
        if consensus is None:
            raise Http404("The consensus of this study has not begun.")
        return Response(_extraction_data(consensus))

    @extend_schema(request=ConsensusSaveSerializer, responses=ExtractionSerializer)
    def post(self, request, slug, pk):
        from django.core.exceptions import PermissionDenied

        study = self.get_study(pk)
        review = self.get_review()
        if not services.may_make_consensus(user=request.user, review=review, study=study):
            raise PermissionDenied("A lead or a member who did not extract makes the consensus.")
        payload = ConsensusSaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        saved = services.consensus_save(
            actor=request.user, review=review, study=study, **payload.validated_data
        )
        return Response(_extraction_data(saved))


class EffectsAPI(_ExtractionAPI, APIView):
    """Effect sizes of the finished consensus's result rows (metafor's escalc conventions)."""

    @extend_schema(responses=EffectSerializer(many=True))
    def get(self, request, slug, pk):
        return Response(
            EffectSerializer(selectors.effect_sizes(self.get_study(pk)), many=True).data
        )


def _snapshot_data(snap, stale: bool, detail: bool = False) -> dict:
    data = {
        "id": snap.pk,
        "number": snap.number,
        "studies": snap.studies,
        "sha256": snap.sha256,
        "stale": stale,
        "created_by": snap.created_by.get_username() if snap.created_by else snap.created_by_name,
        "created_at": snap.created_at,
    }
    if detail:
        data["content"] = snap.content
    return data


class SnapshotListAPI(_ExtractionAPI, APIView):
    """The finalised snapshots, newest first; POST (a lead) freezes the consensus as the next
    one (400 when no consensus is finished or nothing changed since the latest)."""

    @extend_schema(responses=SnapshotSerializer(many=True))
    def get(self, request, slug):
        found = selectors.snapshots_with_stale(self.get_review())
        return Response(
            SnapshotSerializer([_snapshot_data(s, s.is_stale) for s in found], many=True).data
        )

    @extend_schema(request=None, responses={201: SnapshotDetailSerializer})
    def post(self, request, slug):
        snap = services.snapshot_finalise(actor=request.user, review=self.get_review())
        return Response(
            SnapshotDetailSerializer(_snapshot_data(snap, False, detail=True)).data,
            status=status.HTTP_201_CREATED,
        )


class SnapshotDetailAPI(_ExtractionAPI, APIView):
    """One snapshot with its frozen studies: values, form version and effect sizes."""

    @extend_schema(responses=SnapshotDetailSerializer)
    def get(self, request, slug, pk):
        from extraction.models import ExtractionSnapshot

        snap = scoped_get(ExtractionSnapshot.objects.all(), review=self.get_review(), pk=pk)
        return Response(SnapshotDetailSerializer(_snapshot_data(snap, snap.stale, True)).data)


class ExportAPI(FileAnswerMixin, _ExtractionAPI, APIView):
    """The extracted data as CSV or XLSX: one row per result row, the study's characteristics
    joined; of a snapshot (``snapshot``) or of the current finished consensus."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, OpenApiParameter.QUERY, required=False, enum=["csv", "xlsx"]
            ),
            OpenApiParameter(
                "snapshot",
                int,
                OpenApiParameter.QUERY,
                required=False,
                description="A snapshot's id; without it, the current consensus.",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.XLSX): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="An unknown format."),
        },
    )
    def get(self, request, slug):
        from django.core.exceptions import ValidationError
        from django.http import HttpResponse

        from extraction.models import ExtractionSnapshot

        review = self.get_review()
        fmt = request.query_params.get("format", "csv")
        if fmt not in exports.FORMATS:
            raise ValidationError({"format": "Choose csv or xlsx."})
        snap = None
        if request.query_params.get("snapshot"):
            snap = scoped_get(
                ExtractionSnapshot.objects.all(),
                review=review,
                pk=request.query_params["snapshot"],
            )
        studies, schema, name = selectors.export_source(review, snap)
        body, media_type, filename = exports.export_file(
            studies=studies, schema=schema, fmt=fmt, name=name
        )
        response = HttpResponse(body, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ImportAPI(_ExtractionAPI, APIView):
    """Import extracted data (CSV or XLSX) into the studies' consensus extractions (a lead);
    the answer reports what was imported and what did not fit."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": ImportSerializer}, responses=ImportReportSerializer
    )
    def post(self, request, slug):
        import json

        from django.core.exceptions import ValidationError

        from extraction import imports
        from extraction.constants import FORM_ROLES
        from identification.importers.errors import ImportFormatError

        review = self.get_review()
        require_role(
            user=request.user, review=review, roles=FORM_ROLES, action="import extracted data"
        )
        payload = ImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = selectors.latest_version(review)
        if version is None:
            raise ValidationError({"form": "A lead has not published an extraction form yet."})
        upload = payload.validated_data["file"]
        try:
            header, rows = imports.read_table(upload, upload.name)
        except ImportFormatError as exc:
            raise ValidationError({"file": f"The file was not imported: {exc}."}) from None
        mapping = payload.validated_data.get("mapping")
        if isinstance(mapping, str):
            try:
                mapping = json.loads(mapping)
            except ValueError:
                raise ValidationError({"mapping": "Send the mapping as a JSON object."}) from None
        if mapping is None:
            mapping = imports.suggest_mapping(header, version.schema)
        report = services.consensus_import(
            actor=request.user, review=review, header=header, rows=rows, mapping=mapping
        )
        return Response(ImportReportSerializer(report).data)
