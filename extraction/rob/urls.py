"""Risk-of-bias pages, included by ``extraction.urls`` under ``rob/``."""

from django.urls import path

from extraction.rob import views

urlpatterns = [
    path("rob/", views.home, name="rob"),
    path("rob/settings/", views.settings_page, name="rob_settings"),
    path("rob/studies/<int:pk>/assess/", views.assess, name="rob_assess"),
    path("rob/studies/<int:pk>/assess/done/", views.assess_done, name="rob_done"),
    path("rob/studies/<int:pk>/compare/", views.compare, name="rob_compare"),
    path("rob/export/", views.export, name="rob_export"),
    path("rob/figures/", views.figures, name="rob_figures"),
    path("rob/figures/<str:rob_figure>.<str:fmt>", views.figure, name="rob_figure"),
]
