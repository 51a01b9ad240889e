"""Screening API, under ``api/reviews/<slug>/screening/``: the same routes for each stage, then
the review's settings, keywords and exclusion reasons."""

from django.urls import path

from screening import api
from screening.constants import STAGE_CODES, STAGE_SEGMENTS, Stage
from screening.prioritisation import api as prioritisation_api


def _stage_routes(stage: Stage) -> list:
    seg, code, kw = STAGE_SEGMENTS[stage], STAGE_CODES[stage], {"stage": stage.value}
    name = f"api-screening-{code}"
    return [
        path(f"{seg}/next/", api.NextRecordAPI.as_view(), kw, name=f"{name}-next"),
        path(f"{seg}/votes/", api.VoteListAPI.as_view(), kw, name=f"{name}-votes"),
        path(f"{seg}/votes/<int:pk>/", api.VoteDetailAPI.as_view(), kw, name=f"{name}-vote-detail"),
        path(f"{seg}/undo/", api.UndoAPI.as_view(), kw, name=f"{name}-undo"),
        path(f"{seg}/items/<int:pk>/", api.ItemDetailAPI.as_view(), kw, name=f"{name}-item"),
        path(f"{seg}/conflicts/", api.ConflictListAPI.as_view(), kw, name=f"{name}-conflicts"),
        path(
            f"{seg}/conflicts/<int:pk>/resolve/",
            api.ResolveAPI.as_view(),
            kw,
            name=f"{name}-resolve",
        ),
        path(f"{seg}/progress/", api.ProgressAPI.as_view(), kw, name=f"{name}-progress"),
        path(f"{seg}/agreement/", api.AgreementAPI.as_view(), kw, name=f"{name}-agreement"),
    ]


urlpatterns = [
    *_stage_routes(Stage.TITLE_ABSTRACT),
    *_stage_routes(Stage.FULL_TEXT),
    path("settings/", api.SettingsAPI.as_view(), name="api-screening-settings"),
    path("keywords/", api.KeywordsAPI.as_view(), name="api-screening-keywords"),
    path("reasons/", api.ReasonListAPI.as_view(), name="api-screening-reasons"),
    path("reasons/<int:pk>/", api.ReasonDetailAPI.as_view(), name="api-screening-reason"),
    path("reasons/<int:pk>/move/", api.ReasonMoveAPI.as_view(), name="api-screening-reason-move"),
    path(
        "prioritisation/ranking/",
        prioritisation_api.RankingAPI.as_view(),
        name="api-screening-ranking",
    ),
    path(
        "prioritisation/stopping/",
        prioritisation_api.StoppingAPI.as_view(),
        name="api-screening-stopping",
    ),
    path(
        "prioritisation/stop-decisions/",
        prioritisation_api.StopDecisionListAPI.as_view(),
        name="api-screening-stop-decisions",
    ),
]
