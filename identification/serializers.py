from rest_framework import serializers

from identification.importers import ParsedRecord
from identification.models import ImportBatch, Record, Search


class SearchSerializer(serializers.ModelSerializer):
    record_count = serializers.IntegerField(read_only=True)
    # The update round of the search (1: the review's first searches); see /rounds/.
    round = serializers.IntegerField(source="round_number", read_only=True)

    class Meta:
        model = Search
        fields = [
            "id",
            "database",
            "kind",
            "platform",
            "date_searched",
            "query",
            "reported_hits",
            "notes",
            "record_count",
            "round",
            "created_at",
        ]
        read_only_fields = ["id", "record_count", "round", "created_at"]


class ImportBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "search",
            "original_name",
            "size",
            "sha256",
            "status",
            "format",
            "encoding",
            "encoding_fell_back",
            "parsed",
            "imported",
            "skipped",
            "skipped_count",
            "error",
            "job",
            "created_at",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    confirm_duplicate = serializers.BooleanField(required=False, default=False)


class RecordSerializer(serializers.ModelSerializer):
    database = serializers.CharField(source="search.database", read_only=True)

    class Meta:
        model = Record
        # The normalised fields every importer fills, in the importers' order; then the
        # primary record this one was merged into as a duplicate (null for a primary record).
        fields = ["id", "search", "database", *ParsedRecord.NORMALISED_FIELDS, "duplicate_of"]
        read_only_fields = fields


class RoundSerializer(serializers.Serializer):
    """A round of searches: round 1 is the review's first searches (no ``id``)."""

    id = serializers.IntegerField(allow_null=True, read_only=True)
    number = serializers.IntegerField(read_only=True)
    date = serializers.DateField(allow_null=True, read_only=True)
    reason = serializers.CharField(read_only=True)
    searches = serializers.IntegerField(read_only=True)
    records = serializers.IntegerField(read_only=True)


class RoundOpenSerializer(serializers.Serializer):
    date = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    copy_searches = serializers.BooleanField(required=False, default=True)
