"""Read-mostly admin: screening data changes through services (roles, blinding, audit)."""

from django.contrib import admin

from screening.models import ExclusionReason, ScreeningSettings


@admin.register(ScreeningSettings)
class ScreeningSettingsAdmin(admin.ModelAdmin):
    list_display = ["review", "reviewers_per_record", "blinded", "resolvers", "updated_at"]
    readonly_fields = [f.name for f in ScreeningSettings._meta.fields]

    # Site administrators do not administer review data (see docs/architecture.md, Roles);
    # votes and their history are not shown here at all, because screening may be blinded.
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(ExclusionReason)
class ExclusionReasonAdmin(admin.ModelAdmin):
    list_display = ["review", "stage", "position", "label", "active"]
    list_filter = ["stage", "active"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
