"""Inter-rater agreement for screening decisions: pure functions, no Django.

Decisions come in as plain labels; results go out as frozen dataclasses. The 2x2 table that
screening reports is *include* against *exclude*; callers decide how a Maybe is counted (the
screening app counts it as "not excluded", because a Maybe moves a record forward unless a
resolver says otherwise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TwoByTwo:
    """Counts of paired binary decisions: rater A's decision first, rater B's second."""

    both_yes: int
    a_yes_b_no: int
    a_no_b_yes: int
    both_no: int

    @property
    def n(self) -> int:
        return self.both_yes + self.a_yes_b_no + self.a_no_b_yes + self.both_no


@dataclass(frozen=True)
class KappaResult:
    """Cohen's kappa with the numbers it is made of.

    ``kappa`` is ``None`` when it is undefined: no pairs, or chance agreement of 1 (both raters
    used one and the same category for every item), where kappa is 0/0.
    """

    n: int
    observed: float | None
    expected: float | None
    kappa: float | None
    undefined_reason: str = ""

    @property
    def percent_agreement(self) -> float | None:
        return None if self.observed is None else 100.0 * self.observed


@dataclass(frozen=True)
class FleissResult:
    """Fleiss' kappa for items each rated by the same number of raters."""

    items: int
    raters_per_item: int
    observed: float | None
    expected: float | None
    kappa: float | None
    undefined_reason: str = ""


def two_by_two(pairs: Iterable[tuple[bool, bool]]) -> TwoByTwo:
    """Count paired yes/no decisions (``True`` = include) into a 2x2 table."""
    counts = Counter((bool(a), bool(b)) for a, b in pairs)
    return TwoByTwo(
        both_yes=counts[(True, True)],
        a_yes_b_no=counts[(True, False)],
        a_no_b_yes=counts[(False, True)],
        both_no=counts[(False, False)],
    )


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> KappaResult:
    """Cohen's kappa for two raters over any set of categories.

    kappa = (p_o - p_e) / (1 - p_e), with p_o the observed proportion of agreement and p_e the
    agreement expected by chance from each rater's marginal proportions (Cohen 1960, *Educ.
    Psychol. Meas.* 20:37-46).
    """
    n = len(pairs)
    if n == 0:
        return KappaResult(0, None, None, None, "no records were screened by both")
    agree = sum(1 for a, b in pairs if a == b)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    observed = agree / n
    expected = sum(first[c] * second[c] for c in first.keys() | second.keys()) / (n * n)
    if expected >= 1.0:
        return KappaResult(
            n, observed, expected, None, "both reviewers gave one and the same decision to all"
        )
    return KappaResult(n, observed, expected, (observed - expected) / (1.0 - expected))


def cohen_kappa_2x2(table: TwoByTwo) -> KappaResult:
    """Cohen's kappa from a 2x2 table (the same estimator as :func:`cohen_kappa`)."""
    pairs: list[tuple[bool, bool]] = (
        [(True, True)] * table.both_yes
        + [(True, False)] * table.a_yes_b_no
        + [(False, True)] * table.a_no_b_yes
        + [(False, False)] * table.both_no
    )
    return cohen_kappa(pairs)


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> FleissResult:
    """Fleiss' kappa from an items x categories matrix of rating counts.

    Every row must add up to the same number of raters ``m >= 2``; the raters need not be the
    same people from item to item (Fleiss 1971, *Psychol. Bull.* 76:378-382).
    """
    rows = [list(map(int, row)) for row in counts]
    if not rows:
        return FleissResult(0, 0, None, None, None, "no records had all their votes")
    m = sum(rows[0])
    if m < 2:
        return FleissResult(len(rows), m, None, None, None, "needs at least two raters per item")
    if any(sum(row) != m for row in rows) or any(len(row) != len(rows[0]) for row in rows):
        raise ValueError("every item needs the same number of ratings and categories")
    if any(x < 0 for row in rows for x in row):
        raise ValueError("rating counts cannot be negative")
    n_items = len(rows)
    total = n_items * m
    p_j = [sum(row[j] for row in rows) / total for j in range(len(rows[0]))]
    p_i = [(sum(x * x for x in row) - m) / (m * (m - 1)) for row in rows]
    observed = sum(p_i) / n_items
    expected = sum(p * p for p in p_j)
    if expected >= 1.0:
        return FleissResult(
            n_items, m, observed, expected, None, "every vote gave one and the same decision"
        )
    return FleissResult(n_items, m, observed, expected, (observed - expected) / (1.0 - expected))
