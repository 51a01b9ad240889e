"""The numbers of one PRISMA 2020 flow diagram, as frozen dataclasses.

The boxes and their ids follow the four official templates (Page et al., BMJ 2021;372:n71);
see ``shared/reference/prisma/README.md`` §1 for the exact texts. Counting them from the
database is someone else's job: this module only holds and validates the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Named = tuple[tuple[str, int], ...]
"""An ordered list of (label, count) pairs: databases, registers or exclusion reasons."""


class Box(StrEnum):
    """Every box a PRISMA 2020 diagram can have; the values double as SVG ids."""

    PREVIOUS = "previous"  # C0/D0
    IDENTIFIED = "identified"  # A1
    REMOVED = "removed"  # A2
    SCREENED = "screened"  # A3
    RECORDS_EXCLUDED = "records_excluded"  # A4
    SOUGHT = "sought"  # A5
    NOT_RETRIEVED = "not_retrieved"  # A6
    ASSESSED = "assessed"  # A7
    REPORTS_EXCLUDED = "reports_excluded"  # A8
    INCLUDED = "included"  # A9/C9/D9
    TOTAL = "total"  # C10/D10
    META_ANALYSIS = "meta_analysis"  # PRISMA2020 R package v1.1.4 extension, box17
    OTHER_IDENTIFIED = "other_identified"  # B1/D11
    OTHER_SOUGHT = "other_sought"  # B2
    OTHER_NOT_RETRIEVED = "other_not_retrieved"  # B3
    OTHER_ASSESSED = "other_assessed"  # B4
    OTHER_REPORTS_EXCLUDED = "other_reports_excluded"  # B5


OTHER_METHODS_BOXES: frozenset[Box] = frozenset(
    {
        Box.OTHER_IDENTIFIED,
        Box.OTHER_SOUGHT,
        Box.OTHER_NOT_RETRIEVED,
        Box.OTHER_ASSESSED,
        Box.OTHER_REPORTS_EXCLUDED,
    }
)
"""The grey "other methods" column, usually entered by hand."""


class Template(StrEnum):
    """The four official templates; the letters are those of the reference README."""

    NEW_DATABASES = "A"  # new review, databases and registers only
    NEW_OTHER = "B"  # new review, databases, registers and other sources
    UPDATED_DATABASES = "C"  # updated review, databases and registers only
    UPDATED_OTHER = "D"  # updated review, databases, registers and other sources


def _count(value: Any, what: str) -> int:
    # bool is an int subclass; True as "1 record" is always a caller's bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
    return value


def _optional_count(value: Any, what: str) -> int | None:
    return None if value is None else _count(value, what)


def _named(pairs: Iterable[Any], what: str) -> Named:
    if isinstance(pairs, str | bytes):
        raise TypeError(f"{what} must be a list of (label, count) pairs, got a string")
    out = []
    for pair in pairs:
        label, n = pair
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{what}: every label must be a non-empty string, got {label!r}")
        out.append((label.strip(), _count(n, f"{what} {label!r}")))
    return tuple(out)


def total(pairs: Named) -> int:
    """Sum of the counts of a (label, count) list."""
    return sum(n for _, n in pairs)


@dataclass(frozen=True, kw_only=True)
class OtherMethods:
    """The "Identification of studies via other methods" column (templates B and D).

    Only the three sources that the PRISMA2020 R package's CSV can carry are modelled; a
    source that was not searched is ``None`` and its line is left out of the box.
    """

    websites: int | None = None
    organisations: int | None = None
    citation_searching: int | None = None
    reports_sought: int
    reports_not_retrieved: int
    reports_assessed: int
    reports_excluded: Named = ()

    def __post_init__(self) -> None:
        for name in ("websites", "organisations", "citation_searching"):
            object.__setattr__(self, name, _optional_count(getattr(self, name), name))
        if self.websites is None and self.organisations is None and self.citation_searching is None:
            raise ValueError(
                "other methods need at least one of websites, organisations, citation_searching"
            )
        for name in ("reports_sought", "reports_not_retrieved", "reports_assessed"):
            _count(getattr(self, name), f"other methods {name}")
        object.__setattr__(
            self, "reports_excluded", _named(self.reports_excluded, "other reports_excluded")
        )

    @property
    def sources(self) -> Named:
        """The sources searched, in template order, as (template label, count)."""
        pairs = (
            ("Websites", self.websites),
            ("Organisations", self.organisations),
            ("Citation searching", self.citation_searching),
        )
        return tuple((label, n) for label, n in pairs if n is not None)

    @property
    def identified(self) -> int:
        return total(self.sources)

    @property
    def reports_excluded_total(self) -> int:
        return total(self.reports_excluded)


@dataclass(frozen=True, kw_only=True)
class ReviewUpdate:
    """What an updated review adds (templates C and D): the previous-studies and total boxes.

    The totals are given, not derived: studies of the previous version may be dropped in an
    update (README §3, S3/S4), so ``previous + new == total`` is only checked as a warning.
    """

    previous_studies: int
    previous_reports: int
    total_studies: int
    total_reports: int

    def __post_init__(self) -> None:
        for name in ("previous_studies", "previous_reports", "total_studies", "total_reports"):
            _count(getattr(self, name), name)


@dataclass(frozen=True, kw_only=True)
class PrismaCounts:
    """Every number of one PRISMA 2020 flow diagram.

    ``new_studies`` / ``new_reports`` fill the "Studies included in review" / "Reports of
    included studies" box of a new review, and the "New studies included in review" / "Reports
    of new included studies" box of an update. Reports of included studies found in the other
    methods column are counted in ``new_reports`` too (README §3, H8).

    Lists keep the caller's order. ``registers`` empty means no register was searched and the
    "Registers" line is left out. ``hand_entered`` names the boxes whose numbers were typed in
    rather than counted; the renderer marks them with a dagger.

    A box counts the records (reports) whose decision is made. While screening goes on, the
    rest are in no box and nothing draws them: ``records_open`` are the records identified and
    not removed whose title/abstract decision is not made yet (still open, or not yet in
    screening), ``reports_open`` the reports sought, retrieved and not yet decided. The
    arithmetic checks count them in, so that an unfinished stage is not taken for an error;
    saying that a stage is unfinished is the caller's (its warnings).
    """

    databases: Named
    registers: Named = ()
    duplicates_removed: int = 0
    automation_removed: int = 0
    other_removed: int = 0
    records_screened: int
    records_excluded: int
    records_excluded_reasons: Named = ()
    reports_sought: int
    reports_not_retrieved: int
    reports_assessed: int
    reports_excluded: Named = ()
    records_open: int = 0
    reports_open: int = 0
    new_studies: int
    new_reports: int
    meta_analysis_studies: int | None = None
    meta_analysis_reports: int | None = None
    update: ReviewUpdate | None = None
    other_methods: OtherMethods | None = None
    hand_entered: frozenset[Box] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for name in ("databases", "registers", "records_excluded_reasons", "reports_excluded"):
            object.__setattr__(self, name, _named(getattr(self, name), name))
        for name in (
            "duplicates_removed",
            "automation_removed",
            "other_removed",
            "records_screened",
            "records_excluded",
            "reports_sought",
            "reports_not_retrieved",
            "reports_assessed",
            "records_open",
            "reports_open",
            "new_studies",
            "new_reports",
        ):
            _count(getattr(self, name), name)
        for name in ("meta_analysis_studies", "meta_analysis_reports"):
            _optional_count(getattr(self, name), name)
        if self.meta_analysis_studies is None and self.meta_analysis_reports is not None:
            raise ValueError("meta_analysis_reports given without meta_analysis_studies")
        if self.update is not None and not isinstance(self.update, ReviewUpdate):
            raise TypeError(f"update must be a ReviewUpdate, got {self.update!r}")
        if self.other_methods is not None and not isinstance(self.other_methods, OtherMethods):
            raise TypeError(f"other_methods must be OtherMethods, got {self.other_methods!r}")

        hand = frozenset(Box(b) for b in self.hand_entered)
        missing = hand - self.boxes
        if missing:
            names = ", ".join(sorted(missing))
            raise ValueError(f"hand_entered names boxes this diagram does not have: {names}")
        object.__setattr__(self, "hand_entered", hand)

    @property
    def template(self) -> Template:
        if self.update is None:
            return Template.NEW_DATABASES if self.other_methods is None else Template.NEW_OTHER
        if self.other_methods is None:
            return Template.UPDATED_DATABASES
        return Template.UPDATED_OTHER

    @property
    def is_update(self) -> bool:
        return self.update is not None

    @property
    def boxes(self) -> frozenset[Box]:
        """The boxes this diagram draws."""
        out = {
            Box.IDENTIFIED,
            Box.REMOVED,
            Box.SCREENED,
            Box.RECORDS_EXCLUDED,
            Box.SOUGHT,
            Box.NOT_RETRIEVED,
            Box.ASSESSED,
            Box.REPORTS_EXCLUDED,
            Box.INCLUDED,
        }
        if self.update is not None:
            out |= {Box.PREVIOUS, Box.TOTAL}
        if self.other_methods is not None:
            out |= OTHER_METHODS_BOXES
        if self.meta_analysis_studies is not None:
            out.add(Box.META_ANALYSIS)
        return frozenset(out)

    @property
    def databases_total(self) -> int:
        return total(self.databases)

    @property
    def registers_total(self) -> int:
        return total(self.registers)

    @property
    def identified(self) -> int:
        """Records identified from databases and registers together."""
        return self.databases_total + self.registers_total

    @property
    def removed_before_screening(self) -> int:
        return self.duplicates_removed + self.automation_removed + self.other_removed

    @property
    def reports_excluded_total(self) -> int:
        return total(self.reports_excluded)
