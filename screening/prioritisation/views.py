"""The prioritisation page (the ranking switch, the model's state for the lead, the stopping
panel and the stop decisions) and its files. Thin: the services decide and write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from reviews.access import has_role, review_for_user
from reviews.constants import Role
from screening.constants import STAGE_CODES, Stage
from screening.prioritisation import exports, services
from screening.prioritisation.models import RankingMode, StopDecision


def _page(request, review, *, errors=(), status=200, form=None):
    params = request.GET if request.method == "GET" else request.POST
    try:
        panel = services.stopping_panel(
            user=request.user, review=review, recall_target=params.get("recall_target"),
            confidence=params.get("confidence"), consecutive=params.get("consecutive"),
        )  # fmt: skip
    except ValidationError as exc:
        errors = [*errors, *exc.messages]
        status = 400
        panel = services.stopping_panel(user=request.user, review=review)
    is_lead = has_role(user=request.user, review=review, roles=[Role.LEAD])
    context = {
        "review": review,
        "section": "screening",
        "page": "prioritisation",
        "stages": [(s, Stage(s).label, STAGE_CODES[Stage(s)]) for s in Stage.values],
        "is_lead": is_lead,
        "state": services.ranking_state(review),
        "modes": RankingMode.choices,
        "retrain_pending": services.retrain_pending(review),
        "features": services.features_state(review) if is_lead else None,
        "panel": panel,
        "recall_percent": round(panel.recall_target * 100, 1),
        "confidence_percent": round(panel.confidence * 100, 1),
        "decisions": StopDecision.objects.filter(review=review).select_related("decided_by"),
        "errors": errors,
        "form": form or {},
    }
    return render(request, "screening/prioritisation.html", context, status=status)


@login_required
@require_GET
def prioritisation(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    return _page(request, review)


@login_required
@require_POST
def ranking(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    try:
        services.ranking_set(actor=request.user, review=review, mode=request.POST.get("mode"))
    except ValidationError as exc:
        return _page(request, review, errors=exc.messages, status=400)
    messages.success(request, "Ranking changed; the queue follows it now.")
    return redirect(reverse("screening:prioritisation", args=[review.slug]))


@login_required
@require_POST
def stop(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    try:
        services.stop_decide(
            actor=request.user, review=review, reason=request.POST.get("reason"),
            recall_target=request.POST.get("recall_target"),
            confidence=request.POST.get("confidence"),
        )  # fmt: skip
    except ValidationError as exc:
        return _page(request, review, errors=exc.messages, status=400, form=request.POST)
    messages.success(request, "The decision to stop screening is recorded.")
    return redirect(reverse("screening:prioritisation", args=[review.slug]))


@login_required
@require_GET
def stop_csv(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    response = HttpResponse(exports.stop_decisions_csv(review), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-stopping.csv"'
    return response


@login_required
@require_GET
def stop_markdown(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    response = HttpResponse(
        exports.stop_decisions_markdown(review), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{review.slug}-stopping.md"'
    return response
