from django.contrib import admin

from reviews.models import AuditEvent, Job, Membership, Review


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user", "added_by"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "created_at"]
    search_fields = ["title", "slug"]
    inlines = [MembershipInline]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "review", "actor_username", "verb", "object_type", "object_id"]
    list_filter = ["verb"]

    # The log is evidence: nobody edits or deletes it, not even an administrator.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "review", "kind", "status", "progress", "created_at"]
    list_filter = ["status", "kind"]
