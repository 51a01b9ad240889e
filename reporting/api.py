"""The machine API for reporting: the PRISMA 2020 numbers (JSON) and their files, the numbers a
lead types in, and every export the pages offer.

The same rules as the pages (``reporting/views.py``): any member reads the diagram and the
exports of studies, records, votes and agreement; the audit log is for leads; the votes file is
blinded row by row for its reader (``reporting.exports.votes_csv_rows``). Every answer is built
by the same selectors and exports as the pages' downloads.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_files import FileAnswerMixin
from identification import selectors as record_selectors
from identification.api import RecordFilterSchema
from identification.forms import record_filters
from reporting import changelog, exports, selectors, services
from reporting.models import PrismaEntry
from reporting.serializers import (
    PrismaEntrySerializer,
    PrismaReportSerializer,
    RoundChangeSerializer,
    entry_data,
    report_data,
    round_change_data,
)
from reporting.views import CONTENT_TYPES, prisma_file, round_asked
from reviews.access import require_role, review_for_user
from reviews.constants import Role
from reviews.models import Review
from screening.constants import STAGE_CODES, Stage

CSV = "text/csv"
#: ``?round=N``: the diagram of update round N (by default the latest); 404 for a round the
#: review does not have.
ROUND_PARAMETER = OpenApiParameter(
    "round", int, OpenApiParameter.QUERY, required=False, description="Update round (1, 2, ...)"
)
RIS = "application/x-research-info-systems"


def _files(*media_types: str) -> dict:
    """The 200 answer of a download: a file of one of ``media_types``."""
    return {(200, media_type): OpenApiTypes.BINARY for media_type in media_types}


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _ReviewAPI(APIView):
    def get_review(self) -> Review:
        if not hasattr(self, "_review"):
            self._review = review_for_user(user=self.request.user, slug=self.kwargs["slug"])
        return self._review


class _FileAPI(FileAnswerMixin, _ReviewAPI):
    """A download: the file, or an error in JSON, whatever the client accepts (never a 406)."""


class PrismaAPI(_ReviewAPI):
    """The PRISMA 2020 numbers of the PRISMA page: every box counted from the review's data at
    the moment of asking, the boxes a lead typed in (marked in ``hand_entered``), the
    consistency check and what is still unfinished."""

    @extend_schema(parameters=[ROUND_PARAMETER], responses=PrismaReportSerializer)
    def get(self, request, slug):
        review = self.get_review()
        report = selectors.prisma_report(
            review=review, user=request.user, round_number=round_asked(request, review)
        )
        return Response(PrismaReportSerializer(report_data(report)).data)


class PrismaEntryAPI(_ReviewAPI):
    """The numbers no query can count (the other-methods column, an update's previous
    studies): any member reads them; a lead changes the fields given."""

    def _entry(self) -> PrismaEntry:
        review = self.get_review()
        return PrismaEntry.objects.filter(review=review).first() or PrismaEntry(review=review)

    @extend_schema(responses=PrismaEntrySerializer)
    def get(self, request, slug):
        return Response(PrismaEntrySerializer(entry_data(self._entry())).data)

    @extend_schema(request=PrismaEntrySerializer, responses=PrismaEntrySerializer)
    def patch(self, request, slug):
        review = self.get_review()
        require_role(
            user=request.user, review=review, roles=[Role.LEAD], action="edit the PRISMA entries"
        )
        # Every field is optional; not ``partial``, which would spare the other_excluded items
        # their required fields.
        payload = PrismaEntrySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        if "other_excluded" in values:
            values["other_excluded"] = [[r["reason"], r["count"]] for r in values["other_excluded"]]
        services.prisma_entry_update(actor=request.user, review=review, **values)
        return Response(PrismaEntrySerializer(entry_data(self._entry())).data)


class ChangeLogAPI(_ReviewAPI):
    """The change log of an updated review: what each round did (records identified,
    duplicates against earlier rounds, new studies included, the analyses' changes)."""

    @extend_schema(responses=RoundChangeSerializer(many=True))
    def get(self, request, slug):
        changes = changelog.change_log(self.get_review())
        return Response(
            RoundChangeSerializer([round_change_data(c) for c in changes], many=True).data
        )


class ChangeLogFileAPI(_FileAPI):
    """The change log as Markdown (the page's download)."""

    @extend_schema(operation_id="reviews_changelog_markdown", responses=_files("text/markdown"))
    def get(self, request, slug):
        review = self.get_review()
        response = HttpResponse(
            changelog.change_log_markdown(review), content_type="text/markdown; charset=utf-8"
        )
        return _attachment(response, f"{review.slug}-changelog.md")


class PrismaFileAPI(_FileAPI):
    """The diagram as SVG, PNG or PDF, or the PRISMA2020 R package's CSV (as the page's
    downloads)."""

    @extend_schema(
        operation_id="reviews_prisma_file_retrieve",
        parameters=[
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(CONTENT_TYPES)),
            ROUND_PARAMETER,
        ],
        responses=_files(*(t.split(";")[0] for t in CONTENT_TYPES.values())),
    )
    def get(self, request, slug, fmt):
        review = self.get_review()
        if fmt not in CONTENT_TYPES:
            raise Http404("No such format.")
        response = HttpResponse(
            prisma_file(review, fmt, round_asked(request, review)),
            content_type=CONTENT_TYPES[fmt],
        )
        return _attachment(response, f"{review.slug}-prisma.{fmt}")


class ReportExportAPI(_FileAPI):
    """An export of the PRISMA page: included studies (RIS, CSV), their characteristics (CSV,
    XLSX), the reports excluded at full text with their reasons (CSV, XLSX)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(exports.EXPORTS))
        ],
        responses=_files(*dict.fromkeys(spec[2] for spec in exports.EXPORTS.values())),
    )
    def get(self, request, slug, name):
        review = self.get_review()
        if name not in exports.EXPORTS:
            raise Http404("No such export.")
        _label, suffix, content_type = exports.EXPORTS[name]
        response = HttpResponse(
            exports.build_export(review=review, name=name), content_type=content_type
        )
        return _attachment(response, f"{review.slug}-{suffix}")


class RecordsExportAPI(_FileAPI):
    """The records, narrowed by the record list's filters, as a file (the records page's
    export). Without filters: the primary records (duplicates removed). A filter that is not
    understood is a 400 naming it."""

    fmt = "csv"
    query_errors = True  # a filter that cannot be read is a 400, as on the records API
    # The filters are documented as the records API documents them, from the filter form (the
    # later steps' filters included); that schema documents a list.
    schema = RecordFilterSchema()
    action = "list"

    @extend_schema(responses=_files(CSV, RIS))
    def get(self, request, slug):
        review = self.get_review()
        form, filters = record_filters(request.query_params)
        if form.errors:
            return Response(form.errors, status=400)
        records = record_selectors.records_filtered(
            review=review, filters=filters, user=request.user
        )
        content_type = CSV if self.fmt == "csv" else RIS
        return FileResponse(
            exports.records_export(records, self.fmt),
            as_attachment=True,
            filename=f"{review.slug}-records.{self.fmt}",
            content_type=f"{content_type}; charset=utf-8",
        )


class AuditCSVAPI(_FileAPI):
    """The review's audit log as CSV, oldest first (leads only)."""

    @extend_schema(responses=_files(CSV))
    def get(self, request, slug):
        review = self.get_review()
        require_role(
            user=request.user, review=review, roles=[Role.LEAD], action="export the audit log"
        )
        response = StreamingHttpResponse(
            exports.audit_csv_rows(review=review), content_type=f"{CSV}; charset=utf-8"
        )
        return _attachment(response, f"{review.slug}-audit-log.csv")


class AgreementCSVAPI(_FileAPI):
    """Agreement between reviewers (Cohen's and Fleiss' kappa) per stage, as the reader may see
    it (the agreement page's figures)."""

    @extend_schema(responses=_files(CSV))
    def get(self, request, slug):
        review = self.get_review()
        response = HttpResponse(
            "".join(exports.agreement_csv_rows(review, user=request.user)),
            content_type=f"{CSV}; charset=utf-8",
        )
        return _attachment(response, f"{review.slug}-agreement.csv")


class VotesCSVAPI(_FileAPI):
    """The stage's votes as CSV, blinded row by row: while screening is blinded, a reader sees
    other people's votes only on settled records (or on conflicts they may resolve)."""

    @extend_schema(responses=_files(CSV))
    def get(self, request, slug, stage):
        review = self.get_review()
        response = StreamingHttpResponse(
            exports.votes_csv_rows(user=request.user, review=review, stage=stage),
            content_type=f"{CSV}; charset=utf-8",
        )
        code = STAGE_CODES[Stage(stage)]
        return _attachment(response, f"{review.slug}-{code}-votes.csv")
