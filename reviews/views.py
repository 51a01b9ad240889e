"""Pages for reviews, teams, the audit log and jobs. Thin: services decide, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.forms import apply_errors
from core.htmx import is_htmx
from core.models import Job
from reviews import selectors, services
from reviews.access import (
    has_role,
    require_role,
    review_for_user,
    roles_of,
    scoped_get,
    sees_job_details,
)
from reviews.constants import ROLE_HELP, Role
from reviews.dashboard import card_summaries
from reviews.forms import MemberAddForm, MemberBulkAddForm, ReviewCreateForm, ReviewSettingsForm
from reviews.models import Membership


@login_required
@require_safe
def review_list(request):
    reviews = selectors.reviews_for_user(user=request.user)
    return render(request, "reviews/list.html", {"reviews": reviews})


@login_required
@require_http_methods(["GET", "POST"])
def review_create(request):
    form = ReviewCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Review “{review.title}” created. You are its lead.")
            return redirect("reviews:dashboard", slug=review.slug)
    return render(
        request, "reviews/create.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_safe
def review_dashboard(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    context = {
        "review": review,
        "roles": sorted(roles_of(user=request.user, review=review)),
        "is_lead": Role.LEAD in roles_of(user=request.user, review=review),
        "cards": card_summaries(review),
        "team": selectors.team_of(review=review),
        "recent_jobs": selectors.jobs_of(review=review)[:5],
        "section": "dashboard",
    }
    return render(request, "reviews/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def review_settings(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(user=request.user, review=review, roles=[Role.LEAD], action="edit the review")
    initial = {
        "title": review.title,
        "research_question": review.research_question,
        "status": review.status,
    }
    form = ReviewSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_update(user=request.user, review=review, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Review settings saved.")
            return redirect("reviews:dashboard", slug=review.slug)
    return render(
        request,
        "reviews/settings.html",
        {"review": review, "form": form, "section": "settings"},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_team(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    is_lead = has_role(user=request.user, review=review, roles=[Role.LEAD])
    form = MemberAddForm(request.POST or None)
    bulk_form = MemberBulkAddForm()
    status = 200
    if request.method == "POST":
        require_role(user=request.user, review=review, roles=[Role.LEAD], action="manage the team")
        if form.is_valid():
            try:
                added = services.membership_add(
                    actor=request.user,
                    review=review,
                    identifier=form.cleaned_data["identifier"],
                    roles=form.cleaned_data["roles"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                who = added[0].user.get_username()
                roles = ", ".join(m.get_role_display().lower() for m in added)
                messages.success(request, f"{who} added as {roles}.")
                return redirect("reviews:team", slug=review.slug)
        status = 400
    context = {
        "review": review,
        "team": selectors.team_of(review=review),
        "form": form,
        "bulk_form": bulk_form,
        "is_lead": is_lead,
        "role_help": [(Role(r).label, h) for r, h in ROLE_HELP.items()],
        "section": "team",
    }
    return render(request, "reviews/team.html", context, status=status)


@login_required
@require_POST
def review_team_bulk(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(user=request.user, review=review, roles=[Role.LEAD], action="manage the team")
    form = MemberBulkAddForm(request.POST)
    if form.is_valid():
        try:
            job = services.job_submit(
                actor=request.user,
                review=review,
                kind="team_bulk_add",
                params={"identifiers": form.identifier_list(), "roles": form.cleaned_data["roles"]},
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("reviews:job", slug=review.slug, pk=job.pk)
    context = {
        "review": review,
        "team": selectors.team_of(review=review),
        "form": MemberAddForm(),
        "bulk_form": form,
        "is_lead": True,
        "role_help": [(Role(r).label, h) for r, h in ROLE_HELP.items()],
        "section": "team",
    }
    return render(request, "reviews/team.html", context, status=400)


@login_required
@require_POST
def review_team_remove(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    membership = scoped_get(Membership.objects.select_related("user"), review=review, pk=pk)
    try:
        services.membership_remove(actor=request.user, review=review, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        who, role = membership.user.get_username(), membership.get_role_display().lower()
        messages.success(request, f"{who} is no longer {role}.")
    return redirect("reviews:team", slug=review.slug)


def _audit_page(request, review):
    events = selectors.audit_events_of(review=review)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return page


@login_required
@require_safe
def review_audit(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(user=request.user, review=review, roles=[Role.LEAD], action="read the audit log")
    return render(
        request,
        "reviews/audit.html",
        {"review": review, "page": _audit_page(request, review), "section": "audit"},
    )


@login_required
@require_safe
def job_list(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    page = Paginator(selectors.jobs_of(review=review), 50).get_page(request.GET.get("page"))
    return render(request, "reviews/jobs.html", {"review": review, "page": page, "section": "jobs"})


@login_required
@require_safe
def job_detail(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    job = scoped_get(Job.objects.select_related("created_by"), review=review, pk=pk)
    template = "reviews/fragments/job_progress.html" if is_htmx(request) else "reviews/job.html"
    context = {
        "review": review,
        "job": job,
        # Parameters and the error (which may repeat them): leads and whoever started the job.
        "show_details": sees_job_details(user=request.user, review=review, job=job),
        "section": "jobs",
    }
    return render(request, template, context)
