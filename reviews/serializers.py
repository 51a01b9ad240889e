from django.contrib.auth import get_user_model
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
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    added_by = serializers.CharField(source="added_by.username", read_only=True, default=None)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "added_by", "created_at"]
        read_only_fields = fields


class MembershipCreateSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=254, help_text="Username or e-mail address.")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), min_length=1, max_length=len(Role)
    )


class JobSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

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
