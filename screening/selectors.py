"""Reads of screening that more than one caller needs, with blinding applied in one place."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache as memoize
from itertools import combinations

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core.spreadsheet import spreadsheet_safe
from identification.models import Record
from reviews.access import has_role, roles_of
from reviews.constants import Role
from reviews.models import Review
from screening import reliability
from screening.constants import (
    SETTLED_STATUSES,
    Decision,
    ItemStatus,
    ResolverPolicy,
    Stage,
)
from screening.keywords import Highlighter, build_highlighter
from screening.models import (
    Assignment,
    ExclusionReason,
    FullTextReport,
    ScreeningItem,
    ScreeningSettings,
    Vote,
)

User = get_user_model()


# --- Primary records ---------------------------------------------------------------------------


@memoize
def records_know_duplicates() -> bool:
    try:
        Record._meta.get_field("duplicate_of")
    except FieldDoesNotExist:
        return False
    return True


def primary_filter(prefix: str = "") -> Q:
    """A filter keeping only primary records (``prefix`` reaches Record, e.g. ``"record__"``).

    Deduplication links a duplicate to the record it merges into through ``Record.duplicate_of``;
    only records that are not a duplicate of another are screened. Until that field exists every
    record is primary and the filter is empty.
    """
    if records_know_duplicates():
        return Q(**{f"{prefix}duplicate_of__isnull": True})
    return Q()


def screenable_records(review: Review) -> QuerySet[Record]:
    """The records of ``review`` that screening works on: its primary records.

    Today that is every record. Once deduplication adds ``Record.duplicate_of`` (a record merged
    into another as its duplicate points at it), records merged into another are left out here
    and everywhere screening counts or assigns (see :func:`primary_filter`).
    """
    return Record.objects.filter(primary_filter(), review=review)


def merged_records_screened(review: Review) -> bool:
    """Whether any record merged into another as a duplicate has screening items.

    Usually none does (deduplication runs on import, before screening), and then the join to
    the records in every count can be left out: at 100,000 records it is most of their cost.
    A short index scan over the review's duplicates answers it; kept for the request.
    """
    if not records_know_duplicates():
        return False
    cached = getattr(review, "_screening_merged_items", None)
    if cached is None:
        has_item = ScreeningItem.objects.filter(record=OuterRef("pk"))
        cached = (
            Record.objects.filter(review=review, duplicate_of__isnull=False)
            .filter(Exists(has_item))
            .exists()
        )
        review._screening_merged_items = cached  # type: ignore[attr-defined]
    return cached


def primary_of(review: Review, prefix: str = "record__") -> Q:
    """:func:`primary_filter` for querysets of ``review``, empty when no duplicate matters."""
    return primary_filter(prefix) if merged_records_screened(review) else Q()


def items_of(review: Review, stage: str) -> QuerySet[ScreeningItem]:
    """The items of a stage whose record is still a primary record."""
    return ScreeningItem.objects.filter(primary_of(review), review=review, stage=stage)


# --- Settings and reasons ----------------------------------------------------------------------


def settings_for(review: Review) -> ScreeningSettings:
    """The review's screening settings; the defaults (unsaved) if none were saved yet."""
    cached = getattr(review, "_screening_settings_cache", None)
    if cached is not None:
        return cached
    found = ScreeningSettings.objects.filter(review=review).first()
    result = found or ScreeningSettings(review=review)
    review._screening_settings_cache = result  # type: ignore[attr-defined]
    return result


def reasons_for(review: Review, stage: str, *, active_only: bool = True) -> list[ExclusionReason]:
    qs = ExclusionReason.objects.filter(review=review, stage=stage)
    if active_only:
        qs = qs.filter(active=True)
    return list(qs.order_by("position", "pk"))


def highlighter_for(review: Review) -> Highlighter:
    s = settings_for(review)
    return build_highlighter(s.keywords("include"), s.keywords("exclude"))


# --- Who may do what ---------------------------------------------------------------------------


def can_screen(*, user, review: Review) -> bool:
    return has_role(user=user, review=review, roles=[Role.REVIEWER])


def may_resolve_some(*, user, review: Review) -> bool:
    """Whether the user may resolve any conflict at all (to show the conflict queue)."""
    held = roles_of(user=user, review=review)
    if Role.LEAD in held:
        return True
    policy = settings_for(review).resolvers
    return policy != ResolverPolicy.LEADS and Role.REVIEWER in held


def may_resolve(
    *, user, review: Review, item: ScreeningItem, voters: set[int] | None = None
) -> bool:
    """Whether ``user`` may resolve ``item``'s conflict under the review's policy."""
    held = roles_of(user=user, review=review)
    if Role.LEAD in held:
        return True
    if Role.REVIEWER not in held:
        return False
    policy = settings_for(review).resolvers
    if policy == ResolverPolicy.ANY:
        return True
    if policy == ResolverPolicy.THIRD:
        if voters is None:
            voters = set(item.votes.values_list("reviewer_id", flat=True))
        return user.pk not in voters
    return False


def votes_visible(*, user, review: Review, item: ScreeningItem) -> bool:
    """Whether ``user`` may see other reviewers' votes and notes on ``item``.

    While the review is blinded, nobody sees another reviewer's vote until the record is
    settled, except a person allowed to resolve it while it is in conflict. The record's status
    is not shown to its voters either (with two reviewers, "in conflict" would give the other
    vote away).
    """
    if not settings_for(review).blinded:
        return True
    if item.status in SETTLED_STATUSES or item.status == ItemStatus.NOT_RETRIEVED:
        return True
    if item.status == ItemStatus.CONFLICT:
        return may_resolve(user=user, review=review, item=item)
    return False


def visible_votes(*, user, review: Review, item: ScreeningItem) -> list[Vote]:
    """The votes on ``item`` that ``user`` may see: their own, or all when not blinded to them."""
    votes = item.votes.select_related("reviewer", "reason").order_by("created_at", "pk")
    if votes_visible(user=user, review=review, item=item):
        return list(votes)
    return [v for v in votes if v.reviewer_id == user.pk]


def status_visible(*, user, review: Review, item: ScreeningItem) -> str:
    """The item's status as ``user`` may see it (pending and conflict look alike to voters)."""
    if item.status == ItemStatus.CONFLICT and not votes_visible(
        user=user, review=review, item=item
    ):
        return ItemStatus.PENDING
    return item.status


# --- Queues ------------------------------------------------------------------------------------


def conflicts_for(*, user, review: Review, stage: str) -> list[ScreeningItem]:
    """Items in conflict at ``stage`` that ``user`` may resolve, oldest first, with their votes."""
    items = list(
        items_of(review, stage)
        .filter(status=ItemStatus.CONFLICT)
        .select_related("record")
        .prefetch_related("votes__reviewer", "votes__reason")
        .order_by("pk")[:500]
    )
    result = []
    for item in items:
        voters = {v.reviewer_id for v in item.votes.all()}
        if may_resolve(user=user, review=review, item=item, voters=voters):
            result.append(item)
    return result


def report_of(record: Record) -> FullTextReport | None:
    return FullTextReport.objects.filter(record=record).first()


# --- Progress ----------------------------------------------------------------------------------


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

    @property
    def settled(self) -> int:
        return self.included + self.excluded

    @property
    def remaining(self) -> int:
        return self.pending + self.conflicts

    @property
    def percent_done(self) -> int:
        return int(100 * (self.total - self.remaining) / self.total) if self.total else 0


def stage_progress(review: Review, stage: str) -> StageProgress:
    """Counts of one stage: a query each time, never a stored total."""
    items = items_of(review, stage)
    by_status = dict(items.values_list("status").annotate(n=Count("pk")).order_by())
    untouched = items.filter(status=ItemStatus.PENDING, claims=0).count()
    votes = Vote.objects.filter(primary_of(review), review=review, stage=stage)
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
        pending=by_status.get(ItemStatus.PENDING, 0),
        untouched=untouched,
        conflicts=by_status.get(ItemStatus.CONFLICT, 0),
        included=by_status.get(ItemStatus.INCLUDED, 0),
        excluded=by_status.get(ItemStatus.EXCLUDED, 0),
        not_retrieved=by_status.get(ItemStatus.NOT_RETRIEVED, 0),
        reviewers_per_record=settings_for(review).reviewers_per_record,
        reviewers=reviewers,
        excluded_by_reason=[(label or "No reason given", n) for label, n in reasons],
    )


@dataclass(frozen=True)
class MyProgress:
    voted: int
    total: int
    settled: int


#: Seconds the stage totals of the screening page's counter may be old (display only).
COUNTER_TTL = 10


def _stage_totals(review: Review, stage: str) -> tuple[int, int]:
    items = items_of(review, stage)
    return items.count(), items.filter(status__in=SETTLED_STATUSES).count()


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
        voted=Vote.objects.filter(review=review, stage=stage, reviewer=user).count(),
        total=total,
        settled=settled,
    )


def records_screened(review: Review) -> int:
    """Dashboard count: records settled at title/abstract."""
    return items_of(review, Stage.TITLE_ABSTRACT).filter(status__in=SETTLED_STATUSES).count()


def reports_assessed(review: Review) -> int:
    """Dashboard count: full-text reports settled (assessed for eligibility)."""
    return items_of(review, Stage.FULL_TEXT).filter(status__in=SETTLED_STATUSES).count()


def prisma_counts(review: Review) -> dict[str, object]:
    """The screening boxes of the PRISMA 2020 flow diagram, as live queries."""
    ta = items_of(review, Stage.TITLE_ABSTRACT)
    ft = items_of(review, Stage.FULL_TEXT)
    reasons = (
        ft.filter(status=ItemStatus.EXCLUDED)
        .values_list("final_reason__label")
        .annotate(n=Count("pk"))
        .order_by("-n", "final_reason__label")
    )
    return {
        "records_screened": ta.filter(status__in=SETTLED_STATUSES).count(),
        "records_excluded": ta.filter(status=ItemStatus.EXCLUDED).count(),
        "reports_sought": ft.count(),
        "reports_not_retrieved": ft.filter(status=ItemStatus.NOT_RETRIEVED).count(),
        "reports_assessed": ft.filter(status__in=SETTLED_STATUSES).count(),
        "reports_excluded": [(label or "No reason given", n) for label, n in reasons],
        "reports_included": ft.filter(status=ItemStatus.INCLUDED).count(),
    }


# --- Agreement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairAgreement:
    reviewer_a: str
    reviewer_b: str
    table: reliability.TwoByTwo
    kappa: reliability.KappaResult


@dataclass(frozen=True)
class StageAgreement:
    stage: str
    label: str
    records: int
    pooled: reliability.KappaResult
    pooled_table: reliability.TwoByTwo
    pairs: list[PairAgreement]
    fleiss: reliability.FleissResult | None
    raters: int


def _yes(decision: str) -> bool:
    # A Maybe moves a record forward unless resolved otherwise, so it counts as "not excluded".
    return decision != Decision.EXCLUDE


def stage_agreement(review: Review, stage: str) -> StageAgreement:
    """Agreement between reviewers at ``stage`` over settled records only.

    Records still awaiting votes or in conflict are left out until settled, so that these
    figures can never reveal a blinded vote.
    """
    rows = (
        Vote.objects.filter(primary_of(review), review=review, stage=stage)
        .filter(item__status__in=SETTLED_STATUSES)
        .order_by("item_id", "created_at", "pk")
        .values_list("item_id", "reviewer_id", "reviewer__username", "decision")
    )
    by_item: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    names: dict[int, str] = {}
    for item_id, reviewer_id, username, decision in rows.iterator(chunk_size=5000):
        by_item[item_id].append((reviewer_id, username, decision))
        names[reviewer_id] = username
    pooled_pairs = []
    pair_votes: dict[tuple[int, int], list[tuple[bool, bool]]] = defaultdict(list)
    for votes in by_item.values():
        if len(votes) >= 2:
            pooled_pairs.append((_yes(votes[0][2]), _yes(votes[1][2])))
        for (ua, _, da), (ub, _, db) in combinations(votes, 2):
            if ua > ub:
                ua, ub, da, db = ub, ua, db, da
            pair_votes[(ua, ub)].append((_yes(da), _yes(db)))
    pairs = []
    for (ua, ub), pv in sorted(
        pair_votes.items(), key=lambda kv: (names[kv[0][0]], names[kv[0][1]])
    ):
        table = reliability.two_by_two(pv)
        pairs.append(PairAgreement(names[ua], names[ub], table, reliability.cohen_kappa(pv)))
    fleiss = None
    if len(names) > 2:
        sizes = [len(v) for v in by_item.values() if len(v) >= 2]
        if sizes:
            m = max(set(sizes), key=lambda s: (sizes.count(s), s))
            matrix = []
            for votes in by_item.values():
                if len(votes) == m:
                    yes = sum(1 for _, _, d in votes if _yes(d))
                    matrix.append([yes, m - yes])
            fleiss = reliability.fleiss_kappa(matrix)
    return StageAgreement(
        stage=stage,
        label=Stage(stage).label,
        records=sum(1 for v in by_item.values() if len(v) >= 2),
        pooled=reliability.cohen_kappa(pooled_pairs),
        pooled_table=reliability.two_by_two(pooled_pairs),
        pairs=pairs,
        fleiss=fleiss,
        raters=len(names),
    )


AGREEMENT_CSV_COLUMNS = [
    "stage",
    "reviewer_a",
    "reviewer_b",
    "records",
    "both_include",
    "a_include_b_exclude",
    "a_exclude_b_include",
    "both_exclude",
    "percent_agreement",
    "kappa",
    "statistic",
]


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def agreement_csv_rows(review: Review) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AGREEMENT_CSV_COLUMNS)
    for stage in Stage.values:
        report = stage_agreement(review, stage)
        t, k = report.pooled_table, report.pooled
        writer.writerow(
            [stage, "(first vote)", "(second vote)", t.n, t.both_yes, t.a_yes_b_no,
             t.a_no_b_yes, t.both_no, _fmt(k.percent_agreement, 2), _fmt(k.kappa),
             "Cohen's kappa, pooled"]
        )  # fmt: skip
        for pair in report.pairs:
            t, k = pair.table, pair.kappa
            writer.writerow(
                [stage, spreadsheet_safe(pair.reviewer_a), spreadsheet_safe(pair.reviewer_b),
                 t.n, t.both_yes,
                 t.a_yes_b_no, t.a_no_b_yes, t.both_no, _fmt(k.percent_agreement, 2),
                 _fmt(k.kappa), "Cohen's kappa"]
            )  # fmt: skip
        if report.fleiss is not None:
            f = report.fleiss
            pct = None if f.observed is None else 100 * f.observed
            writer.writerow(
                [stage, "(all)", "", f.items, "", "", "", "", _fmt(pct, 2), _fmt(f.kappa),
                 f"Fleiss' kappa, {f.raters_per_item} votes per record"]
            )  # fmt: skip
    yield buffer.getvalue()


VOTES_CSV_COLUMNS = [
    "stage",
    "record_id",
    "title",
    "doi",
    "status",
    "reviewer",
    "decision",
    "reason",
    "note",
    "voted_at",
]


def votes_csv_rows(*, user, review: Review, stage: str) -> Iterator[str]:
    """Votes of one stage as CSV with blinding applied row by row, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(VOTES_CSV_COLUMNS)
    yield buffer.getvalue()
    blinded = settings_for(review).blinded
    resolver_cache: dict[int, bool] = {}
    votes = (
        Vote.objects.filter(primary_of(review), review=review, stage=stage)
        .select_related("record", "reviewer", "reason", "item")
        .order_by("item_id", "created_at", "pk")
    )
    for vote in votes.iterator(chunk_size=2000):
        item = vote.item
        visible = vote.reviewer_id == user.pk or not blinded or item.status in SETTLED_STATUSES
        if not visible and item.status == ItemStatus.CONFLICT:
            if item.pk not in resolver_cache:
                resolver_cache[item.pk] = may_resolve(user=user, review=review, item=item)
            visible = resolver_cache[item.pk]
        if not visible:
            continue
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                stage,
                vote.record_id,
                spreadsheet_safe(vote.record.title[:500]),
                spreadsheet_safe(vote.record.doi),
                status_visible(user=user, review=review, item=item),
                spreadsheet_safe(vote.reviewer.get_username()),
                vote.decision,
                spreadsheet_safe(vote.reason.label if vote.reason else ""),
                spreadsheet_safe(vote.note),
                vote.updated_at.isoformat(),
            ]
        )
        yield buffer.getvalue()


@dataclass(frozen=True)
class MyVote:
    vote: Vote
    status: str

    @property
    def changeable(self) -> bool:
        return self.status in (ItemStatus.PENDING, ItemStatus.CONFLICT)


def my_recent_votes(*, user, review: Review, stage: str, limit: int = 20) -> list[MyVote]:
    """The reviewer's latest votes at a stage, with the record's status as they may see it."""
    votes = (
        Vote.objects.filter(review=review, stage=stage, reviewer=user)
        .select_related("item", "record", "reason")
        .defer("record__raw", "record__abstract")
        .order_by("-updated_at", "-pk")[:limit]
    )
    return [MyVote(v, status_visible(user=user, review=review, item=v.item)) for v in votes]
