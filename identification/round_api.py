"""API of update rounds: list them (every member), open one (leads)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from identification import rounds
from identification.serializers import RoundOpenSerializer, RoundSerializer
from reviews.access import require_role
from reviews.api import ReviewScopedViewSet


def _rows(review) -> list[dict]:
    return [
        {
            "id": r.round.pk if r.round else None,
            "number": r.number,
            "date": r.date,
            "reason": r.reason,
            "searches": r.searches,
            "records": r.records,
        }
        for r in rounds.rounds_of(review)
    ]


class RoundViewSet(ReviewScopedViewSet):
    """The review's rounds of searches. A lead opens the next one (POST): it copies each
    search of the round before (database, platform, query) for the team to rerun."""

    serializer_class = RoundSerializer

    def list(self, request, *args, **kwargs):
        # Paginated like every list of the API (a living review may have many rounds).
        page = self.paginate_queryset(_rows(self.get_review()))
        return self.get_paginated_response(RoundSerializer(page, many=True).data)

    @extend_schema(request=RoundOpenSerializer, responses={201: RoundSerializer})
    def create(self, request, *args, **kwargs):
        """Open the next round; the answer is the round opened."""
        review = self.get_review()
        require_role(
            user=request.user, review=review, roles=rounds.ROUND_ROLES, action="open a round"
        )
        payload = RoundOpenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rounds.round_open(actor=request.user, review=review, **payload.validated_data)
        opened = _rows(review)[-1]
        return Response(RoundSerializer(opened).data, status.HTTP_201_CREATED)
