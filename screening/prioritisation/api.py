"""Prioritised screening's API, under ``api/reviews/<slug>/screening/prioritisation/``: the
ranking model's state and switch (lead), the stopping panel's numbers (any member) and the
decisions to stop (any member reads them; a lead records one). The same services and
permissions as the page."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from reviews.access import require_role
from reviews.api import ReviewScoped
from reviews.constants import Role
from reviews.models import Review
from screening.prioritisation import services
from screening.prioritisation.models import RankingMode, StopDecision


class PhasesSerializer(serializers.Serializer):
    read = serializers.FloatField()
    fit = serializers.FloatField()
    rank = serializers.FloatField()
    write = serializers.FloatField()


class FeaturesStateSerializer(serializers.Serializer):
    prepared = serializers.IntegerField()
    records = serializers.IntegerField()
    built_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField()
    pending = serializers.BooleanField()


class RankingSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=RankingMode.choices)
    trained_on = serializers.IntegerField(read_only=True)
    relevant = serializers.IntegerField(read_only=True)
    irrelevant = serializers.IntegerField(read_only=True)
    trained_at = serializers.DateTimeField(read_only=True, allow_null=True)
    seconds = serializers.FloatField(read_only=True)
    phases = PhasesSerializer(read_only=True, allow_null=True)
    ranked = serializers.IntegerField(read_only=True)
    top_terms = serializers.ListField(child=serializers.CharField(), read_only=True)
    retrain_pending = serializers.BooleanField(read_only=True)
    features = FeaturesStateSerializer(read_only=True)


class StoppingSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    screened = serializers.IntegerField()
    relevant = serializers.IntegerField()
    unscreened = serializers.IntegerField()
    remaining_estimate = serializers.FloatField()
    remaining_low = serializers.IntegerField()
    remaining_high = serializers.IntegerField()
    window = serializers.IntegerField()
    recall_target = serializers.FloatField()
    confidence = serializers.FloatField()
    p_value = serializers.FloatField()
    stop = serializers.BooleanField()
    consecutive_irrelevant = serializers.IntegerField()
    consecutive_threshold = serializers.IntegerField()
    consecutive_stop = serializers.BooleanField()


class StopDecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.SerializerMethodField()
    estimate = StoppingSerializer(read_only=True)

    class Meta:
        model = StopDecision
        fields = ["id", "decided_by", "decided_at", "reason", "recall_target", "confidence",
                  "estimate"]  # fmt: skip
        read_only_fields = ["id", "decided_by", "decided_at", "estimate"]

    def get_decided_by(self, obj) -> str:
        return obj.decided_by.get_username() if obj.decided_by_id else obj.decided_by_name


class StopDecisionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_STOP_REASON)
    recall_target = serializers.FloatField(required=False, min_value=0.5, max_value=99.9)
    confidence = serializers.FloatField(required=False, min_value=0.5, max_value=99.9)


def _ranking(review: Review) -> dict:
    state = services.ranking_state(review)
    return {
        "mode": state.mode, "trained_on": state.trained_on, "relevant": state.relevant,
        "irrelevant": state.irrelevant, "trained_at": state.trained_at, "seconds": state.seconds,
        "phases": state.phases or None, "ranked": state.ranked,
        "top_terms": list(state.top_terms), "retrain_pending": services.retrain_pending(review),
        "features": services.features_state(review),
    }  # fmt: skip


class _API(ReviewScoped, APIView):
    pass


class RankingAPI(_API):
    """The ranking model's state: trained on how many settled records, when, in how long, its
    heaviest terms (GET, lead); the ranking switch (PATCH ``mode``, lead)."""

    @extend_schema(responses=RankingSerializer)
    def get(self, request, slug):
        review = self.get_review()
        require_role(user=request.user, review=review, roles=[Role.LEAD], action="see the model")
        return Response(RankingSerializer(_ranking(review)).data)

    @extend_schema(request=RankingSerializer, responses=RankingSerializer)
    def patch(self, request, slug):
        review = self.get_review()
        require_role(
            user=request.user, review=review, roles=[Role.LEAD], action="change the ranking"
        )
        payload = RankingSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.ranking_set(actor=request.user, review=review, mode=payload.validated_data["mode"])
        return Response(RankingSerializer(_ranking(review)).data)


class StoppingAPI(_API):
    """The stopping panel's numbers: records screened (settled), relevant found, relevant
    estimated still unscreened with an interval, the hypergeometric stopping test at the
    recall target and confidence asked for (shares, 0.5-0.999, or percentages), and the
    consecutive-irrelevant heuristic."""

    query_errors = True  # bad recall_target, confidence or consecutive: 400 (core/schema.py)

    @extend_schema(
        parameters=[
            OpenApiParameter("recall_target", float, description="Default 0.95."),
            OpenApiParameter("confidence", float, description="Default 0.95."),
            OpenApiParameter("consecutive", int, description="Heuristic's run; default 50."),
        ],
        responses=StoppingSerializer,
    )
    def get(self, request, slug):
        panel = services.stopping_panel(
            user=request.user, review=self.get_review(),
            recall_target=request.query_params.get("recall_target"),
            confidence=request.query_params.get("confidence"),
            consecutive=request.query_params.get("consecutive"),
        )  # fmt: skip
        return Response(StoppingSerializer(panel.as_dict()).data)


class StopDecisionListAPI(_API):
    """The decisions to stop screening (GET, any member); a lead records one (POST) with the
    reason, stored with the stopping panel's numbers at that moment."""

    pagination_class = None

    @extend_schema(responses=StopDecisionSerializer(many=True))
    def get(self, request, slug):
        decisions = StopDecision.objects.filter(review=self.get_review()).select_related(
            "decided_by"
        )
        return Response(StopDecisionSerializer(decisions, many=True).data)

    @extend_schema(request=StopDecisionInputSerializer, responses={201: StopDecisionSerializer})
    def post(self, request, slug):
        review = self.get_review()
        require_role(
            user=request.user, review=review, roles=[Role.LEAD], action="decide to stop screening"
        )
        payload = StopDecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        decision = services.stop_decide(actor=request.user, review=review, **payload.validated_data)
        return Response(StopDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
