"""The protocol's API, under ``api/reviews/<slug>/protocol/``."""

from django.urls import path

from reviews.protocol import api

urlpatterns = [
    path("versions/", api.VersionListAPI.as_view(), name="api-protocol-versions"),
    path("versions/<int:pk>/", api.VersionDetailAPI.as_view(), name="api-protocol-version"),
    path(
        "versions/<int:pk>/download/",
        api.VersionFileAPI.as_view(),
        name="api-protocol-version-download",
    ),
    path("draft/", api.DraftAPI.as_view(), name="api-protocol-draft"),
    path("register/", api.RegisterAPI.as_view(), name="api-protocol-register"),
    path("amend/", api.AmendAPI.as_view(), name="api-protocol-amend"),
    path("diff/", api.DiffAPI.as_view(), name="api-protocol-diff"),
    path("synthesis-plan/", api.SynthesisPlanAPI.as_view(), name="api-protocol-synthesis-plan"),
]
