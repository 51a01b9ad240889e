"""How far screening has come: a stage's counts and a reviewer's own.

Every count is a query at the moment of asking, never a stored total, and uses the definitions
of the PRISMA diagram's boxes (``boxes.py``): a record is screened (a report assessed) when its
decision is made, ``settled()``; the records still open are those awaiting votes or in
conflict; the exclusions are listed under the same reasons. The dashboard's cards are
``boxes.records_screened`` and ``boxes.reports_assessed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q

from reviews.constants import Role
from reviews.models import Review
from screening.constants import SETTLED_STATUSES, ItemStatus, Stage
from screening.models import Assignment, ScreeningItem, Vote
from screening.selectors.boxes import excluded_reasons
from screening.selectors.policy import conflicts_hidden_from, status_visible
from screening.selectors.settings import settings_for

User = get_user_model()


@dataclass(frozen=True)
class ReviewerProgress:
    user_id: int | None  # None: a person known only by name (from an imported archive)
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
        """Records screened (reports assessed): decided, as the PRISMA diagram counts them."""
        return self.included + self.excluded

    @property
    def remaining(self) -> int:
        """Records still open: awaiting votes or in conflict (claimed or not)."""
        return self.pending + self.conflicts

    @property
    def percent_done(self) -> int:
        return int(100 * (self.total - self.remaining) / self.total) if self.total else 0


#: Who a vote or claim is by: an account, or a name kept from an imported archive.
VOTER = ("reviewer", "reviewer_name")


def _per_voter(rows) -> dict[tuple[int | None, str], int]:
    """``(user id, name, n)`` rows as ``{(user id, name): n}``; the name only where no account."""
    return {(uid, "" if uid is not None else name): n for uid, name, n in rows}


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
    if hidden_q is not None:
        # Counted even when there is no conflict: the same work either way, so that the time
        # this takes tells a voter nothing (tests/screening/test_blinding_timing.py).
        hidden = items.filter(hidden_q, status=ItemStatus.CONFLICT).count()
    untouched = items.filter(status=ItemStatus.PENDING, claims=0).count()
    votes = Vote.objects.of_review(review).at(stage).primary(review)
    # Counted per voter: an account, or a name kept from an imported archive (each name a voter
    # of its own), so the keys are (user id, name) pairs.
    vote_counts = _per_voter(votes.values_list(*VOTER).annotate(n=Count("pk")).order_by())
    # Records held: claims not yet voted on records still open, as the queue hands them back
    # (a claim on a record since settled by the others, or marked not retrieved, holds nothing).
    open_counts = _per_voter(
        Assignment.objects.filter(
            review=review, stage=stage, voted_at__isnull=True, item__in=items.open()
        )
        .values_list(*VOTER)
        .annotate(n=Count("pk"))
        .order_by()
    )
    conflict_counts = _per_voter(
        votes.filter(item__status=ItemStatus.CONFLICT)
        .values_list(*VOTER)
        .annotate(n=Count("pk"))
        .order_by()
    )
    members = review.memberships.filter(role__in=[Role.REVIEWER]).values_list("user_id", flat=True)
    screeners = set(vote_counts) | set(open_counts) | {(uid, "") for uid in members}
    ids = {uid for uid, _name in screeners if uid is not None}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))
    reviewers = sorted(
        (
            ReviewerProgress(
                uid,
                names.get(uid, "?") if uid is not None else name,
                vote_counts.get((uid, name), 0),
                open_counts.get((uid, name), 0),
                conflict_counts.get((uid, name), 0),
            )
            for uid, name in screeners
        ),
        key=lambda r: (r.username.lower(), r.user_id is None),
    )
    if hidden_q is not None:
        reviewers = [
            ReviewerProgress(r.user_id, r.username, r.votes, r.open_claims, 0)
            for r in reviewers
            if r.user_id == user.pk
        ]
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
        excluded_by_reason=list(excluded_reasons(review, stage)),
        blinded=hidden_q is not None,
    )


@dataclass(frozen=True)
class MyProgress:
    voted: int
    total: int
    settled: int


#: Up to this many records at a stage, the counter counts them at every vote (one pass over
#: the stage's items, a few milliseconds); above it, see :func:`my_progress`.
COUNTER_LIVE_MAX = 10_000
#: Seconds the totals of a stage larger than that may be old on the counter (display only).
COUNTER_TTL = 10


def _stage_totals(review: Review, stage: str) -> tuple[int, int]:
    totals = _items(review, stage).aggregate(
        total=Count("pk"), settled=Count("pk", filter=Q(status__in=SETTLED_STATUSES))
    )
    return totals["total"], totals["settled"]


def my_progress(*, user, review: Review, stage: str) -> MyProgress:
    """The small counter on the screening page, shown with every record.

    The reviewer's own count is live, and so are the stage's totals (records, and records
    settled as the PRISMA diagram counts them) up to :data:`COUNTER_LIVE_MAX` records: kept in
    a cache, they went stale while a reviewer screened ("0 of 7 settled" when 5 were). Counting
    a larger stage at every vote costs tens of milliseconds (70 ms at 100,000 records), so
    there the totals are kept for :data:`COUNTER_TTL` seconds: a few records' lag in tens of
    thousands changes nothing, and the progress page is exact.
    """
    key = f"screening:totals:{review.pk}:{stage}"
    totals = cache.get(key)
    if totals is None:
        totals = _stage_totals(review, stage)
        if totals[0] > COUNTER_LIVE_MAX:
            cache.set(key, totals, COUNTER_TTL)
    total, settled = totals
    return MyProgress(
        voted=Vote.objects.of_review(review).at(stage).filter(reviewer=user).count(),
        total=total,
        settled=settled,
    )


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
