"""Every state change of reviews, teams and jobs. One function per change; each owns its
transaction, checks the actor's role, and records an audit event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from core import jobs
from core.audit import audit_record
from core.models import Job
from core.tasks import job_run_task
from core.text import clean_input_text
from reviews import hooks
from reviews.access import require_role
from reviews.constants import ReviewStatus, Role
from reviews.models import Membership, Review, slug_validator

User = get_user_model()

MAX_TITLE = 300
RESERVED_SLUGS = {"new", "import"}  # /reviews/new/ and /reviews/import/ are pages
MAX_QUESTION = 5000


def _clean_roles(roles: Iterable[str]) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    cleaned = []
    for role in roles:
        if role not in Role.values:
            raise ValidationError(
                {"roles": f"Unknown role {str(role)[:40]!r}; choose from {', '.join(Role.values)}."}
            )
        if role not in cleaned:
            cleaned.append(role)
    if not cleaned:
        raise ValidationError({"roles": "Choose at least one role."})
    return cleaned


def review_slug_suggest(title: str) -> str:
    base = slugify(title)[:60].strip("-") or "review"
    if base in RESERVED_SLUGS:
        base = f"{base}-review"
    slug, n = base, 2
    while Review.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def review_create(
    *, user, title: str, slug: str | None = None, research_question: str = ""
) -> Review:
    """Create a review; its creator becomes its first lead."""
    if not getattr(user, "is_authenticated", False):
        raise ValidationError("Log in to create a review.")
    title = clean_input_text(title, field="title", max_length=MAX_TITLE, required=True)
    research_question = clean_input_text(
        research_question, field="research_question", max_length=MAX_QUESTION, required=False
    )
    slug = (slug or "").strip().lower() or review_slug_suggest(title)
    if len(slug) > 80:
        raise ValidationError({"slug": "At most 80 characters."})
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise ValidationError({"slug": exc.messages}) from None
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"'{slug}' is reserved; choose another address."})
    try:
        with transaction.atomic():
            review = Review.objects.create(
                title=title, slug=slug, research_question=research_question, created_by=user
            )
            Membership.objects.create(review=review, user=user, role=Role.LEAD, added_by=user)
            audit_record(
                actor=user,
                review=review,
                verb="created",
                obj=review,
                changes={"title": title, "slug": slug, "research_question": research_question},
            )
            hooks.review_created.send(review=review, actor=user)
    except IntegrityError:
        raise ValidationError({"slug": f"The address '{slug}' is taken; choose another."}) from None
    return review


def review_update(
    *,
    user,
    review: Review,
    title: str | None = None,
    research_question: str | None = None,
    status: str | None = None,
) -> Review:
    require_role(user=user, review=review, roles=[Role.LEAD], action="edit the review")
    changes: dict[str, list[Any]] = {}
    if title is not None:
        title = clean_input_text(title, field="title", max_length=MAX_TITLE, required=True)
        if title != review.title:
            changes["title"] = [review.title, title]
            review.title = title
    if research_question is not None:
        research_question = clean_input_text(
            research_question, field="research_question", max_length=MAX_QUESTION, required=False
        )
        if research_question != review.research_question:
            changes["research_question"] = [review.research_question, research_question]
            review.research_question = research_question
    if status is not None:
        if status not in ReviewStatus.values:
            raise ValidationError({"status": f"Unknown status {str(status)[:40]!r}."})
        if status != review.status:
            changes["status"] = [review.status, status]
            review.status = status
    if changes:
        with transaction.atomic():
            review.save()
            audit_record(actor=user, review=review, verb="updated", obj=review, changes=changes)
    return review


def user_find(identifier: str):
    """A user by username or e-mail (case-insensitive); ``ValidationError`` if none or several."""
    identifier = (identifier or "").strip() if isinstance(identifier, str) else ""
    if not identifier or len(identifier) > 254:
        raise ValidationError({"user": "Give a username or an e-mail address."})
    by_name = list(User.objects.filter(username__iexact=identifier, is_active=True)[:2])
    if len(by_name) == 1:
        return by_name[0]
    by_mail = list(User.objects.filter(email__iexact=identifier, is_active=True)[:2])
    if len(by_mail) == 1:
        return by_mail[0]
    if len(by_mail) > 1:
        raise ValidationError(
            {"user": f"Several accounts use {identifier!r}; add the person by username."}
        )
    raise ValidationError({"user": f"No active user with the username or e-mail {identifier!r}."})


def membership_add(
    *, actor, review: Review, identifier: str, roles: Iterable[str]
) -> list[Membership]:
    """Give the user named by username or e-mail the ``roles`` in ``review`` (lead only)."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="manage the team")
    roles = _clean_roles(roles)
    user = user_find(identifier)
    added = []
    with transaction.atomic():
        held = set(
            Membership.objects.filter(review=review, user=user).values_list("role", flat=True)
        )
        for role in roles:
            if role in held:
                continue
            membership = Membership.objects.create(
                review=review, user=user, role=role, added_by=actor
            )
            added.append(membership)
            audit_record(
                actor=actor,
                review=review,
                verb="added member",
                obj=membership,
                changes={"user": user.get_username(), "role": role},
            )
    if not added:
        raise ValidationError(
            {"roles": f"{user.get_username()} already holds {', '.join(roles)} in this review."}
        )
    return added


def membership_remove(*, actor, review: Review, membership: Membership) -> None:
    """Take one role away (lead only). The last lead cannot be removed."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="manage the team")
    if membership.review_id != review.pk:
        raise ValidationError("That membership belongs to another review.")
    with transaction.atomic():
        # Lock the review's lead rows so two leads removing each other cannot leave none.
        leads = list(Membership.objects.select_for_update().filter(review=review, role=Role.LEAD))
        if membership.role == Role.LEAD and len(leads) <= 1:
            raise ValidationError("A review needs at least one lead; add another lead first.")
        audit_record(
            actor=actor,
            review=review,
            verb="removed member",
            obj=membership,
            changes={"user": membership.user.get_username(), "role": membership.role},
        )
        membership.delete()


def job_submit(
    *, actor, review: Review, kind: str, params: dict[str, Any], enqueue: bool = True
) -> Job:
    """Queue a background job; it starts once this transaction commits.

    ``enqueue=False`` leaves the job queued for the caller to run in-process (``jobs.job_run``),
    as management commands do: they wait for their answer whatever the broker.
    """
    spec = jobs.get_kind(kind)
    require_role(user=actor, review=review, roles=spec.roles, action=f"start a {spec.label} job")
    spec.validate(review=review, params=params)
    with transaction.atomic():
        job = Job.objects.create(review=review, kind=kind, params=params, created_by=actor)
        audit_record(
            actor=actor, review=review, verb="started job", obj=job, changes={"kind": kind}
        )
        if enqueue:
            transaction.on_commit(lambda: job_run_task.delay(job.pk))
    return job


def _validate_team_bulk_add(*, review: Review, params: dict[str, Any]) -> None:
    lines = params.get("identifiers")
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise ValidationError("Give the people to add as a list of usernames or e-mails.")
    if not [x for x in lines if x.strip()]:
        raise ValidationError("The list of people is empty.")
    if len(lines) > 1000:
        raise ValidationError("At most 1,000 people at once.")
    roles = params.get("roles")
    if not isinstance(roles, list) or not roles or any(r not in Role.values for r in roles):
        raise ValidationError(f"Choose roles from {', '.join(Role.values)}.")


@jobs.register(
    "team_bulk_add",
    label="add team members",
    roles=[Role.LEAD],
    validator=_validate_team_bulk_add,
)
def team_bulk_add(job: Job, progress: jobs.ProgressFn) -> dict[str, Any]:
    """Add many people at once, all or none: one unknown name fails the job and adds nobody."""
    identifiers = [x.strip() for x in job.params["identifiers"] if x.strip()]
    roles = job.params["roles"]
    added: list[str] = []
    for n, identifier in enumerate(identifiers, start=1):
        try:
            user = user_find(identifier)
        except ValidationError as exc:
            raise jobs.JobError(f"Line {n}: {'; '.join(exc.messages)} Nobody was added.") from None
        for role in roles:
            membership, created = Membership.objects.get_or_create(
                review=job.review, user=user, role=role, defaults={"added_by": job.created_by}
            )
            if created:
                audit_record(
                    actor=job.created_by,
                    review=job.review,
                    verb="added member",
                    obj=membership,
                    changes={"user": user.get_username(), "role": role, "job": job.pk},
                )
                added.append(f"{user.get_username()} ({role})")
        progress(100 * n / len(identifiers), f"Checked {n} of {len(identifiers)}")
    return {"added": added, "people": len(identifiers)}
