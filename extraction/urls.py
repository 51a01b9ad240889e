"""Pages of data extraction, under ``reviews/<slug>/extraction/``."""

from django.urls import path

from extraction import views
from extraction.rob.urls import urlpatterns as rob_urlpatterns

app_name = "extraction"

urlpatterns = [
    path("studies/", views.studies, name="studies"),
    path("studies/new/", views.study_create, name="study_create"),
    path("studies/<int:pk>/", views.study, name="study"),
    path("studies/<int:pk>/link/", views.study_link, name="study_link"),
    path("studies/<int:pk>/unlink/", views.study_unlink, name="study_unlink"),
    path("studies/<int:pk>/delete/", views.study_delete, name="study_delete"),
    path("form/", views.form, name="form"),
    path("studies/<int:pk>/extract/", views.extract, name="extract"),
    path("studies/<int:pk>/extract/done/", views.extract_done, name="extract_done"),
    path("studies/<int:pk>/compare/", views.compare, name="compare"),
    path("studies/<int:pk>/fulltext/", views.fulltext, name="fulltext"),
    path("snapshots/", views.snapshots, name="snapshots"),
    path("snapshots/<int:pk>/", views.snapshot, name="snapshot"),
    path("export/", views.export, name="export"),
    path("import/", views.import_data, name="import"),
    *rob_urlpatterns,
]
