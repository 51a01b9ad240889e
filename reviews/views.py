"""Pages for reviews, teams, the audit log and jobs. Thin: services decide, selectors read."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import job_display
from core.forms import SignupForm, apply_errors
from core.htmx import is_htmx
from core.models import Job
from core.services import account_create
from reviews import selectors, services
from reviews.access import (
    PAGE_ROLES,
    may_open,
    require_role,
    review_for_user,
    roles_of,
    scoped_get,
    sees_job_details,
)
from reviews.constants import ROLE_HELP, Role
from reviews.dashboard import card_summaries
from reviews.forms import (
    InviteForm,
    MemberAddForm,
    MemberBulkAddForm,
    ReviewCreateForm,
    ReviewSettingsForm,
)
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
    require_role(
        user=request.user, review=review, roles=PAGE_ROLES["settings"], action="edit the review"
    )
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
    is_lead = may_open(user=request.user, review=review, page="team_manage")
    form = MemberAddForm(request.POST or None)
    bulk_form = MemberBulkAddForm()
    status = 200
    if request.method == "POST":
        require_role(
            user=request.user,
            review=review,
            roles=PAGE_ROLES["team_manage"],
            action="manage the team",
        )
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
    context = _team_context(request, review, is_lead=is_lead, form=form, bulk_form=bulk_form)
    return render(request, "reviews/team.html", context, status=status)


def _team_context(request, review, *, is_lead: bool, **forms) -> dict:
    context = {
        "review": review,
        "team": selectors.team_of(review=review),
        "form": MemberAddForm(),
        "bulk_form": MemberBulkAddForm(),
        "is_lead": is_lead,
        "role_help": [(Role(r).label, h) for r, h in ROLE_HELP.items()],
        "section": "team",
    }
    context.update(forms)
    return context


@login_required
@require_POST
def review_team_bulk(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user, review=review, roles=PAGE_ROLES["team_manage"], action="manage the team"
    )
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
    context = _team_context(request, review, is_lead=True, bulk_form=form)
    return render(request, "reviews/team.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def review_team_invite(request, slug: str):
    """A lead invites someone by e-mail: the link goes out through Django's e-mail backend.
    The page also lists the invitations still open (addresses: for leads only)."""
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user, review=review, roles=PAGE_ROLES["team_manage"], action="manage the team"
    )
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = services.invitation_create(
                actor=request.user,
                review=review,
                email=form.cleaned_data["email"],
                roles=form.cleaned_data["roles"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            link = request.build_absolute_uri(reverse("invitation", args=[token]))
            until = date_format(timezone.localtime(invitation.expires_at), "j F Y")
            if services.invitation_send(invitation=invitation, link=link):
                messages.success(
                    request,
                    f"Invitation sent to {invitation.email} as {invitation.role_labels}; "
                    f"the link works until {until}.",
                )
            else:
                messages.warning(
                    request,
                    f"The invitation is made but the e-mail to {invitation.email} could not be "
                    f"sent. Give them this link yourself (it works once, until {until}): {link}",
                )
            return redirect("reviews:team_invite", slug=review.slug)
    context = {
        "review": review,
        "form": form,
        "invitations": services.invitations_open(review=review),
        "now": timezone.now(),
        "days": settings.EVIDENT_INVITATION_DAYS,
        "section": "team",
    }
    return render(request, "reviews/team_invite.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def review_team_invite_revoke(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user, review=review, roles=PAGE_ROLES["team_manage"], action="manage the team"
    )
    try:
        invitation = services.invitation_revoke(
            actor=request.user, review=review, invitation_id=request.POST.get("invitation")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The invitation of {invitation.email} is withdrawn.")
    return redirect("reviews:team_invite", slug=review.slug)


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """The link of an invitation: sign up through it (or log in) and join the review."""
    found = services.invitation_lookup(token)
    problem = "This invitation link is not valid." if found is None else ""
    problem = problem or services.invitation_problem(found)
    if problem:
        status = 404 if found is None else 410
        return render(request, "reviews/invitation.html", {"problem": problem}, status=status)
    context = {"invitation": found, "signup_form": None}
    status = 200
    if request.user.is_authenticated:
        if request.method == "POST":
            return _invitation_accept(request, token)
    elif settings.EVIDENT_SIGNUP_OPEN:
        form = SignupForm(request.POST or None, initial={"email": found.email})
        if request.method == "POST":
            if form.is_valid():
                user = account_create(
                    username=form.cleaned_data["username"],
                    email=form.account_email(),
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return _invitation_accept(request, token)
            status = 400
        context["signup_form"] = form
    return render(request, "reviews/invitation.html", context, status=status)


def _invitation_accept(request, token: str):
    try:
        review, added = services.invitation_accept(user=request.user, token=token)
    except ValidationError as exc:
        return render(
            request, "reviews/invitation.html", {"problem": " ".join(exc.messages)}, status=410
        )
    roles = ", ".join(m.get_role_display().lower() for m in added) or "the roles you held"
    messages.success(request, f"Welcome to “{review.title}”: you joined as {roles}.")
    return redirect("reviews:dashboard", slug=review.slug)


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
    require_role(
        user=request.user, review=review, roles=PAGE_ROLES["audit"], action="read the audit log"
    )
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
    for job in page:
        job_display.with_live_progress(job)
        job.title = job_display.title_of(job)
    return render(request, "reviews/jobs.html", {"review": review, "page": page, "section": "jobs"})


@login_required
@require_safe
def job_detail(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    job = scoped_get(Job.objects.select_related("created_by"), review=review, pk=pk)
    polled = is_htmx(request)
    template = "reviews/fragments/job_progress.html" if polled else "reviews/job.html"
    details = sees_job_details(user=request.user, review=review, job=job)
    context = {
        "review": review,
        "job": job_display.with_live_progress(job),
        "title": job_display.title_of(job),
        # What the job works on: the page's heading, and the fragment's note once it failed.
        "subject": job_display.subject_of(job) if not polled or job.error else None,
        "result_rows": job_display.result_rows(job) if job.is_finished else [],
        # Parameters and the error (which may repeat them): leads and whoever started the job.
        "show_details": details,
        "param_rows": job_display.rows_of(job.params) if details else [],
        "section": "jobs",
    }
    return render(request, template, context)
