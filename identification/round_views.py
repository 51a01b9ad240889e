"""The update rounds page: the rounds, the reruns with a date-limited query, a lead opens one.

Thin: ``identification/rounds.py`` decides.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.forms import apply_errors
from identification import rounds
from identification.forms import RoundForm
from identification.models import Search
from reviews.access import has_role, require_role, review_for_user


def reruns_of(review, number: int) -> list[tuple[Search, rounds.QuerySuggestion]]:
    """The searches of round ``number`` with a date-limited query suggested for each."""
    since = rounds.round_date(review, number - 1) if number > 1 else None
    searches = Search.objects.filter(review=review).filter(rounds.round_q(number, prefix=""))
    return [(s, rounds.suggest_query(s, since)) for s in searches.order_by("pk")]


@login_required
@require_http_methods(["GET", "POST"])
def round_list(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    is_lead = has_role(user=request.user, review=review, roles=rounds.ROUND_ROLES)
    form = RoundForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_role(
            user=request.user, review=review, roles=rounds.ROUND_ROLES, action="open a round"
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = rounds.round_open(
                    actor=request.user,
                    review=review,
                    date=data["date"],
                    reason=data["reason"],
                    copy_searches=data["copy_searches"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Round {new.number} opened. Upload each search's new export and set its date.",
                )
                return redirect("identification:rounds", slug=review.slug)
        status = 400
    current = rounds.current_round_number(review)
    context = {
        "review": review,
        "section": "searches",
        "rounds": rounds.rounds_of(review),
        "current": current,
        "reruns": reruns_of(review, current) if current > 1 else [],
        "form": form,
        "is_lead": is_lead,
    }
    return render(request, "identification/rounds.html", context, status=status)
