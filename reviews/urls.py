from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.review_list, name="list"),
    path("new/", views.review_create, name="create"),
    path("<slug:slug>/", views.review_dashboard, name="dashboard"),
    path("<slug:slug>/settings/", views.review_settings, name="settings"),
    path("<slug:slug>/team/", views.review_team, name="team"),
    path("<slug:slug>/team/bulk/", views.review_team_bulk, name="team_bulk"),
    path("<slug:slug>/team/invite/", views.review_team_invite, name="team_invite"),
    path(
        "<slug:slug>/team/invitations/withdraw/",
        views.review_team_invite_revoke,
        name="team_invite_revoke",
    ),
    path("<slug:slug>/team/<int:pk>/remove/", views.review_team_remove, name="team_remove"),
    path("<slug:slug>/audit/", views.review_audit, name="audit"),
    path("<slug:slug>/jobs/", views.job_list, name="jobs"),
    path("<slug:slug>/jobs/<int:pk>/", views.job_detail, name="job"),
]
