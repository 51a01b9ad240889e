from django.urls import path

from reporting import deviation_views, views
from screening.constants import STAGE_CODES, STAGE_SEGMENTS, Stage

app_name = "reporting"

urlpatterns = [
    path("import/", views.review_import, name="import"),
    path("<slug:slug>/audit.csv", views.review_audit_csv, name="audit_csv"),
    path("<slug:slug>/archive.zip", views.review_archive, name="archive"),
    path("<slug:slug>/prisma/", views.prisma_page, name="prisma"),
    path("<slug:slug>/prisma.<str:fmt>", views.prisma_download, name="prisma_download"),
    path("<slug:slug>/records/export/", views.record_export, name="records_export"),
    path("<slug:slug>/rounds/changelog/", views.changelog_page, name="changelog"),
    path("<slug:slug>/rounds/changelog.md", views.changelog_markdown, name="changelog_md"),
    path("<slug:slug>/protocol/deviations/", deviation_views.deviations_page, name="deviations"),
    path(
        "<slug:slug>/protocol/deviations/download/",
        deviation_views.deviations_download,
        name="deviations_download",
    ),
    path("<slug:slug>/exports/<str:name>/", views.report_export, name="report_export"),
    # Screening's files, at the addresses of screening's pages.
    path("<slug:slug>/screening/agreement.csv", views.agreement_csv, name="agreement_csv"),
    *[
        path(
            f"<slug:slug>/screening/{STAGE_SEGMENTS[stage]}/votes.csv",
            views.votes_csv,
            {"stage": stage.value},
            name=f"{STAGE_CODES[stage]}_votes_csv",
        )
        for stage in Stage
    ],
]
