"""API shapes for screening. Votes of other reviewers only ever appear through
``selectors.visible_votes``; these serializers never look them up themselves."""

from __future__ import annotations

from rest_framework import serializers

from identification.models import Record
from screening.constants import MAX_NOTE
from screening.models import Vote


class ScreeningRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = Record
        fields = [
            "id",
            "title",
            "abstract",
            "authors",
            "year",
            "journal",
            "doi",
            "pmid",
            "keywords",
        ]
        read_only_fields = fields


class VoteSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)
    reason_label = serializers.CharField(
        source="reason.label", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Vote
        fields = [
            "id",
            "item",
            "record",
            "stage",
            "reviewer",
            "decision",
            "reason",
            "reason_label",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class VoteInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=2**62)
    decision = serializers.CharField(max_length=20)
    reason = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_NOTE * 4, trim_whitespace=False
    )
    upcoming = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        max_length=10,
        help_text="Records already on the client's screen (a preloaded next record).",
    )


class VoteChangeSerializer(serializers.Serializer):
    decision = serializers.CharField(max_length=20, required=False)
    reason = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_NOTE * 4, trim_whitespace=False
    )


class ResolveInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["include", "exclude"])
    reason = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE * 4)


# --- Response shapes, for the API schema ---------------------------------------------------------


class ReportOutSerializer(serializers.Serializer):
    has_pdf = serializers.BooleanField()
    url = serializers.CharField()
    not_retrieved_reason = serializers.CharField()


class ItemOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField()
    status = serializers.CharField(
        help_text="'pending' also while a blinded voter's record is in conflict."
    )
    record = ScreeningRecordSerializer()
    votes = VoteSerializer(many=True, help_text="Only the votes you may see.")
    report = ReportOutSerializer(required=False, allow_null=True)


class ItemEnvelopeSerializer(serializers.Serializer):
    item = ItemOutSerializer(allow_null=True)


class VoteCastOutSerializer(serializers.Serializer):
    vote = VoteSerializer()
    next = ItemOutSerializer(allow_null=True)


class VotePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = VoteSerializer(many=True)


class ItemListSerializer(serializers.Serializer):
    results = ItemOutSerializer(many=True)
