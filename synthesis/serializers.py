"""Shapes of the synthesis API."""

from __future__ import annotations

from rest_framework import serializers

from core.constants import JobStatus
from synthesis.constants import FILTER_OPS, METHOD_CHOICES, TEST_CHOICES
from synthesis.forms import MEASURE_CHOICES


class StudyFilterSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=100, help_text="A study-level field's key, or rob.")
    op = serializers.ChoiceField(choices=FILTER_OPS)
    value = serializers.JSONField(help_text="Text or a number; a list of them for “in”.")


class SensitivityFilterSerializer(StudyFilterSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DependentSerializer(serializers.Serializer):
    """Several effect sizes per study: the three-level model (issue 20)."""

    model = serializers.ChoiceField(choices=["three-level"], required=False, default="three-level")
    rho = serializers.FloatField(
        required=False, allow_null=True, default=None,
        help_text="Within-study correlation in [0, 1) for the CHE working matrix; null: V = vi.",
    )  # fmt: skip
    robust = serializers.ChoiceField(
        choices=["cr1", "cr2"], required=False, allow_null=True, default=None,
        help_text="Cluster-robust inference by study; null: model-based only.",
    )  # fmt: skip


class AnalysisWriteSerializer(serializers.Serializer):
    """An analysis's definition (create, or replace with PUT)."""

    name = serializers.CharField(max_length=200)
    snapshot = serializers.IntegerField(
        required=False, allow_null=True, help_text="A snapshot's id; null: the latest at each run."
    )
    outcome = serializers.CharField(max_length=500)
    timepoint = serializers.CharField(max_length=500, required=False, allow_blank=True)
    arm1 = serializers.CharField(max_length=500, required=False, allow_blank=True)
    arm2 = serializers.CharField(max_length=500, required=False, allow_blank=True)
    measure = serializers.ChoiceField(choices=MEASURE_CHOICES, required=False, allow_blank=True)
    method = serializers.ChoiceField(choices=METHOD_CHOICES, required=False, default="REML")
    test = serializers.ChoiceField(choices=TEST_CHOICES, required=False, default="z")
    level = serializers.FloatField(required=False, default=95.0)
    study_filters = StudyFilterSerializer(many=True, required=False)
    subgroup = serializers.CharField(max_length=100, required=False, allow_blank=True)
    moderators = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=10
    )
    leave_one_out = serializers.BooleanField(required=False, default=False)
    without_high_rob = serializers.BooleanField(required=False, default=False)
    sensitivity_filters = SensitivityFilterSerializer(many=True, required=False)
    publication_bias = serializers.BooleanField(required=False, default=False)
    dependent = DependentSerializer(
        required=False, allow_null=True, default=None,
        help_text="Several effect sizes per study (every result row of the outcome, nested in "
        "its study); null: one result row per study.",
    )  # fmt: skip
    plan_version = serializers.IntegerField(required=False, allow_null=True)


class AnalysisSerializer(AnalysisWriteSerializer):
    """An analysis as stored, with its newest result and how it departs from the plan."""

    id = serializers.IntegerField()
    snapshot = serializers.IntegerField(
        source="snapshot_id", allow_null=True, help_text="Null: the latest snapshot."
    )
    created_by = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    latest_result = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField(help_text="The newest result read an older snapshot.")
    departures = serializers.ListField(
        child=serializers.CharField(), help_text="How it departs from the protocol's plan."
    )


class RunSerializer(serializers.Serializer):
    """A run of an analysis (a job)."""

    job = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.IntegerField()
    message = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True, help_text="Why it failed; “” otherwise.")
    result = serializers.IntegerField(allow_null=True, help_text="The stored result's id.")
    url = serializers.CharField(help_text="Where to poll this run.")


class ResultSerializer(serializers.Serializer):
    """A stored result without its data (the list)."""

    id = serializers.IntegerField()
    analysis = serializers.IntegerField(source="analysis_id")
    snapshot_number = serializers.IntegerField()
    snapshot_sha256 = serializers.CharField()
    engine = serializers.CharField()
    stale = serializers.BooleanField(help_text="A newer snapshot exists.")
    seconds = serializers.FloatField()
    created_at = serializers.DateTimeField()


class ResultDetailSerializer(ResultSerializer):
    """A stored result: the exact inputs and every number (see synthesis.bundle)."""

    inputs = serializers.JSONField(help_text="{spec, rows}: exactly what was computed.")
    results = serializers.JSONField(
        help_text="main, studies, subgroups, subgroup_test, sensitivity, leave_one_out, "
        "metareg, publication_bias, transform, notes, engine."
    )
