"""Summary-of-findings pages, included from synthesis/urls.py under ``sof/``."""

from django.urls import path

from synthesis.sof import views

urlpatterns = [
    path("", views.table, name="sof"),
    path("rows/<int:pk>/", views.row, name="sof_row"),
    path("export/", views.export, name="sof_export"),
]
