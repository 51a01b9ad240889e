from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import AuditEvent, Job
from reviews.constants import Role
from reviews.models import Membership, Review

User = get_user_model()


class ReviewSerializer(serializers.ModelSerializer):
    my_roles = serializers.SerializerMethodField()
    slug = serializers.CharField(max_length=80, required=False, allow_blank=True)

    class Meta:
        model = Review
        fields = [
            "slug",
            "title",
            "research_question",
            "status",
            "created_at",
            "updated_at",
            "my_roles",
        ]
        read_only_fields = ["created_at", "updated_at", "my_roles"]
        extra_kwargs = {"status": {"required": False}}

    def get_my_roles(self, review: Review) -> list[str]:
        from reviews.access import roles_of

        request = self.context.get("request")
        return sorted(roles_of(user=request.user, review=review)) if request else []


class MembershipSerializer(serializers.ModelSerializer):
    """A team row. ``email`` only with ``show_emails`` in the context (the reader is a lead:
    ``reviews.access.sees_emails``); null otherwise."""

    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.SerializerMethodField(
        help_text="The member's e-mail address; shown to the review's leads only (else null)."
    )
    added_by = serializers.CharField(
        source="added_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "added_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_email(self, membership: Membership) -> str | None:
        return membership.user.email if self.context.get("show_emails") else None


class MembershipCreateSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=254, help_text="Username or e-mail address.")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), min_length=1, max_length=len(Role)
    )


class JobSerializer(serializers.ModelSerializer):
    """A job and its progress. ``params`` and ``error`` (which may repeat the parameters) only
    for readers the context's ``job_details`` allows (``reviews.access.sees_job_details``: the
    review's leads and whoever started the job); null for other members."""

    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )
    params = serializers.SerializerMethodField(
        help_text="Shown to the review's leads and to whoever started the job (else null)."
    )
    error = serializers.SerializerMethodField(
        help_text='Why the job failed ("" if it did not); null where params are hidden.'
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "params",
            "status",
            "progress",
            "message",
            "error",
            "result",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _shows_details(self, job: Job) -> bool:
        allowed = self.context.get("job_details")
        return bool(allowed and allowed(job))

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_params(self, job: Job) -> dict | None:
        return job.params if self._shows_details(job) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, job: Job) -> str | None:
        return job.error if self._shows_details(job) else None


class JobCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=60)
    params = serializers.DictField(required=False, default=dict)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
        ]
        read_only_fields = fields
