"""Screening pages, under ``reviews/<slug>/screening/``. Each stage gets the same set of
routes with the stage fixed in the route (``title-abstract/…`` and ``full-text/…``)."""

from django.urls import path

from screening import protocol_views, views
from screening.constants import STAGE_CODES, STAGE_SEGMENTS, Stage
from screening.fulltext import views as fulltext_views
from screening.prioritisation import views as prioritisation_views

app_name = "screening"


def _stage_routes(stage: Stage) -> list:
    seg, code, kw = STAGE_SEGMENTS[stage], STAGE_CODES[stage], {"stage": stage.value}
    return [
        path(f"{seg}/", views.stage_home, kw, name=code),
        path(f"{seg}/screen/", views.screen, kw, name=f"{code}_screen"),
        path(f"{seg}/next/", views.next_record, kw, name=f"{code}_next"),
        path(f"{seg}/vote/", views.vote, kw, name=f"{code}_vote"),
        path(f"{seg}/undo/", views.undo, kw, name=f"{code}_undo"),
        path(f"{seg}/conflicts/", views.conflicts, kw, name=f"{code}_conflicts"),
        path(f"{seg}/conflicts/<int:pk>/resolve/", views.resolve, kw, name=f"{code}_resolve"),
        path(f"{seg}/reasons/add/", views.reason_add, kw, name=f"{code}_reason_add"),
    ]


urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.settings_page, name="settings"),
    path("agreement/", views.agreement, name="agreement"),
    path("reasons/<int:pk>/", views.reason_edit, name="reason_edit"),
    path("reasons/<int:pk>/move/", views.reason_move, name="reason_move"),
    path("reasons/<int:pk>/delete/", views.reason_delete, name="reason_delete"),
    path(
        "reasons/from-protocol/",
        protocol_views.reasons_from_protocol_view,
        name="reasons_from_protocol",
    ),
    path("full-text/<int:pk>/report/", fulltext_views.report_attach, name="ft_report"),
    path("full-text/<int:pk>/report.pdf", fulltext_views.report_file, name="ft_report_file"),
    path(
        "full-text/<int:pk>/not-retrieved/",
        fulltext_views.report_not_retrieved,
        name="ft_not_retrieved",
    ),
    *_stage_routes(Stage.TITLE_ABSTRACT),
    *_stage_routes(Stage.FULL_TEXT),
    path("prioritisation/", prioritisation_views.prioritisation, name="prioritisation"),
    path("prioritisation/ranking/", prioritisation_views.ranking, name="ranking"),
    path("prioritisation/stop/", prioritisation_views.stop, name="stop"),
    path("prioritisation/stop.csv", prioritisation_views.stop_csv, name="stop_csv"),
    path("prioritisation/stop.md", prioritisation_views.stop_markdown, name="stop_md"),
]
