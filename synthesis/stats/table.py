"""Turn a table of study rows (e.g. a parsed CSV) into the engine's inputs, with clear errors.

Pure: the caller reads the file; this module only looks at the header and the cell strings.
Columns: ``yi`` and ``vi`` (or ``sei``), optionally ``study`` for labels, plus any moderator or
subgroup columns named by the caller. Column names are matched case-insensitively.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import StatsInputError


@dataclass(frozen=True)
class StudyTable:
    """The parsed inputs: effects, variances (or standard errors), labels and extra columns."""

    yi: tuple[float, ...]
    vi: tuple[float, ...] | None
    sei: tuple[float, ...] | None
    labels: tuple[str, ...]
    moderators: dict[str, tuple[str, ...]]
    groups: tuple[str, ...] | None


def _number(text: str, column: str, row: int) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise StatsInputError(f"Row {row}: {column} = {text.strip()!r} is not a number.") from None
    if not math.isfinite(value):
        raise StatsInputError(f"Row {row}: {column} = {text.strip()!r} is not a finite number.")
    return value


def study_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    moderators: Sequence[str] = (),
    subgroup: str | None = None,
) -> StudyTable:
    """Parse rows into a :class:`StudyTable`; row numbers in messages count the header as 1.

    Raises
    ------
    StatsInputError
        Missing columns, blank or non-numeric yi/vi/sei cells, ragged rows, or blank subgroup
        labels.
    """
    names = [h.strip() for h in header]
    index = {n.lower(): i for i, n in enumerate(names)}
    if len(index) != len(names):
        raise StatsInputError("The header repeats a column name.")

    def column(name: str) -> int:
        if name.lower() not in index:
            raise StatsInputError(
                f"Column {name!r} not found; the file has: {', '.join(names) or '(no columns)'}."
            )
        return index[name.lower()]

    yi_col = column("yi")
    if "vi" in index:
        var_name, var_col = "vi", index["vi"]
    elif "sei" in index:
        var_name, var_col = "sei", index["sei"]
    else:
        raise StatsInputError("The file needs a 'vi' (sampling variance) or 'sei' column.")
    study_col = index.get("study")
    mod_cols = {name: column(name) for name in moderators}
    group_col = column(subgroup) if subgroup else None

    yi: list[float] = []
    var: list[float] = []
    labels: list[str] = []
    mods: dict[str, list[str]] = {name: [] for name in moderators}
    groups: list[str] = []
    for offset, cells in enumerate(rows):
        line = offset + 2
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) < len(names):
            raise StatsInputError(f"Row {line} has {len(cells)} cells, the header {len(names)}.")
        for name, col in (("yi", yi_col), (var_name, var_col)):
            if not cells[col].strip():
                raise StatsInputError(f"Row {line}: {name} is missing.")
        yi.append(_number(cells[yi_col], "yi", line))
        var.append(_number(cells[var_col], var_name, line))
        label = cells[study_col].strip() if study_col is not None else ""
        labels.append(label or f"Study {len(labels) + 1}")
        for name, col in mod_cols.items():
            mods[name].append(cells[col].strip())
        if group_col is not None:
            label = cells[group_col].strip()
            if not label:
                raise StatsInputError(f"Row {line}: the subgroup ({subgroup}) is missing.")
            groups.append(label)
    if not yi:
        raise StatsInputError("The file has no study rows.")
    return StudyTable(
        yi=tuple(yi),
        vi=tuple(var) if var_name == "vi" else None,
        sei=tuple(var) if var_name == "sei" else None,
        labels=tuple(labels),
        moderators={k: tuple(v) for k, v in mods.items()},
        groups=tuple(groups) if group_col is not None else None,
    )
