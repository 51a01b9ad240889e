from django.contrib import admin

from core.models import AuditEvent, Job


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
