"""Pages for searches, uploads and records. Thin: services in identification/services.py decide."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from core.forms import apply_errors
from identification import importers, services
from identification import selectors as record_selectors
from identification.constants import (
    DATABASE_SUGGESTIONS,
    PLATFORM_SUGGESTIONS,
    BatchStatus,
    SourceKind,
)
from identification.forms import SearchForm, UploadForm, record_filters
from identification.models import ImportBatch, Record, Search
from reviews.access import has_role, require_role, review_for_user, scoped_get


def _upload_all(request, search, files, confirm: bool, form) -> list[ImportBatch]:
    try:
        return services.batch_upload_all(
            actor=request.user, search=search, files=files, confirm_duplicate=confirm
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return []


def _after_upload(request, review, search, batches):
    for batch in batches:
        if batch.status == BatchStatus.NEEDS_MAPPING:
            return redirect("identification:batch_mapping", slug=review.slug, pk=batch.pk)
    if len(batches) == 1 and batches[0].job_id:
        return redirect("reviews:job", slug=review.slug, pk=batches[0].job_id)
    return redirect("identification:search", slug=review.slug, pk=search.pk)


@login_required
@require_http_methods(["GET", "POST"])
def search_list(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    can_import = has_role(user=request.user, review=review, roles=services.IMPORT_ROLES)
    form = SearchForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        require_role(
            user=request.user, review=review, roles=services.IMPORT_ROLES, action="record a search"
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                search, batches = services.search_create_with_files(
                    actor=request.user,
                    review=review,
                    files=data["files"],
                    confirm_duplicate=data["confirm_duplicate"],
                    database=data["database"],
                    kind=data["kind"] or SourceKind.DATABASE,
                    platform=data["platform"],
                    date_searched=data["date_searched"],
                    query=data["query"],
                    reported_hits=data["reported_hits"],
                    notes=data["notes"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Search “{search}” recorded.")
                return _after_upload(request, review, search, batches)
        status = 400
    context = {
        "review": review,
        "section": "searches",
        "searches": record_selectors.searches_of(review=review),
        "form": form,
        "can_import": can_import,
        "database_suggestions": DATABASE_SUGGESTIONS,
        "platform_suggestions": PLATFORM_SUGGESTIONS,
        "total": record_selectors.records_identified(review),
    }
    return render(request, "identification/searches.html", context, status=status)


def _search_context(request, review, search, *, upload_form=None):
    return {
        "review": review,
        "section": "searches",
        "search": search,
        "batches": record_selectors.batches_of(search=search),
        "record_count": Record.objects.filter(search=search).count(),
        "upload_form": upload_form or UploadForm(),
        "can_import": has_role(user=request.user, review=review, roles=services.IMPORT_ROLES),
    }


@login_required
@require_http_methods(["GET", "POST"])
def search_detail(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    search = scoped_get(Search.objects.all(), review=review, pk=pk)
    if request.method == "POST":
        require_role(
            user=request.user, review=review, roles=services.IMPORT_ROLES, action="import records"
        )
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            batches = _upload_all(
                request,
                search,
                form.cleaned_data["files"],
                form.cleaned_data["confirm_duplicate"],
                form,
            )
            if not form.errors:
                return _after_upload(request, review, search, batches)
        return render(
            request,
            "identification/search.html",
            _search_context(request, review, search, upload_form=form),
            status=400,
        )
    return render(request, "identification/search.html", _search_context(request, review, search))


@login_required
@require_http_methods(["GET", "POST"])
def batch_mapping(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    batch = scoped_get(ImportBatch.objects.select_related("search"), review=review, pk=pk)
    require_role(
        user=request.user, review=review, roles=services.IMPORT_ROLES, action="import records"
    )
    if batch.status != BatchStatus.NEEDS_MAPPING:
        return redirect("identification:search", slug=review.slug, pk=batch.search_id)
    columns = batch.column_mapping.get("columns", [])
    errors: list[str] = []
    if request.method == "POST":
        chosen = {t: request.POST.get(f"map_{t}", "") for t in importers.TARGET_FIELDS}
        try:
            services.batch_set_mapping(actor=request.user, batch=batch, mapping=chosen)
        except ValidationError as exc:
            errors = exc.messages
        else:
            return redirect("reviews:job", slug=review.slug, pk=batch.job_id)
    else:
        chosen = importers.suggest_mapping(columns)
    fields = [(t, chosen.get(t, "")) for t in importers.TARGET_FIELDS]
    context = {
        "review": review,
        "section": "searches",
        "batch": batch,
        "columns": columns,
        "fields": fields,
        "errors": errors,
    }
    return render(
        request, "identification/batch_mapping.html", context, status=400 if errors else 200
    )


@login_required
@require_safe
def record_list(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    form, filters = record_filters(request.GET)
    records = record_selectors.records_filtered(review=review, filters=filters)
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "review": review,
        "section": "records",
        "form": form,
        "page": page,
        "searches": Search.objects.filter(review=review),
        "querystring": query.urlencode(),
    }
    return render(request, "identification/records.html", context)


@login_required
@require_safe
def record_detail(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    record = scoped_get(Record.objects.select_related("search", "batch"), review=review, pk=pk)
    return render(
        request,
        "identification/record.html",
        {"review": review, "section": "records", "record": record},
    )
