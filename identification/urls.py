from django.urls import path

from identification import round_views, views

app_name = "identification"

urlpatterns = [
    path("<slug:slug>/searches/", views.search_list, name="searches"),
    path("<slug:slug>/searches/<int:pk>/", views.search_detail, name="search"),
    path("<slug:slug>/searches/<int:pk>/edit/", views.search_edit, name="search_edit"),
    path("<slug:slug>/searches/<int:pk>/delete/", views.search_delete, name="search_delete"),
    path("<slug:slug>/imports/<int:pk>/mapping/", views.batch_mapping, name="batch_mapping"),
    path("<slug:slug>/records/", views.record_list, name="records"),
    path("<slug:slug>/records/<int:pk>/", views.record_detail, name="record"),
    path("<slug:slug>/rounds/", round_views.round_list, name="rounds"),
]
