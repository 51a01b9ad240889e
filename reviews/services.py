"""Every state change of reviews, teams and jobs. One function per change; each owns its
transaction, checks the actor's role, and records an audit event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from .access import require_role
from .audit import audit_record
from .constants import ReviewStatus, Role
from .models import Job, Membership, Review, slug_validator

User = get_user_model()

MAX_TITLE = 300
RESERVED_SLUGS = {"new", "import"}  # /reviews/new/ and /reviews/import/ are pages
MAX_QUESTION = 5000


def clean_input_text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    """Text a person typed, trimmed and checked; ``ValidationError`` names the field."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: "Must be text."})
    # Control characters (other than newlines and tabs) have no place in a title, a question,
    # a note or a label.
    cleaned = "".join(ch for ch in value if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    cleaned = cleaned.strip()
    if required and not cleaned:
        raise ValidationError({field: "This field is required."})
    if len(cleaned) > max_length:
        raise ValidationError({field: f"At most {max_length} characters (got {len(cleaned)})."})
    return cleaned


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
    from . import jobs
    from .tasks import job_run_task

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
