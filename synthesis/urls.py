"""Pages of the synthesis step, under ``reviews/<slug>/synthesis/``."""

from django.urls import include, path

from synthesis import views

app_name = "synthesis"

urlpatterns = [
    path("", views.analyses, name="analyses"),
    path("sof/", include("synthesis.sof.urls")),
    path("new/", views.analysis_new, name="analysis_new"),
    path("<int:pk>/", views.analysis, name="analysis"),
    path("<int:pk>/edit/", views.analysis_edit, name="analysis_edit"),
    path("<int:pk>/delete/", views.analysis_delete, name="analysis_delete"),
    path("<int:pk>/run/", views.analysis_run, name="analysis_run"),
    path("runs/<int:pk>/", views.analysis_job, name="run"),
    path("results/<int:pk>/", views.result, name="result"),
    path("results/<int:pk>/export/", views.result_export, name="result_export"),
    path("results/<int:pk>/figures/<str:figure>.<str:fmt>", views.result_figure, name="figure"),
    path("narrative/", include("synthesis.narrative.urls")),  # issue 22
]
