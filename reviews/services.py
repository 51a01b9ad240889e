"""Every state change of reviews, teams and jobs. One function per change; each owns its
transaction, checks the actor's role, and records an audit event."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from core import jobs
from core.audit import audit_record
from core.job_display import Row, items_of, number, rows_of
from core.models import Job
from core.tasks import job_enqueue
from core.text import clean_input_text
from reviews import hooks
from reviews.access import require_role, scoped_get
from reviews.constants import ReviewStatus, Role
from reviews.models import Invitation, Membership, Review, slug_validator

User = get_user_model()
logger = logging.getLogger(__name__)

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


#: The review's statuses in the order the work goes through them.
STATUS_ORDER: dict[str, int] = {status: n for n, status in enumerate(ReviewStatus.values)}


def review_lock(review: Review) -> None:
    """Take the review row's lock (inside the caller's transaction): writes that number or
    freeze something per review (protocol versions, snapshots, rounds) wait for each other."""
    Review.objects.select_for_update().filter(pk=review.pk).first()


def review_status_advance(*, review: Review, status: str, actor=None, because: str) -> bool:
    """Move the review's status forward to ``status`` because the work has got there (the first
    import: searching; the first vote: screening). Never backwards, never past a status a lead
    set further on; audited with the reason and attributed to ``actor``, whose action moved it.
    A lead still sets any status with :func:`review_update`. True if the status changed.

    Called by the later steps inside their own transaction (an import, a vote), so the change
    stands or falls with the work. Cheap when there is nothing to do: no query.
    """
    if status not in STATUS_ORDER:
        raise ValueError(f"unknown review status {status!r}")
    if STATUS_ORDER[review.status] >= STATUS_ORDER[status]:
        return False
    with transaction.atomic():
        # Read again under a row lock: two imports finishing at once advance it once.
        current = (
            Review.objects.select_for_update()
            .filter(pk=review.pk)
            .values_list("status", flat=True)
            .first()
        )
        if current is None or STATUS_ORDER[current] >= STATUS_ORDER[status]:
            review.status = current or review.status
            return False
        review.status = status
        review.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            review=review,
            verb="status advanced",
            obj=review,
            changes={"status": [current, status], "because": because},
        )
    return True


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
    raise ValidationError(
        {
            "user": f"No active user with the username or e-mail {identifier!r}. People need an "
            "account before they can be added: ask them to sign up first, then add them."
        }
    )


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


# --- Invitations ------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def invitation_create(
    *, actor, review: Review, email: str, roles: Iterable[str]
) -> tuple[Invitation, str]:
    """Invite the person at ``email`` to join ``review`` with ``roles`` (lead only).

    Returns the invitation and its token, the secret part of the link (only its hash is kept):
    send it with :func:`invitation_send`. A new invitation to the same address replaces one
    still open. Whether the address has an account here is neither asked nor told.
    """
    require_role(user=actor, review=review, roles=[Role.LEAD], action="manage the team")
    roles = _clean_roles(roles)
    email = (email or "").strip() if isinstance(email, str) else ""
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": "Give the e-mail address to send the invitation to."}
        ) from None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        replaced = list(
            Invitation.objects.select_for_update()
            .filter(review=review, email__iexact=email, accepted_at=None, revoked_at=None)
            .values_list("pk", flat=True)
        )
        Invitation.objects.filter(pk__in=replaced).update(revoked_at=now)
        invitation = Invitation.objects.create(
            review=review,
            email=email,
            roles=",".join(roles),
            token_hash=_token_hash(token),
            invited_by=actor,
            expires_at=now + timedelta(days=settings.EVIDENT_INVITATION_DAYS),
        )
        changes = {"email": email, "roles": roles, "expires": invitation.expires_at.isoformat()}
        if replaced:
            changes["replaces"] = replaced
        audit_record(actor=actor, review=review, verb="invited", obj=invitation, changes=changes)
    return invitation, token


def invitation_send(*, invitation: Invitation, link: str) -> bool:
    """E-mail the invitation's ``link`` to its address (Django's e-mail backend: the console in
    development). False, and logged, when the mail could not be sent: the lead is then shown
    the link to pass on themselves."""
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "A lead"
    until = timezone.localtime(invitation.expires_at).strftime("%d %B %Y")
    body = (
        f"{inviter} invites you to join the systematic review “{invitation.review.title}” on "
        f"Evident as {invitation.role_labels}.\n\n"
        f"Open this link to sign up (or log in, if you have an account) and join:\n{link}\n\n"
        f"The link works once, until {until}. If you did not expect it, ignore this message."
    )
    try:
        send_mail(
            f"Join “{invitation.review.title[:120]}” on Evident",
            body,
            None,
            [invitation.email],
        )
    except Exception:  # SMTP down or misconfigured: the invitation stands, the lead is told
        logger.exception("could not send the invitation %s", invitation.pk)
        return False
    return True


def invitation_lookup(token: str) -> Invitation | None:
    """The invitation whose link holds ``token``, whatever its state; None if there is none."""
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        return None
    return (
        Invitation.objects.select_related("review", "invited_by")
        .filter(token_hash=_token_hash(token))
        .first()
    )


def invitation_problem(invitation: Invitation) -> str:
    """Why the invitation can no longer be used, in words for its reader; "" if it can."""
    if invitation.accepted_at is not None:
        return "This invitation has been used already. Log in to reach the review."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn. Ask the review's lead for a new one."
    if invitation.expires_at <= timezone.now():
        return "This invitation has expired. Ask the review's lead for a new one."
    return ""


def invitation_accept(*, user, token: str) -> tuple[Review, list[Membership]]:
    """``user`` takes the invitation the link holds: they join its review with its roles (the
    roles they hold already are kept). Works once, before it expires; audited, attributed to
    ``user`` with the lead who invited them."""
    if not getattr(user, "is_authenticated", False):
        raise ValidationError("Log in or sign up to accept the invitation.")
    with transaction.atomic():
        invitation = invitation_lookup(token)
        if invitation is not None:
            # Again under a row lock: the same link opened twice at once joins once.
            invitation = (
                Invitation.objects.select_for_update(of=("self",))
                .select_related("review", "invited_by")
                .get(pk=invitation.pk)
            )
        if invitation is None:
            raise ValidationError("This invitation link is not valid.")
        problem = invitation_problem(invitation)
        if problem:
            raise ValidationError(problem)
        review = invitation.review
        held = set(
            Membership.objects.filter(review=review, user=user).values_list("role", flat=True)
        )
        inviter = invitation.invited_by.get_username() if invitation.invited_by else ""
        added = []
        for role in invitation.role_list:
            if role in held or role not in Role.values:
                continue
            membership = Membership.objects.create(
                review=review, user=user, role=role, added_by=invitation.invited_by
            )
            added.append(membership)
            audit_record(
                actor=user,
                review=review,
                verb="added member",
                obj=membership,
                changes={
                    "user": user.get_username(),
                    "role": role,
                    "invitation": invitation.pk,
                    "invited_by": inviter,
                },
            )
        invitation.accepted_by = user
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_by", "accepted_at"])
        audit_record(
            actor=user,
            review=review,
            verb="accepted invitation",
            obj=invitation,
            changes={
                "email": invitation.email,
                "roles": invitation.role_list,
                "invited_by": inviter,
            },
        )
    return review, added


def invitation_revoke(*, actor, review: Review, invitation_id: Any) -> Invitation:
    """Withdraw an invitation that is still open (lead only); a forged or foreign id: 404."""
    require_role(user=actor, review=review, roles=[Role.LEAD], action="manage the team")
    with transaction.atomic():
        invitation = scoped_get(
            Invitation.objects.select_for_update(), review=review, pk=invitation_id
        )
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise ValidationError("That invitation has been used or withdrawn already.")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            review=review,
            verb="withdrew invitation",
            obj=invitation,
            changes={"email": invitation.email},
        )
    return invitation


def invitations_open(*, review: Review) -> list[Invitation]:
    """The review's invitations neither used nor withdrawn (expired ones too, marked so)."""
    return list(
        Invitation.objects.filter(review=review, accepted_at=None, revoked_at=None)
        .select_related("invited_by")
        .order_by("-created_at", "-pk")[:200]
    )


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
    """Queue a background job; it starts once this transaction commits: on a worker, or without
    a broker after the response of the request that submitted it (``core.tasks.job_enqueue``).

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
            transaction.on_commit(lambda: job_enqueue(job.pk))
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


def _present_team_bulk_add(result: dict[str, Any]) -> list:
    """The job page's rows for a bulk add (``core.job_display``)."""
    added = result.get("added") or []
    rows = [Row("People on the list", number(result.get("people", 0)))]
    rows.append(
        Row("Roles given", items=items_of(added))
        if added
        else Row("Roles given", "none: everyone on the list already had these roles")
    )
    return rows + rows_of(result, skip={"added", "people"})


@jobs.register(
    "team_bulk_add",
    label="add team members",
    roles=[Role.LEAD],
    validator=_validate_team_bulk_add,
    present=_present_team_bulk_add,
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
