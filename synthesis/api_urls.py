"""The synthesis API, under ``api/reviews/<slug>/synthesis/``."""

from django.urls import include, path

from synthesis import api

urlpatterns = [
    path("analyses/", api.AnalysisListAPI.as_view(), name="api-synthesis-analyses"),
    path("analyses/<int:pk>/", api.AnalysisDetailAPI.as_view(), name="api-synthesis-analysis"),
    path("analyses/<int:pk>/run/", api.AnalysisRunAPI.as_view(), name="api-synthesis-run-start"),
    path("analyses/<int:pk>/results/", api.ResultListAPI.as_view(), name="api-synthesis-results"),
    path("runs/<int:pk>/", api.RunDetailAPI.as_view(), name="api-synthesis-run"),
    path("results/<int:pk>/", api.ResultDetailAPI.as_view(), name="api-synthesis-result"),
    path(
        "results/<int:pk>/export/",
        api.ResultExportAPI.as_view(),
        name="api-synthesis-result-export",
    ),
    path(
        "results/<int:pk>/figures/<str:figure>.<str:fmt>",
        api.ResultFigureAPI.as_view(),
        name="api-synthesis-result-figure",
    ),
    path("sof/", include("synthesis.sof.api_urls")),  # issue 19
    path("narrative/", include("synthesis.narrative.api_urls")),  # issue 22
]
