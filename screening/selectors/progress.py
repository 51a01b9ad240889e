"""How far screening has come: a stage's counts, a reviewer's own, the dashboard's.

Every count is a query at the moment of asking, never a stored total. The PRISMA diagram's
boxes count differently (what entered a stage, not what was settled): see ``boxes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count

from reviews.constants import Role
from reviews.models import Review
from screening.constants import ItemStatus, Stage
from screening.models import Assignment, ScreeningItem, Vote
from screening.selectors.policy import conflicts_hidden_from, status_visible
from screening.selectors.settings import settings_for

User = get_user_model()


@dataclass(frozen=True)
class ReviewerProgress:
    user_id: int
    username: str
    votes: int
    open_claims: int
    conflicts: int


@dataclass(frozen=True)
class StageProgress:
    stage: str
    label: str
    total: int
    pending: int
    untouched: int
    conflicts: int
    included: int
    excluded: int
    not_retrieved: int
    reviewers_per_record: int
    reviewers: list[ReviewerProgress] = field(default_factory=list)
    excluded_by_reason: list[tuple[str, int]] = field(default_factory=list)
    #: The counts as a blinded person sees them: conflicts they may not see counted as
    #: pending, and no other reviewer's row (see :func:`stage_progress`).
    blinded: bool = False

    @property
    def settled(self) -> int:
        return self.included + self.excluded

    @property
    def remaining(self) -> int:
        return self.pending + self.conflicts

    @property
    def percent_done(self) -> int:
        return int(100 * (self.total - self.remaining) / self.total) if self.total else 0


def _items(review: Review, stage: str):
    return ScreeningItem.objects.of_review(review).at(stage).primary(review)


def stage_progress(review: Review, stage: str, *, user=None) -> StageProgress:
    """Counts of one stage: a query each time, never a stored total.

    Given ``user``, the counts are those ``user`` may see. While screening is blinded, a
    conflict that ``user`` may not see as one (see ``policy.conflicts_hidden_from``: a voter's
    own, or any for someone who may resolve none) counts as pending, and the other reviewers'
    rows are left out: their vote counts would tell a voter that the other vote is in, and
    so, the record not being settled, that it disagrees. Without ``user``: the truth.
    """
    items = _items(review, stage)
    by_status = dict(items.values_list("status").annotate(n=Count("pk")).order_by())
    hidden_q = None if user is None else conflicts_hidden_from(user=user, review=review)
    hidden = 0
    if hidden_q is not None and by_status.get(ItemStatus.CONFLICT):
        hidden = items.filter(hidden_q, status=ItemStatus.CONFLICT).count()
    untouched = items.filter(status=ItemStatus.PENDING, claims=0).count()
    votes = Vote.objects.of_review(review).at(stage).primary(review)
    vote_counts = dict(votes.values_list("reviewer").annotate(n=Count("pk")).order_by())
    open_counts = dict(
        Assignment.objects.filter(review=review, stage=stage, voted_at__isnull=True)
        .values_list("reviewer")
        .annotate(n=Count("pk"))
        .order_by()
    )
    conflict_counts = dict(
        votes.filter(item__status=ItemStatus.CONFLICT)
        .values_list("reviewer")
        .annotate(n=Count("pk"))
        .order_by()
    )
    screeners = (
        set(vote_counts)
        | set(open_counts)
        | set(review.memberships.filter(role__in=[Role.REVIEWER]).values_list("user_id", flat=True))
    )
    names = dict(User.objects.filter(pk__in=screeners).values_list("pk", "username"))
    reviewers = sorted(
        (
            ReviewerProgress(
                uid,
                names.get(uid, "?"),
                vote_counts.get(uid, 0),
                open_counts.get(uid, 0),
                conflict_counts.get(uid, 0),
            )
            for uid in screeners
        ),
        key=lambda r: r.username.lower(),
    )
    if hidden_q is not None:
        reviewers = [
            ReviewerProgress(r.user_id, r.username, r.votes, r.open_claims, 0)
            for r in reviewers
            if r.user_id == user.pk
        ]
    reasons = list(
        items.filter(status=ItemStatus.EXCLUDED)
        .values_list("final_reason__label")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return StageProgress(
        stage=stage,
        label=Stage(stage).label,
        total=sum(by_status.values()),
        pending=by_status.get(ItemStatus.PENDING, 0) + hidden,
        untouched=untouched,
        conflicts=by_status.get(ItemStatus.CONFLICT, 0) - hidden,
        included=by_status.get(ItemStatus.INCLUDED, 0),
        excluded=by_status.get(ItemStatus.EXCLUDED, 0),
        not_retrieved=by_status.get(ItemStatus.NOT_RETRIEVED, 0),
        reviewers_per_record=settings_for(review).reviewers_per_record,
        reviewers=reviewers,
        excluded_by_reason=[(label or "No reason given", n) for label, n in reasons],
        blinded=hidden_q is not None,
    )


@dataclass(frozen=True)
class MyProgress:
    voted: int
    total: int
    settled: int


#: Seconds the stage totals of the screening page's counter may be old (display only).
COUNTER_TTL = 10


def _stage_totals(review: Review, stage: str) -> tuple[int, int]:
    items = _items(review, stage)
    return items.count(), items.settled().count()


def my_progress(*, user, review: Review, stage: str) -> MyProgress:
    """The small counter on the screening page, shown with every record.

    The reviewer's own count is live. The stage totals are two counts over every item (70 ms
    at 100,000 records), too much for every vote, so they are kept for ``COUNTER_TTL`` seconds
    in the cache: a counter a few seconds old changes nothing, and the progress page is exact.
    """
    key = f"screening:totals:{review.pk}:{stage}"
    totals = cache.get(key)
    if totals is None:
        totals = _stage_totals(review, stage)
        cache.set(key, totals, COUNTER_TTL)
    total, settled = totals
    return MyProgress(
        voted=Vote.objects.of_review(review).at(stage).filter(reviewer=user).count(),
        total=total,
        settled=settled,
    )


def records_screened(review: Review) -> int:
    """Dashboard count: records settled at title/abstract."""
    return _items(review, Stage.TITLE_ABSTRACT).settled().count()


def reports_assessed(review: Review) -> int:
    """Dashboard count: full-text reports settled (assessed for eligibility)."""
    return _items(review, Stage.FULL_TEXT).settled().count()


@dataclass(frozen=True)
class MyVote:
    vote: Vote
    status: str

    @property
    def merged(self) -> bool:
        """The record was merged into another as a duplicate: it is no longer screened."""
        return self.vote.record.duplicate_of_id is not None

    @property
    def changeable(self) -> bool:
        return self.status in (ItemStatus.PENDING, ItemStatus.CONFLICT) and not self.merged


def my_recent_votes(*, user, review: Review, stage: str, limit: int = 20) -> list[MyVote]:
    """The reviewer's latest votes at a stage, with the record's status as they may see it."""
    votes = (
        Vote.objects.of_review(review)
        .at(stage)
        .filter(reviewer=user)
        .select_related("item", "record", "reason")
        .defer("record__raw", "record__abstract")
        .order_by("-updated_at", "-pk")[:limit]
    )
    return [MyVote(v, status_visible(user=user, review=review, item=v.item)) for v in votes]
