from django.urls import path
from rest_framework.routers import SimpleRouter

from core.views import ObtainAuthTokenView
from reviews import api

router = SimpleRouter()
router.register("reviews", api.ReviewViewSet, basename="api-review")

member_list = api.MembershipViewSet.as_view({"get": "list", "post": "create"})
member_detail = api.MembershipViewSet.as_view({"get": "retrieve", "delete": "destroy"})
job_list = api.JobViewSet.as_view({"get": "list", "post": "create"})
job_detail = api.JobViewSet.as_view({"get": "retrieve"})
audit_list = api.AuditEventViewSet.as_view({"get": "list"})

urlpatterns = [
    path("auth/token/", ObtainAuthTokenView.as_view(), name="api-token"),
    *router.urls,
    path("reviews/<slug:slug>/memberships/", member_list, name="api-membership-list"),
    path("reviews/<slug:slug>/memberships/<int:pk>/", member_detail, name="api-membership-detail"),
    path("reviews/<slug:slug>/jobs/", job_list, name="api-job-list"),
    path("reviews/<slug:slug>/jobs/<int:pk>/", job_detail, name="api-job-detail"),
    path("reviews/<slug:slug>/audit/", audit_list, name="api-audit-list"),
]
