"""The PRISMA 2020 flow diagram page, its downloads and the hand-entered numbers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from core import figures
from core.forms import apply_errors
from core.text import is_digits
from identification import rounds
from identification import selectors as record_selectors
from identification.forms import record_filters
from reporting import archive, archive_pending, changelog, exports, prisma, selectors, services
from reporting.forms import ArchiveImportForm, ArchivePeopleForm, PrismaEntryForm
from reporting.models import PrismaEntry
from reviews.access import has_role, require_role, review_for_user
from reviews.constants import Role
from screening.constants import STAGE_CODES, Stage

CONTENT_TYPES = figures.CONTENT_TYPES | {"csv": "text/csv; charset=utf-8"}


def round_asked(request, review) -> int | None:
    """The round of ``?round=N`` (None: the latest); a round the review lacks is a 404."""
    value = request.GET.get("round", "")
    if not value:
        return None
    if not is_digits(value) or not 1 <= int(value) <= rounds.current_round_number(review):
        raise Http404("This review has no such round.")
    return int(value)


def prisma_file(review, fmt: str, round_number: int | None = None) -> bytes:
    report = selectors.prisma_report(review=review, round_number=round_number)
    if fmt == "csv":
        return prisma.to_prisma2020_csv(report.counts).encode("utf-8")
    # The figure for a paper carries no check panel; the page shows the check beside it.
    return prisma.render(report.counts, fmt)


@login_required
@require_http_methods(["GET", "POST"])
def prisma_page(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    is_lead = has_role(user=request.user, review=review, roles=[Role.LEAD])
    entry = PrismaEntry.objects.filter(review=review).first()
    initial = {}
    if entry:
        initial = {f: getattr(entry, f) for f in services.ENTRY_FIELDS}
        initial["other_excluded"] = "\n".join(f"{r}, {n}" for r, n in entry.other_excluded)
    form = PrismaEntryForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        require_role(
            user=request.user, review=review, roles=[Role.LEAD], action="edit the PRISMA entries"
        )
        if form.is_valid():
            try:
                services.prisma_entry_update(actor=request.user, review=review, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Hand-entered PRISMA numbers saved.")
                return redirect("reporting:prisma", slug=review.slug)
        status = 400
    round_number = round_asked(request, review)
    report = selectors.prisma_report(review=review, user=request.user, round_number=round_number)
    context = {
        "review": review,
        "section": "prisma",
        "report": report,
        "rounds": rounds.rounds_of(review) if rounds.current_round_number(review) > 1 else [],
        "round_number": round_number or rounds.current_round_number(review),
        "round_query": f"round={round_number}" if round_number else "",
        "errors": [i for i in report.issues if i.severity == "error"],
        "notes": [i for i in report.issues if i.severity != "error"],
        "form": form,
        "is_lead": is_lead,
        "exports": [(name, spec[0]) for name, spec in exports.EXPORTS.items()],
    }
    return render(request, "reporting/prisma.html", context, status=status)


@login_required
@require_safe
def prisma_download(request, slug: str, fmt: str):
    review = review_for_user(user=request.user, slug=slug)
    if fmt not in CONTENT_TYPES:
        raise Http404("No such format.")
    response = HttpResponse(
        prisma_file(review, fmt, round_asked(request, review)), content_type=CONTENT_TYPES[fmt]
    )
    disposition = "inline" if fmt == "svg" and request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{review.slug}-prisma.{fmt}"'
    return response


@login_required
@require_safe
def report_export(request, slug: str, name: str):
    review = review_for_user(user=request.user, slug=slug)
    if name not in exports.EXPORTS:
        raise Http404("No such export.")
    _label, suffix, content_type = exports.EXPORTS[name]
    response = HttpResponse(
        exports.build_export(review=review, name=name), content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-{suffix}"'
    return response


@login_required
@require_safe
def review_archive(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(user=request.user, review=review, roles=[Role.LEAD], action="export the review")
    response = HttpResponse(archive.archive_bytes(review=review), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-archive.zip"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def review_import(request):
    """Import an archive in two steps: upload it (checked, and kept for its importer), then say
    who is who (``archive_pending``) and import it."""
    if request.method == "POST" and "pending" in request.POST:
        return _review_import_people(request)
    form = ArchiveImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, check = archive_pending.pending_check(
                user=request.user,
                upload=form.cleaned_data["archive"],
                slug=form.cleaned_data["slug"] or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            people = ArchivePeopleForm(
                people=check.people, initial={"pending": token, "slug": check.slug or ""}
            )
            return _people_page(request, check, people)
    return render(
        request, "reporting/import.html", {"form": form}, status=400 if form.errors else 200
    )


def _review_import_people(request):
    token = request.POST.get("pending", "")
    try:
        check = archive_pending.pending_people(user=request.user, token=token)
    except ValidationError as exc:
        return _upload_again(request, exc)
    people = ArchivePeopleForm(request.POST, people=check.people)
    if people.is_valid():
        try:
            review = archive_pending.pending_import(
                user=request.user,
                token=token,
                slug=people.cleaned_data["slug"] or None,
                mapping=people.mapping(),
            )
        except archive.ArchiveChoiceError as exc:
            apply_errors(people, exc)
        except ValidationError as exc:
            # The archive itself is refused: it is gone, and only a new upload can follow.
            return _upload_again(request, exc)
        else:
            messages.success(request, f"Review “{review.title}” imported.")
            return redirect("reviews:dashboard", slug=review.slug)
    return _people_page(request, check, people, status=400)


def _upload_again(request, exc: ValidationError):
    context = {"form": ArchiveImportForm(), "errors": exc.messages}
    return render(request, "reporting/import.html", context, status=400)


def _people_page(request, check, people: ArchivePeopleForm, status: int = 200):
    return render(
        request,
        "reporting/import.html",
        {"check": check, "people_form": people},
        status=status,
    )


@login_required
@require_safe
def record_export(request, slug: str):
    """The records the record list shows for the same filters, as RIS or CSV."""
    review = review_for_user(user=request.user, slug=slug)
    fmt = request.GET.get("format") or "csv"
    form, filters = record_filters(request.GET)
    problems = [
        f"{form[name].label if name in form.fields else name}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    ]
    if fmt not in ("csv", "ris"):
        problems.append(f"Format: choose ris or csv, not “{fmt[:20]}”.")
    if problems:
        # Exporting everything instead would look like the answer; say what is wrong instead.
        return HttpResponse(
            "Nothing was exported: some filters were not understood.\n" + "\n".join(problems),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    records = record_selectors.records_filtered(review=review, filters=filters, user=request.user)
    content_type = "text/csv" if fmt == "csv" else "application/x-research-info-systems"
    spool = exports.records_export(records, fmt)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{review.slug}-records.{fmt}",
        content_type=f"{content_type}; charset=utf-8",
    )


@login_required
@require_safe
def review_audit_csv(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(user=request.user, review=review, roles=[Role.LEAD], action="export the audit log")
    response = StreamingHttpResponse(
        exports.audit_csv_rows(review=review), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-audit-log.csv"'
    return response


# --- Screening's files (their pages are screening's) ----------------------------------------


@login_required
@require_GET
def agreement_csv(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    response = HttpResponse(
        "".join(exports.agreement_csv_rows(review, user=request.user)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-agreement.csv"'
    return response


@login_required
@require_GET
def votes_csv(request, slug: str, stage: str):
    review = review_for_user(user=request.user, slug=slug)
    response = StreamingHttpResponse(
        exports.votes_csv_rows(user=request.user, review=review, stage=stage),
        content_type="text/csv; charset=utf-8",
    )
    code = STAGE_CODES[Stage(stage)]
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-{code}-votes.csv"'
    return response


@login_required
@require_safe
def changelog_page(request, slug: str):
    """The change log of an updated review: what each round did (every member reads it)."""
    review = review_for_user(user=request.user, slug=slug)
    context = {
        "review": review,
        "section": "prisma",
        "changes": changelog.change_log(review),
        "no_analyses": changelog.NO_ANALYSES,
    }
    return render(request, "reporting/changelog.html", context)


@login_required
@require_safe
def changelog_markdown(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    response = HttpResponse(
        changelog.change_log_markdown(review), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-changelog.md"'
    return response
