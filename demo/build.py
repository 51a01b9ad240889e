"""The demo review (slug ``demo``): built through the same services a team would use.

It grows with every capability, so that ``make run`` always shows the whole flow as far as it is
built. Each step is a function; ``demo_build`` runs them in PRISMA order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction

from identification.demo import step_searches
from reviews import services
from reviews.constants import ReviewStatus, Role
from reviews.models import Review

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


# Words that make the demo's reviewers include a title (the demo needs decisions, not wisdom).
_ON_TOPIC = ("harm", "debt", "suicid", "financ", "problem gambling", "wellbeing", "well-being")
_OFF_TOPIC = ("protocol", "systematic review", "meta-analy", "scoping review", "editorial")


def _verdict(record) -> str:
    title = (record.title or "").lower()
    on = any(w in title for w in _ON_TOPIC) and not any(w in title for w in _OFF_TOPIC)
    return "include" if on else "exclude"


def step_finish_screening(review: Review, people: dict) -> None:
    """Screen the rest: every record voted on twice, full texts assessed.

    One title/abstract conflict (left by ``step_screening``) stays for a person to resolve, so
    the demo shows screening in progress while its PRISMA diagram adds up.
    """
    from screening import services as screening
    from screening.constants import ItemStatus, Stage
    from screening.models import ExclusionReason, ScreeningItem

    lead, a, b = people["lead"], people["reviewer_a"], people["reviewer_b"]
    ta, ft = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
    ta_reasons = list(
        ExclusionReason.objects.filter(review=review, stage=ta, active=True).order_by("position")
    )
    for user in (a, b):
        while (item := screening.assignment_next(user=user, review=review, stage=ta)) is not None:
            decision = _verdict(item.record)
            reason = ta_reasons[item.record_id % len(ta_reasons)] if decision == "exclude" else None
            screening.vote_cast(
                user=user, review=review, item=item, decision=decision, reason=reason
            )
    # The lead settles every conflict but the first, which waits in the queue for a person.
    conflicts = ScreeningItem.objects.filter(review=review, stage=ta, status=ItemStatus.CONFLICT)
    for item in conflicts.order_by("pk").select_related("record")[1:]:
        screening.conflict_resolve(
            user=lead, review=review, item=item, decision=_verdict(item.record), note="Agreed."
        )
    ft_reasons = list(
        ExclusionReason.objects.filter(review=review, stage=ft, active=True).order_by("position")
    )
    items = ScreeningItem.objects.filter(review=review, stage=ft).select_related("record")
    for n, item in enumerate(items.order_by("pk")):
        if item.status != ItemStatus.PENDING:
            continue
        record = item.record
        if n % 9 == 4:
            screening.report_not_retrieved(
                user=lead, review=review, item=item, reason="Not held by any library we asked."
            )
            continue
        if not hasattr(record, "fulltext_report"):
            url = (
                f"https://doi.org/{record.doi}"
                if record.doi
                else f"https://example.org/{record.pk}"
            )
            screening.report_attach(user=lead, review=review, item=item, url=url)
        voted = set(item.votes.values_list("reviewer_id", flat=True))
        decision = "include" if n % 3 == 0 else "exclude"
        if a.pk in voted:
            decision = item.votes.get(reviewer=a).decision
        reason = ft_reasons[n % len(ft_reasons)] if decision == "exclude" else None
        for user in (a, b):
            if user.pk not in voted:
                item.refresh_from_db()
                screening.vote_cast(
                    user=user, review=review, item=item, decision=decision, reason=reason
                )
    services.review_update(user=lead, review=review, status=ReviewStatus.SCREENING)


def _screening_steps() -> list[Step]:
    from screening.demo import step_screening

    return [step_screening, step_finish_screening]


STEPS: list[Step] = [step_team, step_searches]


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
    for step in steps if steps is not None else [*STEPS, *_screening_steps()]:
        step(review, people)
    return review
