from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from . import api, api_records

router = SimpleRouter()
router.register("reviews", api.ReviewViewSet, basename="api-review")

member_list = api.MembershipViewSet.as_view({"get": "list", "post": "create"})
member_detail = api.MembershipViewSet.as_view({"get": "retrieve", "delete": "destroy"})
job_list = api.JobViewSet.as_view({"get": "list", "post": "create"})
job_detail = api.JobViewSet.as_view({"get": "retrieve"})
audit_list = api.AuditEventViewSet.as_view({"get": "list"})
search_list = api_records.SearchViewSet.as_view({"get": "list", "post": "create"})
search_detail = api_records.SearchViewSet.as_view({"get": "retrieve"})
search_files = api_records.SearchFileViewSet.as_view({"get": "list", "post": "create"})
record_list = api_records.RecordViewSet.as_view({"get": "list"})
record_detail = api_records.RecordViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    *router.urls,
    path("reviews/<slug:slug>/memberships/", member_list, name="api-membership-list"),
    path("reviews/<slug:slug>/memberships/<int:pk>/", member_detail, name="api-membership-detail"),
    path("reviews/<slug:slug>/jobs/", job_list, name="api-job-list"),
    path("reviews/<slug:slug>/jobs/<int:pk>/", job_detail, name="api-job-detail"),
    path("reviews/<slug:slug>/audit/", audit_list, name="api-audit-list"),
    path("reviews/<slug:slug>/searches/", search_list, name="api-search-list"),
    path("reviews/<slug:slug>/searches/<int:pk>/", search_detail, name="api-search-detail"),
    path("reviews/<slug:slug>/searches/<int:pk>/files/", search_files, name="api-search-files"),
    path("reviews/<slug:slug>/records/", record_list, name="api-record-list"),
    path("reviews/<slug:slug>/records/<int:pk>/", record_detail, name="api-record-detail"),
]
