"""API for searches, their files and the records they returned."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from identification import selectors as record_selectors
from identification import services
from identification.forms import RecordFilterForm
from identification.models import ImportBatch, Record
from identification.serializers import (
    ImportBatchSerializer,
    RecordSerializer,
    SearchSerializer,
    UploadSerializer,
)
from reviews.access import scoped_get
from reviews.api import ReviewScopedViewSet


class SearchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ReviewScopedViewSet
):
    """Searches of the review (database, platform, date, query, reported hits)."""

    serializer_class = SearchSerializer

    def get_queryset(self):
        return record_selectors.searches_of(review=self.get_review())

    def get_object(self):
        return scoped_get(self.get_queryset(), review=self.get_review(), pk=self.kwargs["pk"])

    def perform_create(self, serializer):
        data = serializer.validated_data
        search = services.search_create(actor=self.request.user, review=self.get_review(), **data)
        serializer.instance = self.get_queryset().get(pk=search.pk)


class SearchFileViewSet(mixins.ListModelMixin, ReviewScopedViewSet):
    """Files of one search; POST a file (multipart) to import it as a background job."""

    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_search(self):
        return scoped_get(
            record_selectors.searches_of(review=self.get_review()),
            review=self.get_review(),
            pk=self.kwargs["pk"],
        )

    def get_queryset(self):
        return ImportBatch.objects.filter(search=self.get_search()).order_by("pk")

    @extend_schema(request=UploadSerializer, responses={202: ImportBatchSerializer})
    def create(self, request, *args, **kwargs):
        search = self.get_search()
        payload = UploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        batch = services.batch_upload(
            actor=request.user,
            search=search,
            fileobj=upload,
            filename=upload.name,
            confirm_duplicate=payload.validated_data["confirm_duplicate"],
        )
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ReviewScopedViewSet):
    """Records of the review, filterable like the record list page."""

    serializer_class = RecordSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("search", int),
            OpenApiParameter("year_from", int),
            OpenApiParameter("year_to", int),
            OpenApiParameter("has_doi", str, enum=["yes", "no"]),
            OpenApiParameter("has_abstract", str, enum=["yes", "no"]),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        form = RecordFilterForm(self.request.query_params or None)
        filters = form.cleaned_data if form.is_valid() else {}
        return record_selectors.records_filtered(review=self.get_review(), filters=filters)

    def get_object(self):
        return scoped_get(
            Record.objects.select_related("search"), review=self.get_review(), pk=self.kwargs["pk"]
        )
