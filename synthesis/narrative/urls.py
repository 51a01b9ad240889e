"""Pages of the narrative synthesis, under ``reviews/<slug>/synthesis/narrative/`` (names in the
``synthesis`` namespace)."""

from django.urls import path

from synthesis.narrative import views

urlpatterns = [
    path("", views.narrative_list, name="narrative_list"),
    path("new/", views.narrative_new, name="narrative_new"),
    path("<int:pk>/", views.narrative, name="narrative"),
    path("<int:pk>/edit/", views.narrative_edit, name="narrative_edit"),
    path("<int:pk>/delete/", views.narrative_delete, name="narrative_delete"),
    path("<int:pk>/direction/", views.narrative_direction, name="narrative_direction"),
    path("<int:pk>/export/", views.narrative_export, name="narrative_export"),
    path("<int:pk>/domains/", views.narrative_domains, name="narrative_domains"),
    path("<int:pk>/swim/", views.narrative_swim, name="narrative_swim"),
    path("<int:pk>/swim.md", views.narrative_swim_markdown, name="narrative_swim_md"),
    path(
        "<int:pk>/figures/<str:narrative_figure>.<str:fmt>",
        views.narrative_figure,
        name="narrative_figure",
    ),
]
