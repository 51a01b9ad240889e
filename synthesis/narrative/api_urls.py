"""The narrative synthesis API, under ``api/reviews/<slug>/synthesis/narrative/``."""

from django.urls import path

from synthesis.narrative import api

urlpatterns = [
    path("", api.NarrativeListAPI.as_view(), name="api-narrative-list"),
    path("<int:pk>/", api.NarrativeDetailAPI.as_view(), name="api-narrative"),
    path("<int:pk>/results/", api.NarrativeResultsAPI.as_view(), name="api-narrative-results"),
    path(
        "<int:pk>/directions/",
        api.NarrativeDirectionsAPI.as_view(),
        name="api-narrative-directions",
    ),
    path("<int:pk>/domains/", api.NarrativeDomainsAPI.as_view(), name="api-narrative-domains"),
    path("<int:pk>/swim/", api.NarrativeSwimAPI.as_view(), name="api-narrative-swim"),
    path("<int:pk>/export/", api.NarrativeExportAPI.as_view(), name="api-narrative-export"),
    path(
        "<int:pk>/figures/<str:narrative_figure>.<str:fmt>",
        api.NarrativeFigureAPI.as_view(),
        name="api-narrative-figure",
    ),
]
