"""PRISMA 2020 flow diagrams without Django: counts, checks, drawing and the R package's CSV.

Counting the boxes from a review's records happens elsewhere; this package takes the numbers
as a :class:`PrismaCounts` and turns them into a diagram (:func:`render`), a list of
arithmetic issues (:func:`check_consistency`) and the PRISMA2020 R package's data CSV
(:func:`to_prisma2020_csv`).
"""

from reporting.prisma.checks import Issue, check_consistency
from reporting.prisma.counts import (
    OTHER_METHODS_BOXES,
    Box,
    OtherMethods,
    PrismaCounts,
    ReviewUpdate,
    Template,
)
from reporting.prisma.prisma2020_csv import to_prisma2020_csv
from reporting.prisma.render import Layout, layout, render

__all__ = [
    "OTHER_METHODS_BOXES",
    "Box",
    "Issue",
    "Layout",
    "OtherMethods",
    "PrismaCounts",
    "ReviewUpdate",
    "Template",
    "check_consistency",
    "layout",
    "render",
    "to_prisma2020_csv",
]
