from django.contrib import admin

from reviews.models import Membership, Review


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user", "added_by"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "created_at"]
    search_fields = ["title", "slug"]
    inlines = [MembershipInline]
