"""The demo review (slug ``demo``): built through the same services a team would use.

It grows with every capability, so that ``make run`` always shows the whole flow as far as it is
built. Each step is a function; ``demo_build`` runs them in PRISMA order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction

from identification.demo import step_searches, step_update_round
from reviews import services
from reviews.constants import ReviewStatus, Role
from reviews.models import Review
from reviews.protocol.demo import step_protocol
from screening.demo import step_finish_screening, step_screening, step_stop_decision

User = get_user_model()

DEMO_SLUG = "demo"
DEMO_PASSWORD = "evident-demo"  # noqa: S105 - documented in the README; demo accounts only
DEMO_USERS = [
    # username, e-mail, full name, roles in the demo review
    ("lead", "lead@example.org", "Lena Lead", [Role.LEAD]),
    ("reviewer_a", "reviewer.a@example.org", "Ana Reviewer", [Role.REVIEWER, Role.EXTRACTOR]),
    ("reviewer_b", "reviewer.b@example.org", "Ben Reviewer", [Role.REVIEWER, Role.EXTRACTOR]),
    ("stats", "stats@example.org", "Sam Statistician", [Role.STATISTICIAN]),
]

Step = Callable[[Review, dict], None]


def _user(username: str, email: str, full_name: str):
    first, _, last = full_name.partition(" ")
    user, _ = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first, "last_name": last}
    )
    user.set_password(DEMO_PASSWORD)
    user.is_active = True
    user.save()
    return user


def step_team(review: Review, people: dict) -> None:
    lead = people["lead"]
    for username in ("reviewer_a", "reviewer_b"):
        _, _, _, roles = next(u for u in DEMO_USERS if u[0] == username)
        services.membership_add(actor=lead, review=review, identifier=username, roles=roles)
    # The statistician joins through a background job, so the demo shows a finished job.
    services.job_submit(
        actor=lead,
        review=review,
        kind="team_bulk_add",
        params={"identifiers": ["stats@example.org"], "roles": [Role.STATISTICIAN.value]},
    )
    services.review_update(user=lead, review=review, status=ReviewStatus.SEARCHING)


#: The steps in PRISMA order; each capability appends its own.
STEPS: list[Step] = [
    step_team,
    step_protocol,
    step_searches,
    step_screening,
    step_finish_screening,
    # Issue 21: the update round (the records published later), screened in its turn.
    step_update_round,
    step_finish_screening,
    # Issue 15: the ranking model's state and a decision to stop, with the stopping panel.
    step_stop_decision,
]


def demo_build(*, steps: list[Step] | None = None) -> Review:
    """(Re)build the demo review from scratch; other reviews are left alone."""
    with transaction.atomic():
        Review.objects.filter(slug=DEMO_SLUG).delete()
        people = {u[0]: _user(u[0], u[1], u[2]) for u in DEMO_USERS}
    review = services.review_create(
        user=people["lead"],
        slug=DEMO_SLUG,
        title="Gambling harms: a demonstration review",
        research_question=(
            "Among adults who gamble, which harms to health, finances and relationships are "
            "associated with gambling, and how large are these associations?"
        ),
    )
    for step in steps if steps is not None else STEPS:
        step(review, people)
    return review
