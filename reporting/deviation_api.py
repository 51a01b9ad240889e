"""The differences from the protocol as JSON, under
``/api/reviews/<slug>/protocol/deviations/`` (``reporting/deviations.py``); every member reads
them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reporting import deviations
from reviews.access import review_for_user


class _ProtocolSerializer(serializers.Serializer):
    current_version = serializers.IntegerField(allow_null=True)
    current_is_draft = serializers.BooleanField(allow_null=True)
    registered_version = serializers.IntegerField(allow_null=True)
    registry = serializers.CharField(allow_blank=True)
    registration_id = serializers.CharField(allow_blank=True)
    registered_on = serializers.DateField(allow_null=True)
    fingerprint = serializers.CharField(allow_null=True)


class _SourceChangeSerializer(serializers.Serializer):
    database = serializers.CharField()
    change = serializers.ChoiceField(choices=["added", "removed"])
    version = serializers.IntegerField()


class _DatabasesSerializer(serializers.Serializer):
    planned = serializers.ListField(child=serializers.CharField())
    searched = serializers.ListField(child=serializers.CharField())
    not_imported = serializers.ListField(child=serializers.CharField())
    not_searched = serializers.ListField(child=serializers.CharField())
    unplanned = serializers.ListField(child=serializers.CharField())
    changed_by_amendments = _SourceChangeSerializer(many=True)


class _AmendmentSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    date = serializers.CharField(allow_blank=True)
    author = serializers.CharField(allow_blank=True)
    rationale = serializers.CharField(allow_blank=True)
    sections_changed = serializers.ListField(child=serializers.CharField())


class _CriteriaChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    date = serializers.CharField(allow_blank=True)
    rationale = serializers.CharField(allow_blank=True)
    added_inclusion = serializers.ListField(child=serializers.CharField())
    removed_inclusion = serializers.ListField(child=serializers.CharField())
    added_exclusion = serializers.ListField(child=serializers.CharField())
    removed_exclusion = serializers.ListField(child=serializers.CharField())
    other_changes = serializers.ListField(child=serializers.CharField())


class _AnalysisDeviationSerializer(serializers.Serializer):
    area = serializers.ChoiceField(
        choices=[
            "estimator",
            "effect_measure",
            "knapp_hartung",
            "subgroups",
            "sensitivity",
            "publication_bias",
        ]
    )
    deviation = serializers.ChoiceField(
        source="kind", choices=["not_planned", "not_run", "differs"]
    )
    analysis = serializers.CharField(allow_blank=True)
    text = serializers.CharField()


class DeviationReportSerializer(serializers.Serializer):
    """Planned against done. ``analyses_run`` is 0 until the synthesis step has run analyses
    (then ``analysis_deviations`` compares them with the plan); ``differences`` says every
    difference in a sentence, for the paper."""

    protocol = _ProtocolSerializer()
    databases = _DatabasesSerializer()
    amendments = _AmendmentSerializer(many=True)
    eligibility_changes = _CriteriaChangeSerializer(many=True)
    analyses_run = serializers.IntegerField()
    analysis_deviations = _AnalysisDeviationSerializer(many=True)
    differences = serializers.ListField(child=serializers.CharField())


class DeviationsAPI(APIView):
    """The differences from the protocol (as the page and its files)."""

    @extend_schema(responses=DeviationReportSerializer)
    def get(self, request, slug):
        review = review_for_user(user=request.user, slug=slug)
        data = deviations.report_data(deviations.deviation_report(review))
        return Response(DeviationReportSerializer(data).data)
