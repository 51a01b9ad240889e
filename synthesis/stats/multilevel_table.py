"""Rows of effect sizes nested in clusters (e.g. a parsed CSV) -> three-level inputs, clear errors.

Pure, as :mod:`synthesis.stats.table` (which reads ``yi``, ``vi``/``sei`` and the moderators):
this adds the cluster column and the optional effect-size id column, with messages that name
the file's rows (the header is row 1) and columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import StatsInputError
from .table import study_table


@dataclass(frozen=True)
class MultilevelTable:
    """Effects, variances (or SEs), clusters, ids within clusters (None: row order), moderators."""

    yi: tuple[float, ...]
    vi: tuple[float, ...] | None
    sei: tuple[float, ...] | None
    cluster: tuple[str, ...]
    es_id: tuple[str, ...] | None
    moderators: dict[str, tuple[str, ...]]
    lines: tuple[int, ...]


def multilevel_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    cluster: str,
    es_id: str | None = None,
    moderators: Sequence[str] = (),
) -> MultilevelTable:
    """Parse rows into a :class:`MultilevelTable`.

    Raises
    ------
    StatsInputError
        Everything :func:`~synthesis.stats.table.study_table` refuses, plus a missing cluster or
        id column, a blank cluster or id cell, an id repeated within a cluster, and a cluster
        column that is also a moderator.
    """
    if cluster in moderators or (es_id is not None and es_id in moderators):
        raise StatsInputError(
            "The cluster and effect-size id columns cannot also be moderators; a cluster-level "
            "moderator needs a column of its own."
        )
    if es_id is not None and es_id.lower() == cluster.lower():
        raise StatsInputError("The cluster and the effect-size id must be different columns.")
    extra = [cluster] + ([es_id] if es_id is not None else [])
    table = study_table(header, rows, moderators=[*moderators, *extra])
    lines = tuple(offset + 2 for offset, cells in enumerate(rows) if any(c.strip() for c in cells))
    clusters = table.moderators[cluster]
    for line, label in zip(lines, clusters, strict=True):
        if not label:
            raise StatsInputError(f"Row {line}: the cluster ({cluster}) is missing.")
    ids = None
    if es_id is not None:
        ids = table.moderators[es_id]
        seen: dict[tuple[str, str], int] = {}
        for line, label, ident in zip(lines, clusters, ids, strict=True):
            if not ident:
                raise StatsInputError(f"Row {line}: the effect-size id ({es_id}) is missing.")
            key = (label, ident)
            if key in seen:
                raise StatsInputError(
                    f"Rows {seen[key]} and {line}: {es_id} = {ident!r} appears twice in "
                    f"{cluster} = {label!r}; each effect size needs its own id within a cluster."
                )
            seen[key] = line
    return MultilevelTable(
        yi=table.yi,
        vi=table.vi,
        sei=table.sei,
        cluster=clusters,
        es_id=ids,
        moderators={name: table.moderators[name] for name in moderators},
        lines=lines,
    )
