"""Shapes of data extraction's API answers and inputs."""

from __future__ import annotations

from rest_framework import serializers

from extraction.constants import MAX_LABEL, MAX_NOTES, StudyStatus
from extraction.models import Extraction, Study, StudyReport


class StudyReportSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="record.title", read_only=True)
    year = serializers.IntegerField(source="record.year", read_only=True, allow_null=True)
    linked_by = serializers.SerializerMethodField()

    class Meta:
        model = StudyReport
        fields = ["record", "title", "year", "basis", "linked_by", "linked_at"]

    def get_linked_by(self, obj) -> str:
        return obj.linked_by.get_username() if obj.linked_by else obj.linked_by_name


class StudySerializer(serializers.ModelSerializer):
    reports = StudyReportSerializer(source="links", many=True, read_only=True)
    created_by = serializers.SerializerMethodField()
    extraction_status = serializers.SerializerMethodField(
        help_text="not started, in progress, done (two extractions done) or consensus."
    )

    class Meta:
        model = Study
        fields = [
            "id",
            "label",
            "notes",
            "created_by",
            "created_at",
            "reports",
            "extraction_status",
        ]

    def get_created_by(self, obj) -> str:
        return obj.created_by.get_username() if obj.created_by else obj.created_by_name

    def get_extraction_status(self, obj) -> str:
        from extraction.selectors import study_status

        return study_status(obj)


class StudyCreateSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    label = serializers.CharField(max_length=MAX_LABEL, required=False, allow_blank=True)
    basis = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StudyChangeSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=MAX_LABEL, required=False)
    notes = serializers.CharField(max_length=MAX_NOTES, required=False, allow_blank=True)


class StudyLinkSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    basis = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StudyUnlinkSerializer(serializers.Serializer):
    record = serializers.IntegerField()


class StudyCountsSerializer(serializers.Serializer):
    studies = serializers.IntegerField()
    reports = serializers.IntegerField()
    unlinked_reports = serializers.IntegerField()


class SuggestedStudySerializer(serializers.Serializer):
    study = serializers.IntegerField()
    label = serializers.CharField()
    reason = serializers.CharField()


class SuggestedReportSerializer(serializers.Serializer):
    record = serializers.IntegerField()
    title = serializers.CharField()
    reason = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    record = serializers.IntegerField()
    title = serializers.CharField()
    studies = SuggestedStudySerializer(many=True)
    reports = SuggestedReportSerializer(many=True)


# --- Forms, extractions, comparison, consensus, effect sizes ---------------------------------


class FormSerializer(serializers.Serializer):
    draft = serializers.JSONField(help_text="The draft schema (see extraction.schema).")
    latest_version = serializers.IntegerField(allow_null=True)
    unpublished = serializers.BooleanField(help_text="The draft differs from the latest version.")


class FormDraftSerializer(serializers.Serializer):
    schema = serializers.JSONField(help_text="sections (title, fields), arms and outcomes.")


class FormVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    schema = serializers.JSONField()
    published_by = serializers.CharField()
    published_at = serializers.DateTimeField()


STUDY_STATUSES = [
    StudyStatus.NOT_STARTED,
    StudyStatus.IN_PROGRESS,
    StudyStatus.DONE,
    StudyStatus.CONSENSUS,
]


class ExtractionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Extraction.Kind.choices)
    extractor = serializers.CharField()
    form_version = serializers.IntegerField()
    values = serializers.JSONField()
    done = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    problems = serializers.DictField(child=serializers.CharField())


class ExtractionSaveSerializer(serializers.Serializer):
    values = serializers.DictField(
        child=serializers.JSONField(), help_text="Values by flat key (a multiple choice a list)."
    )


class ExtractionDoneSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True)


class ComparisonRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    a = serializers.CharField(allow_blank=True)
    b = serializers.CharField(allow_blank=True)
    differs = serializers.BooleanField()
    consensus = serializers.CharField(allow_blank=True)
    resolved = serializers.BooleanField()


class ComparisonSerializer(serializers.Serializer):
    visible = serializers.BooleanField(help_text="False while the extractions are blinded.")
    status = serializers.ChoiceField(choices=STUDY_STATUSES)
    rows = ComparisonRowSerializer(many=True)


class PickSerializer(serializers.Serializer):
    pick = serializers.ChoiceField(choices=["a", "b", "value"])
    value = serializers.JSONField(required=False)


class ConsensusSaveSerializer(serializers.Serializer):
    picks = serializers.DictField(child=PickSerializer(), required=False, default=dict)
    finish = serializers.BooleanField(default=False)


class EffectSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    outcome = serializers.CharField(allow_blank=True)
    timepoint = serializers.CharField(allow_blank=True)
    arm1 = serializers.CharField(allow_blank=True)
    arm2 = serializers.CharField(allow_blank=True)
    measure = serializers.CharField(allow_blank=True)
    yi = serializers.FloatField(allow_null=True)
    vi = serializers.FloatField(allow_null=True)
    ci_lb = serializers.FloatField(allow_null=True)
    ci_ub = serializers.FloatField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)


class SnapshotSerializer(serializers.Serializer):
    """A finalised snapshot without its content (the list)."""

    id = serializers.IntegerField()
    number = serializers.IntegerField()
    studies = serializers.IntegerField(help_text="Studies with a finished consensus frozen.")
    sha256 = serializers.CharField(help_text="SHA-256 of the content's canonical JSON.")
    stale = serializers.BooleanField(
        help_text="A newer snapshot exists, or the consensus changed since."
    )
    created_by = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class SnapshotStudySerializer(serializers.Serializer):
    label = serializers.CharField()
    reports = serializers.ListField(
        child=serializers.CharField(), help_text="Each report as: first author (year). title"
    )
    form_version = serializers.IntegerField()
    values = serializers.DictField()
    effects = EffectSerializer(many=True)


class SnapshotLeftOutSerializer(serializers.Serializer):
    label = serializers.CharField()


class SnapshotContentSerializer(serializers.Serializer):
    studies = SnapshotStudySerializer(many=True)
    left_out = SnapshotLeftOutSerializer(
        many=True, help_text="Studies without a finished consensus."
    )


class SnapshotDetailSerializer(SnapshotSerializer):
    """A snapshot with every frozen study (values, form version, effect sizes)."""

    content = SnapshotContentSerializer()


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX: one row per result row.")
    mapping = serializers.JSONField(
        required=False,
        help_text="Column -> field (see the export's column names); without it, the columns "
        "named as the export names them are used.",
    )


class ImportProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    column = serializers.CharField(allow_blank=True)
    study = serializers.CharField(allow_blank=True)
    problem = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    imported = serializers.ListField(child=serializers.CharField(), help_text="Studies written.")
    problems = ImportProblemSerializer(many=True)
    ignored = serializers.ListField(child=serializers.CharField(), help_text="Columns left out.")
