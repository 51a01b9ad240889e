"""Pages for deduplication: overview with clusters, the review queue for doubtful pairs, undo."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.htmx import is_htmx
from deduplication import selectors
from deduplication import services as deduplication
from deduplication.models import DuplicatePair
from identification.models import Record
from reviews import services
from reviews.access import has_role, require_role, review_for_user, scoped_get


@login_required
@require_safe
def dedup_overview(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    summary = selectors.dedup_summary(review=review)
    per_search = selectors.removed_per_search(review)
    page = Paginator(selectors.clusters_of(review), 25).get_page(request.GET.get("page"))
    decided = selectors.pairs_decided(review)
    context = {
        "review": review,
        "section": "dedup",
        "summary": summary,
        "queued": len(summary["queued"]),
        "decided": decided,
        "per_search": per_search,
        "page": page,
        "can_run": has_role(user=request.user, review=review, roles=deduplication.RUN_ROLES),
        "can_judge": has_role(user=request.user, review=review, roles=deduplication.JUDGE_ROLES),
    }
    return render(request, "deduplication/dedup.html", context)


@login_required
@require_POST
def dedup_rerun(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    try:
        job = services.job_submit(
            actor=request.user,
            review=review,
            kind="dedup",
            params={"full": request.POST.get("full") == "1"},
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("deduplication:dedup", slug=review.slug)
    return redirect("reviews:job", slug=review.slug, pk=job.pk)


@login_required
@require_safe
def dedup_queue(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user, review=review, roles=deduplication.JUDGE_ROLES, action="judge duplicates"
    )
    pair = selectors.next_pair(review)
    remaining = selectors.queued_pairs(review).count()
    context = {"review": review, "section": "dedup", "pair": pair, "remaining": remaining}
    if is_htmx(request):
        return render(request, "deduplication/fragments/dedup_pair.html", context)
    return render(request, "deduplication/dedup_queue.html", context)


@login_required
@require_POST
def dedup_decide(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    pair = scoped_get(DuplicatePair.objects.select_related("review"), review=review, pk=pk)
    decision = request.POST.get("decision")
    primary = request.POST.get("primary", "")
    status = 200
    error = ""
    if decision not in ("same", "different"):
        error, status = "Choose “same” or “different”.", 400
    else:
        primary_id = {"left": pair.left_id, "right": pair.right_id}.get(primary)
        try:
            deduplication.pair_decide(
                actor=request.user, pair=pair, same=decision == "same", primary_id=primary_id
            )
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 409
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect("deduplication:dedup_queue", slug=review.slug)
    remaining = selectors.queued_pairs(review).count()
    context = {
        "review": review,
        "pair": selectors.next_pair(review),
        "remaining": remaining,
        "error": error,
        "last": None if error else pair,
    }
    return render(request, "deduplication/fragments/dedup_pair.html", context, status=status)


def _record_action(request, slug: str, pk: int, action, done: str):
    """Apply a dedup service to one record of the review, say how it went, go back."""
    review = review_for_user(user=request.user, slug=slug)
    record = scoped_get(Record.objects.select_related("review"), review=review, pk=pk)
    try:
        action(actor=request.user, record=record)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done.format(pk=record.pk))
    return redirect(_safe_next(request, review))


@login_required
@require_POST
def dedup_unmerge(request, slug: str, pk: int):
    return _record_action(
        request,
        slug,
        pk,
        deduplication.record_unmerge,
        "Record {pk} is no longer merged; it stays apart.",
    )


@login_required
@require_POST
def dedup_set_primary(request, slug: str, pk: int):
    return _record_action(
        request,
        slug,
        pk,
        deduplication.cluster_set_primary,
        "Record {pk} is now the primary record of its cluster.",
    )


def _safe_next(request, review) -> str:
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    prefix = f"/reviews/{review.slug}/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return reverse("deduplication:dedup", kwargs={"slug": review.slug})
