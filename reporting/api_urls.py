"""Reporting API, under ``api/reviews/<slug>/``: the PRISMA numbers and files, and every export
the pages offer (at the pages' addresses where they are files)."""

from django.urls import path

from reporting import api, deviation_api
from screening.constants import STAGE_CODES, STAGE_SEGMENTS, Stage

urlpatterns = [
    path("reviews/<slug:slug>/prisma/", api.PrismaAPI.as_view(), name="api-prisma"),
    path(
        "reviews/<slug:slug>/prisma/entries/",
        api.PrismaEntryAPI.as_view(),
        name="api-prisma-entries",
    ),
    path(
        "reviews/<slug:slug>/prisma.<str:fmt>", api.PrismaFileAPI.as_view(), name="api-prisma-file"
    ),
    path("reviews/<slug:slug>/changelog/", api.ChangeLogAPI.as_view(), name="api-changelog"),
    path(
        "reviews/<slug:slug>/changelog.md", api.ChangeLogFileAPI.as_view(), name="api-changelog-md"
    ),
    path(
        "reviews/<slug:slug>/exports/<str:name>/",
        api.ReportExportAPI.as_view(),
        name="api-report-export",
    ),
    path(
        "reviews/<slug:slug>/records.csv",
        api.RecordsExportAPI.as_view(fmt="csv"),
        name="api-records-csv",
    ),
    path(
        "reviews/<slug:slug>/records.ris",
        api.RecordsExportAPI.as_view(fmt="ris"),
        name="api-records-ris",
    ),
    path("reviews/<slug:slug>/audit.csv", api.AuditCSVAPI.as_view(), name="api-audit-csv"),
    path(
        "reviews/<slug:slug>/protocol/deviations/",
        deviation_api.DeviationsAPI.as_view(),
        name="api-protocol-deviations",
    ),
    path(
        "reviews/<slug:slug>/screening/agreement.csv",
        api.AgreementCSVAPI.as_view(),
        name="api-agreement-csv",
    ),
    *[
        path(
            f"reviews/<slug:slug>/screening/{STAGE_SEGMENTS[stage]}/votes.csv",
            api.VotesCSVAPI.as_view(),
            {"stage": stage.value},
            name=f"api-screening-{STAGE_CODES[stage]}-votes-csv",
        )
        for stage in Stage
    ],
]
