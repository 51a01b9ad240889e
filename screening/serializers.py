"""API shapes for screening. Votes of other reviewers only ever appear through
``selectors.visible_votes``; these serializers never look them up themselves."""

from __future__ import annotations

from rest_framework import serializers

from identification.models import Record
from screening.constants import (
    MAX_NOTE,
    MAX_REASON_LABEL,
    MAX_REVIEWERS,
    MIN_REVIEWERS,
    Decision,
    ItemStatus,
    MaybePolicy,
    ReasonPolicy,
    ResolverPolicy,
    Stage,
)
from screening.models import ExclusionReason, ScreeningSettings, Vote

#: A conflict is settled by including or excluding the record (a Maybe settles nothing).
RESOLVE_DECISIONS = [Decision.INCLUDE.value, Decision.EXCLUDE.value]


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
    reviewer = serializers.CharField(
        source="reviewer_label",
        read_only=True,
        help_text="The voter's username, or their name as an imported archive kept it.",
    )
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
    decision = serializers.ChoiceField(choices=Decision.choices)
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
    decision = serializers.ChoiceField(choices=Decision.choices, required=False)
    reason = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_NOTE * 4, trim_whitespace=False
    )


class ResolveInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=RESOLVE_DECISIONS)
    reason = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE * 4)


# --- Response shapes, for the API schema ---------------------------------------------------------


class ReportOutSerializer(serializers.Serializer):
    has_pdf = serializers.BooleanField()
    url = serializers.CharField()
    not_retrieved_reason = serializers.CharField()


class ItemOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.ChoiceField(choices=Stage.choices)
    status = serializers.ChoiceField(
        choices=ItemStatus.choices,
        help_text="'pending' also while a blinded voter's record is in conflict.",
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


# --- Settings, exclusion reasons and keywords ---------------------------------------------------


class ExclusionReasonSerializer(serializers.ModelSerializer):
    """An exclusion reason; its ``id`` is what a vote's ``reason`` names."""

    stage = serializers.ChoiceField(choices=Stage.choices, read_only=True)

    class Meta:
        model = ExclusionReason
        fields = ["id", "stage", "label", "position", "active", "created_at"]
        read_only_fields = fields


class ReasonCreateSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    # Generous: the service trims, collapses spaces and gives the precise limit.
    label = serializers.CharField(max_length=MAX_REASON_LABEL * 2, trim_whitespace=False)


class ReasonUpdateSerializer(serializers.Serializer):
    label = serializers.CharField(
        max_length=MAX_REASON_LABEL * 2, required=False, trim_whitespace=False
    )
    active = serializers.BooleanField(
        required=False,
        help_text="false retires the reason: votes keep it, new votes cannot use it.",
    )


class ReasonMoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["up", "down"])


class ScreeningSettingsSerializer(serializers.ModelSerializer):
    """How the review screens (the keywords are ``…/screening/keywords/``)."""

    reviewers_per_record = serializers.IntegerField(
        min_value=MIN_REVIEWERS, max_value=MAX_REVIEWERS, required=False
    )
    blinded = serializers.BooleanField(required=False)
    maybe_policy = serializers.ChoiceField(choices=MaybePolicy.choices, required=False)
    reasons_title_abstract = serializers.ChoiceField(choices=ReasonPolicy.choices, required=False)
    reasons_full_text = serializers.ChoiceField(choices=ReasonPolicy.choices, required=False)
    resolvers = serializers.ChoiceField(choices=ResolverPolicy.choices, required=False)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = ScreeningSettings
        fields = [
            "reviewers_per_record",
            "blinded",
            "maybe_policy",
            "reasons_title_abstract",
            "reasons_full_text",
            "resolvers",
            "updated_at",
        ]


class KeywordsSerializer(serializers.Serializer):
    """The terms highlighted on the record while screening, one list per colour."""

    include = serializers.ListField(
        child=serializers.CharField(max_length=200, trim_whitespace=False),
        max_length=1000,
        required=False,
        help_text="Highlighted green; `*` stands for any letters, `?` for one.",
    )
    exclude = serializers.ListField(
        child=serializers.CharField(max_length=200, trim_whitespace=False),
        max_length=1000,
        required=False,
        help_text="Highlighted red; wildcards as for include.",
    )

    def _one_per_line(self, terms: list[str]) -> list[str]:
        if any("\n" in t or "\r" in t for t in terms):
            raise serializers.ValidationError("One keyword per item, without line breaks.")
        return terms

    def validate_include(self, terms: list[str]) -> list[str]:
        return self._one_per_line(terms)

    def validate_exclude(self, terms: list[str]) -> list[str]:
        return self._one_per_line(terms)
