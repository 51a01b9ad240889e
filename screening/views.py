"""Screening pages. Thin: services decide and write, selectors read and blind. The pages of
full texts (attach, not retrieved, the PDF) are in ``screening/fulltext/views.py`` and use the
record fragment helpers below.

The screening page is keyboard-first (``static/js/screening.js``): it holds the record on
screen and the next one, preloaded; a vote swaps the preloaded record in at once and the
response (an htmx fragment) becomes the new preloaded one. Without JavaScript the same forms
post and redirect.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import apply_errors, messages_of
from core.htmx import is_htmx
from core.text import is_digits
from identification.rounds import record_rounds
from reviews.access import has_role, require_role, review_for_user, scoped_get
from reviews.constants import Role
from reviews.models import Review
from screening import selectors, services
from screening.constants import STAGE_CODES, Stage
from screening.forms import ReasonEditForm, ReasonForm, ResolveForm, SettingsForm, VoteForm
from screening.fulltext.selectors import report_of
from screening.models import ExclusionReason, ScreeningItem, Vote
from screening.prioritisation.selectors import why_ranked

SECTION = "screening"


def _url(review: Review, stage: str, name: str, **kwargs: Any) -> str:
    code = STAGE_CODES[Stage(stage)]
    return reverse(f"screening:{code}_{name}" if name else f"screening:{code}",
                   kwargs={"slug": review.slug, **kwargs})  # fmt: skip


def _form_errors(form) -> list[str]:
    return [f"{'' if field == '__all__' else field + ': '}{e}" for field, errs in
            form.errors.items() for e in errs]  # fmt: skip


def _base_context(request, review: Review, stage: str | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "review": review,
        "section": SECTION,
        "can_screen": selectors.can_screen(user=request.user, review=review),
        "is_lead": has_role(user=request.user, review=review, roles=[Role.LEAD]),
        "may_resolve": selectors.may_resolve_some(user=request.user, review=review),
        "stages": [(s, Stage(s).label, STAGE_CODES[Stage(s)]) for s in Stage.values],
    }
    if stage is not None:
        context.update(
            stage=stage,
            stage_label=Stage(stage).label,
            code=STAGE_CODES[Stage(stage)],
        )
    return context


def _card(request, review: Review, stage: str, item: ScreeningItem | None) -> dict[str, Any]:
    """What the record fragment shows. Only the viewer's own vote ever reaches it."""
    user = request.user
    card: dict[str, Any] = {
        "stage": stage,
        "code": STAGE_CODES[Stage(stage)],
        "progress": selectors.my_progress(user=user, review=review, stage=stage),
        "vote_url": _url(review, stage, "vote"),
        "item": item,
    }
    settings_obj = selectors.settings_for(review)
    card["reasons_required"] = settings_obj.reasons_required(stage)
    if item is None:
        return card
    record = item.record
    highlighter = selectors.highlighter_for(review)
    card.update(
        record=record,
        title=highlighter.segments(record.title or "(no title)"),
        abstract=highlighter.segments(record.abstract),
        reasons=selectors.reasons_for(review, stage),
        my_vote=Vote.objects.filter(item=item, reviewer=user).select_related("reason").first(),
        # The update round the record came from (issue 21): 1 for the first searches.
        round=record_rounds([record.pk]).get(record.pk, 1),
    )
    if stage == Stage.TITLE_ABSTRACT:
        # Why the model ranks it high (settled records only taught it: nothing blinded shows).
        card["why"] = why_ranked(review, item)
    if stage == Stage.FULL_TEXT:
        card["report"] = report_of(record)
        card["report_url"] = reverse(
            "screening:ft_report", kwargs={"slug": review.slug, "pk": item.pk}
        )
        card["report_file_url"] = reverse(
            "screening:ft_report_file", kwargs={"slug": review.slug, "pk": item.pk}
        )
        card["not_retrieved_url"] = reverse(
            "screening:ft_not_retrieved", kwargs={"slug": review.slug, "pk": item.pk}
        )
    return card


def _fragment(request, review: Review, stage: str, item: ScreeningItem | None, status=200):
    return render(
        request,
        "screening/fragments/record.html",
        {"review": review, "card": _card(request, review, stage, item)},
        status=status,
    )


def _error_fragment(request, errors: list[str], status: int = 400):
    return render(request, "screening/fragments/error.html", {"errors": errors}, status=status)


# --- Overview, progress --------------------------------------------------------------------------


@login_required
@require_GET
def home(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    return redirect("screening:ta", slug=review.slug)


@login_required
@require_GET
def stage_home(request, slug: str, stage: str):
    """Progress of one stage: screened, remaining, conflicts, per reviewer."""
    review = review_for_user(user=request.user, slug=slug)
    context = _base_context(request, review, stage)
    # The counts as this person may see them (blinding hides a voter's own conflicts).
    context["progress"] = selectors.stage_progress(review, stage, user=request.user)
    context["settings"] = selectors.settings_for(review)
    if context["may_resolve"]:
        # The count on the conflicts link is what its page lists for this person (a reviewer
        # who voted on a conflict sees it counted, unblinded, but may not resolve it).
        context["conflicts_to_resolve"] = (
            context["progress"].conflicts
            if context["is_lead"]
            else len(selectors.conflicts_for(user=request.user, review=review, stage=stage))
        )
    if context["can_screen"]:
        context["my_votes"] = selectors.my_recent_votes(
            user=request.user, review=review, stage=stage
        )
        context["reasons"] = selectors.reasons_for(review, stage)
    if stage == Stage.FULL_TEXT:
        # The PRISMA diagram's screening boxes, counted as the diagram counts them.
        context["boxes"] = selectors.screening_boxes(review)
    return render(request, "screening/stage.html", context)


# --- Screening -----------------------------------------------------------------------------------


@login_required
@require_GET
def screen(request, slug: str, stage: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(user=request.user, review=review, roles=[Role.REVIEWER], action="screen records")
    current = services.assignment_next(user=request.user, review=review, stage=stage)
    upcoming = None
    if current is not None:
        upcoming = services.assignment_next(
            user=request.user, review=review, stage=stage, exclude=[current.pk]
        )
    context = _base_context(request, review, stage)
    context.update(
        current=_card(request, review, stage, current),
        upcoming=_card(request, review, stage, upcoming) if current is not None else None,
        blinded=selectors.settings_for(review).blinded,
        undo_url=_url(review, stage, "undo"),
        next_url=_url(review, stage, "next"),
    )
    return render(request, "screening/screen.html", context)


@login_required
@require_GET
def next_record(request, slug: str, stage: str):
    """The next record as a fragment (claimed for the reviewer); ``?exclude=`` those on screen."""
    review = review_for_user(user=request.user, slug=slug)
    exclude = [p for p in request.GET.get("exclude", "").split(",") if is_digits(p.strip())]
    item = services.assignment_next(
        user=request.user, review=review, stage=stage, exclude=exclude[:10]
    )
    return _fragment(request, review, stage, item)


def _back(request, review: Review, stage: str) -> str:
    # A vote changed from the stage page goes back there; one cast while screening, to it.
    if request.POST.get("back") == "stage":
        return _url(review, stage, "") + "#my-votes"
    return _url(review, stage, "screen")


@login_required
@require_POST
def vote(request, slug: str, stage: str):
    review = review_for_user(user=request.user, slug=slug)
    form = VoteForm(request.POST)
    if not form.is_valid():
        errors = _form_errors(form)
    else:
        item = scoped_get(
            ScreeningItem.objects.select_related("record"),
            review=review,
            pk=form.cleaned_data["item"],
        )
        try:
            services.vote_cast(
                user=request.user,
                review=review,
                item=item,
                stage=stage,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"] or None,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            errors = messages_of(exc)
        else:
            if is_htmx(request):
                nxt = services.assignment_next(
                    user=request.user, review=review, stage=stage, exclude=form.upcoming_ids()
                )
                return _fragment(request, review, stage, nxt)
            messages.success(request, "Vote saved.")
            return redirect(_back(request, review, stage))
    if is_htmx(request):
        return _error_fragment(request, errors)
    for error in errors:
        messages.error(request, error)
    return redirect(_back(request, review, stage))


@login_required
@require_POST
def undo(request, slug: str, stage: str):
    review = review_for_user(user=request.user, slug=slug)
    try:
        item = services.vote_undo(user=request.user, review=review, stage=stage)
    except ValidationError as exc:
        if is_htmx(request):
            return _error_fragment(request, messages_of(exc))
        for error in messages_of(exc):
            messages.error(request, error)
        return redirect(_url(review, stage, "screen"))
    if is_htmx(request):
        return _fragment(request, review, stage, item)
    messages.success(request, "Your last vote was withdrawn; the record is back on screen.")
    return redirect(_url(review, stage, "screen"))


# --- Conflicts -----------------------------------------------------------------------------------


@login_required
@require_GET
def conflicts(request, slug: str, stage: str):
    review = review_for_user(user=request.user, slug=slug)
    if not selectors.may_resolve_some(user=request.user, review=review):
        raise PermissionDenied("In this review only leads resolve conflicts.")
    items = selectors.conflicts_for(user=request.user, review=review, stage=stage)
    context = _base_context(request, review, stage)
    context.update(
        items=items,
        reasons=selectors.reasons_for(review, stage),
        form=ResolveForm(),
        reasons_required=selectors.settings_for(review).reasons_required(stage),
    )
    return render(request, "screening/conflicts.html", context)


@login_required
@require_POST
def resolve(request, slug: str, stage: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    item = scoped_get(ScreeningItem.objects.select_related("record"), review=review, pk=pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        for error in _form_errors(form):
            messages.error(request, error)
        return redirect(_url(review, stage, "conflicts"))
    try:
        services.conflict_resolve(
            user=request.user,
            review=review,
            item=item,
            stage=stage,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"] or None,
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        for error in messages_of(exc):
            messages.error(request, error)
    else:
        decision = "included" if form.cleaned_data["decision"] == "include" else "excluded"
        messages.success(request, f"Conflict resolved: record {decision}.")
    return redirect(_url(review, stage, "conflicts"))


# --- Agreement and exports -----------------------------------------------------------------------


@login_required
@require_GET
def agreement(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    context = _base_context(request, review)
    context["page"] = "agreement"
    context["reports"] = [
        selectors.stage_agreement(review, s, user=request.user) for s in Stage.values
    ]
    return render(request, "screening/agreement.html", context)


# --- Settings and reasons ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user, review=review, roles=[Role.LEAD], action="change screening settings"
    )
    current = selectors.settings_for(review)
    initial = {
        name: getattr(current, name) for name in SettingsForm.base_fields if hasattr(current, name)
    }
    form = SettingsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.settings_update(actor=request.user, review=review, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Screening settings saved.")
                return redirect("screening:settings", slug=review.slug)
        status = 400
    context = _base_context(request, review)
    context.update(
        page="settings",
        form=form,
        reason_lists=[
            (
                s,
                Stage(s).label,
                STAGE_CODES[Stage(s)],
                selectors.reasons_for(review, s, active_only=False),
            )
            for s in Stage.values
        ],
        reason_form=ReasonForm(),
    )
    return render(request, "screening/settings.html", context, status=status)


def _reason_done(request, review: Review, exc: ValidationError | None, ok: str):
    if exc is not None:
        for error in messages_of(exc):
            messages.error(request, error)
    else:
        messages.success(request, ok)
    return redirect(reverse("screening:settings", kwargs={"slug": review.slug}) + "#reasons")


@login_required
@require_POST
def reason_add(request, slug: str, stage: str):
    review = review_for_user(user=request.user, slug=slug)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        services.reason_add(
            actor=request.user, review=review, stage=stage, label=form.cleaned_data["label"]
        )
    except ValidationError as exc:
        return _reason_done(request, review, exc, "")
    return _reason_done(request, review, None, "Reason added.")


@login_required
@require_POST
def reason_edit(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    reason = scoped_get(ExclusionReason.objects.all(), review=review, pk=pk)
    form = ReasonEditForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        active = {"1": True, "0": False}.get(form.cleaned_data["active"])
        services.reason_update(
            actor=request.user,
            review=review,
            reason=reason,
            label=form.cleaned_data["label"] or None,
            active=active,
        )
    except ValidationError as exc:
        return _reason_done(request, review, exc, "")
    return _reason_done(request, review, None, "Reason saved.")


@login_required
@require_POST
def reason_move(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    reason = scoped_get(ExclusionReason.objects.all(), review=review, pk=pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.reason_move(actor=request.user, review=review, reason=reason, offset=offset)
    except ValidationError as exc:
        return _reason_done(request, review, exc, "")
    return _reason_done(request, review, None, "Order saved.")


@login_required
@require_POST
def reason_delete(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    reason = scoped_get(ExclusionReason.objects.all(), review=review, pk=pk)
    try:
        services.reason_delete(actor=request.user, review=review, reason=reason)
    except ValidationError as exc:
        return _reason_done(request, review, exc, "")
    return _reason_done(request, review, None, "Reason deleted.")
