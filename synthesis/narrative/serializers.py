"""Shapes of the narrative synthesis API."""

from __future__ import annotations

from rest_framework import serializers

from synthesis.narrative.models import DIRECTION_CHOICES


class NarrativeOutcomeSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=500)
    favourable = serializers.CharField(
        required=False, default="lower", help_text="“lower” or “higher”: which side favours."
    )
    combine = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="“”, “fisher” or “stouffer”."
    )


class NarrativeWriteSerializer(serializers.Serializer):
    """A narrative synthesis's definition (create, or replace with PUT)."""

    name = serializers.CharField(max_length=200)
    snapshot = serializers.IntegerField(
        required=False, allow_null=True, help_text="A snapshot's id; null: the latest."
    )
    group_by = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="A study-level field's key."
    )
    selection = serializers.CharField(
        required=False, default="not_pooled", help_text="“not_pooled”, “all” or “chosen”."
    )
    studies = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=2000
    )
    outcomes = NarrativeOutcomeSerializer(many=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class NarrativeSerializer(NarrativeWriteSerializer):
    id = serializers.IntegerField()
    snapshot = serializers.IntegerField(source="snapshot_id", allow_null=True)
    domains = serializers.DictField(
        child=serializers.CharField(),
        help_text="Outcome to domain where the team grouped outcomes (see …/domains/).",
    )
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class NarrativeResultsSerializer(serializers.Serializer):
    """Everything computed: per group and outcome, each study's direction and the numbers."""

    snapshot = serializers.JSONField(help_text="{number, sha256} of the snapshot read, or null.")
    group_by = serializers.CharField(allow_blank=True)
    selection = serializers.CharField()
    studies = serializers.ListField(child=serializers.CharField())
    domains = serializers.JSONField(help_text="[{domain, outcomes: [names]}]: the outcome domains.")
    groups = serializers.JSONField(
        help_text="[{value, studies, outcomes: [{outcome, favourable, combine, rows, "
        "n_beneficial, n_harmful, n_unclear, n_missing, vote, summary, combined, notes}], "
        "domains: [{domain, outcomes, rows: [{study, n, rob, direction, k, n_beneficial, "
        "n_harmful, n_unclear, outcomes}], n_beneficial, n_harmful, n_unclear, n_missing, vote, "
        "vote_note}]}]"
    )


class DirectionWriteSerializer(serializers.Serializer):
    study = serializers.CharField(max_length=500)
    outcome = serializers.CharField(max_length=500)
    direction = serializers.ChoiceField(
        choices=DIRECTION_CHOICES,
        required=False,
        allow_blank=True,
        help_text="“beneficial”, “harmful”, “no clear difference”, or “” to keep the derived one.",
    )
    p_value = serializers.FloatField(
        required=False, allow_null=True, help_text="A two-sided p-value entered."
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    clear = serializers.BooleanField(required=False, default=False)


class DirectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    study = serializers.CharField()
    outcome = serializers.CharField()
    direction = serializers.ChoiceField(choices=DIRECTION_CHOICES, allow_blank=True)
    p_value = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    set_by = serializers.CharField()
    set_at = serializers.DateTimeField()


class SwimItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    guidance = serializers.CharField()
    filled = serializers.CharField(allow_blank=True, help_text="What the app knows of it.")
    text = serializers.CharField(allow_blank=True, help_text="What the team wrote.")
    gap = serializers.BooleanField(help_text="Nothing reported yet.")


class SwimWriteSerializer(serializers.Serializer):
    items = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=20000),
        help_text="Item number (“1”..“9”) to the team's text.",
    )


class DomainSerializer(serializers.Serializer):
    domain = serializers.CharField()
    outcomes = serializers.ListField(child=serializers.CharField())


class DomainsSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.CharField(), help_text="Every outcome to its domain."
    )
    domains = DomainSerializer(many=True)


class DomainsWriteSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        help_text="Outcome to domain name; an outcome left out or given “” is its own domain.",
    )
