"""Effect sizes and their sampling variances (a subset of metafor's ``escalc``, same conventions).

Measures
--------
* ``OR``, ``RR``, ``RD``: log odds ratio, log risk ratio and risk difference from 2x2 tables
  (Fleiss JL, Berlin JA (2009), Effect sizes for dichotomous data, in Cooper, Hedges & Valentine
  (eds.), The Handbook of Research Synthesis and Meta-Analysis, 2nd ed., 237-253).
* ``MD``: raw mean difference; ``SMD``: Hedges' g with the exact bias correction
  c(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)), m = n₁ + n₂ - 2 (Hedges LV (1981). Distribution theory
  for Glass's estimator of effect size and related estimators. J Educ Stat 6:107-128), also from
  a t statistic.
* ``COR``: raw correlation; ``ZCOR``: Fisher's r-to-z (Fisher RA (1921). Metron 1:3-32).
* ``PR``, ``PLO``: raw and logit proportion.

Zero cells follow metafor's defaults ``add=1/2, to="only0", drop00=False``: 1/2 is added to all
four cells of a table with any zero cell (including bᵢ = 0 or dᵢ = 0), and the adjusted counts
are used for yᵢ and vᵢ alike, also for RD. Double-zero tables are kept (OR/RR yᵢ = 0) unless
``drop00=True``. Values that come out ±∞ (``add=0``) are returned as NaN, as metafor's NA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from . import _dist
from ._inputs import ArrayLike, as_vector, frozen
from .errors import StatsInputError

MEASURES = ("OR", "RR", "RD", "MD", "SMD", "COR", "ZCOR", "PR", "PLO")
ZERO_RULES = ("only0", "all", "if0all", "none")


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Effect sizes ``yi`` with sampling variances ``vi`` (NaN where undefined)."""

    measure: str
    yi: np.ndarray
    vi: np.ndarray

    @property
    def sei(self) -> np.ndarray:
        return np.sqrt(self.vi)


def _need(name: str, value: ArrayLike | None, k: int | None) -> np.ndarray:
    if value is None:
        raise StatsInputError(f"This measure needs {name}.")
    arr = as_vector(value, name)
    if k is not None and arr.size != k:
        raise StatsInputError(f"{name} has {arr.size} values, expected {k}.")
    return arr


def hedges_correction(m: ArrayLike) -> np.ndarray:
    """Exact small-sample correction c(m) = exp(lnΓ(m/2) − ln√(m/2) − lnΓ((m−1)/2)); NaN for
    m <= 1 (metafor's ``.cmicalc``)."""
    m = np.asarray(m, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, c)


def t_from_p(
    pval: ArrayLike, n1i: ArrayLike, n2i: ArrayLike, sign: ArrayLike | None = None
) -> np.ndarray:
    """Two-group t statistic from a two-sided p-value: sign·t_{p/2}(n₁ + n₂ − 2)."""
    p = as_vector(pval, "pval")
    if np.any((p <= 0) | (p > 1)):
        raise StatsInputError("p-values must lie in (0, 1].")
    df = as_vector(n1i, "n1i") + as_vector(n2i, "n2i") - 2
    s = np.ones_like(p) if sign is None else np.sign(as_vector(sign, "sign"))
    return s * _dist.crit_t(p, df)  # the upper p/2 quantile of t(n1 + n2 - 2)


def t_from_f(fval: ArrayLike, sign: ArrayLike | None = None) -> np.ndarray:
    """t statistic from an F(1, df) statistic of a two-group comparison: sign·√F."""
    f = as_vector(fval, "fval")
    if np.any(f < 0):
        raise StatsInputError("F statistics cannot be negative.")
    s = np.ones_like(f) if sign is None else np.sign(as_vector(sign, "sign"))
    return s * np.sqrt(f)


def r_from_t(ti: ArrayLike, ni: ArrayLike) -> np.ndarray:
    """Correlation from the t statistic of its test (df = n − 2): r = t/√(t² + n − 2)."""
    t = as_vector(ti, "ti")
    n = as_vector(ni, "ni")
    return t / np.sqrt(t * t + n - 2)


def escalc(
    measure: str,
    *,
    ai: ArrayLike | None = None,
    bi: ArrayLike | None = None,
    ci: ArrayLike | None = None,
    di: ArrayLike | None = None,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    m1i: ArrayLike | None = None,
    sd1i: ArrayLike | None = None,
    m2i: ArrayLike | None = None,
    sd2i: ArrayLike | None = None,
    ti: ArrayLike | None = None,
    ri: ArrayLike | None = None,
    ni: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
) -> EffectSizes:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` for ``measure``.

    Parameters
    ----------
    measure
        One of ``OR, RR, RD, MD, SMD, COR, ZCOR, PR, PLO``.
    ai, bi, ci, di, n1i, n2i
        2x2 tables (events/non-events in group 1 and 2); ``bi``/``di`` may be replaced by the
        group sizes ``n1i``/``n2i``. ``n1i``/``n2i`` are also the group sizes for MD and SMD.
    m1i, sd1i, m2i, sd2i
        Group means and standard deviations (MD, SMD).
    ti
        t statistics of two-group comparisons (SMD); see :func:`t_from_p` and :func:`t_from_f`.
    ri, ni
        Correlations and sample sizes (COR, ZCOR); ``xi``, ``ni`` events and sizes (PR, PLO).
    add, to, drop00
        Zero-cell handling as in metafor (``to`` in only0, all, if0all, none).
    vtype
        ``LS`` (default); ``UB`` for SMD, MD, RD and PR; ``HO`` (pooled SD) for MD.
    """
    measure = str(measure).upper()
    if measure not in MEASURES:
        raise StatsInputError(f"Unknown measure {measure!r}; choose one of {', '.join(MEASURES)}.")
    if to not in ZERO_RULES:
        raise StatsInputError(f"to must be one of {', '.join(ZERO_RULES)}.")
    vtype = str(vtype).upper()
    if measure in ("OR", "RR", "RD"):
        yi, vi = _two_by_two(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00, vtype)
    elif measure in ("MD", "SMD"):
        yi, vi = _means(measure, m1i, sd1i, m2i, sd2i, n1i, n2i, ti, vtype)
    elif measure in ("COR", "ZCOR"):
        yi, vi = _correlations(measure, ri, ni, vtype)
    else:
        yi, vi = _proportions(measure, xi, ni, add, to, vtype)
    bad = np.isinf(yi) | np.isinf(vi)
    yi = np.where(bad, np.nan, yi)
    vi = np.where(bad, np.nan, vi)
    return EffectSizes(measure=measure, yi=frozen(yi), vi=frozen(vi))


def _two_by_two(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00, vtype):
    a = _need("ai", ai, None)
    k = a.size
    c = _need("ci", ci, k)
    # bi and di may be given as group sizes instead (metafor: bi = n1i - ai, di = n2i - ci).
    use_n1 = bi is None and n1i is not None
    use_n2 = di is None and n2i is not None
    b = _need("n1i", n1i, k) - a if use_n1 else _need("bi (or n1i)", bi, k)
    d = _need("n2i", n2i, k) - c if use_n2 else _need("di (or n2i)", di, k)
    cells = np.vstack([a, b, c, d])
    if np.any(~np.isfinite(cells)):
        raise StatsInputError("2x2 counts must be finite numbers.")
    if np.any(cells < 0):
        raise StatsInputError(
            "Counts cannot be negative (is an event count above its group size?)."
        )
    a, b, c, d = (x.astype(float) for x in cells)
    if drop00:
        both = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        a, b, c, d = (np.where(both, np.nan, x) for x in (a, b, c, d))
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all":
        plus = np.full(k, add)
    elif to == "only0":
        plus = np.where(zero, add, 0.0)
    elif to == "if0all":
        plus = np.full(k, add if zero.any() else 0.0)
    else:
        plus = np.zeros(k)
    a, b, c, d = a + plus, b + plus, c + plus, d + plus
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / n1, c / n2
        if measure == "RR":
            return np.log(p1) - np.log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            return yi, 1 / a + 1 / b + 1 / c + 1 / d
        if vtype == "LS":
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        elif vtype == "UB":
            vi = p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1)
        else:
            raise StatsInputError("For RD, vtype must be 'LS' or 'UB'.")
        return p1 - p2, vi


def _means(measure, m1i, sd1i, m2i, sd2i, n1i, n2i, ti, vtype):
    n1 = _need("n1i", n1i, None)
    k = n1.size
    n2 = _need("n2i", n2i, k)
    if np.any((n1 <= 0) | (n2 <= 0)):
        raise StatsInputError("Group sizes must be positive.")
    if measure == "SMD" and ti is not None and m1i is None:
        t = _need("ti", ti, k)
        d = t * np.sqrt(1 / n1 + 1 / n2)
        m1, m2, s1, s2 = d, np.zeros(k), np.ones(k), np.ones(k)
    else:
        m1, m2 = _need("m1i", m1i, k), _need("m2i", m2i, k)
        s1, s2 = _need("sd1i", sd1i, k), _need("sd2i", sd2i, k)
        if np.any((s1 < 0) | (s2 < 0)):
            raise StatsInputError("Standard deviations cannot be negative.")
    n = n1 + n2
    m = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sdp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m)
        if measure == "MD":
            yi = m1 - m2
            if vtype in ("LS", "UB"):
                return yi, s1**2 / n1 + s2**2 / n2
            if vtype == "HO":
                return yi, sdp**2 * (1 / n1 + 1 / n2)
            raise StatsInputError("For MD, vtype must be 'LS', 'UB' or 'HO'.")
        cm = hedges_correction(m)
        g = cm * (m1 - m2) / sdp
        if vtype == "LS":
            return g, 1 / n1 + 1 / n2 + g**2 / (2 * n)
        if vtype == "UB":
            return g, 1 / n1 + 1 / n2 + (1 - (m - 2) / (m * cm**2)) * g**2
        raise StatsInputError("For SMD, vtype must be 'LS' or 'UB'.")


def _correlations(measure, ri, ni, vtype):
    r = _need("ri", ri, None)
    n = _need("ni", ni, r.size)
    if np.any(np.abs(r) > 1):
        raise StatsInputError("Correlations must lie in [-1, 1].")
    if np.any(n <= 0):
        raise StatsInputError("Sample sizes must be positive.")
    if vtype != "LS":
        raise StatsInputError(f"For {measure}, only vtype='LS' is supported.")
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "COR":
            yi, vi = r, (1 - r**2) ** 2 / (n - 1)
        else:
            yi, vi = np.arctanh(r), 1 / (n - 3)
    vi = np.where(n <= 3, np.nan, vi)
    return yi, vi


def _proportions(measure, xi, ni, add, to, vtype):
    x = _need("xi", xi, None)
    n = _need("ni", ni, x.size)
    if np.any((x < 0) | (x > n)):
        raise StatsInputError("Event counts must lie between 0 and the group size.")
    mi = n - x
    zero = (x == 0) | (mi == 0)
    if to == "all":
        plus = np.full(x.size, add)
    elif to == "only0":
        plus = np.where(zero, add, 0.0)
    elif to == "if0all":
        plus = np.full(x.size, add if zero.any() else 0.0)
    else:
        plus = np.zeros(x.size)
    x, mi = x + plus, mi + plus
    n = x + mi
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        if measure == "PR":
            if vtype == "LS":
                return p, p * (1 - p) / n
            if vtype == "UB":
                return p, p * (1 - p) / (n - 1)
            raise StatsInputError("For PR, vtype must be 'LS' or 'UB'.")
        if vtype != "LS":
            raise StatsInputError("For PLO, only vtype='LS' is supported.")
        return np.log(p / (1 - p)), 1 / x + 1 / mi
