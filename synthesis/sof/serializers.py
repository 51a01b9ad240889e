"""Shapes of the summary-of-findings API."""

from __future__ import annotations

from rest_framework import serializers

from synthesis.sof.models import DOMAINS, JUDGEMENT_LEVELS


class SofTableWriteSerializer(serializers.Serializer):
    intervention = serializers.CharField(max_length=200)
    comparison = serializers.CharField(max_length=200, required=False, allow_blank=True)
    population = serializers.CharField(max_length=500, required=False, allow_blank=True)
    setting = serializers.CharField(max_length=500, required=False, allow_blank=True)
    title = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SofRowSettingsSerializer(serializers.Serializer):
    outcome_label = serializers.CharField(max_length=500, required=False, allow_blank=True)
    randomised = serializers.BooleanField(required=False, default=True)
    mid = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="A ratio for OR/RR (e.g. 1.25), else a difference.",
    )
    ois = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    participants_entered = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    acr_entered = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="Assumed control risk (a proportion); null: the median of the control arms.",
    )
    dose_response = serializers.BooleanField(required=False, default=False)


class SofRowAddSerializer(SofRowSettingsSerializer):
    analysis = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="An analysis of this review with a result."
    )


class SofJudgeSerializer(serializers.Serializer):
    domain = serializers.ChoiceField(choices=[d for d, _ in DOMAINS])
    judgement = serializers.ChoiceField(choices=list(JUDGEMENT_LEVELS))
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="Required when the judgement differs from the suggestion (or there is none).",
    )


class SofStatementSerializer(serializers.Serializer):
    statement = serializers.CharField(allow_blank=True, max_length=2000)


class SofDomainSerializer(serializers.Serializer):
    domain = serializers.CharField()
    label = serializers.CharField()
    handbook = serializers.CharField(help_text="The GRADE handbook section the rule follows.")
    suggested = serializers.CharField(allow_null=True)
    evidence = serializers.CharField(allow_blank=True)
    rule = serializers.CharField(allow_blank=True)
    judgement = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    suggested_when_judged = serializers.CharField(allow_null=True)
    judged_by = serializers.CharField(allow_blank=True)
    judged_at = serializers.DateTimeField(allow_null=True)
    judged_against_result = serializers.IntegerField(allow_null=True)
    footnote = serializers.IntegerField(allow_null=True)


class SofAbsoluteSerializer(serializers.Serializer):
    measure = serializers.CharField()
    acr = serializers.FloatField()
    control_per_1000 = serializers.FloatField()
    risk_per_1000 = serializers.FloatField()
    risk_lb_per_1000 = serializers.FloatField()
    risk_ub_per_1000 = serializers.FloatField()
    difference_per_1000 = serializers.FloatField()
    difference_lb_per_1000 = serializers.FloatField()
    difference_ub_per_1000 = serializers.FloatField()
    text = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())


class SofEffectSerializer(serializers.Serializer):
    estimate = serializers.FloatField()
    ci_lb = serializers.FloatField()
    ci_ub = serializers.FloatField()


class SofRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    outcome_label = serializers.CharField()
    analysis_id = serializers.IntegerField()
    result_id = serializers.IntegerField(allow_null=True)
    snapshot_number = serializers.IntegerField(allow_null=True)
    latest_result_id = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField()
    stale_reasons = serializers.ListField(child=serializers.CharField())
    randomised = serializers.BooleanField()
    mid = serializers.FloatField(allow_null=True)
    ois = serializers.IntegerField(allow_null=True)
    dose_response = serializers.BooleanField()
    k = serializers.IntegerField(allow_null=True)
    participants = serializers.IntegerField(allow_null=True)
    participants_source = serializers.CharField(allow_blank=True)
    measure = serializers.CharField(allow_blank=True)
    effect = SofEffectSerializer(allow_null=True, help_text="Back-transformed for OR and RR.")
    acr = serializers.FloatField(allow_null=True)
    acr_source = serializers.CharField(allow_blank=True)
    absolute = SofAbsoluteSerializer(allow_null=True)
    domains = SofDomainSerializer(many=True)
    certainty = serializers.CharField(allow_null=True)
    statement = serializers.CharField(allow_blank=True)
    statement_edited = serializers.BooleanField()
    draft_statement = serializers.CharField(allow_blank=True)
    errors = serializers.ListField(child=serializers.CharField())


class SofFootnoteSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    row = serializers.IntegerField()
    text = serializers.CharField()


class SofTableSerializer(serializers.Serializer):
    exists = serializers.BooleanField()
    intervention = serializers.CharField(allow_blank=True)
    comparison = serializers.CharField(allow_blank=True)
    population = serializers.CharField(allow_blank=True)
    setting = serializers.CharField(allow_blank=True)
    title = serializers.CharField(allow_blank=True)
    rows = SofRowSerializer(many=True)
    footnotes = SofFootnoteSerializer(many=True)
