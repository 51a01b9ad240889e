"""Input checks shared by the public functions.

They turn whatever the caller passed into clean float arrays, or raise :class:`StatsInputError`
with a message a reviewer can act on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import StatsInputError

METHODS = ("FE", "DL", "REML", "PM", "ML", "HE", "SJ", "EB")
TESTS = ("z", "knha")

ArrayLike = Sequence[float] | np.ndarray


def check_method(method: str) -> str:
    name = str(method).upper()
    if name not in METHODS:
        raise StatsInputError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    return name


def check_test(test: str) -> str:
    name = str(test).lower()
    if name not in TESTS:
        raise StatsInputError(f"Unknown test {test!r}; choose 'z' or 'knha'.")
    return name


def check_level(level: float) -> float:
    """Return alpha for a confidence level given in percent (95 -> 0.05)."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise StatsInputError(f"The confidence level must be a number, not {level!r}.") from None
    if not 0.0 < value < 100.0 or not np.isfinite(value):
        raise StatsInputError(f"The confidence level is a percentage in (0, 100), not {level!r}.")
    return 1.0 - value / 100.0


def as_vector(values: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must contain numbers only.") from None
    if arr.ndim != 1:
        raise StatsInputError(f"{name} must be a one-dimensional sequence of numbers.")
    return arr


def effects_and_variances(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    min_k: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate effect sizes and their sampling variances (or standard errors).

    Raises
    ------
    StatsInputError
        For mismatched lengths, NaN or infinite values, non-positive variances, or fewer than
        ``min_k`` studies.
    """
    y = as_vector(yi, "yi")
    if vi is None and sei is None:
        raise StatsInputError("Give the sampling variances (vi) or the standard errors (sei).")
    if vi is not None and sei is not None:
        raise StatsInputError("Give either vi or sei, not both.")
    if vi is not None:
        v = as_vector(vi, "vi")
        vname = "vi"
    else:
        s = as_vector(sei, "sei")
        if np.any(np.isfinite(s) & (s < 0)):
            raise StatsInputError("Standard errors (sei) must be positive.")
        v = s * s
        vname = "sei"
    if y.shape != v.shape:
        raise StatsInputError(
            f"yi has {y.size} values but {vname} has {v.size}; they must pair up study by study."
        )
    bad = ~np.isfinite(y) | ~np.isfinite(v)
    if np.any(bad):
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:10])
        raise StatsInputError(f"Missing or non-finite yi/{vname} in study (1-based) {rows}.")
    if np.any(v <= 0):
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(v <= 0)[:10])
        raise StatsInputError(
            f"Sampling variances must be positive; study (1-based) {rows} has {vname} <= 0."
        )
    if y.size < min_k:
        raise StatsInputError(
            f"At least {min_k} studies are needed for this analysis; got k = {y.size}."
        )
    return y.copy(), v.copy()


def frozen(arr: np.ndarray) -> np.ndarray:
    """Return a read-only copy, so result records cannot be changed after the fact."""
    out = np.array(arr, dtype=float, copy=True)
    out.setflags(write=False)
    return out
