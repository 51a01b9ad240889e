from django.urls import path

from identification import api, round_api

search_list = api.SearchViewSet.as_view({"get": "list", "post": "create"})
search_detail = api.SearchViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
search_files = api.SearchFileViewSet.as_view({"get": "list", "post": "create"})
record_list = api.RecordViewSet.as_view({"get": "list"})
record_detail = api.RecordViewSet.as_view({"get": "retrieve"})
round_list = round_api.RoundViewSet.as_view({"get": "list", "post": "create"})

urlpatterns = [
    path("reviews/<slug:slug>/searches/", search_list, name="api-search-list"),
    path("reviews/<slug:slug>/searches/<int:pk>/", search_detail, name="api-search-detail"),
    path("reviews/<slug:slug>/searches/<int:pk>/files/", search_files, name="api-search-files"),
    path("reviews/<slug:slug>/records/", record_list, name="api-record-list"),
    path("reviews/<slug:slug>/records/<int:pk>/", record_detail, name="api-record-detail"),
    path("reviews/<slug:slug>/rounds/", round_list, name="api-round-list"),
]
