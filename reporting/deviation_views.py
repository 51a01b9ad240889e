"""The differences-from-protocol page and its Markdown and HTML files (``reporting/deviations``).
Every member of the review reads them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from reporting import deviations
from reviews.access import review_for_user

DOWNLOADS = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


@login_required
@require_safe
def deviations_page(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    report = deviations.deviation_report(review)
    context = {
        "review": review,
        "section": "protocol",
        "report": report,
        "protocol_line": deviations.protocol_line(report),
        "parts": deviations.report_sections(report),
        "differences": report.differences,
    }
    return render(request, "reporting/deviations.html", context)


@login_required
@require_safe
def deviations_download(request, slug: str):
    """``?as=md`` (default) or ``?as=html``."""
    review = review_for_user(user=request.user, slug=slug)
    fmt = request.GET.get("as", "md")
    if fmt not in DOWNLOADS:
        return HttpResponse(
            "Choose a format: ?as=md or ?as=html.", status=400, content_type="text/plain"
        )
    report = deviations.deviation_report(review)
    body = deviations.report_markdown(report) if fmt == "md" else deviations.report_html(report)
    response = HttpResponse(body, content_type=DOWNLOADS[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{review.slug}-differences-from-protocol.{fmt}"'
    )
    return response
