"""The machine API for reviews, memberships, jobs and the audit log.

Every object is reached through ``reviews.access``: outsiders get 404, members without the role
get 403, exactly as in the browser.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core.models import Job
from reviews import selectors, services
from reviews.access import (
    require_role,
    review_for_user,
    scoped_get,
    sees_emails,
    sees_job_details,
)
from reviews.constants import Role
from reviews.models import Membership, Review
from reviews.serializers import (
    AuditEventSerializer,
    JobCreateSerializer,
    JobSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    ReviewSerializer,
)


class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Reviews you belong to. Anyone logged in may create one and becomes its lead."""

    serializer_class = ReviewSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return selectors.reviews_for_user(user=self.request.user).order_by("-updated_at", "pk")

    def get_object(self):
        return review_for_user(user=self.request.user, slug=self.kwargs["slug"])

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.review_create(
            user=self.request.user,
            title=data.get("title", ""),
            slug=data.get("slug") or None,
            research_question=data.get("research_question", ""),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.review_update(
            user=self.request.user,
            review=serializer.instance,
            title=data.get("title"),
            research_question=data.get("research_question"),
            status=data.get("status"),
        )

    def update(self, request, *args, **kwargs):
        review = self.get_object()
        # Check the role before validating, so a non-lead learns nothing from field errors.
        require_role(user=request.user, review=review, roles=[Role.LEAD], action="edit the review")
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=400)
        if "slug" in request.data and request.data.get("slug") not in (None, "", review.slug):
            return Response({"slug": ["A review's address cannot change."]}, status=400)
        return super().update(request, *args, **kwargs)


class ReviewScoped:
    """For the API views under ``api/reviews/<slug>/``: the review, resolved once per request
    (a 404 for anyone who is not a member), and :meth:`require` for the roles a view's writes
    need (``roles``, set by each app's base view). Every app's API builds on this one."""

    #: The roles :meth:`require` asks for.
    roles: tuple[str, ...] = ()

    def get_review(self) -> Review:
        if not hasattr(self, "_review"):
            self._review = review_for_user(user=self.request.user, slug=self.kwargs["slug"])
        return self._review

    def require(self, action: str) -> Review:
        """The review, if the user holds one of ``roles`` in it (else 403, naming ``action``)."""
        review = self.get_review()
        require_role(user=self.request.user, review=review, roles=self.roles, action=action)
        return review


class ReviewScopedViewSet(ReviewScoped, viewsets.GenericViewSet):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Resolve the review before parsing or validating anything: an outsider must get the
        # same 404 whatever they send, never a validation error that shows the review exists.
        self.get_review()


class MembershipViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ReviewScopedViewSet
):
    """The review's team: one row per role held. Leads add and remove members."""

    serializer_class = MembershipSerializer

    def get_serializer_context(self):
        show = sees_emails(user=self.request.user, review=self.get_review())
        return {**super().get_serializer_context(), "show_emails": show}

    def get_queryset(self):
        return Membership.objects.filter(review=self.get_review()).select_related(
            "user", "added_by"
        )

    def get_object(self):
        return scoped_get(self.get_queryset(), review=self.get_review(), pk=self.kwargs["pk"])

    @extend_schema(
        request=MembershipCreateSerializer, responses={201: MembershipSerializer(many=True)}
    )
    def create(self, request, *args, **kwargs):
        review = self.get_review()
        require_role(user=request.user, review=review, roles=[Role.LEAD], action="manage the team")
        payload = MembershipCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        added = services.membership_add(
            actor=request.user,
            review=review,
            identifier=payload.validated_data["user"],
            roles=payload.validated_data["roles"],
        )
        data = MembershipSerializer(added, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.membership_remove(
            actor=self.request.user, review=self.get_review(), membership=instance
        )


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ReviewScopedViewSet):
    """Background jobs of the review, with their progress."""

    serializer_class = JobSerializer

    def get_serializer_context(self):
        user, review = self.request.user, self.get_review()

        def job_details(job: Job) -> bool:
            return sees_job_details(user=user, review=review, job=job)

        return {**super().get_serializer_context(), "job_details": job_details}

    def get_queryset(self):
        return selectors.jobs_of(review=self.get_review())

    def get_object(self):
        return scoped_get(self.get_queryset(), review=self.get_review(), pk=self.kwargs["pk"])

    @extend_schema(request=JobCreateSerializer, responses={202: JobSerializer})
    def create(self, request, *args, **kwargs):
        review = self.get_review()
        payload = JobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = services.job_submit(
            actor=request.user,
            review=review,
            kind=payload.validated_data["kind"],
            params=payload.validated_data["params"],
        )
        job = Job.objects.get(pk=job.pk)
        data = JobSerializer(job, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class AuditEventViewSet(mixins.ListModelMixin, ReviewScopedViewSet):
    """The review's audit log (leads only), newest first."""

    serializer_class = AuditEventSerializer

    def get_queryset(self):
        review = self.get_review()
        require_role(
            user=self.request.user, review=review, roles=[Role.LEAD], action="read the audit log"
        )
        return selectors.audit_events_of(review=review)
