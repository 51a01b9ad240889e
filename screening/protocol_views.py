"""The screening settings page's "Add reasons from the protocol's criteria" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from reviews.access import require_role, review_for_user
from reviews.constants import Role
from screening.constants import Stage
from screening.services.reasons import reasons_from_protocol


@login_required
@require_POST
def reasons_from_protocol_view(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user, review=review, roles=[Role.LEAD], action="edit exclusion reasons"
    )
    stage = request.POST.get("stage", "")
    try:
        added = reasons_from_protocol(actor=request.user, review=review, stage=stage)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        where = Stage(stage).label.lower()
        if added:
            labels = ", ".join(f"“{r.label}”" for r in added)
            messages.success(request, f"Added to the {where} reasons: {labels}.")
        else:
            messages.success(
                request, f"Every exclusion criterion of the protocol is a {where} reason already."
            )
    return redirect(reverse("screening:settings", kwargs={"slug": review.slug}) + "#reasons")
