from django.urls import path

from . import views, views_dedup, views_prisma, views_records

app_name = "reviews"

urlpatterns = [
    path("", views.review_list, name="list"),
    path("new/", views.review_create, name="create"),
    path("import/", views.review_import, name="import"),
    path("<slug:slug>/", views.review_dashboard, name="dashboard"),
    path("<slug:slug>/settings/", views.review_settings, name="settings"),
    path("<slug:slug>/archive.zip", views.review_archive, name="archive"),
    path("<slug:slug>/team/", views.review_team, name="team"),
    path("<slug:slug>/team/bulk/", views.review_team_bulk, name="team_bulk"),
    path("<slug:slug>/team/<int:pk>/remove/", views.review_team_remove, name="team_remove"),
    path("<slug:slug>/audit/", views.review_audit, name="audit"),
    path("<slug:slug>/audit.csv", views.review_audit_csv, name="audit_csv"),
    path("<slug:slug>/jobs/", views.job_list, name="jobs"),
    path("<slug:slug>/jobs/<int:pk>/", views.job_detail, name="job"),
    path("<slug:slug>/searches/", views_records.search_list, name="searches"),
    path("<slug:slug>/searches/<int:pk>/", views_records.search_detail, name="search"),
    path(
        "<slug:slug>/imports/<int:pk>/mapping/", views_records.batch_mapping, name="batch_mapping"
    ),
    path("<slug:slug>/records/", views_records.record_list, name="records"),
    path("<slug:slug>/records/export/", views_records.record_export, name="records_export"),
    path("<slug:slug>/records/<int:pk>/", views_records.record_detail, name="record"),
    path("<slug:slug>/prisma/", views_prisma.prisma_page, name="prisma"),
    path(
        "<slug:slug>/prisma.<str:fmt>",
        views_prisma.prisma_download,
        name="prisma_download",
    ),
    path("<slug:slug>/exports/<str:name>/", views_prisma.report_export, name="report_export"),
    path("<slug:slug>/duplicates/", views_dedup.dedup_overview, name="dedup"),
    path("<slug:slug>/duplicates/run/", views_dedup.dedup_rerun, name="dedup_rerun"),
    path("<slug:slug>/duplicates/queue/", views_dedup.dedup_queue, name="dedup_queue"),
    path(
        "<slug:slug>/duplicates/pairs/<int:pk>/decide/",
        views_dedup.dedup_decide,
        name="dedup_decide",
    ),
    path(
        "<slug:slug>/duplicates/records/<int:pk>/unmerge/",
        views_dedup.dedup_unmerge,
        name="dedup_unmerge",
    ),
    path(
        "<slug:slug>/duplicates/records/<int:pk>/primary/",
        views_dedup.dedup_set_primary,
        name="dedup_primary",
    ),
]
