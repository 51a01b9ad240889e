"""The machine API for screening: the next record, votes, undo, conflicts, progress, agreement;
and the review's screening settings, exclusion reasons and highlighted keywords.

Same rules as the pages: every lookup goes through ``reviews.access`` (outsiders get 404), the
services check roles (403) and input (400), and other reviewers' votes only appear where the
blinding rules in ``selectors.visible_votes`` allow.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import LimitOffsetPagination
from core.schema import AutoSchema
from core.text import is_digits
from reviews.access import has_role, review_for_user, scoped_get
from reviews.api import ReviewScoped
from reviews.constants import Role
from reviews.models import Review
from screening import selectors, services
from screening.constants import Stage
from screening.fulltext.selectors import report_of
from screening.models import ExclusionReason, ScreeningItem, Vote
from screening.serializers import (
    ExclusionReasonSerializer,
    ItemEnvelopeSerializer,
    ItemListSerializer,
    ItemOutSerializer,
    KeywordsSerializer,
    ReasonCreateSerializer,
    ReasonMoveSerializer,
    ReasonUpdateSerializer,
    ResolveInputSerializer,
    ScreeningRecordSerializer,
    ScreeningSettingsSerializer,
    VoteCastOutSerializer,
    VoteChangeSerializer,
    VoteInputSerializer,
    VotePageSerializer,
    VoteSerializer,
)

MAX_LIMIT = LimitOffsetPagination.max_limit


class _ListSchema(AutoSchema):
    """Names a GET on a collection ``…_list`` so it does not collide with the detail GET."""

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if self.method == "GET":
            return operation_id.replace("_retrieve", "_list")
        return operation_id


def item_data(
    *, user, review: Review, item: ScreeningItem | None, from_queue: bool = False
) -> dict[str, Any] | None:
    """An item as the API shows it to ``user``: blinded votes left out, status masked.

    ``from_queue``: the item comes from the user's queue, so the user has not voted on it and,
    while blinded, there is no vote to show (one query saved on the vote-to-next path).
    """
    if item is None:
        return None
    if from_queue and selectors.settings_for(review).blinded:
        votes = []
    else:
        votes = selectors.visible_votes(user=user, review=review, item=item)
    data: dict[str, Any] = {
        "id": item.pk,
        "stage": item.stage,
        "status": selectors.status_visible(user=user, review=review, item=item),
        "record": ScreeningRecordSerializer(item.record).data,
        "votes": VoteSerializer(votes, many=True).data,
    }
    if item.stage == Stage.FULL_TEXT:
        report = report_of(item.record)
        data["report"] = (
            None
            if report is None
            else {
                "has_pdf": bool(report.file),
                "url": report.url,
                "not_retrieved_reason": report.not_retrieved_reason,
            }
        )
    return data


class _StageAPI(APIView):
    def get_review(self) -> Review:
        if not hasattr(self, "_review"):
            self._review = review_for_user(user=self.request.user, slug=self.kwargs["slug"])
        return self._review

    @property
    def stage(self) -> str:
        return self.kwargs["stage"]

    def get_item(self, pk) -> ScreeningItem:
        items = ScreeningItem.objects.at(self.stage)
        items = items.select_related("record").defer("record__raw")
        return scoped_get(items, review=self.get_review(), pk=pk)

    def own_vote(self, pk) -> Vote:
        # Another reviewer's vote looks exactly like a missing one.
        return scoped_get(
            Vote.objects.select_related("item__record", "reason", "reviewer").filter(
                stage=self.stage, reviewer=self.request.user
            ),
            review=self.get_review(),
            pk=pk,
        )


class NextRecordAPI(_StageAPI):
    """The record to screen next (claimed for you); ``item`` is null when none is left."""

    @extend_schema(responses=ItemEnvelopeSerializer)
    def get(self, request, slug, stage):
        review = self.get_review()
        exclude = [p for p in request.query_params.get("exclude", "").split(",") if is_digits(p)]
        item = services.assignment_next(
            user=request.user, review=review, stage=stage, exclude=exclude[:10]
        )
        return Response(
            {"item": item_data(user=request.user, review=review, item=item, from_queue=True)}
        )


class VoteListAPI(_StageAPI):
    """Your votes at this stage (GET), or cast one (POST): the answer holds the next record."""

    schema = _ListSchema()

    @extend_schema(responses=VotePageSerializer)
    def get(self, request, slug, stage):
        review = self.get_review()
        votes = (
            Vote.objects.of_review(review)
            .at(stage)
            .filter(reviewer=request.user)
            .select_related("reviewer", "reason")
            .order_by("-updated_at", "-pk")
        )
        try:
            limit = max(1, min(int(request.query_params.get("limit", 100)), MAX_LIMIT))
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            limit, offset = 100, 0
        count = votes.count()
        # An offset past the end is an empty page without asking the database: 2**63 or more
        # does not fit the database's OFFSET.
        page = votes[offset : offset + limit] if offset < count else []
        return Response({"count": count, "results": VoteSerializer(page, many=True).data})

    @extend_schema(request=VoteInputSerializer, responses={201: VoteCastOutSerializer})
    def post(self, request, slug, stage):
        review = self.get_review()
        payload = VoteInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        vote = services.vote_cast(
            user=request.user,
            review=review,
            # An id: the service fetches it scoped to the review, with the lock it needs.
            item=data["item"],
            stage=stage,
            decision=data["decision"],
            reason=data.get("reason"),
            note=data.get("note", ""),
        )
        nxt = services.assignment_next(
            user=request.user, review=review, stage=stage, exclude=data.get("upcoming", [])
        )
        return Response(
            {
                "vote": VoteSerializer(vote).data,
                "next": item_data(user=request.user, review=review, item=nxt, from_queue=True),
            },
            status=status.HTTP_201_CREATED,
        )


class VoteDetailAPI(_StageAPI):
    """One of your votes: read, change (until the record settles) or withdraw."""

    @extend_schema(responses=VoteSerializer)
    def get(self, request, slug, stage, pk):
        return Response(VoteSerializer(self.own_vote(pk)).data)

    @extend_schema(request=VoteChangeSerializer, responses=VoteSerializer)
    def put(self, request, slug, stage, pk):
        return self._change(request, pk, partial=False)

    @extend_schema(request=VoteChangeSerializer, responses=VoteSerializer)
    def patch(self, request, slug, stage, pk):
        return self._change(request, pk, partial=True)

    def _change(self, request, pk, *, partial: bool):
        review = self.get_review()
        vote = self.own_vote(pk)
        payload = VoteChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not partial and "decision" not in data:
            return Response({"decision": ["This field is required."]}, status=400)
        decision = data.get("decision", vote.decision)
        changed = services.vote_cast(
            user=request.user,
            review=review,
            item=vote.item,
            stage=self.stage,
            decision=decision,
            reason=data.get("reason", vote.reason_id),
            note=data.get("note", vote.note),
        )
        return Response(VoteSerializer(changed).data)

    @extend_schema(responses=ItemEnvelopeSerializer)
    def delete(self, request, slug, stage, pk):
        review = self.get_review()
        item = services.vote_withdraw(user=request.user, review=review, vote=self.own_vote(pk))
        return Response({"item": item_data(user=request.user, review=review, item=item)})


class UndoAPI(_StageAPI):
    """Withdraw your most recent vote at this stage; the answer is its record."""

    @extend_schema(request=None, responses=ItemEnvelopeSerializer)
    def post(self, request, slug, stage):
        review = self.get_review()
        item = services.vote_undo(user=request.user, review=review, stage=stage)
        return Response({"item": item_data(user=request.user, review=review, item=item)})


class ItemDetailAPI(_StageAPI):
    """A record at this stage with the votes you may see."""

    @extend_schema(responses=ItemOutSerializer)
    def get(self, request, slug, stage, pk):
        review = self.get_review()
        item = self.get_item(pk)
        return Response(item_data(user=request.user, review=review, item=item))


class ConflictListAPI(_StageAPI):
    """Records in conflict that you may resolve, with every vote, reason and note."""

    schema = _ListSchema()

    @extend_schema(responses=ItemListSerializer)
    def get(self, request, slug, stage):
        review = self.get_review()
        if not selectors.may_resolve_some(user=request.user, review=review):
            raise PermissionDenied("In this review only leads resolve conflicts.")
        items = selectors.conflicts_for(user=request.user, review=review, stage=stage)
        return Response(
            {"results": [item_data(user=request.user, review=review, item=i) for i in items]}
        )


class ResolveAPI(_StageAPI):
    """Settle a record in conflict."""

    @extend_schema(request=ResolveInputSerializer, responses=ItemEnvelopeSerializer)
    def post(self, request, slug, stage, pk):
        review = self.get_review()
        item = self.get_item(pk)
        payload = ResolveInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.conflict_resolve(
            user=request.user,
            review=review,
            item=item,
            stage=stage,
            decision=data["decision"],
            reason=data.get("reason"),
            note=data.get("note", ""),
        )
        item.refresh_from_db()
        return Response({"item": item_data(user=request.user, review=review, item=item)})


class ProgressAPI(_StageAPI):
    """Counts of the stage and per reviewer."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, slug, stage):
        review = self.get_review()
        # Blinded: the counts as this person may see them (see ``selectors.stage_progress``).
        progress = selectors.stage_progress(review, stage, user=request.user)
        data = asdict(progress)
        if not has_role(user=request.user, review=review, roles=[Role.LEAD]):
            # Who is in how many conflicts would let a voter work out a blinded vote.
            for row in data["reviewers"]:
                row.pop("conflicts", None)
        data.update(settled=progress.settled, remaining=progress.remaining)
        return Response(data)


class AgreementAPI(_StageAPI):
    """Cohen's kappa (pooled and per pair), 2x2 counts and Fleiss' kappa, settled records only."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, slug, stage):
        review = self.get_review()
        report = selectors.stage_agreement(review, stage, user=request.user)
        data = asdict(report)
        data["pooled"]["percent_agreement"] = report.pooled.percent_agreement
        for row, pair in zip(data["pairs"], report.pairs, strict=True):
            row["kappa"]["percent_agreement"] = pair.kappa.percent_agreement
        return Response(data)


# --- Settings, exclusion reasons and keywords ----------------------------------------------------
# Any member reads them (the stage page shows the settings, the screening page the reasons and
# the highlighted keywords); only leads change them, as on the settings page. The role is
# checked before the input, so a member without it learns nothing from field errors (a reason
# of another review is a 404 first, for everyone).

LEAD_ONLY = [Role.LEAD]


class _ReviewAPI(ReviewScoped, APIView):
    roles = tuple(LEAD_ONLY)

    def require_lead(self, action: str) -> Review:
        return self.require(action)

    def get_reason(self, pk) -> ExclusionReason:
        return scoped_get(ExclusionReason.objects.all(), review=self.get_review(), pk=pk)


def _boolean(value: str | None) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get((value or "").lower())


class ReasonListAPI(_ReviewAPI):
    """The exclusion reasons of each stage, in their order (GET); a lead adds one (POST). A
    vote's or a resolution's ``reason`` is the ``id`` of an active reason of its stage."""

    schema = _ListSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter("stage", str, enum=Stage.values, description="Only this stage."),
            OpenApiParameter(
                "active", bool, description="Only active (true) or only retired (false) reasons."
            ),
        ],
        responses=ExclusionReasonSerializer(many=True),
    )
    def get(self, request, slug):
        review = self.get_review()
        stage = request.query_params.get("stage")
        active = _boolean(request.query_params.get("active"))
        reasons = [
            reason
            for s in ([stage] if stage in Stage.values else Stage.values)
            for reason in selectors.reasons_for(review, s, active_only=active is True)
            if active is None or reason.active == active
        ]
        return Response(ExclusionReasonSerializer(reasons, many=True).data)

    @extend_schema(request=ReasonCreateSerializer, responses={201: ExclusionReasonSerializer})
    def post(self, request, slug):
        review = self.require_lead("edit exclusion reasons")
        payload = ReasonCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reason = services.reason_add(actor=request.user, review=review, **payload.validated_data)
        return Response(ExclusionReasonSerializer(reason).data, status=status.HTTP_201_CREATED)


class ReasonDetailAPI(_ReviewAPI):
    """One exclusion reason: a lead renames it or retires it (``active: false``; votes keep
    it), or deletes it if no vote or decision uses it."""

    @extend_schema(responses=ExclusionReasonSerializer)
    def get(self, request, slug, pk):
        return Response(ExclusionReasonSerializer(self.get_reason(pk)).data)

    @extend_schema(request=ReasonUpdateSerializer, responses=ExclusionReasonSerializer)
    def patch(self, request, slug, pk):
        reason = self.get_reason(pk)
        review = self.require_lead("edit exclusion reasons")
        payload = ReasonUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        reason = services.reason_update(
            actor=request.user,
            review=review,
            reason=reason,
            label=data.get("label"),
            active=data.get("active"),
        )
        return Response(ExclusionReasonSerializer(reason).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, pk):
        reason = self.get_reason(pk)
        review = self.require_lead("edit exclusion reasons")
        services.reason_delete(actor=request.user, review=review, reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReasonMoveAPI(_ReviewAPI):
    """Move a reason one place up or down its stage's list; the answer is the new list."""

    @extend_schema(request=ReasonMoveSerializer, responses=ExclusionReasonSerializer(many=True))
    def post(self, request, slug, pk):
        reason = self.get_reason(pk)
        review = self.require_lead("edit exclusion reasons")
        payload = ReasonMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        offset = -1 if payload.validated_data["direction"] == "up" else 1
        services.reason_move(actor=request.user, review=review, reason=reason, offset=offset)
        reasons = selectors.reasons_for(review, reason.stage, active_only=False)
        return Response(ExclusionReasonSerializer(reasons, many=True).data)


class SettingsAPI(_ReviewAPI):
    """How the review screens: any member reads it; a lead changes it (the fields given)."""

    @extend_schema(responses=ScreeningSettingsSerializer)
    def get(self, request, slug):
        return Response(ScreeningSettingsSerializer(selectors.settings_for(self.get_review())).data)

    @extend_schema(request=ScreeningSettingsSerializer, responses=ScreeningSettingsSerializer)
    def patch(self, request, slug):
        review = self.require_lead("change screening settings")
        payload = ScreeningSettingsSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        changed = services.settings_update(
            actor=request.user, review=review, **payload.validated_data
        )
        return Response(ScreeningSettingsSerializer(changed).data)


def _keywords(settings_obj) -> dict[str, list[str]]:
    return {
        "include": settings_obj.keywords("include"),
        "exclude": settings_obj.keywords("exclude"),
    }


class KeywordsAPI(_ReviewAPI):
    """The terms highlighted on the record while screening: any member reads them; a lead
    replaces a list (each list given replaces the one stored; one left out stays)."""

    @extend_schema(responses=KeywordsSerializer)
    def get(self, request, slug):
        return Response(_keywords(selectors.settings_for(self.get_review())))

    @extend_schema(request=KeywordsSerializer, responses=KeywordsSerializer)
    def patch(self, request, slug):
        review = self.require_lead("change screening settings")
        payload = KeywordsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = {
            f"{kind}_keywords": "\n".join(terms) for kind, terms in payload.validated_data.items()
        }
        try:
            changed = services.settings_update(actor=request.user, review=review, **values)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            # The service names its fields; the API's are ``include`` and ``exclude``.
            errors = {k.removesuffix("_keywords"): v for k, v in exc.error_dict.items()}
            raise ValidationError(errors) from None
        return Response(_keywords(changed))
