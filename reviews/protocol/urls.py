"""The protocol's pages, under ``reviews/<slug>/protocol/``."""

from django.urls import path

from reviews.protocol import views

app_name = "protocol"

urlpatterns = [
    path("", views.protocol_home, name="home"),
    path("edit/", views.protocol_edit, name="edit"),
    path("register/", views.protocol_register, name="register"),
    path("amend/", views.protocol_amend, name="amend"),
    path("discard/", views.protocol_discard, name="discard"),
    path("diff/", views.protocol_diff, name="diff"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/download/", views.version_download, name="version_download"),
]
