"""Pages of data extraction: the studies and the reports linked to them.

Thin: each view finds the review (404 for outsiders), calls one service or selector and
answers with a page or a redirect; a refused change says why in a message and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.forms import messages_of, refuse
from extraction import selectors, services
from extraction.constants import STUDY_ROLES
from extraction.models import Study
from reviews.access import has_role, review_for_user, scoped_get


@login_required
@require_safe
def studies(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    context = {
        "review": review,
        "section": "studies",
        "counts": selectors.counts(review),
        "studies": selectors.with_status(selectors.studies_of(review)),
        "unlinked": selectors.unlinked_reports(review),
        "suggestions": selectors.suggestions(review),
        "can_link": has_role(user=request.user, review=review, roles=STUDY_ROLES),
    }
    return render(request, "extraction/studies.html", context)


@login_required
@require_POST
def study_create(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    try:
        study = services.study_create(
            actor=request.user,
            review=review,
            records=request.POST.getlist("records"),
            label=request.POST.get("label", ""),
            basis=request.POST.get("basis", ""),
        )
    except ValidationError as exc:
        refuse(request, exc)
        return redirect("extraction:studies", slug=review.slug)
    messages.success(request, f"Study {study.label} created.")
    return redirect("extraction:studies", slug=review.slug)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def study(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    if request.method == "POST":
        try:
            services.study_update(
                actor=request.user,
                review=review,
                study=obj,
                label=request.POST.get("label"),
                notes=request.POST.get("notes"),
            )
        except ValidationError as exc:
            refuse(request, exc)
        else:
            messages.success(request, "Study saved.")
        return redirect("extraction:study", slug=review.slug, pk=obj.pk)
    parts = selectors.group_links(obj)
    context = {
        "review": review,
        "section": "studies",
        "study": obj,
        "included_links": parts.get("included", []),
        "not_included_links": parts.get("not_included", []),
        "unlinked": selectors.unlinked_reports(review),
        "can_link": has_role(user=request.user, review=review, roles=STUDY_ROLES),
        "status": selectors.study_status(obj),
        "effects": selectors.effect_sizes(obj),
    }
    return render(request, "extraction/study.html", context)


@login_required
@require_POST
def study_link(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    try:
        services.study_link(
            actor=request.user,
            review=review,
            study=obj,
            records=request.POST.getlist("records"),
            basis=request.POST.get("basis", ""),
        )
    except ValidationError as exc:
        refuse(request, exc)
    else:
        messages.success(request, f"Linked to {obj.label}.")
    if request.POST.get("next") == "studies":
        return redirect("extraction:studies", slug=review.slug)
    return redirect("extraction:study", slug=review.slug, pk=obj.pk)


@login_required
@require_POST
def study_unlink(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    try:
        left = services.study_unlink(
            actor=request.user, review=review, study=obj, record=request.POST.get("record")
        )
    except ValidationError as exc:
        refuse(request, exc)
        return redirect("extraction:study", slug=review.slug, pk=obj.pk)
    if left is None:
        messages.success(request, "The study had no other report and was deleted.")
        return redirect("extraction:studies", slug=review.slug)
    messages.success(request, "Report taken out of the study.")
    return redirect("extraction:study", slug=review.slug, pk=obj.pk)


@login_required
@require_POST
def study_delete(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    services.study_delete(actor=request.user, review=review, study=obj)
    messages.success(request, f"Study {obj.label} deleted; its reports are unlinked.")
    return redirect("extraction:studies", slug=review.slug)


# --- Forms, extraction, comparison and consensus (issue 16, parts 2-5) ------------------------


def _values_from_post(request, schema: dict) -> dict:
    """The posted values by flat key (a multiple choice as a list)."""
    from extraction import schema as forms

    values = {}
    for key in request.POST:
        if key in ("csrfmiddlewaretoken", "next"):
            continue
        f = forms.field_of(schema, key)
        values[key] = (
            request.POST.getlist(key) if f and f["type"] == forms.MULTIPLE else request.POST[key]
        )
    return values


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def form(request, slug: str):
    """The extraction form: every member reads it; a lead edits the draft and publishes."""
    from extraction import schema as forms
    from extraction.constants import FORM_ROLES
    from reviews.access import require_role

    review = review_for_user(user=request.user, slug=slug)
    if request.method == "POST":
        require_role(
            user=request.user, review=review, roles=FORM_ROLES, action="edit the extraction form"
        )
        action = request.POST.get("action", "")
        try:
            if action == "template":
                services.form_use_template(actor=request.user, review=review)
                messages.success(request, "The draft now holds the Cochrane RCT template.")
            elif action == "add":
                services.form_add_field(
                    actor=request.user,
                    review=review,
                    where=request.POST.get("where", ""),
                    label=request.POST.get("label", ""),
                    type_=request.POST.get("type", forms.TEXT),
                    help_=request.POST.get("help", ""),
                    required=bool(request.POST.get("required")),
                    choices=request.POST.get("choices", ""),
                    key=request.POST.get("key", ""),
                )
                messages.success(request, "Field added to the draft.")
            elif action == "remove":
                services.form_remove_field(
                    actor=request.user, review=review, key=request.POST.get("key", "")
                )
                messages.success(
                    request, "Field removed from the draft; values already extracted are kept."
                )
            elif action == "publish":
                version, created = services.form_publish(actor=request.user, review=review)
                messages.success(
                    request,
                    f"Published as version {version.number}."
                    if created
                    else f"The draft is version {version.number} already.",
                )
            else:
                messages.error(request, "Choose what to do: template, add, remove or publish.")
        except ValidationError as exc:
            refuse(request, exc)
        return redirect("extraction:form", slug=review.slug)
    current = selectors.form_of(review)
    latest = selectors.latest_version(review)
    context = {
        "review": review,
        "section": "studies",
        "draft": current.draft if current else forms.empty_schema(),
        "latest": latest,
        "unpublished": bool(current and (latest is None or latest.schema != current.draft)),
        "versions": list(current.versions.order_by("-number")) if current else [],
        "field_types": forms.FIELD_TYPES,
        "result_fields": forms.RESULT_FIELDS,
        "can_edit": has_role(user=request.user, review=review, roles=FORM_ROLES),
    }
    return render(request, "extraction/form.html", context)


def _fulltexts(study: Study) -> list[dict]:
    """The full texts of the study's reports (from full-text screening) the page can show."""
    from screening.constants import Stage
    from screening.models import ScreeningItem

    out = []
    for link in study.links.select_related("record__fulltext_report"):
        report = getattr(link.record, "fulltext_report", None)
        if report is None:
            continue
        item = ScreeningItem.objects.filter(record=link.record, stage=Stage.FULL_TEXT).first()
        out.append({"record": link.record, "report": report, "item": item})
    return out


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def extract(request, slug: str, pk: int):
    """The extraction page: the study's full text beside the form; values saved as you go
    (htmx posts each changed field; without script the whole form is posted)."""
    from extraction import schema as forms
    from extraction.constants import EXTRACT_ROLES
    from reviews.access import require_role

    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    if request.method == "POST":
        require_role(user=request.user, review=review, roles=EXTRACT_ROLES, action="extract data")
        version = selectors.latest_version(review)
        schema = version.schema if version else forms.empty_schema()
        error, saved = "", None
        try:
            saved = services.extraction_save(
                actor=request.user,
                review=review,
                study=obj,
                values=_values_from_post(request, schema),
            )
        except ValidationError as exc:
            error = " ".join(messages_of(exc))
        if request.headers.get("HX-Request"):
            problems = forms.cross_checks(saved.values) if saved else {}
            status = 200 if saved else 400
            return render(
                request,
                "extraction/_saved.html",
                {"error": error, "problems": problems.values(), "saved": saved},
                status=status,
            )
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Saved.")
        return redirect("extraction:extract", slug=review.slug, pk=obj.pk)
    version = selectors.latest_version(review)
    mine = selectors.own_extraction(request.user, obj)
    values = mine.values if mine else {}
    problems = forms.cross_checks(values)
    context = {
        "review": review,
        "section": "studies",
        "study": obj,
        "version": version,
        "mine": mine,
        "layout": selectors.sections_for(version.schema, values, problems) if version else None,
        "problems": problems,
        "fulltexts": _fulltexts(obj),
        "status": selectors.study_status(obj),
        "can_extract": has_role(user=request.user, review=review, roles=EXTRACT_ROLES)
        and not (mine and mine.done),
        "may_extract": has_role(user=request.user, review=review, roles=EXTRACT_ROLES),
    }
    return render(request, "extraction/extract.html", context)


@login_required
@require_POST
def extract_done(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    done = request.POST.get("done", "1") != "0"
    try:
        services.extraction_mark(actor=request.user, review=review, study=obj, done=done)
    except ValidationError as exc:
        refuse(request, exc)
    else:
        messages.success(request, "Marked done." if done else "Reopened.")
    return redirect("extraction:extract", slug=review.slug, pk=obj.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def compare(request, slug: str, pk: int):
    """The two extractions side by side, every differing field highlighted; a lead or a third
    member picks A, B or types a value per field. Hidden until both extractions are done
    (leads see it at once)."""
    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    if request.method == "POST":
        if not services.may_make_consensus(user=request.user, review=review, study=obj):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("A lead or a member who did not extract makes the consensus.")
        picks = {}
        for name, value in request.POST.items():
            if name.startswith("pick:") and value:
                key = name[5:]
                picks[key] = {"pick": value, "value": request.POST.get(f"value:{key}", "")}
        try:
            services.consensus_save(
                actor=request.user,
                review=review,
                study=obj,
                picks=picks,
                finish=bool(request.POST.get("finish")),
            )
        except ValidationError as exc:
            refuse(request, exc)
        else:
            messages.success(request, "Consensus saved.")
        return redirect("extraction:compare", slug=review.slug, pk=obj.pk)
    visible = selectors.sees_all_extractions(request.user, review, obj)
    version = selectors.latest_version(review)
    pair = selectors.visible_extractions(request.user, review, obj) if visible else []
    consensus = selectors.consensus_of(obj)
    context = {
        "review": review,
        "section": "studies",
        "study": obj,
        "visible": visible,
        "pair": pair,
        "rows": selectors.comparison(obj, version.schema) if visible and version else [],
        "consensus": consensus,
        "status": selectors.study_status(obj),
        "may_resolve": visible
        and selectors.both_done(obj)
        and services.may_make_consensus(user=request.user, review=review, study=obj),
    }
    return render(request, "extraction/compare.html", context)


@login_required
@require_safe
@xframe_options_sameorigin
def fulltext(request, slug: str, pk: int):
    """The PDF of one of the study's reports (``?record=``, else the first with a PDF), inline
    so the extraction page can show it beside the form: only this site may frame it, it is
    always ``application/pdf`` with ``nosniff``, and its policy allows no script or resource."""
    from django.http import FileResponse, Http404

    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(Study.objects.all(), review=review, pk=pk)
    wanted = request.GET.get("record", "")
    for ft in _fulltexts(obj):
        if ft["report"].file and (not wanted or str(ft["record"].pk) == wanted):
            response = FileResponse(
                ft["report"].file.open("rb"),
                content_type="application/pdf",
                filename=f"record-{ft['record'].pk}.pdf",
            )
            response["Content-Type"] = "application/pdf"
            response["X-Content-Type-Options"] = "nosniff"
            response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
            return response
    raise Http404("No PDF is attached to this study's reports.")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def snapshots(request, slug: str):
    """The finalised snapshots, newest first (stale ones marked); a lead finalises the next."""
    from extraction.constants import FINALISE_ROLES

    review = review_for_user(user=request.user, slug=slug)
    if request.method == "POST":
        try:
            snap = services.snapshot_finalise(actor=request.user, review=review)
        except ValidationError as exc:
            refuse(request, exc)
        else:
            messages.success(request, f"Snapshot {snap.number} finalised ({snap.studies} studies).")
            return redirect("extraction:snapshot", slug=review.slug, pk=snap.pk)
        return redirect("extraction:snapshots", slug=review.slug)
    content = selectors.snapshot_content(review)
    context = {
        "review": review,
        "section": "studies",
        "snapshots": selectors.snapshots_with_stale(review),
        "ready": len(content["studies"]),
        "left_out": content["left_out"],
        "can_finalise": has_role(user=request.user, review=review, roles=FINALISE_ROLES),
    }
    return render(request, "extraction/snapshots.html", context)


@login_required
@require_safe
def snapshot(request, slug: str, pk: int):
    """One snapshot: its studies' effect sizes, its SHA-256 and whether it is stale."""
    from extraction.models import ExtractionSnapshot

    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(ExtractionSnapshot.objects.all(), review=review, pk=pk)
    context = {
        "review": review,
        "section": "studies",
        "snapshot": obj,
        "stale": obj.stale,
        "studies": obj.content.get("studies", []),
        "left_out": obj.content.get("left_out", []),
    }
    return render(request, "extraction/snapshot.html", context)


@login_required
@require_safe
def export(request, slug: str):
    """The extracted data as CSV or XLSX (``?format=``), of a snapshot (``?snapshot=<id>``) or
    of the current consensus: one row per result row, the study's characteristics joined."""
    from django.http import HttpResponse

    from extraction import exports
    from extraction.models import ExtractionSnapshot

    review = review_for_user(user=request.user, slug=slug)
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        messages.error(request, "Choose the format csv or xlsx.")
        return redirect("extraction:snapshots", slug=review.slug)
    snap = None
    if request.GET.get("snapshot"):
        snap = scoped_get(
            ExtractionSnapshot.objects.all(), review=review, pk=request.GET["snapshot"]
        )
    studies, schema, name = selectors.export_source(review, snap)
    body, media_type, filename = exports.export_file(
        studies=studies, schema=schema, fmt=fmt, name=name
    )
    response = HttpResponse(body, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


_IMPORT_SALT = "extraction.import"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_data(request, slug: str):
    """Import extracted data from a spreadsheet into consensus extractions, in two steps: upload
    the CSV or XLSX, then map its columns to the form's fields (suggested where the column is
    named as the export names it); the report says what did not fit."""
    from django.core import signing

    from extraction import imports
    from extraction.constants import FORM_ROLES
    from identification.importers.errors import ImportFormatError
    from reviews.access import require_role

    review = review_for_user(user=request.user, slug=slug)
    version = selectors.latest_version(review)
    context = {
        "review": review,
        "section": "studies",
        "version": version,
        "can_import": has_role(user=request.user, review=review, roles=FORM_ROLES),
        "limit_mb": imports.MAX_IMPORT_BYTES // (1024 * 1024),
    }
    if request.method != "POST":
        return render(request, "extraction/import.html", context)
    require_role(user=request.user, review=review, roles=FORM_ROLES, action="import extracted data")
    if version is None:
        messages.error(request, "A lead has not published an extraction form yet.")
        return redirect("extraction:import", slug=review.slug)
    if "table" not in request.POST:
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a CSV or XLSX file.")
            return redirect("extraction:import", slug=review.slug)
        try:
            header, rows = imports.read_table(upload, upload.name)
        except ImportFormatError as exc:
            messages.error(request, f"The file was not imported: {exc}.")
            return redirect("extraction:import", slug=review.slug)
        suggested = imports.suggest_mapping(header, version.schema)
        context |= {
            "table": signing.dumps(
                {"header": header, "rows": rows}, salt=_IMPORT_SALT, compress=True
            ),
            "columns": [
                {
                    "index": i,
                    "name": c,
                    "suggested": suggested.get(c, ""),
                    "sample": rows[0][i] if rows and i < len(rows[0]) else "",
                }
                for i, c in enumerate(header)
            ],
            "targets": imports.targets(version.schema),
            "count": len(rows),
        }
        return render(request, "extraction/import.html", context)
    try:
        table = signing.loads(request.POST["table"], salt=_IMPORT_SALT)
    except signing.BadSignature:
        messages.error(request, "The uploaded table was damaged on the way; upload it again.")
        return redirect("extraction:import", slug=review.slug)
    header = table["header"]
    mapping = {c: request.POST.get(f"map:{i}", "") for i, c in enumerate(header)}
    try:
        report = services.consensus_import(
            actor=request.user, review=review, header=header, rows=table["rows"], mapping=mapping
        )
    except ValidationError as exc:
        refuse(request, exc)
        return redirect("extraction:import", slug=review.slug)
    context["report"] = report
    return render(request, "extraction/import.html", context)
