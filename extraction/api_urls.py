"""Data extraction's API, under ``api/reviews/<slug>/extraction/``."""

from django.urls import path

from extraction import api
from extraction.rob.api_urls import urlpatterns as rob_urlpatterns

urlpatterns = [
    path("studies/", api.StudyListAPI.as_view(), name="api-studies"),
    path("studies/counts/", api.StudyCountsAPI.as_view(), name="api-study-counts"),
    path("studies/suggestions/", api.SuggestionListAPI.as_view(), name="api-study-suggestions"),
    path("studies/<int:pk>/", api.StudyDetailAPI.as_view(), name="api-study"),
    path("studies/<int:pk>/link/", api.StudyLinkAPI.as_view(), name="api-study-link"),
    path("studies/<int:pk>/unlink/", api.StudyUnlinkAPI.as_view(), name="api-study-unlink"),
    path("form/", api.FormAPI.as_view(), name="api-extraction-form"),
    path("form/publish/", api.FormPublishAPI.as_view(), name="api-extraction-form-publish"),
    path("form/versions/", api.FormVersionListAPI.as_view(), name="api-extraction-form-versions"),
    path("studies/<int:pk>/extractions/", api.ExtractionListAPI.as_view(), name="api-extractions"),
    path(
        "studies/<int:pk>/extractions/done/",
        api.ExtractionDoneAPI.as_view(),
        name="api-extraction-done",
    ),
    path("studies/<int:pk>/comparison/", api.ComparisonAPI.as_view(), name="api-study-comparison"),
    path("studies/<int:pk>/consensus/", api.ConsensusAPI.as_view(), name="api-study-consensus"),
    path("studies/<int:pk>/effects/", api.EffectsAPI.as_view(), name="api-study-effects"),
    path("snapshots/", api.SnapshotListAPI.as_view(), name="api-extraction-snapshots"),
    path("snapshots/<int:pk>/", api.SnapshotDetailAPI.as_view(), name="api-extraction-snapshot"),
    path("export/", api.ExportAPI.as_view(), name="api-extraction-export"),
    path("import/", api.ImportAPI.as_view(), name="api-extraction-import"),
    *rob_urlpatterns,
]
