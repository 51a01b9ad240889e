"""Pages of the summary of findings, under ``reviews/<slug>/synthesis/sof/``: the table (every
member reads; statisticians and leads choose rows and set the table), a row (each GRADE
domain's suggestion with its evidence and rule, the lead's judgements, the statement) and the
exports. Writes check the role before they read the input."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from reviews.access import may_open, require_role, review_for_user, scoped_get
from synthesis.constants import ANALYSIS_ROLES
from synthesis.models import Analysis
from synthesis.sof import exports, selectors, services
from synthesis.sof.models import DOWN_CHOICES, UP_CHOICES, UPGRADE_DOMAINS


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def _form_data(request) -> dict:
    """The POST as a dict; an unticked checkbox is absent from a form, so it means no."""
    data = request.POST.dict()
    for key in ("randomised", "dose_response"):
        data.setdefault(key, "")
    return data


def _may_write(request, review) -> bool:
    return may_open(user=request.user, review=review, page="synthesis_define")


def _require(request, review) -> None:
    require_role(
        user=request.user,
        review=review,
        roles=ANALYSIS_ROLES,
        action="edit the summary of findings",
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def table(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    errors: list[str] = []
    if request.method == "POST":
        _require(request, review)
        action = request.POST.get("action")
        try:
            if action == "table":
                services.table_save(actor=request.user, review=review, data=request.POST)
                messages.success(request, "Summary-of-findings table saved.")
            elif action == "add_row":
                row = services.row_add(actor=request.user, review=review, data=_form_data(request))
                messages.success(request, f"Row “{row.outcome_label}” added.")
                return redirect("synthesis:sof_row", slug=review.slug, pk=row.pk)
            else:
                raise ValidationError("Unknown action.")
            return redirect("synthesis:sof", slug=review.slug)
        except ValidationError as exc:
            errors = _errors(exc)
    view = selectors.table_view(review)
    used = {rv.row.analysis_id for rv in view["rows"]}
    context = {
        "review": review,
        "section": "sof",
        "view": view,
        "errors": errors,
        "posted": request.POST if errors else None,
        "can_write": _may_write(request, review),
        "analyses": [a for a in Analysis.objects.filter(review=review) if a.pk not in used],
    }
    return render(request, "synthesis/sof/table.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def row(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    obj = scoped_get(selectors.rows_of(review), review=review, pk=pk)
    errors: list[str] = []
    if request.method == "POST":
        _require(request, review)
        action = request.POST.get("action")
        try:
            if action == "judge":
                services.judge(
                    actor=request.user,
                    review=review,
                    row=obj,
                    domain=request.POST.get("domain", ""),
                    judgement=request.POST.get("judgement", ""),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, "Judgement saved.")
            elif action == "settings":
                services.row_update(
                    actor=request.user, review=review, row=obj, data=_form_data(request)
                )
                messages.success(request, "Row saved.")
            elif action == "statement":
                services.statement_edit(
                    actor=request.user,
                    review=review,
                    row=obj,
                    text=request.POST.get("statement", ""),
                )
                messages.success(request, "Statement saved.")
            elif action == "redraft":
                services.row_redraft(actor=request.user, review=review, row=obj)
                messages.success(request, "Row drafted from the analysis's latest result.")
            elif action == "delete":
                services.row_remove(actor=request.user, review=review, row=obj)
                messages.success(request, "Row removed.")
                return redirect("synthesis:sof", slug=review.slug)
            else:
                raise ValidationError("Unknown action.")
            return redirect("synthesis:sof_row", slug=review.slug, pk=obj.pk)
        except ValidationError as exc:
            errors = _errors(exc)
            obj = scoped_get(selectors.rows_of(review), review=review, pk=pk)
    view = selectors.table_view(review)
    rv = next(r for r in view["rows"] if r.row.pk == obj.pk)
    context = {
        "review": review,
        "section": "sof",
        "rv": rv,
        "footnotes": [f for f in view["footnotes"] if f["row"] == obj.pk],
        "errors": errors,
        "can_write": _may_write(request, review),
        "down_choices": [c for c, _ in DOWN_CHOICES],
        "up_choices": [c for c, _ in UP_CHOICES],
        "upgrade_domains": UPGRADE_DOMAINS,
    }
    return render(request, "synthesis/sof/row.html", context, status=400 if errors else 200)


@login_required
@require_safe
def export(request, slug: str):
    """``?format=html`` (the default), ``xlsx`` or ``csv``."""
    review = review_for_user(user=request.user, slug=slug)
    fmt = request.GET.get("format", "html")
    if fmt not in exports.FORMATS:
        raise Http404("No such export.")
    view = selectors.table_view(review)
    if view["table"] is None:
        raise Http404("This review has no summary-of-findings table yet.")
    body, media_type, filename = exports.export_bytes(review, view, fmt)
    response = HttpResponse(body, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
