"""Refuse request bodies over the upload limit before Django reads them."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

# Room for the form fields that travel with a file.
MARGIN = 1024 * 1024


class UploadLimitMiddleware:
    """A request larger than EVIDENT_MAX_UPLOAD_MB gets 413 and a message, and nothing of it is
    stored: Django would otherwise spool the whole body to a temporary file first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.EVIDENT_MAX_UPLOAD_BYTES
        if length > limit + MARGIN:
            message = (
                f"The upload is {length / 2**20:,.0f} MB; this site accepts files up to "
                f"{limit / 2**20:,.0f} MB. Split the export into smaller files (most databases "
                "export in batches) and upload them to the same search."
            )
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            body = render_to_string("413.html", {"message": message}, request=None)
            return HttpResponse(body, status=413)
        return self.get_response(request)
