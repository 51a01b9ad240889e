"""Pairwise scoring: how strongly do two records say they are the same publication?

The score is a sum of evidence points in the spirit of Fellegi and Sunter (1969, "A theory for
record linkage", JASA 64:1183): agreement on a field adds points, disagreement subtracts them,
a missing field is neutral. The weights were set by reasoning about how often each field
agrees for true duplicates and for distinct papers, then checked against the two benchmark sets
(see ``bench/dedup_bench.py``); the engine never sees those labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from rapidfuzz import fuzz

from deduplication.engine.normalise import journal_similarity, normalise_text, pages_match
from deduplication.engine.records import DedupRecord, PreparedRecord

__all__ = [
    "FieldComparison",
    "compare_fields",
    "location_agrees",
    "needs_location",
    "score_pair",
    "title_similarity",
]

FieldStatus = Literal["same", "similar", "different", "missing"]

# Titles this short ("Reply", "Editorial", "Erratum") say little about identity.
_INFORMATIVE_TITLE_CHARS = 40
# A title that is a prefix of the other, at least this long, was probably truncated.
_TRUNCATED_TITLE_CHARS = 50

# A title inside the other, at least this long, is the same title with something added.
_CONTAINED_TITLE_CHARS = 30

# (similarity, points) knots; points are interpolated linearly between them.
_TITLE_POINTS = ((0.60, -8.0), (0.70, -4.0), (0.80, -1.0), (0.90, 2.5), (0.95, 4.5), (1.0, 6.0))


def title_similarity(a: str, b: str) -> float:
    """Similarity of two title keys (normalised, spaces removed), in [0, 1].

    A title that is a long prefix of the other scores 0.95: Ovid cuts titles at 250 characters
    and some databases drop the subtitle. A title inside the other scores at least 0.9.
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    # Below 0.6 every similarity earns the same points, so rapidfuzz may stop early there.
    similarity = fuzz.ratio(a, b, score_cutoff=_TITLE_POINTS[0][0] * 100) / 100.0
    if similarity >= 0.95:
        return similarity
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= _TRUNCATED_TITLE_CHARS and long.startswith(short):
        return 0.95
    # A prefix was added ("Erratum: ...", a series name) or dropped: similar, not the same.
    if len(short) >= _CONTAINED_TITLE_CHARS and short in long:
        return max(similarity, 0.9)
    return similarity


def _title_points(similarity: float, shortest: int) -> float:
    knots = _TITLE_POINTS
    if similarity <= knots[0][0]:
        points = knots[0][1]
    else:
        points = knots[-1][1]
        for (x0, y0), (x1, y1) in pairwise(knots):
            if similarity <= x1:
                points = y0 + (y1 - y0) * (similarity - x0) / (x1 - x0)
                break
    if points > 0 and shortest < _INFORMATIVE_TITLE_CHARS:
        points *= max(shortest, 10) / _INFORMATIVE_TITLE_CHARS
    return points


def author_similarity(a: PreparedRecord, b: PreparedRecord) -> float | None:
    """Share of the shorter author list whose surnames appear in the other, or ``None``.

    The shorter list is the reference because databases truncate author lists ("et al.").
    """
    if not a.surnames or not b.surnames:
        return None
    shared = len(a.surnames & b.surnames)
    return shared / min(len(a.surnames), len(b.surnames))


def _first_author_matches(a: PreparedRecord, b: PreparedRecord) -> bool:
    first_a, first_b = a.authors[0].last, b.authors[0].last
    if first_a == first_b:
        return True
    # "Lopez, Rubio M." (surname split wrongly) against "Rubio", or "Loirat" for "Loriat".
    return first_a in b.surnames or first_b in a.surnames or fuzz.ratio(first_a, first_b) >= 80


def _journals_agree(a: PreparedRecord, b: PreparedRecord) -> float | None:
    if a.issns and b.issns and a.issns & b.issns:
        return 1.0
    return journal_similarity(a.journal, b.journal)


# Most a pair can gain after its identifiers and title: authors, year, journal, volume, pages.
_MOST_AFTER_TITLE = 2.0 + 0.5 + 1.0 + 1.0 + 1.5


def score_pair(a: PreparedRecord, b: PreparedRecord, floor: float | None = None) -> float:
    """Evidence that ``a`` and ``b`` are the same publication (higher is more likely).

    With ``floor``, a pair that cannot reach it whatever its other fields say returns early
    with an upper bound of its score, which is below ``floor``; most candidate pairs stop
    after the title comparison that way.
    """
    score = 0.0

    if a.doi and b.doi:
        score += 8.0 if a.doi == b.doi else -5.0
    if a.pmid and b.pmid:
        score += 8.0 if a.pmid == b.pmid else -5.0

    if a.title_key and b.title_key:
        similarity = title_similarity(a.title_key, b.title_key)
        score += _title_points(similarity, min(len(a.title_key), len(b.title_key)))

    if floor is not None and score + _MOST_AFTER_TITLE < floor:
        return score + _MOST_AFTER_TITLE

    authors = author_similarity(a, b)
    if authors is not None:
        first = _first_author_matches(a, b)
        if authors >= 0.8 and first:
            score += 2.0
        elif authors >= 0.5:
            score += 1.0
        elif authors >= 0.3 or first:
            score -= 0.5
        else:
            score -= 3.0

    if a.year is not None and b.year is not None:
        gap = abs(a.year - b.year)
        score += 0.5 if gap == 0 else -0.5 if gap == 1 else -4.0

    journal = _journals_agree(a, b)
    if journal is not None:
        if journal >= 0.9:
            score += 1.0
        elif journal < 0.5:
            # Unrelated journals: typically a conference abstract and the later article.
            score -= 2.5
        elif journal < 0.6:
            score -= 1.5

    if a.volume and b.volume:
        score += 1.0 if a.volume == b.volume else -2.5

    if a.pages is not None and b.pages is not None:
        score += 1.5 if pages_match(a.pages, b.pages) else -3.5

    # Only a disagreement counts: issues are often missing or mangled ("Suppl. 1", "1-3").
    if a.issue and b.issue and a.issue != b.issue:
        score -= 1.0

    return score


def needs_location(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Whether the pair's title cannot carry an automatic merge: either title is generic.

    A generic title ("Editorial", "Reply", "In this issue", see ``generic.py``) recurs in issue
    after issue of one journal, so title, authors (the same editor), journal and year may all
    agree between two different items.
    """
    return a.generic_title or b.generic_title


def location_agrees(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Whether the pair is pinned to one item: the same DOI or PMID, or the same place in the
    journal (volume and first page both given and agreeing, issues not contradicting)."""
    if a.doi and a.doi == b.doi:
        return True
    if a.pmid and a.pmid == b.pmid:
        return True
    if not (a.volume and a.volume == b.volume and pages_match(a.pages, b.pages)):
        return False
    return not (a.issue and b.issue and a.issue != b.issue)


# --------------------------------------------------------------------------------------------
# Field-by-field view for people


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """One field of a pair, side by side, for a review screen that highlights differences.

    ``left`` and ``right`` are the values as given (not normalised); ``status`` is the verdict
    on the normalised values; ``similarity`` is in [0, 1] where a fuzzy comparison applies.
    """

    field: str
    left: str
    right: str
    status: FieldStatus
    similarity: float | None = None


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def _exact(
    field: str, left: object, right: object, a: object, b: object, *, near: bool = False
) -> FieldComparison:
    if a is None or b is None or a == "" or b == "":
        status: FieldStatus = "missing"
    elif a == b:
        status = "same" if _shown(left) == _shown(right) else "similar"
    else:
        status = "similar" if near else "different"
    return FieldComparison(field, _shown(left), _shown(right), status)


def _fuzzy(field: str, left: object, right: object, similarity: float | None) -> FieldComparison:
    if similarity is None:
        status: FieldStatus = "missing"
    elif similarity >= 1.0:
        status = "same" if _shown(left) == _shown(right) else "similar"
    elif similarity >= 0.85:
        status = "similar"
    else:
        status = "different"
    return FieldComparison(field, _shown(left), _shown(right), status, similarity)


def _abstract_similarity(left: DedupRecord, right: DedupRecord) -> float | None:
    a, b = normalise_text(left.abstract), normalise_text(right.abstract)
    if not a or not b:
        return None
    return 1.0 if a == b else fuzz.ratio(a, b) / 100.0


def compare_fields(
    left: DedupRecord, right: DedupRecord, a: PreparedRecord, b: PreparedRecord
) -> tuple[FieldComparison, ...]:
    """Every compared field of a pair, in reading order."""
    title = title_similarity(a.title_key, b.title_key) if a.title_key and b.title_key else None
    gap = None if a.year is None or b.year is None else abs(a.year - b.year)
    year_near = gap is not None and gap <= 1
    return (
        _fuzzy("title", left.title, right.title, title),
        _fuzzy("authors", left.authors, right.authors, author_similarity(a, b)),
        _exact("year", left.year, right.year, a.year, b.year, near=year_near),
        _fuzzy("journal", left.journal, right.journal, _journals_agree(a, b)),
        _exact("volume", left.volume, right.volume, a.volume, b.volume),
        _exact("issue", left.issue, right.issue, a.issue, b.issue),
        _exact(
            "pages",
            left.pages,
            right.pages,
            a.pages.start if a.pages else None,
            b.pages.start if b.pages else None,
        ),
        _exact("doi", left.doi, right.doi, a.doi, b.doi),
        _exact("pmid", left.pmid, right.pmid, a.pmid, b.pmid),
        _fuzzy("abstract", left.abstract, right.abstract, _abstract_similarity(left, right)),
    )
