"""API views that answer with a file."""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer


class FileAnswerMixin:
    """A download: the view returns the file itself (an ``HttpResponse``); its errors are JSON.
    Content negotiation always picks JSON for those errors, so a client that accepts only the
    file's type gets the file, or an error it can read, and never a 406."""

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        return renderer, renderer.media_type
