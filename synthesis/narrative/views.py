"""Pages of the narrative synthesis, under ``reviews/<slug>/synthesis/narrative/``: the list, a
new one, one synthesis (its groups, vote counting, summaries, combined p-values, the
effect-direction and harvest plots, the characteristics and results table, directions set by
hand), edit, delete, the figures and table files, and the SWiM checklist (page and Markdown).
Every member reads; statisticians and leads write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.forms import refuse, submit
from extraction import selectors as extraction
from reviews.access import may_open, require_role, review_for_user, scoped_get
from synthesis.constants import ANALYSIS_ROLES
from synthesis.narrative import exports, selectors, services
from synthesis.narrative.forms import NarrativeForm, initial_of
from synthesis.narrative.models import DIRECTION_CHOICES, NarrativeSynthesis
from synthesis.selectors import study_fields


def _may_write(request, review) -> bool:
    return may_open(user=request.user, review=review, page="synthesis_define")


def _get(review, pk) -> NarrativeSynthesis:
    return scoped_get(selectors.syntheses_of(review), review=review, pk=pk)


def _form_for(review, data=None, initial=None, synthesis=None):
    snapshots = list(extraction.snapshots_of(review).order_by("-number"))
    chosen = (synthesis.snapshot if synthesis else None) or (snapshots[0] if snapshots else None)
    fields = study_fields(chosen)
    outcomes = selectors.outcome_names(chosen)
    studies = selectors.study_labels(chosen)
    if synthesis is not None:
        fields = list(
            dict.fromkeys([*fields, *([synthesis.group_by] if synthesis.group_by else [])])
        )
        outcomes = list(dict.fromkeys([*outcomes, *(o["outcome"] for o in synthesis.outcomes)]))
        studies = list(dict.fromkeys([*studies, *synthesis.studies]))
    return NarrativeForm(
        data,
        initial=initial,
        snapshots=snapshots,
        fields=fields,
        studies=studies,
        outcomes=outcomes,
    )


def _save(request, review, form, synthesis=None):
    def save(data):
        if synthesis is None:
            return services.synthesis_create(actor=request.user, review=review, data=data)
        return services.synthesis_update(
            actor=request.user, review=review, synthesis=synthesis, data=data
        )

    return submit(form, save)


@login_required
@require_safe
def narrative_list(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    context = {
        "review": review,
        "section": "narrative",
        "syntheses": list(selectors.syntheses_of(review)),
        "latest_snapshot": extraction.latest_snapshot(review),
        "can_write": _may_write(request, review),
    }
    return render(request, "synthesis/narrative/list.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def narrative_new(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user, review=review, roles=ANALYSIS_ROLES, action="define narrative syntheses"
    )
    form = _form_for(
        review,
        request.POST if request.method == "POST" else None,
        initial={"selection": "not_pooled"},
    )
    if request.method == "POST":
        saved = _save(request, review, form)
        if saved is not None:
            messages.success(request, f"Narrative synthesis “{saved.name}” defined.")
            return redirect("synthesis:narrative", slug=review.slug, pk=saved.pk)
    context = {
        "review": review,
        "section": "narrative",
        "form": form,
        "title": "New narrative synthesis",
    }
    return render(request, "synthesis/narrative/form.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def narrative_edit(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    require_role(
        user=request.user, review=review, roles=ANALYSIS_ROLES, action="edit narrative syntheses"
    )
    form = _form_for(
        review,
        request.POST if request.method == "POST" else None,
        initial=initial_of(synthesis),
        synthesis=synthesis,
    )
    if request.method == "POST":
        saved = _save(request, review, form, synthesis)
        if saved is not None:
            messages.success(request, f"Narrative synthesis “{saved.name}” saved.")
            return redirect("synthesis:narrative", slug=review.slug, pk=saved.pk)
    context = {
        "review": review,
        "section": "narrative",
        "form": form,
        "synthesis": synthesis,
        "title": f"Edit “{synthesis.name}”",
    }
    return render(request, "synthesis/narrative/form.html", context)


@login_required
@require_POST
def narrative_delete(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    services.synthesis_delete(actor=request.user, review=review, synthesis=synthesis)
    messages.success(request, f"Narrative synthesis “{synthesis.name}” deleted.")
    return redirect("synthesis:narrative_list", slug=review.slug)


@login_required
@require_safe
def narrative(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    data = selectors.compute(synthesis)
    columns, rows = selectors.characteristics_table(synthesis, data)
    domain_columns, domain_rows = selectors.domain_table(data)
    context = {
        "review": review,
        "section": "narrative",
        "synthesis": synthesis,
        "data": data,
        "columns": columns,
        "table": rows,
        "domain_columns": domain_columns,
        "domain_table": domain_rows,
        "entries": list(synthesis.directions.all()),
        "directions": DIRECTION_CHOICES,
        "can_write": _may_write(request, review),
        "formats": list(exports.FIGURE_FORMATS),
    }
    return render(request, "synthesis/narrative/detail.html", context)


@login_required
@require_POST
def narrative_direction(request, slug: str, pk: int):
    """Set (or clear) a study's direction for an outcome by hand, with a reason."""
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    try:
        services.direction_set(
            actor=request.user, review=review, synthesis=synthesis, data=request.POST.dict()
        )
    except ValidationError as exc:
        refuse(request, exc, with_fields=True)
    else:
        messages.success(request, "Effect direction saved.")
    return redirect("synthesis:narrative", slug=review.slug, pk=synthesis.pk)


@login_required
@require_safe
def narrative_figure(request, slug: str, pk: int, narrative_figure: str, fmt: str):
    figure = narrative_figure
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    if figure not in exports.FIGURE_KINDS or fmt not in exports.FIGURE_FORMATS:
        raise Http404("No such figure.")
    body = exports.figure_bytes(synthesis, selectors.compute(synthesis), figure, fmt)
    response = HttpResponse(body, content_type=exports.FIGURE_FORMATS[fmt])
    if request.GET.get("download"):
        name = f"{exports.safe_slug(synthesis.name)}-{figure.replace('_', '-')}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_safe
def narrative_export(request, slug: str, pk: int):
    """``?format=csv|xlsx`` (``&table=studies|domains`` for CSV): the characteristics and results
    of the included studies, or the directions per outcome domain."""
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    fmt = request.GET.get("format", "csv")
    table = request.GET.get("table", "studies")
    if fmt not in exports.TABLE_FORMATS or table not in exports.TABLES:
        messages.error(request, "Choose the format csv or xlsx and the table studies or domains.")
        return redirect("synthesis:narrative", slug=review.slug, pk=synthesis.pk)
    body, media_type, filename = exports.table_bytes(
        synthesis, selectors.compute(synthesis), fmt, table
    )
    response = HttpResponse(body, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def narrative_domains(request, slug: str, pk: int):
    """The outcome domains: which outcomes are synthesised together (Thomson & Thomas 2013)."""
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    names = [o["outcome"] for o in synthesis.outcomes]
    if request.method == "POST":
        try:
            services.domains_set(
                actor=request.user,
                review=review,
                synthesis=synthesis,
                data={n: request.POST.get(f"domain_{i}", "") for i, n in enumerate(names)},
            )
        except ValidationError as exc:
            refuse(request, exc, with_fields=True)
            return redirect("synthesis:narrative_domains", slug=review.slug, pk=synthesis.pk)
        messages.success(request, "Outcome domains saved.")
        return redirect("synthesis:narrative", slug=review.slug, pk=synthesis.pk)
    context = {
        "review": review,
        "section": "narrative",
        "synthesis": synthesis,
        "rows": [
            {"index": i, "outcome": n, "domain": selectors.domain_of(synthesis, n)}
            for i, n in enumerate(names)
        ],
        "domains": selectors.domains_of(synthesis),
        "can_write": _may_write(request, review),
    }
    return render(request, "synthesis/narrative/domains.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def narrative_swim(request, slug: str, pk: int):
    """The SWiM checklist: filled from what the team did; the team writes the rest."""
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    if request.method == "POST":
        keys = [k for k, _, _ in selectors.SWIM_ITEMS]
        try:
            services.swim_save(
                actor=request.user,
                review=review,
                synthesis=synthesis,
                data={k: request.POST.get(f"item_{k}", "") for k in keys},
            )
        except ValidationError as exc:
            refuse(request, exc, with_fields=True)
        else:
            messages.success(request, "SWiM checklist saved.")
        return redirect("synthesis:narrative_swim", slug=review.slug, pk=synthesis.pk)
    data = selectors.compute(synthesis)
    context = {
        "review": review,
        "section": "narrative",
        "synthesis": synthesis,
        "items": selectors.swim_checklist(synthesis, data),
        "citation": selectors.SWIM_CITATION,
        "can_write": _may_write(request, review),
    }
    return render(request, "synthesis/narrative/swim.html", context)


@login_required
@require_safe
def narrative_swim_markdown(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    synthesis = _get(review, pk)
    body = selectors.swim_markdown(synthesis, selectors.compute(synthesis))
    response = HttpResponse(body.encode("utf-8"), content_type="text/markdown; charset=utf-8")
    name = f"{exports.safe_slug(synthesis.name)}-swim.md"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
