"""Pages of full texts: attach a PDF or a link, mark a report not retrieved, serve the PDF.

They answer with the screening page's record fragment (``screening.views``), since a report is
attached from the record on screen at the full-text stage.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from core.forms import messages_of
from core.htmx import is_htmx
from core.text import is_digits
from reviews.access import review_for_user, scoped_get
from reviews.models import Review
from screening import services
from screening.constants import ItemStatus, Stage
from screening.fulltext import services as fulltext
from screening.fulltext.forms import NotRetrievedForm, ReportLinkForm, ReportUploadForm
from screening.fulltext.selectors import report_of
from screening.models import ScreeningItem
from screening.views import _error_fragment, _form_errors, _fragment, _url


def _ft_item(review: Review, pk) -> ScreeningItem:
    return scoped_get(
        ScreeningItem.objects.select_related("record").at(Stage.FULL_TEXT),
        review=review,
        pk=pk,
    )


def _after_report(request, review: Review, item: ScreeningItem, errors: list[str] | None):
    if is_htmx(request):
        if errors:
            return _error_fragment(request, errors)
        item.refresh_from_db()
        shown = item if item.status == ItemStatus.PENDING else None
        return _fragment(request, review, Stage.FULL_TEXT, shown)
    for error in errors or []:
        messages.error(request, error)
    if not errors:
        messages.success(request, "Full text saved.")
    return redirect(_url(review, Stage.FULL_TEXT, "screen"))


@login_required
@require_POST
def report_attach(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    item = _ft_item(review, pk)
    upload = ReportUploadForm(request.POST, request.FILES)
    link = ReportLinkForm(request.POST)
    errors: list[str] | None = None
    try:
        if "file" in request.FILES:
            if not upload.is_valid():
                raise ValidationError(_form_errors(upload))
            fulltext.report_attach(
                user=request.user, review=review, item=item, upload=upload.cleaned_data["file"]
            )
        else:
            if not link.is_valid():
                raise ValidationError(_form_errors(link))
            fulltext.report_attach(
                user=request.user, review=review, item=item, url=link.cleaned_data["url"]
            )
    except ValidationError as exc:
        errors = messages_of(exc)
    return _after_report(request, review, item, errors)


@login_required
@require_POST
def report_not_retrieved(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    item = _ft_item(review, pk)
    form = NotRetrievedForm(request.POST)
    errors: list[str] | None = None
    try:
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        fulltext.report_not_retrieved(
            user=request.user, review=review, item=item, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        errors = messages_of(exc)
    if is_htmx(request) and not errors:
        # The record is done with; show the next one, never the one already preloaded.
        upcoming = request.POST.get("upcoming", "")
        nxt = services.assignment_next(
            user=request.user,
            review=review,
            stage=Stage.FULL_TEXT,
            exclude=[upcoming] if is_digits(upcoming) else [],
        )
        return _fragment(request, review, Stage.FULL_TEXT, nxt)
    return _after_report(request, review, item, errors)


@login_required
@require_GET
def report_file(request, slug: str, pk: int):
    """The stored PDF, to members of the review only (never a public media URL).

    Always a download (``Content-Disposition: attachment``), always ``application/pdf`` with
    ``nosniff``, and sandboxed by its Content-Security-Policy: an uploaded file is never
    rendered by the browser as a page of this site, whatever it holds.
    """
    review = review_for_user(user=request.user, slug=slug)
    item = _ft_item(review, pk)
    report = report_of(item.record)
    if report is None or not report.file:
        raise Http404("No PDF is attached to this record.")
    response = FileResponse(
        report.file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"record-{item.record_id}.pdf",
    )
    response["Content-Type"] = "application/pdf"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
