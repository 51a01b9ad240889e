"""Update rounds (issue 21): open a round, copy its searches for a rerun, suggest a date limit.

A review's first searches are round 1 (``Search.round`` null). A lead opens round 2, 3, ...
with a date and a reason; the new round starts with a copy of each search of the round before
(database, kind, platform, query), so that the team only uploads the new export and sets the
date. What a round does to the later steps (deduplication against every earlier record, only new
records screened) is theirs: they read the round of a record's search.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet

from core.audit import audit_record
from core.text import clean_input_text
from identification.models import Record, Round, Search
from reviews.access import require_role
from reviews.constants import Role
from reviews.models import Review
from reviews.services import review_lock

ROUND_ROLES = (Role.LEAD,)


# --- reads ------------------------------------------------------------------------------------


def current_round(review: Review) -> Round | None:
    """The latest round of ``review`` (None: still round 1)."""
    return Round.objects.filter(review=review).order_by("-number").first()


def current_round_number(review: Review) -> int:
    return Round.objects.filter(review=review).aggregate(n=Max("number"))["n"] or 1


def round_q(number: int, *, prefix: str = "search__") -> Q:
    """Records (``prefix="search__"``) or searches (``prefix=""``) of round ``number``."""
    if number <= 1:
        return Q(**{f"{prefix}round__isnull": True})
    return Q(**{f"{prefix}round__number": number})


def earlier_q(number: int, *, prefix: str = "search__") -> Q:
    """Records (or searches) of the rounds before ``number``."""
    if number <= 1:
        return Q(pk__in=[])
    return Q(**{f"{prefix}round__isnull": True}) | Q(**{f"{prefix}round__number__lt": number})


def records_of_round(review: Review, number: int) -> QuerySet[Record]:
    return Record.objects.filter(review=review).filter(round_q(number))


def record_rounds(records) -> dict[int, int]:
    """``{record id: round number}`` for ``records`` (ids or a queryset)."""
    rows = Record.objects.filter(pk__in=records).values_list("pk", "search__round__number")
    return {pk: n or 1 for pk, n in rows}


@dataclass(frozen=True)
class RoundRow:
    """One round as the rounds page lists it."""

    number: int
    date: dt.date | None
    reason: str
    searches: int
    records: int
    round: Round | None = None


def rounds_of(review: Review) -> list[RoundRow]:
    """Round 1 (the first searches) and every update round, with their searches and records."""
    searches = dict(
        Search.objects.filter(review=review)
        .values_list("round__number")
        .annotate(n=Count("pk"))
        .order_by()
    )
    records = dict(
        Record.objects.filter(review=review)
        .values_list("search__round__number")
        .annotate(n=Count("pk"))
        .order_by()
    )
    first_date = (
        Search.objects.filter(review=review, round__isnull=True)
        .aggregate(d=Max("date_searched"))
        .get("d")
    )
    rows = [RoundRow(1, first_date, "First searches", searches.get(None, 0), records.get(None, 0))]
    for r in Round.objects.filter(review=review).order_by("number"):
        rows.append(
            RoundRow(
                r.number, r.date, r.reason, searches.get(r.number, 0), records.get(r.number, 0), r
            )
        )
    return rows


def round_date(review: Review, number: int) -> dt.date | None:
    """When round ``number`` was searched: its date, or round 1's latest search date."""
    if number <= 1:
        return (
            Search.objects.filter(review=review, round__isnull=True)
            .aggregate(d=Max("date_searched"))
            .get("d")
        )
    r = Round.objects.filter(review=review, number=number).first()
    return r.date if r else None


# --- date-limited queries ---------------------------------------------------------------------


@dataclass(frozen=True)
class QuerySuggestion:
    """A rerun's query limited to records added since ``since``, and how it was limited."""

    query: str
    syntax: str  # the platform's syntax used, or "" when none was recognised
    note: str


def _is(text: str, *names: str) -> bool:
    return any(re.search(rf"\b{re.escape(n)}\b", text) for n in names)


def suggest_query(search: Search, since: dt.date | None) -> QuerySuggestion:
    """``search``'s query limited to records added to the database since ``since``.

    The limit follows the syntax of the platform when it is one we recognise (PubMed's Entrez
    date, Ovid's entry date, Embase.com's /sd, Scopus's load date, EBSCOhost's entry month,
    Web of Science's index date); otherwise the query is left as it is with a sentence saying
    which limit to set. Always a suggestion: people check it against the platform.
    """
    query = (search.query or "").strip()
    where = f"{search.database} {search.platform}".lower()
    if since is None:
        return QuerySuggestion(query, "", "No earlier search date is known: set the limit by hand.")
    wrapped = f"({query})" if query else "(…)"
    ymd = since.strftime("%Y%m%d")
    if _is(where, "ovid"):
        return QuerySuggestion(
            f"{wrapped}\nlimit to ed={ymd}-{dt.date.today():%Y%m%d}",
            "Ovid",
            "Ovid: limit the final line to entry dates (ed) since the last search.",
        )
    if _is(where, "pubmed", "medline"):
        return QuerySuggestion(
            f'{wrapped} AND ("{since:%Y/%m/%d}"[edat] : "3000"[edat])',
            "PubMed",
            "PubMed: Entrez date [edat] since the last search.",
        )
    if _is(where, "embase") and not _is(where, "ovid"):
        return QuerySuggestion(
            f"{wrapped} AND [{since:%d-%m-%Y}]/sd",
            "Embase.com",
            "Embase.com: records added since the last search ([date]/sd).",
        )
    if _is(where, "scopus"):
        return QuerySuggestion(
            f"{wrapped} AND LOAD-DATE AFT {ymd}",
            "Scopus",
            "Scopus: records loaded after the last search (LOAD-DATE AFT).",
        )
    if _is(where, "ebsco", "ebscohost", "cinahl", "psycinfo"):
        return QuerySuggestion(
            f"{wrapped} AND EM {since:%Y%m}-",
            "EBSCOhost",
            "EBSCOhost: entry month (EM) from the month of the last search.",
        )
    if _is(where, "web of science", "wos"):
        return QuerySuggestion(
            f"{wrapped} AND LD=({since:%Y-%m-%d}/{dt.date.today():%Y-%m-%d})",
            "Web of Science",
            "Web of Science: index date (LD) since the last search.",
        )
    return QuerySuggestion(
        query,
        "",
        f"Limit the search to records added since {since:%Y-%m-%d} with the platform's "
        "entry-date or load-date limit.",
    )


# --- writes -----------------------------------------------------------------------------------


def _clean_date(value: dt.date | str | None) -> dt.date:
    if isinstance(value, str) and value.strip():
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({"date": "Give the date as YYYY-MM-DD."}) from None
    if not isinstance(value, dt.date):
        raise ValidationError({"date": "Give the round's date (YYYY-MM-DD)."})
    if value > dt.date.today() + dt.timedelta(days=1):
        raise ValidationError({"date": "The round's date is in the future."})
    return value


def round_open(
    *,
    actor,
    review: Review,
    date: dt.date | str | None,
    reason: str = "",
    copy_searches: bool = True,
) -> Round:
    """Open the next update round of ``review``; a lead's act, audited.

    With ``copy_searches`` each search of the round before is copied into the new round
    (database, kind, platform, query; ``rerun_of`` names the search it reruns), without a date
    or files: the team uploads the new export and sets the date.
    """
    require_role(user=actor, review=review, roles=ROUND_ROLES, action="open an update round")
    day = _clean_date(date)
    reason = clean_input_text(reason, field="reason", max_length=5000, required=False)
    with transaction.atomic():
        review_lock(review)
        previous = current_round_number(review)
        last = round_date(review, previous)
        if last is not None and day < last:
            raise ValidationError(
                {"date": f"The round's date is before round {previous}'s ({last:%Y-%m-%d})."}
            )
        new = Round.objects.create(
            review=review, number=previous + 1, date=day, reason=reason, created_by=actor
        )
        copied = []
        if copy_searches:
            for old in Search.objects.filter(review=review).filter(round_q(previous, prefix="")):
                copied.append(
                    Search.objects.create(
                        review=review,
                        round=new,
                        rerun_of=old,
                        database=old.database,
                        kind=old.kind,
                        platform=old.platform,
                        query=old.query,
                        notes=f"Rerun of the search of round {previous}.",
                        created_by=actor,
                    )
                )
        audit_record(
            actor=actor,
            review=review,
            verb="opened update round",
            obj=new,
            changes={
                "number": new.number,
                "date": day.isoformat(),
                "reason": reason,
                "searches_copied": [s.database for s in copied],
            },
        )
    return new


def search_round(review: Review, number: int | str | None) -> Round | None:
    """The round a new search goes to: ``number`` (1 is the first searches), else the current.

    A ValidationError names a round the review does not have.
    """
    if number in (None, ""):
        return current_round(review)
    try:
        n = int(number)
    except (TypeError, ValueError):
        raise ValidationError({"round": "Give the round as a whole number."}) from None
    if n == 1:
        return None
    found = Round.objects.filter(review=review, number=n).first()
    if found is None:
        raise ValidationError({"round": f"This review has no round {n}."})
    return found
