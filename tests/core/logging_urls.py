"""The site's URLs plus two views for the logging tests: one that refuses (403) and one that
fails (500), as any view of the site may."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from config.urls import handler403
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler403", "urlpatterns"]


def refuse(request):
    raise PermissionDenied("Only a member with one of these roles may do this: lead.")


def fail(request):
    raise RuntimeError("the database went away")


urlpatterns = [
    path("test-logging/refuse/", refuse),
    path("test-logging/fail/", fail),
    *site_urlpatterns,
]
