"""API shapes for deduplication: the run's summary, clusters, the pairs people judge."""

from __future__ import annotations

import typing

from rest_framework import serializers

from deduplication.constants import PairStatus
from deduplication.engine.scoring import FieldStatus
from deduplication.models import DuplicateCluster, DuplicatePair
from identification.models import Record

FIELD_STATUSES = list(typing.get_args(FieldStatus))


class SearchCountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    database = serializers.CharField()
    identified = serializers.IntegerField(help_text="Records this search returned.")
    removed = serializers.IntegerField(help_text="Of those, duplicates of another record.")


class DedupSummarySerializer(serializers.Serializer):
    """The duplicates page's numbers, counted at the moment of asking."""

    records = serializers.IntegerField()
    clusters = serializers.IntegerField()
    merged = serializers.IntegerField(help_text="Records merged into another (duplicates removed).")
    queued = serializers.IntegerField(help_text="Doubtful pairs waiting for a person.")
    decided = serializers.IntegerField(
        help_text="Pairs a person judged, and merges a person undid."
    )
    per_search = SearchCountSerializer(many=True)


class RunInputSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Compare every record with every other, not only the new ones.",
    )


class DedupRecordSerializer(serializers.ModelSerializer):
    """A record as deduplication shows it: where it came from and where it is merged."""

    database = serializers.CharField(source="search.database", read_only=True)

    class Meta:
        model = Record
        fields = [
            "id",
            "search",
            "database",
            "title",
            "authors",
            "year",
            "journal",
            "doi",
            "pmid",
            "cluster",
            "duplicate_of",
        ]
        read_only_fields = fields


class ClusterSerializer(serializers.ModelSerializer):
    primary_pinned = serializers.BooleanField(
        read_only=True, help_text="A person chose the primary; later runs keep it."
    )
    members = DedupRecordSerializer(many=True, read_only=True)

    class Meta:
        model = DuplicateCluster
        fields = ["id", "primary", "primary_pinned", "members", "created_at", "updated_at"]
        read_only_fields = fields


class FieldComparisonSerializer(serializers.Serializer):
    field = serializers.CharField()
    left = serializers.CharField(allow_blank=True)
    right = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=FIELD_STATUSES)
    similarity = serializers.FloatField(allow_null=True, required=False)


class PairSerializer(serializers.ModelSerializer):
    left = DedupRecordSerializer(read_only=True)
    right = DedupRecordSerializer(read_only=True)
    status = serializers.ChoiceField(choices=PairStatus.choices, read_only=True)
    comparison = FieldComparisonSerializer(
        source="fields", many=True, read_only=True, help_text="The two records field by field."
    )
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = DuplicatePair
        fields = [
            "id",
            "score",
            "status",
            "left",
            "right",
            "comparison",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class DecideInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=["same", "different"],
        help_text="`same`: one publication, merged; `different`: never merged again.",
    )
    primary = serializers.ChoiceField(
        choices=["left", "right"],
        required=False,
        allow_null=True,
        help_text="With `same`: which record stays primary (else the more complete one).",
    )
