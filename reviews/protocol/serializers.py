"""The protocol in the API. The content's serializers are made from ``sections.SECTIONS``, so
the schema documents every section and field with its type and choices; the services clean
the content again (the one place its rules live)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reviews.protocol import sections
from reviews.protocol.constants import Registry, VersionKind
from reviews.protocol.models import ProtocolVersion


def _field(f: sections.Field) -> serializers.Field:
    help_text = f"{f.label}. {f.help}".strip()
    if f.kind == "text":
        return serializers.CharField(
            max_length=sections.TEXT_MAX, allow_blank=True, required=False, help_text=help_text
        )
    if f.kind == "markdown":
        return serializers.CharField(
            max_length=sections.MARKDOWN_MAX,
            allow_blank=True,
            required=False,
            trim_whitespace=False,
            help_text=f"{help_text} Markdown.",
        )
    if f.kind == "list":
        return serializers.ListField(
            child=serializers.CharField(max_length=sections.TEXT_MAX, allow_blank=True),
            max_length=sections.LIST_MAX,
            required=False,
            help_text=help_text,
        )
    if f.kind == "choice":
        return serializers.ChoiceField(
            choices=f.choices, allow_blank=True, required=False, help_text=help_text
        )
    if f.kind == "choices":
        return serializers.ListField(
            child=serializers.ChoiceField(choices=f.choices),
            required=False,
            help_text=help_text,
        )
    if f.kind == "bool":
        return serializers.BooleanField(required=False, help_text=help_text)
    if f.kind == "items":
        item = type(
            "".join(p.title() for p in f.key.split("_")) + "ItemSerializer",
            (serializers.Serializer,),
            {
                part: serializers.CharField(
                    max_length=sections.TEXT_MAX, allow_blank=n > 0, required=n == 0
                )
                for n, part in enumerate(f.parts)
            },
        )
        return serializers.ListField(
            child=item(), max_length=sections.ITEMS_MAX, required=False, help_text=help_text
        )
    raise AssertionError(f.kind)


def _section_serializer(sec: sections.Section) -> type[serializers.Serializer]:
    name = "Protocol" + "".join(p.title() for p in sec.key.split("_")) + "Serializer"
    attrs: dict[str, Any] = {f.key: _field(f) for f in sec.fields}
    attrs["__doc__"] = f"{sec.title}. {sec.help}"
    return type(name, (serializers.Serializer,), attrs)


ProtocolContentSerializer = type(
    "ProtocolContentSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The protocol's sections (PRISMA-P). On input, a section or field left out "
        "is empty (PUT) or keeps its value (PATCH).",
        **{sec.key: _section_serializer(sec)(required=False) for sec in sections.SECTIONS},
    },
)


class DraftInputSerializer(serializers.Serializer):
    content = ProtocolContentSerializer()


class RegisterInputSerializer(serializers.Serializer):
    registry = serializers.ChoiceField(choices=Registry.choices)
    registry_name = serializers.CharField(
        max_length=100, allow_blank=True, required=False, help_text="The registry, if other."
    )
    registration_id = serializers.CharField(max_length=100)
    registration_url = serializers.CharField(max_length=500, allow_blank=True, required=False)
    registered_on = serializers.DateField()


class AmendInputSerializer(serializers.Serializer):
    rationale = serializers.CharField(max_length=5000)
    amended_on = serializers.DateField(
        required=False, allow_null=True, help_text="The amendment's date; today if left out."
    )


class ProtocolVersionSerializer(serializers.ModelSerializer):
    """A version with its registration or amendment details; ``fingerprint_ok`` says whether
    its stored fingerprint matches its content (null for a draft)."""

    version_kind = serializers.ChoiceField(source="kind", choices=VersionKind.choices)
    state = serializers.ChoiceField(choices=["draft", "registered", "amendment"])
    registry = serializers.ChoiceField(choices=Registry.choices, allow_blank=True)
    author = serializers.CharField(allow_blank=True)
    date = serializers.DateField(
        allow_null=True, help_text="Registered on (version 1), amended on (amendments)."
    )
    registration_url = serializers.CharField(allow_blank=True, help_text="The registry record.")
    fingerprint_ok = serializers.SerializerMethodField()
    sections_changed = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = ProtocolVersion
        fields = [
            "id",
            "number",
            "version_kind",
            "state",
            "fingerprint",
            "fingerprint_ok",
            "registry",
            "registry_name",
            "registration_id",
            "registration_url",
            "registered_on",
            "amended_on",
            "date",
            "rationale",
            "sections_changed",
            "author",
            "created_at",
            "updated_at",
            "frozen_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_fingerprint_ok(self, version: ProtocolVersion) -> bool | None:
        from reviews.protocol.selectors import fingerprint_check

        check = fingerprint_check(version)
        return None if check is None else check.ok


class ProtocolVersionDetailSerializer(ProtocolVersionSerializer):
    content = serializers.SerializerMethodField()

    class Meta(ProtocolVersionSerializer.Meta):
        fields = [*ProtocolVersionSerializer.Meta.fields, "content"]
        read_only_fields = fields

    @extend_schema_field(ProtocolContentSerializer)
    def get_content(self, version: ProtocolVersion) -> dict[str, Any]:
        return sections.clean_content(version.content, strict=False)


class DiffOpSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["equal", "delete", "insert", "replace"])
    left = serializers.CharField(allow_blank=True)
    right = serializers.CharField(allow_blank=True)


class DiffFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    changed = serializers.BooleanField()
    left = serializers.CharField(allow_blank=True)
    right = serializers.CharField(allow_blank=True)
    ops = DiffOpSerializer(many=True, help_text="Word by word, for a changed field.")


class DiffSectionSerializer(serializers.Serializer):
    section = serializers.CharField()
    title = serializers.CharField()
    changed = serializers.BooleanField()
    fields = DiffFieldSerializer(many=True)


class DiffSerializer(serializers.Serializer):
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    sections_changed = serializers.ListField(child=serializers.CharField())
    sections = DiffSectionSerializer(many=True)


class SubgroupPlanSerializer(serializers.Serializer):
    name = serializers.CharField()
    variable = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)


class SensitivityPlanSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class SynthesisPlanSerializer(serializers.Serializer):
    """``selectors.synthesis_plan``: the current protocol's plan in the statistics engine's
    terms; ``planned`` is false (and the rest empty) without a protocol."""

    planned = serializers.BooleanField()
    version = serializers.IntegerField(allow_null=True)
    draft = serializers.BooleanField(allow_null=True)
    fingerprint = serializers.CharField(allow_null=True)
    effect_measure = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    tau2_estimator = serializers.CharField(allow_null=True)
    method = serializers.CharField(allow_null=True, help_text="synthesis.stats' method: FE, REML…")
    knapp_hartung = serializers.BooleanField()
    test = serializers.CharField(help_text="knha or z")
    heterogeneity = serializers.CharField(allow_blank=True)
    subgroups = SubgroupPlanSerializer(many=True)
    sensitivity = SensitivityPlanSerializer(many=True)
    publication_bias = serializers.ListField(child=serializers.CharField())
    narrative = serializers.CharField(allow_blank=True)
