"""Shapes of the risk-of-bias API (for input checks and the OpenAPI schema)."""

from __future__ import annotations

from rest_framework import serializers

from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.selectors import D2_VARIANTS, RobStatus

STATUSES = [RobStatus.NOT_STARTED, RobStatus.IN_PROGRESS, RobStatus.DONE, RobStatus.CONSENSUS]


class RobDomainSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class RobSettingsSerializer(serializers.Serializer):
    tool = serializers.ChoiceField(choices=RobTool.choices)
    per_outcome = serializers.BooleanField(default=False)
    custom_name = serializers.CharField(allow_blank=True, required=False, default="")
    custom_domains = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=list,
        help_text="Custom tool: the domains' names (ids D1, D2... are given in order).",
    )
    custom_judgements = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=list,
        help_text="Custom tool: the allowed judgements, best first.",
    )
    custom_high = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=list,
        help_text="Custom tool: the judgements that count as high risk.",
    )


class RobToolSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    domains = RobDomainSerializer(many=True)
    judgements = serializers.ListField(child=serializers.CharField())
    high = serializers.ListField(child=serializers.CharField())


class RobSettingsAnswerSerializer(serializers.Serializer):
    tool = serializers.ChoiceField(choices=RobTool.choices)
    per_outcome = serializers.BooleanField()
    described = RobToolSerializer(help_text="The tool: domains, judgements, those counted high.")
    outcomes = serializers.ListField(
        child=serializers.CharField(), help_text="The extraction's outcome names."
    )


class RobDomainJudgementSerializer(serializers.Serializer):
    proposed = serializers.CharField(
        allow_null=True, default=None, help_text="The algorithm's judgement."
    )
    judgement = serializers.CharField(
        allow_blank=True, default="", help_text="Final, after any override."
    )
    justification = serializers.CharField(allow_blank=True, default="")
    algorithm = serializers.BooleanField(default=False)


class RobAssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    study = serializers.IntegerField()
    study_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=RobAssessment.Kind.choices)
    assessor = serializers.CharField(allow_blank=True)
    tool = serializers.ChoiceField(choices=RobTool.choices)
    d2_variant = serializers.CharField(allow_blank=True)
    answers = serializers.DictField(child=serializers.DictField(child=serializers.CharField()))
    support = serializers.DictField(child=serializers.DictField(child=serializers.CharField()))
    domains = serializers.DictField(child=RobDomainJudgementSerializer())
    overall_proposed = serializers.CharField(allow_blank=True)
    overall = serializers.CharField(allow_blank=True)
    overall_justification = serializers.CharField(allow_blank=True)
    done = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class RobJudgementInputSerializer(serializers.Serializer):
    judgement = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text='"" takes the algorithm\'s proposal; another needs a justification.',
    )
    justification = serializers.CharField(allow_blank=True, required=False, default="")


class RobAssessmentSaveSerializer(serializers.Serializer):
    outcome = serializers.CharField(allow_blank=True, required=False, default="")
    d2_variant = serializers.ChoiceField(
        choices=[("", "default"), *D2_VARIANTS.items()], required=False, default=""
    )
    answers = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
        required=False,
        help_text='By domain and question: {"D1": {"1.1": "Y", ...}}; Y, PY, PN, N, NI or NA.',
    )
    support = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
        required=False,
        help_text='Free text by domain and question; "_" is the domain\'s own support.',
    )
    judgements = serializers.DictField(child=RobJudgementInputSerializer(), required=False)
    overall = RobJudgementInputSerializer(required=False)


class RobDoneSerializer(serializers.Serializer):
    outcome = serializers.CharField(allow_blank=True, required=False, default="")
    done = serializers.BooleanField(default=True)


class RobOverviewSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    study_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=STATUSES)
    overall = serializers.CharField(allow_blank=True, help_text="The finished consensus's.")


class RobQuestionRowSerializer(serializers.Serializer):
    id = serializers.CharField()
    a = serializers.CharField(allow_blank=True)
    b = serializers.CharField(allow_blank=True)
    differs = serializers.BooleanField()
    support_a = serializers.CharField(allow_blank=True)
    support_b = serializers.CharField(allow_blank=True)


class RobComparisonRowSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    a = RobDomainJudgementSerializer()
    b = RobDomainJudgementSerializer()
    variant_a = serializers.CharField(allow_blank=True)
    variant_b = serializers.CharField(allow_blank=True)
    questions = RobQuestionRowSerializer(many=True)
    differs = serializers.BooleanField()


class RobComparisonSerializer(serializers.Serializer):
    visible = serializers.BooleanField(help_text="False while the assessments are blinded.")
    status = serializers.ChoiceField(choices=STATUSES)
    rows = RobComparisonRowSerializer(many=True)


class RobPickSerializer(serializers.Serializer):
    pick = serializers.ChoiceField(choices=["a", "b", "own"])
    judgement = serializers.CharField(allow_blank=True, required=False, default="")
    justification = serializers.CharField(allow_blank=True, required=False, default="")


class RobConsensusSaveSerializer(serializers.Serializer):
    outcome = serializers.CharField(allow_blank=True, required=False, default="")
    picks = serializers.DictField(child=RobPickSerializer(), required=False, default=dict)
    overall = RobJudgementInputSerializer(required=False)
    finish = serializers.BooleanField(default=False)
