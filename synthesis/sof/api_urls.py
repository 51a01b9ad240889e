"""The summary-of-findings API, included from synthesis/api_urls.py under ``sof/``."""

from django.urls import path

from synthesis.sof import api

urlpatterns = [
    path("", api.SofTableAPI.as_view(), name="api-synthesis-sof"),
    path("rows/", api.SofRowsAPI.as_view(), name="api-synthesis-sof-rows"),
    path("rows/<int:pk>/", api.SofRowAPI.as_view(), name="api-synthesis-sof-row"),
    path("rows/<int:pk>/judge/", api.SofJudgeAPI.as_view(), name="api-synthesis-sof-judge"),
    path(
        "rows/<int:pk>/statement/",
        api.SofStatementAPI.as_view(),
        name="api-synthesis-sof-statement",
    ),
    path("rows/<int:pk>/redraft/", api.SofRedraftAPI.as_view(), name="api-synthesis-sof-redraft"),
    path("export/", api.SofExportAPI.as_view(), name="api-synthesis-sof-export"),
]
