"""Pages of the synthesis step, under ``reviews/<slug>/synthesis/``: the analyses, one
analysis (its definition, departures from the protocol's plan, its run's progress and error),
a stored result (every number, the figures, the exports). Every member reads; statisticians
and leads define, edit, delete and run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import job_display
from core.forms import refuse, submit
from extraction import selectors as extraction
from reviews.access import may_open, require_role, review_for_user, scoped_get
from synthesis import exports, selectors, services
from synthesis.constants import ANALYSIS_ROLES, FIGURE_FORMATS, FIGURE_KINDS
from synthesis.forms import AnalysisForm, initial_of
from synthesis.models import Analysis, AnalysisResult


def _may_write(request, review) -> bool:
    return may_open(user=request.user, review=review, page="synthesis_define")


@login_required
@require_safe
def analyses(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    context = {
        "review": review,
        "section": "synthesis",
        "analyses": selectors.analyses_with_latest(review),
        "latest_snapshot": extraction.latest_snapshot(review),
        "plan": selectors.plan_defaults(review),
        "can_write": _may_write(request, review),
    }
    return render(request, "synthesis/analyses.html", context)


def _form_for(review, data=None, initial=None, extra_field: str = ""):
    snapshots = list(extraction.snapshots_of(review).order_by("-number"))
    latest = snapshots[0] if snapshots else None
    fields = selectors.study_fields(latest)
    if extra_field and extra_field not in fields:
        fields.append(extra_field)
    form = AnalysisForm(data, initial=initial, snapshots=snapshots, fields=fields)
    # The latest snapshot's outcomes and arms, offered as the fields are typed.
    form.fields["outcome"].widget.attrs["list"] = "synthesis-outcomes"
    for key in ("arm1", "arm2"):
        form.fields[key].widget.attrs["list"] = "synthesis-arms"
    form.fields["timepoint"].widget.attrs["list"] = "synthesis-timepoints"
    return form, latest


def _offer_dependent(form, latest, initial) -> list:
    """The studies with several result rows for the form's outcome (issue 20): the option
    "several effect sizes per study" is then offered pre-ticked, with them as the reason."""
    source = form.data if form.is_bound else initial
    narrow = {k: source.get(k) or "" for k in ("timepoint", "arm1", "arm2")}
    several = selectors.several_per_study(latest, source.get("outcome") or "", **narrow)
    if several and not form.is_bound:
        form.initial["dependent"] = True
    if several:
        listed = ", ".join(f"{label} ({n})" for label, n in several[:10])
        form.fields["dependent"].help_text = (
            f"Offered because {len(several)} stud{'y has' if len(several) == 1 else 'ies have'} "
            f"more than one result row for this outcome: {listed}"
            f"{', ...' if len(several) > 10 else ''}. " + form.fields["dependent"].help_text
        )
    return several


def _save(request, review, form, analysis=None):
    """The form through the service; errors back on the form. The saved analysis or None."""

    def save(data):
        if analysis is None:
            return services.analysis_create(actor=request.user, review=review, data=data)
        return services.analysis_update(
            actor=request.user, review=review, analysis=analysis, data=data
        )

    return submit(form, save)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def analysis_new(request, slug: str):
    """Define an analysis; ``?plan=1`` pre-fills it from the protocol's synthesis plan."""
    review = review_for_user(user=request.user, slug=slug)
    require_role(user=request.user, review=review, roles=ANALYSIS_ROLES, action="define analyses")
    initial = {"method": "REML", "test": "z", "level": 95}
    plan = selectors.plan_defaults(review) if request.GET.get("plan") else None
    if plan:
        initial |= plan
    if request.GET.get("outcome"):
        initial["outcome"] = request.GET["outcome"][:500]
    form, latest = _form_for(
        review, request.POST if request.method == "POST" else None, initial=initial
    )
    several = _offer_dependent(form, latest, initial)
    if request.method == "POST":
        saved = _save(request, review, form)
        if saved is not None:
            messages.success(request, f"Analysis “{saved.name}” defined.")
            return redirect("synthesis:analysis", slug=review.slug, pk=saved.pk)
    context = {
        "review": review,
        "section": "synthesis",
        "form": form,
        "outcomes": selectors.outcome_choices(latest),
        "from_plan": bool(plan),
        "several": several,
        "title": "New analysis",
    }
    return render(request, "synthesis/analysis_form.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def analysis_edit(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    analysis = scoped_get(Analysis.objects.all(), review=review, pk=pk)
    require_role(user=request.user, review=review, roles=ANALYSIS_ROLES, action="edit analyses")
    form, latest = _form_for(
        review,
        request.POST if request.method == "POST" else None,
        initial=initial_of(analysis),
        extra_field=analysis.subgroup,
    )
    several = _offer_dependent(form, latest, initial_of(analysis))
    if request.method == "POST":
        saved = _save(request, review, form, analysis)
        if saved is not None:
            messages.success(request, f"Analysis “{saved.name}” saved.")
            return redirect("synthesis:analysis", slug=review.slug, pk=saved.pk)
    context = {
        "review": review,
        "section": "synthesis",
        "form": form,
        "analysis": analysis,
        "outcomes": selectors.outcome_choices(latest),
        "several": several,
        "title": f"Edit “{analysis.name}”",
    }
    return render(request, "synthesis/analysis_form.html", context)


@login_required
@require_POST
def analysis_delete(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    analysis = scoped_get(Analysis.objects.all(), review=review, pk=pk)
    services.analysis_delete(actor=request.user, review=review, analysis=analysis)
    messages.success(request, f"Analysis “{analysis.name}” deleted.")
    return redirect("synthesis:analyses", slug=review.slug)


@login_required
@require_POST
def analysis_run(request, slug: str, pk: int):
    """Queue the run; the browser goes to the job's page, which follows its progress."""
    review = review_for_user(user=request.user, slug=slug)
    analysis = scoped_get(Analysis.objects.all(), review=review, pk=pk)
    try:
        job = services.analysis_run(actor=request.user, review=review, analysis=analysis)
    except ValidationError as exc:
        refuse(request, exc)
        return redirect("synthesis:analysis", slug=review.slug, pk=analysis.pk)
    return redirect("synthesis:run", slug=review.slug, pk=job.pk)


@login_required
@require_safe
def analysis_job(request, slug: str, pk: int):
    """An analysis's run: a progress bar polled by htmx; the result page once it is stored, the
    error (for everyone: it is about the data, not a person) if it failed."""
    from core.htmx import is_htmx
    from core.models import Job

    review = review_for_user(user=request.user, slug=slug)
    found = scoped_get(Job.objects.filter(kind=services.JOB_KIND), review=review, pk=pk)
    analysis = Analysis.objects.filter(review=review, pk=found.params.get("analysis")).first()
    context = {
        "review": review,
        "section": "synthesis",
        "analysis": analysis,
        "run": job_display.with_live_progress(found),
    }
    if found.is_finished and (found.result or {}).get("result"):
        context["result_url"] = _result_url(review, found.result["result"])
    template = "synthesis/fragments/run.html" if is_htmx(request) else "synthesis/run.html"
    return render(request, template, context)


def _result_url(review, result_pk) -> str:
    from django.urls import reverse

    return reverse("synthesis:result", args=[review.slug, result_pk])


@login_required
@require_safe
def analysis(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    analysis = scoped_get(selectors.analyses_of(review), review=review, pk=pk)
    results = list(analysis.results.defer("inputs", "results").order_by("-pk"))
    latest_number = selectors.latest_snapshot_number(review)
    for r in results:
        r.stale = selectors.result_is_stale(r, latest_number)
    run = selectors.last_job(analysis)
    result_url = ""
    if run is not None:
        run = job_display.with_live_progress(run)
        if run.is_finished and (run.result or {}).get("result"):
            result_url = _result_url(review, run.result["result"])
    context = {
        "review": review,
        "section": "synthesis",
        "analysis": analysis,
        "results": results,
        "departures": selectors.departures(analysis),
        "run": run,
        "result_url": result_url,
        "snapshot": selectors.snapshot_for(analysis),
        "can_write": _may_write(request, review),
    }
    return render(request, "synthesis/analysis.html", context)


def _result(review, pk) -> AnalysisResult:
    return scoped_get(
        AnalysisResult.objects.select_related("analysis", "created_by"), review=review, pk=pk
    )


@login_required
@require_safe
def result(request, slug: str, pk: int):
    """Every number of a stored result, the figures (SVG, cached) and the exports."""
    review = review_for_user(user=request.user, slug=slug)
    found = _result(review, pk)
    data = found.results
    main = data.get("main") or {}
    context = {
        "review": review,
        "section": "synthesis",
        "analysis": found.analysis,
        "result": found,
        "data": data,
        "main": main,
        "back": selectors.back_transformed(data, main),
        "subgroups": [
            s | {"back": selectors.back_transformed(data, s)} for s in data.get("subgroups") or []
        ],
        "sensitivity": [
            s | {"back": selectors.back_transformed(data, s)} for s in data.get("sensitivity") or []
        ],
        "stale": selectors.result_is_stale(found, selectors.latest_snapshot_number(review)),
        "has_rob": any(s.get("rob") for s in data.get("studies") or []),
        "formats": list(FIGURE_FORMATS),
    }
    return render(request, "synthesis/result.html", context)


@login_required
@require_safe
def result_figure(request, slug: str, pk: int, figure: str, fmt: str):
    """A figure of a result as SVG, PNG or PDF (``?rob=1``: the forest plot's RoB column);
    drawn once, then served as stored."""
    review = review_for_user(user=request.user, slug=slug)
    found = _result(review, pk)
    kind = figure
    if kind not in FIGURE_KINDS or fmt not in FIGURE_FORMATS:
        raise Http404("No such figure.")
    rob = request.GET.get("rob") == "1"
    try:
        body = services.figure_bytes(found, kind=kind, fmt=fmt, rob=rob)
    except ValueError as exc:
        raise Http404(str(exc)) from None
    response = HttpResponse(body, content_type=FIGURE_FORMATS[fmt])
    name = f"{exports.safe_slug(found.analysis.name)}-{found.pk}-{kind.replace('_', '-')}.{fmt}"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_safe
def result_export(request, slug: str, pk: int):
    """``?format=csv|xlsx|json|data|r``: the results, the analysis data, the R script."""
    review = review_for_user(user=request.user, slug=slug)
    found = _result(review, pk)
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FILES:
        messages.error(request, "Choose the format csv, xlsx, json, data or r.")
        return redirect("synthesis:result", slug=review.slug, pk=found.pk)
    body, media_type, filename = exports.export_bytes(found, fmt)
    response = HttpResponse(body, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
