"""Pages for searches, uploads and records. Thin: services in identification/services.py decide."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from core.forms import apply_errors
from identification import importers, rounds, services
from identification import query as record_query
from identification import selectors as record_selectors
from identification.constants import (
    DATABASE_SUGGESTIONS,
    PLATFORM_SUGGESTIONS,
    BatchStatus,
    SourceKind,
)
from identification.forms import SearchDetailsForm, SearchForm, UploadForm, record_filters
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


def _after_upload(request, review, search, batches, *, recorded: bool = False):
    """Where an upload goes next: a table's column mapping, the one import's job page (which
    says what it imports, and follows it), or the search's page."""
    for batch in batches:
        if batch.status == BatchStatus.NEEDS_MAPPING:
            if recorded:
                messages.info(request, f"Search “{search}” recorded. Map the columns of its file.")
            return redirect("identification:batch_mapping", slug=review.slug, pk=batch.pk)
    if len(batches) == 1 and batches[0].job_id:
        # No banner: the job page names the search and says how the import went; a green
        # "recorded" above a failed import read as if the import had worked.
        return redirect("reviews:job", slug=review.slug, pk=batches[0].job_id)
    if recorded:
        messages.success(request, f"Search “{search}” recorded.")
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
                return _after_upload(request, review, search, batches, recorded=True)
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


def rerun_suggestion(review, search):
    """A rerun's date-limited query (``identification.rounds.suggest_query``), or None."""
    if search.round_id is None:
        return None
    return rounds.suggest_query(search, rounds.round_date(review, search.round_number - 1))


def _search_context(request, review, search, *, upload_form=None):
    return {
        "review": review,
        "section": "searches",
        "search": search,
        "batches": record_selectors.batches_of(search=search),
        "record_count": Record.objects.filter(search=search).count(),
        "upload_form": upload_form or UploadForm(),
        "can_import": has_role(user=request.user, review=review, roles=services.IMPORT_ROLES),
        "rerun": rerun_suggestion(review, search),
    }


def _search_for_lead(request, slug: str, pk: int, action: str):
    review = review_for_user(user=request.user, slug=slug)
    search = scoped_get(Search.objects.all(), review=review, pk=pk)
    require_role(user=request.user, review=review, roles=services.IMPORT_ROLES, action=action)
    return review, search


@login_required
@require_http_methods(["GET", "POST"])
def search_edit(request, slug: str, pk: int):
    """Correct what was recorded of a search (its files and records stay)."""
    review, search = _search_for_lead(request, slug, pk, "edit a search")
    form = SearchDetailsForm(request.POST or None, initial=SearchDetailsForm.initial_of(search))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.search_update(
                actor=request.user,
                search=search,
                **(data | {"kind": data["kind"] or SourceKind.DATABASE}),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "The search’s details were saved.")
            return redirect("identification:search", slug=review.slug, pk=search.pk)
    context = {
        "review": review,
        "section": "searches",
        "search": search,
        "form": form,
        "database_suggestions": DATABASE_SUGGESTIONS,
        "platform_suggestions": PLATFORM_SUGGESTIONS,
    }
    status = 400 if form.errors else 200
    return render(request, "identification/search_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def search_delete(request, slug: str, pk: int):
    """Delete a search with its files and records, after saying what goes (or why it may not)."""
    review, search = _search_for_lead(request, slug, pk, "delete a search")
    error = ""
    if request.method == "POST":
        try:
            summary = services.search_delete(actor=request.user, search=search)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                f"Search “{search}” deleted, with {summary['records']:,} "
                f"record{'' if summary['records'] == 1 else 's'}.",
            )
            return redirect("identification:searches", slug=review.slug)
    context = {
        "review": review,
        "section": "searches",
        "search": search,
        "batches": record_selectors.batches_of(search=search),
        "record_count": Record.objects.filter(search=search).count(),
        "refusal": services.search_delete_refusal(search),
        "error": error,
    }
    return render(
        request, "identification/search_delete.html", context, status=400 if error else 200
    )


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
    if form.errors:
        # A filter that is not understood shows its message and no records: a list (or an
        # export) of everything would look like the answer.
        records = Record.objects.none()
    else:
        records = record_selectors.records_filtered(
            review=review, filters=filters, user=request.user
        )
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    statuses = record_selectors.record_statuses(
        review=review, user=request.user, records=page.object_list
    )
    query = request.GET.copy()
    query.pop("page", None)
    search_text = filters.get("q") or ""
    context = {
        "review": review,
        "section": "records",
        "form": form,
        "extra_fields": [form[spec.name] for p in form.extra for spec in p.fields],
        "query": form.query,
        "hl": (form.query or record_query.NO_QUERY).highlighter(),
        "page": page,
        "rows": [(record, statuses.get(record.pk, [])) for record in page],
        "searches": Search.objects.filter(review=review),
        "querystring": query.urlencode(),
        "detail_query": urlencode({"q": search_text}) if search_text else "",
    }
    return render(request, "identification/records.html", context)


@login_required
@require_safe
def record_detail(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    record = scoped_get(Record.objects.select_related("search", "batch"), review=review, pk=pk)
    try:
        query = record_query.parse(request.GET.get("q", ""))
    except record_query.QueryError:
        query = record_query.NO_QUERY  # only highlighting is lost; the list said what was wrong
    context = {
        "review": review,
        "section": "records",
        "record": record,
        "hl": query.highlighter(),
        "copies": record_selectors.record_copies(record),
        "steps": record_selectors.record_steps(review=review, user=request.user, record=record),
    }
    return render(request, "identification/record.html", context)
