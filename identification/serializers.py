from rest_framework import serializers

from identification.importers import ParsedRecord
from identification.models import ImportBatch, Record, Search


class SearchSerializer(serializers.ModelSerializer):
    record_count = serializers.IntegerField(read_only=True)

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
            "created_at",
        ]
        read_only_fields = ["id", "record_count", "created_at"]


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
