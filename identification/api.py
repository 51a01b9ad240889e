"""API for searches, their files and the records they returned."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.schema import VALIDATION_ERRORS, AutoSchema
from identification import selectors as record_selectors
from identification import services
from identification.forms import RecordFilterForm, record_filters
from identification.models import ImportBatch, Record
from identification.serializers import (
    ImportBatchSerializer,
    RecordSerializer,
    SearchSerializer,
    UploadSerializer,
)
from reviews.access import require_role, scoped_get
from reviews.api import ReviewScopedViewSet


class SearchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ReviewScopedViewSet,
):
    """Searches of the review (database, platform, date, query, reported hits).

    Leads correct a search with PUT or PATCH (its files and records stay) and delete it with
    DELETE, with its files and records, until any of its records is screened: then, or while
    one of its files is being imported, DELETE is refused with a 400 that says why.
    """

    serializer_class = SearchSerializer

    def get_queryset(self):
        return record_selectors.searches_of(review=self.get_review())

    def get_object(self):
        return scoped_get(self.get_queryset(), review=self.get_review(), pk=self.kwargs["pk"])

    def perform_create(self, serializer):
        data = serializer.validated_data
        search = services.search_create(actor=self.request.user, review=self.get_review(), **data)
        serializer.instance = self.get_queryset().get(pk=search.pk)

    def update(self, request, *args, **kwargs):
        # The role before the body: a member without it learns nothing from field errors.
        self.get_object()
        require_role(
            user=request.user,
            review=self.get_review(),
            roles=services.IMPORT_ROLES,
            action="edit a search",
        )
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer):
        search = services.search_update(
            actor=self.request.user, search=serializer.instance, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=search.pk)

    def destroy(self, request, *args, **kwargs):
        services.search_delete(actor=request.user, search=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


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


class RecordFilterSchema(AutoSchema):
    """Documents the record list's query parameters from the filter form itself, so the schema
    names every filter the page has, the later steps' ones (``hooks.record_filters``) included."""

    TYPES = {"IntegerField": OpenApiTypes.INT, "ChoiceField": OpenApiTypes.STR}

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method != "GET" or self.view.action != "list":
            return parameters
        for name, field in RecordFilterForm().fields.items():
            choices = [value for value, _label in getattr(field, "choices", []) if value]
            label, help_text = str(field.label or name), str(field.help_text or "")
            description = f"{label}: {help_text}" if help_text else f"{label}."
            if name == "duplicates":
                description += " Primary records when absent."
            parameters.append(
                OpenApiParameter(
                    name,
                    self.TYPES.get(type(field).__name__, OpenApiTypes.STR),
                    description=description,
                    enum=choices or None,
                )
            )
        return parameters


class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ReviewScopedViewSet):
    """Records of the review, filtered like the record list page: primary records unless
    ``duplicates`` says otherwise; ``q`` takes the page's query language (phrases, prefix*,
    AND/OR/NOT, parentheses, field:term); ``stage`` and ``decision`` follow the screening
    status the user may see (a conflict hidden by blinding is ``pending``). A filter that is
    not understood is a 400 naming it."""

    serializer_class = RecordSerializer
    schema = RecordFilterSchema()

    @extend_schema(
        responses={
            200: RecordSerializer(many=True),
            400: OpenApiResponse(VALIDATION_ERRORS, description="A filter was not understood."),
        }
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        form, filters = record_filters(self.request.query_params)
        if form.errors:
            raise ValidationError(
                {
                    name: [e["message"] for e in errors]
                    for name, errors in form.errors.get_json_data().items()
                }
            )
        return record_selectors.records_filtered(
            review=self.get_review(), filters=filters, user=self.request.user
        )

    def get_object(self):
        return scoped_get(
            Record.objects.select_related("search"), review=self.get_review(), pk=self.kwargs["pk"]
        )
