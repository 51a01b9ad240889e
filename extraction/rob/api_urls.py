"""Risk-of-bias API routes, included by ``extraction.api_urls`` under ``rob/``."""

from django.urls import path

from extraction.rob import api

urlpatterns = [
    path("rob/settings/", api.RobSettingsAPI.as_view(), name="api-rob-settings"),
    path("rob/assessments/", api.RobOverviewAPI.as_view(), name="api-rob-overview"),
    path(
        "rob/studies/<int:pk>/assessments/",
        api.RobAssessmentListAPI.as_view(),
        name="api-rob-assessments",
    ),
    path("rob/studies/<int:pk>/done/", api.RobDoneAPI.as_view(), name="api-rob-done"),
    path(
        "rob/studies/<int:pk>/comparison/",
        api.RobComparisonAPI.as_view(),
        name="api-rob-comparison",
    ),
    path(
        "rob/studies/<int:pk>/consensus/", api.RobConsensusAPI.as_view(), name="api-rob-consensus"
    ),
    path("rob/export/", api.RobExportAPI.as_view(), name="api-rob-export"),
    path("rob/figures/<str:rob_figure>/", api.RobFigureAPI.as_view(), name="api-rob-figure"),
]
