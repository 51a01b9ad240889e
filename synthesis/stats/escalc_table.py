"""Effect sizes for a table of study rows (a parsed CSV), row by row, with a message per bad row.

Pure: the caller reads the file and hands over the header and the cells as strings. Columns use
metafor's names (matched case-insensitively): ``ai, bi, ci, di`` or ``ai, n1i, ci, n2i`` (OR,
RR, RD); ``m1i, sd1i, n1i, m2i, sd2i, n2i`` (MD, SMD); ``ti``, or a two-sided ``pi`` (signed
with the direction, as metafor 4's ``escalc(pi=)``, or unsigned with a ``sign`` column), or a
one-df ``fi`` with ``sign``, each with ``n1i, n2i`` (SMD); ``ri, ni`` (COR, ZCOR); ``xi, ni``
(PR, PLO). Any measure also takes a reported estimate with its 95 % CI, ``est, ci.lb, ci.ub``,
on the scale papers report (ratios for OR and RR, a correlation for ZCOR, a proportion for PLO),
converted as :func:`synthesis.stats.escalc.from_ci` does. Each row uses the first complete set
in that order (metafor's: a row with ``ti`` uses it rather than its means).

All good rows go to :func:`synthesis.stats.escalc.escalc` together, so pooled choices
(``to="if0all"``, ``vtype="AV"``) see the whole table, as metafor would; bad rows take no part
and get no yi/vi.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import StatsInputError
from .escalc import MEASURES, escalc, from_ci

# One way of giving a row's data: slots, each filled by the first of its columns present.
Layout = tuple[tuple[str, ...], ...]

TWO_BY_TWO: Layout = (("ai",), ("bi", "n1i"), ("ci",), ("di", "n2i"))
MEANS: Layout = (("m1i",), ("sd1i",), ("n1i",), ("m2i",), ("sd2i",), ("n2i",))
CI: Layout = (("est",), ("ci.lb",), ("ci.ub",))
LAYOUTS: dict[str, tuple[Layout, ...]] = {
    "OR": (TWO_BY_TWO, CI),
    "RR": (TWO_BY_TWO, CI),
    "RD": (TWO_BY_TWO, CI),
    "MD": (MEANS, CI),
    "SMD": (
        (("ti",), ("n1i",), ("n2i",)),
        (("pi",), ("n1i",), ("n2i",)),
        (("fi",), ("n1i",), ("n2i",)),
        MEANS,
        CI,
    ),
    "COR": ((("ri",), ("ni",)), CI),
    "ZCOR": ((("ri",), ("ni",)), CI),
    "PR": ((("xi",), ("ni",)), CI),
    "PLO": ((("xi",), ("ni",)), CI),
}
OPTIONAL = ("sign",)
ALIASES = {"ci_lb": "ci.lb", "ci_ub": "ci.ub", "estimate": "est"}
CI_SCALE = {"OR": "log", "RR": "log", "ZCOR": "rtoz", "PLO": "logit"}
SCALE_DOMAIN = {"log": (0.0, math.inf), "rtoz": (-1.0, 1.0), "logit": (0.0, 1.0)}  # open
SCALE_WORDS = {
    "log": "ratios, above 0",
    "rtoz": "correlations, between -1 and 1",
    "logit": "proportions, between 0 and 1",
}
OUTPUTS = ("yi", "vi")


@dataclass(frozen=True)
class EscalcRow:
    """One data row of the file: its line, its cells as read, and yi/vi (None when bad)."""

    line: int
    cells: tuple[str, ...]
    yi: float | None
    vi: float | None


@dataclass(frozen=True)
class EscalcTable:
    """The table with yi and vi, the bad rows' messages and notes (warnings that are not errors)."""

    measure: str
    header: tuple[str, ...]
    rows: tuple[EscalcRow, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...]

    def output_header(self) -> tuple[str, ...]:
        """The input's header with ``yi`` and ``vi`` added (an existing yi/vi is replaced)."""
        names = [h.strip().lower() for h in self.header]
        return self.header + tuple(o for o in OUTPUTS if o not in names)

    def records(self) -> list[list[str | float | None]]:
        """Each row's cells (strings) with yi and vi (floats, None when missing) in place."""
        names = [h.strip().lower() for h in self.header]
        out = []
        for row in self.rows:
            values: list[str | float | None] = list(row.cells)
            for name, value in zip(OUTPUTS, (row.yi, row.vi), strict=True):
                if name in names:
                    values[names.index(name)] = value
                else:
                    values.append(value)
            out.append(values)
        return out


def _describe(layout: Layout) -> str:
    return ", ".join(" (or ".join(slot) + (")" if len(slot) > 1 else "") for slot in layout)


def needed_columns(measure: str) -> str:
    """What a file needs for ``measure``, for messages (means first, the usual case for SMD)."""
    layouts = sorted(LAYOUTS[measure], key=lambda layout: layout is not MEANS)
    return "; or ".join(_describe(layout) for layout in layouts)


def _fmt(value: float) -> str:
    return f"{value:g}"


class _Row:
    """Parses and checks one row's cells; collects the first problem."""

    def __init__(self, line: int, cells: Sequence[str], index: dict[str, int]):
        self.line = line
        self.cells = cells
        self.index = index
        self.problem: str | None = None

    def text(self, name: str) -> str:
        col = self.index.get(name)
        return self.cells[col].strip() if col is not None and col < len(self.cells) else ""

    def has(self, name: str) -> bool:
        return self.text(name) != ""

    def number(self, name: str) -> float:
        text = self.text(name)
        try:
            value = float(text)
        except ValueError:
            self.fail(f"{name} = {text!r} is not a number.")
            return math.nan
        if not math.isfinite(value):
            self.fail(f"{name} = {text!r} is not a finite number.")
            return math.nan
        return value

    def fail(self, message: str) -> None:
        if self.problem is None:
            self.problem = f"Row {self.line}: {message}"

    def layout(self, layouts: Sequence[Layout], measure: str) -> Layout | None:
        usable = [lay for lay in layouts if all(any(c in self.index for c in s) for s in lay)]
        for lay in usable:
            if all(any(self.has(c) for c in slot) for slot in lay):
                return lay
        closest = min(usable, key=lambda lay: sum(not any(self.has(c) for c in s) for s in lay))
        missing = [" or ".join(s) for s in closest if not any(self.has(c) for c in s)]
        self.fail(f"{', '.join(missing)} missing ({measure} needs {needed_columns(measure)}).")
        return None


def _check_size(row: _Row, name: str, value: float) -> None:
    if value < 2:
        row.fail(f"{name} = {_fmt(value)}; a group needs at least 2 participants.")


def _check_count(row: _Row, name: str, value: float) -> None:
    if value < 0:
        row.fail(f"{name} = {_fmt(value)} is negative; counts cannot be.")


def _two_by_two(row: _Row, v: dict[str, float]) -> None:
    for name in ("ai", "bi", "ci", "di"):
        if name in v:
            _check_count(row, name, v[name])
    for events, other, size, group in (("ai", "bi", "n1i", 1), ("ci", "di", "n2i", 2)):
        if other in v and size in v and v[size] != v[events] + v[other]:
            row.fail(
                f"{size} = {_fmt(v[size])} is not {events} + {other} = "
                f"{_fmt(v[events] + v[other])}."
            )
        if size in v:
            _check_size(row, size, v[size])
            if v[events] > v[size]:
                row.fail(f"{events} = {_fmt(v[events])} is more than {size} = {_fmt(v[size])}.")
        elif other in v and v[events] + v[other] < 2:
            row.fail(
                f"group {group} has {events} + {other} = {_fmt(v[events] + v[other])} "
                "participants; a group needs at least 2."
            )


def _check_row(row: _Row, measure: str, v: dict[str, float]) -> None:
    """Row-level checks beyond "is a number": the bad-row kinds metafor would refuse or NA."""
    if "est" in v:
        lb, ub, est = v["ci.lb"], v["ci.ub"], v["est"]
        scale = CI_SCALE.get(measure, "none")
        if scale in SCALE_DOMAIN:
            low, high = SCALE_DOMAIN[scale]
            if not all(low < x < high for x in (lb, ub, est)):
                row.fail(f"est, ci.lb and ci.ub of {measure} are {SCALE_WORDS[scale]}.")
        if not lb < ub:
            row.fail(f"ci.lb = {_fmt(lb)} is not below ci.ub = {_fmt(ub)}.")
        elif not lb <= est <= ub:
            row.fail(f"est = {_fmt(est)} lies outside its CI [{_fmt(lb)}, {_fmt(ub)}].")
        return
    if measure in ("OR", "RR", "RD"):
        _two_by_two(row, v)
    if measure in ("MD", "SMD"):
        for name in ("n1i", "n2i"):
            _check_size(row, name, v[name])
        for name in ("sd1i", "sd2i"):
            if name in v and v[name] < 0:
                row.fail(f"{name} = {_fmt(v[name])} is negative; standard deviations cannot be.")
    if "pi" in v:
        p = v["pi"]
        if p == 0 or abs(p) > 1:
            row.fail(f"pi = {_fmt(p)} is not a two-sided p-value (0 < p <= 1, signed or not).")
        elif p < 0 and "sign" in v:
            row.fail("pi is negative and a sign is given; give the direction one way only.")
    if "fi" in v and v["fi"] < 0:
        row.fail(f"fi = {_fmt(v['fi'])} is negative; F statistics cannot be.")
    if measure in ("COR", "ZCOR"):
        if abs(v["ri"]) > 1:
            row.fail(f"ri = {_fmt(v['ri'])} is outside -1 to 1.")
        if v["ni"] < 4:
            row.fail(f"ni = {_fmt(v['ni'])}; the variance of a correlation needs ni of 4 or more.")
    if measure in ("PR", "PLO"):
        _check_size(row, "ni", v["ni"])
        if not 0 <= v["xi"] <= v["ni"]:
            row.fail(f"xi = {_fmt(v['xi'])} of ni = {_fmt(v['ni'])} is a proportion outside 0-1.")


def escalc_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    measure: str,
    *,
    vtype: str = "LS",
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
    level: float = 95.0,
) -> EscalcTable:
    """Compute yi and vi for every row; row numbers in messages count the header as row 1.

    Raises
    ------
    StatsInputError
        For problems of the whole file: an unknown measure or option, a repeated column, the
        columns the measure needs missing (the message lists them), or no data rows.
        Problems of single rows are returned in ``problems``, one message per bad row.
    """
    measure = str(measure).upper()
    if measure not in MEASURES:
        raise StatsInputError(f"Unknown measure {measure!r}; choose one of {', '.join(MEASURES)}.")
    names = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in index and name:
            raise StatsInputError(f"The header repeats the column {header[i].strip()!r}.")
        index[name] = i
    layouts = LAYOUTS[measure]
    if not any(all(any(c in index for c in slot) for slot in lay) for lay in layouts):
        raise StatsInputError(
            f"For {measure} the file needs the columns {needed_columns(measure)}. "
            f"It has: {', '.join(h.strip() for h in header) or '(no columns)'}."
        )

    parsed: list[tuple[_Row, Layout | None, dict[str, float]]] = []
    for offset, cells in enumerate(rows):
        if not any(c.strip() for c in cells):
            continue  # a blank line
        row = _Row(offset + 2, cells, index)
        values: dict[str, float] = {}
        if any(c.strip() for c in cells[len(header) :]):
            row.fail(f"it has {len(cells)} cells, the header {len(header)}.")
        lay = row.layout(layouts, measure) if row.problem is None else None
        if lay is not None:
            for slot in lay:
                for name in slot:
                    if row.has(name):
                        values[name] = row.number(name)
            for name in OPTIONAL:  # the direction of a p-value or an F statistic
                if lay[0][0] in ("pi", "fi") and row.has(name):
                    values[name] = row.number(name)
            if row.problem is None:
                _check_row(row, measure, values)
        parsed.append((row, lay if row.problem is None else None, values))
    if not parsed:
        raise StatsInputError("The file has no data rows.")

    yi, vi, notes = _compute(parsed, measure, vtype, add, to, drop00, level)
    problems: list[str] = []
    out: list[EscalcRow] = []
    for i, (row, lay, _values) in enumerate(parsed):
        y, v = (float(yi[i]), float(vi[i])) if lay is not None else (math.nan, math.nan)
        if lay is not None and not (math.isfinite(y) and math.isfinite(v)):
            if drop00 and lay is TWO_BY_TWO and i in notes:
                pass  # a double-zero study left out on request: noted, not an error
            else:
                row.fail(
                    f"yi and vi cannot be computed from these values ({_why(measure, lay)}); "
                    "metafor gives NA."
                )
        if row.problem is not None:
            problems.append(row.problem)
        out.append(
            EscalcRow(
                line=row.line,
                cells=tuple(row.cells[: len(header)]) + ("",) * (len(header) - len(row.cells)),
                yi=y if math.isfinite(y) and math.isfinite(v) else None,
                vi=v if math.isfinite(y) and math.isfinite(v) else None,
            )
        )
    return EscalcTable(
        measure=measure,
        header=tuple(header),
        rows=tuple(out),
        problems=tuple(problems),
        notes=tuple(notes.values()),
    )


def _why(measure: str, layout: Layout) -> str:
    if layout is TWO_BY_TWO or measure in ("PR", "PLO"):
        return "a zero cell without a correction"
    if measure == "SMD":
        return "both standard deviations are 0"
    return "undefined for these values"


def _compute(parsed, measure, vtype, add, to, drop00, level):
    """Run the engine over all rows at once; bad rows are all-missing and take no part."""
    k = len(parsed)
    ci_scale = CI_SCALE.get(measure, "none")
    columns = {c for lay in LAYOUTS[measure] if lay is not CI for slot in lay for c in slot} | set(
        OPTIONAL
    )
    arrays = {c: np.full(k, np.nan) for c in columns | {"est", "ci.lb", "ci.ub"}}
    for i, (_row, lay, values) in enumerate(parsed):
        if lay is not None:
            for name, value in values.items():
                arrays[name][i] = value
    notes: dict[int, str] = {}
    kwargs = {c: arrays[c] for c in columns - set(OPTIONAL) - {"pi", "fi"}}
    if measure == "SMD":
        sign = np.sign(arrays["sign"])
        has_sign = ~np.isnan(sign)
        p = arrays["pi"]
        kwargs["pi"] = np.where(has_sign, np.abs(p) * sign, p)
        t_f = np.sqrt(arrays["fi"]) * np.where(has_sign, sign, 1.0)
        kwargs["ti"] = np.where(np.isnan(kwargs["ti"]), t_f, kwargs["ti"])
    res = escalc(measure, **kwargs, add=add, to=to, drop00=drop00, vtype=vtype)
    wald = from_ci(arrays["est"], arrays["ci.lb"], arrays["ci.ub"], level=level, transf=ci_scale)
    with_ci = ~np.isnan(arrays["est"])
    yi = np.where(with_ci, wald.yi, res.yi)
    vi = np.where(with_ci, wald.vi, res.vi)
    for i, (row, lay, values) in enumerate(parsed):
        if lay is CI and wald.off_centre[i]:
            notes[i] = (
                f"Row {row.line}: est is not halfway between ci.lb and ci.ub on the analysis "
                "scale (off by more than 10 % of the CI's width); check that the CI belongs to "
                "this estimate."
            )
        if drop00 and lay is TWO_BY_TWO:
            a, c = values["ai"], values["ci"]
            b = values.get("bi", values.get("n1i", math.nan) - a)
            d = values.get("di", values.get("n2i", math.nan) - c)
            if (a == 0 and c == 0) or (b == 0 and d == 0):
                notes[i] = f"Row {row.line}: a double-zero study, left out (drop00)."
    return yi, vi, notes
