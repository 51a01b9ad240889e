"""The protocol's API, under ``/api/reviews/<slug>/protocol/``: every member reads the versions,
their diff and the synthesis plan; leads save the draft, register and amend, through the same
services as the pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_files import FileAnswerMixin
from reviews.access import scoped_get
from reviews.api import ReviewScoped
from reviews.constants import Role
from reviews.models import Review
from reviews.protocol import documents, selectors, services
from reviews.protocol.diff import diff_contents, diff_data
from reviews.protocol.sections import sections_changed
from reviews.protocol.serializers import (
    AmendInputSerializer,
    DiffSerializer,
    DraftInputSerializer,
    ProtocolVersionDetailSerializer,
    ProtocolVersionSerializer,
    RegisterInputSerializer,
    SynthesisPlanSerializer,
)


class _ProtocolAPI(ReviewScoped, APIView):
    roles = (Role.LEAD,)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # The review first: an outsider gets the same 404 whatever they send.
        self.get_review()

    def lead(self, action: str) -> Review:
        return self.require(action)


class VersionListAPI(_ProtocolAPI, generics.ListAPIView):
    """Every version of the protocol, oldest first (the draft, if any, last)."""

    serializer_class = ProtocolVersionSerializer

    def get_queryset(self):
        return selectors.versions_of(self.get_review()).order_by("number")


class VersionDetailAPI(_ProtocolAPI):
    """One version with its content."""

    @extend_schema(responses=ProtocolVersionDetailSerializer)
    def get(self, request, slug, pk):
        review = self.get_review()
        version = scoped_get(selectors.versions_of(review), review=review, pk=pk)
        return Response(ProtocolVersionDetailSerializer(version).data)


class DraftAPI(_ProtocolAPI):
    """The draft (leads): PUT replaces its content (sections and fields left out are empty),
    PATCH changes the fields given; either starts a draft if there is none (after registration:
    an amendment, from the latest version). DELETE discards it."""

    def _save(self, request, *, partial: bool):
        review = self.lead("edit the protocol")
        if not isinstance(request.data, dict):
            raise ValidationError('Send a JSON object: {"content": {...}}.')
        payload = DraftInputSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        created = selectors.draft_of(review) is None
        draft = services.draft_save(
            actor=request.user,
            review=review,
            content=request.data.get("content"),
            partial=partial,
        )
        return Response(
            ProtocolVersionDetailSerializer(draft).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=DraftInputSerializer,
        responses={200: ProtocolVersionDetailSerializer, 201: ProtocolVersionDetailSerializer},
    )
    def put(self, request, slug):
        return self._save(request, partial=False)

    @extend_schema(
        request=DraftInputSerializer,
        responses={200: ProtocolVersionDetailSerializer, 201: ProtocolVersionDetailSerializer},
    )
    def patch(self, request, slug):
        return self._save(request, partial=True)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, slug):
        review = self.lead("edit the protocol")
        services.draft_discard(actor=request.user, review=review)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterAPI(_ProtocolAPI):
    """Register the draft (leads): it becomes version 1, frozen, with its SHA-256 fingerprint."""

    @extend_schema(
        request=RegisterInputSerializer, responses={201: ProtocolVersionDetailSerializer}
    )
    def post(self, request, slug):
        review = self.lead("register the protocol")
        payload = RegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.protocol_register(
            actor=request.user, review=review, **payload.validated_data
        )
        return Response(
            ProtocolVersionDetailSerializer(version).data, status=status.HTTP_201_CREATED
        )


class AmendAPI(_ProtocolAPI):
    """Publish the amendment draft with its rationale (leads): frozen and fingerprinted, with
    the sections it changes."""

    @extend_schema(request=AmendInputSerializer, responses={201: ProtocolVersionDetailSerializer})
    def post(self, request, slug):
        review = self.lead("amend the protocol")
        payload = AmendInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.amendment_publish(
            actor=request.user, review=review, **payload.validated_data
        )
        return Response(
            ProtocolVersionDetailSerializer(version).data, status=status.HTTP_201_CREATED
        )


class DiffAPI(_ProtocolAPI):
    """Two versions compared section by section and word by word (by version number; by
    default the latest against the one before it)."""

    query_errors = True

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, description="A version number."),
            OpenApiParameter("to", int, description="A version number."),
        ],
        responses=DiffSerializer,
    )
    def get(self, request, slug):
        review = self.get_review()
        versions = {v.number: v for v in selectors.versions_of(review)}
        numbers = sorted(versions)
        wanted = []
        for key, default in (("from", -2), ("to", -1)):
            raw = request.query_params.get(key)
            if raw is None:
                if len(numbers) < 2:
                    raise ValidationError(
                        {key: "The protocol has fewer than two versions; nothing to compare."}
                    )
                wanted.append(numbers[default])
                continue
            try:
                number = int(raw)
            except ValueError:
                raise ValidationError({key: "Give a version number."}) from None
            if number not in versions:
                raise ValidationError({key: f"No version {str(raw)[:20]} of the protocol."})
            wanted.append(number)
        left, right = versions[wanted[0]], versions[wanted[1]]
        data = {
            "from_version": left.number,
            "to_version": right.number,
            "sections_changed": sections_changed(left.content, right.content),
            "sections": diff_data(diff_contents(left.content, right.content)),
        }
        return Response(DiffSerializer(data).data)


class SynthesisPlanAPI(_ProtocolAPI):
    """The current protocol's synthesis plan, in the statistics engine's terms."""

    @extend_schema(responses=SynthesisPlanSerializer)
    def get(self, request, slug):
        plan = selectors.synthesis_plan(self.get_review())
        if plan is None:
            plan = {
                "planned": False,
                "version": None,
                "draft": None,
                "fingerprint": None,
                "effect_measure": None,
                "model": None,
                "tau2_estimator": None,
                "method": None,
                "knapp_hartung": False,
                "test": "z",
                "heterogeneity": "",
                "subgroups": [],
                "sensitivity": [],
                "publication_bias": [],
                "narrative": "",
            }
        else:
            plan = {"planned": True, **plan}
        return Response(SynthesisPlanSerializer(plan).data)


class VersionFileAPI(FileAnswerMixin, _ProtocolAPI):
    """One version as Markdown, HTML or PDF, in the order of the PROSPERO form (the page's
    download): ``?as=md|html|pdf``."""

    @extend_schema(
        operation_id="reviews_protocol_version_download",
        parameters=[
            OpenApiParameter(
                "as", str, OpenApiParameter.QUERY, required=False, enum=list(documents.DOWNLOADS)
            )
        ],
        responses={
            **{(200, t.split(";")[0]): OpenApiTypes.BINARY for t in documents.DOWNLOADS.values()},
            400: OpenApiResponse(description="An unknown format."),
        },
    )
    def get(self, request, slug, pk):
        review = self.get_review()
        version = scoped_get(selectors.versions_of(review), review=review, pk=pk)
        fmt = request.query_params.get("as", "md")
        if fmt not in documents.DOWNLOADS:
            raise ValidationError({"as": "Choose md, html or pdf."})
        body, media_type, name = documents.version_file(
            version, review_title=review.title, slug=review.slug, fmt=fmt
        )
        response = HttpResponse(body, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
