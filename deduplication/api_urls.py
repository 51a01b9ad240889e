"""Deduplication API, under ``api/reviews/<slug>/duplicates/`` (the pages' addresses)."""

from django.urls import path

from deduplication import api

urlpatterns = [
    path("", api.SummaryAPI.as_view(), name="api-dedup"),
    path("run/", api.RunAPI.as_view(), name="api-dedup-run"),
    path("clusters/", api.ClusterListAPI.as_view(), name="api-dedup-clusters"),
    path("pairs/", api.PairListAPI.as_view(), name="api-dedup-pairs"),
    path("pairs/<int:pk>/", api.PairDetailAPI.as_view(), name="api-dedup-pair"),
    path("pairs/<int:pk>/decide/", api.PairDecideAPI.as_view(), name="api-dedup-decide"),
    path("records/<int:pk>/unmerge/", api.UnmergeAPI.as_view(), name="api-dedup-unmerge"),
    path("records/<int:pk>/primary/", api.PrimaryAPI.as_view(), name="api-dedup-primary"),
]
