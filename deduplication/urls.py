from django.urls import path

from deduplication import views

app_name = "deduplication"

urlpatterns = [
    path("<slug:slug>/duplicates/", views.dedup_overview, name="dedup"),
    path("<slug:slug>/duplicates/run/", views.dedup_rerun, name="dedup_rerun"),
    path("<slug:slug>/duplicates/queue/", views.dedup_queue, name="dedup_queue"),
    path("<slug:slug>/duplicates/pairs/<int:pk>/decide/", views.dedup_decide, name="dedup_decide"),
    path(
        "<slug:slug>/duplicates/records/<int:pk>/unmerge/",
        views.dedup_unmerge,
        name="dedup_unmerge",
    ),
    path(
        "<slug:slug>/duplicates/records/<int:pk>/primary/",
        views.dedup_set_primary,
        name="dedup_primary",
    ),
]
