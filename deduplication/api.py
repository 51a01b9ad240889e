"""The machine API for deduplication: its numbers, a new run (a job), the clusters, the queue of
doubtful pairs with their decisions, and undoing a merge or choosing a cluster's primary.

The same rules as the pages (``deduplication/views.py``): any member reads the numbers and the
clusters; those who may judge duplicates (``services.JUDGE_ROLES``) read the queue, decide pairs
and undo merges; a run is for ``services.RUN_ROLES``. The role is checked before the input, so a
member without it learns nothing from field errors (an object of another review is a 404
first, for everyone). Every change goes through
``deduplication.services``, reads through ``deduplication.selectors``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import Job
from deduplication import selectors, services
from deduplication.models import DuplicatePair
from deduplication.serializers import (
    ClusterSerializer,
    DecideInputSerializer,
    DedupRecordSerializer,
    DedupSummarySerializer,
    PairSerializer,
    RunInputSerializer,
)
from identification.models import Record
from reviews import services as review_services
from reviews.access import require_role, review_for_user, scoped_get, sees_job_details
from reviews.models import Review
from reviews.serializers import JobSerializer


class _DedupAPI:
    def get_review(self) -> Review:
        if not hasattr(self, "_review"):
            self._review = review_for_user(user=self.request.user, slug=self.kwargs["slug"])
        return self._review

    def require(self, roles, action: str) -> Review:
        review = self.get_review()
        require_role(user=self.request.user, review=review, roles=roles, action=action)
        return review


class SummaryAPI(_DedupAPI, APIView):
    """Records, clusters, duplicates removed, pairs waiting and decided, per search."""

    @extend_schema(responses=DedupSummarySerializer)
    def get(self, request, slug):
        review = self.get_review()
        summary = selectors.dedup_summary(review=review)
        data = {
            "records": summary["records"],
            "clusters": summary["clusters"],
            "merged": summary["merged"],
            "queued": len(summary["queued"]),
            "decided": selectors.pairs_decided(review),
            "per_search": [
                {
                    "id": s.pk,
                    "database": s.database,
                    "identified": s.identified,
                    "removed": s.removed,
                }
                for s in selectors.removed_per_search(review)
            ],
        }
        return Response(DedupSummarySerializer(data).data)


class RunAPI(_DedupAPI, APIView):
    """Deduplicate the review again, as a background job; the answer is the job."""

    @extend_schema(request=RunInputSerializer, responses={202: JobSerializer})
    def post(self, request, slug):
        review = self.require(services.RUN_ROLES, "deduplicate records")
        payload = RunInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = review_services.job_submit(
            actor=request.user,
            review=review,
            kind="dedup",
            params={"full": payload.validated_data["full"]},
        )
        job = Job.objects.select_related("created_by").get(pk=job.pk)

        def job_details(j: Job) -> bool:
            return sees_job_details(user=request.user, review=review, job=j)

        data = JobSerializer(job, context={"job_details": job_details}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class ClusterListAPI(_DedupAPI, generics.ListAPIView):
    """Clusters of records that are one publication, each with its members and primary."""

    serializer_class = ClusterSerializer

    def get_queryset(self):
        return selectors.clusters_of(self.get_review())


class PairListAPI(_DedupAPI, generics.ListAPIView):
    """The doubtful pairs waiting for a person, the likeliest duplicates first."""

    serializer_class = PairSerializer

    def get_queryset(self):
        review = self.require(services.JUDGE_ROLES, "judge duplicates")
        return selectors.queued_pairs(review).select_related(
            "left__search", "right__search", "decided_by"
        )


def _pairs():
    return DuplicatePair.objects.select_related("left__search", "right__search", "decided_by")


class PairDetailAPI(_DedupAPI, APIView):
    """One pair, waiting or decided."""

    @extend_schema(responses=PairSerializer)
    def get(self, request, slug, pk):
        pair = scoped_get(_pairs(), review=self.get_review(), pk=pk)
        self.require(services.JUDGE_ROLES, "judge duplicates")
        return Response(PairSerializer(pair).data)


class PairDecideAPI(_DedupAPI, APIView):
    """Say whether the pair's records are one publication (``same``: they are merged) or not
    (``different``: never merged again). A pair already decided is refused (400)."""

    @extend_schema(request=DecideInputSerializer, responses=PairSerializer)
    def post(self, request, slug, pk):
        pair = scoped_get(_pairs(), review=self.get_review(), pk=pk)
        review = self.require(services.JUDGE_ROLES, "judge duplicates")
        payload = DecideInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        primary_id = {"left": pair.left_id, "right": pair.right_id}.get(data.get("primary"))
        services.pair_decide(
            actor=request.user,
            pair=pair,
            same=data["decision"] == "same",
            primary_id=primary_id,
        )
        return Response(PairSerializer(scoped_get(_pairs(), review=review, pk=pk)).data)


def _record(review: Review, pk) -> Record:
    return scoped_get(Record.objects.select_related("review", "search"), review=review, pk=pk)


class UnmergeAPI(_DedupAPI, APIView):
    """Undo a merge: take the record out of its cluster; it is never merged with them again.
    The answer is the record, on its own."""

    @extend_schema(request=None, responses=DedupRecordSerializer)
    def post(self, request, slug, pk):
        record = _record(self.get_review(), pk)
        review = self.require(services.JUDGE_ROLES, "undo a merge")
        services.record_unmerge(actor=request.user, record=record)
        return Response(DedupRecordSerializer(_record(review, pk)).data)


class PrimaryAPI(_DedupAPI, APIView):
    """Make the record the primary of its cluster (later runs keep it); the answer is the
    cluster."""

    @extend_schema(request=None, responses=ClusterSerializer)
    def post(self, request, slug, pk):
        record = _record(self.get_review(), pk)
        review = self.require(services.JUDGE_ROLES, "choose the primary record")
        cluster = services.cluster_set_primary(actor=request.user, record=record)
        cluster = selectors.clusters_of(review).get(pk=cluster.pk)
        return Response(ClusterSerializer(cluster).data)
