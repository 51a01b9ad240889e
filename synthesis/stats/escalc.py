"""Effect sizes and their sampling variances (a subset of metafor's ``escalc``, same conventions).

Measures
--------
* ``OR``, ``RR``, ``RD``: log odds ratio, log risk ratio and risk difference from 2x2 tables
  (Fleiss JL, Berlin JA (2009), Effect sizes for dichotomous data, in Cooper, Hedges & Valentine
  (eds.), The Handbook of Research Synthesis and Meta-Analysis, 2nd ed., 237-253).
* ``MD``: raw mean difference; ``SMD``: Hedges' g with the exact bias correction
  c(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)), m = n₁ + n₂ - 2 (Hedges LV (1981). Distribution theory
  for Glass's estimator of effect size and related estimators. J Educ Stat 6:107-128), also from
  a t statistic (``ti``), a two-sided p-value (``pi``, signed as in metafor 4) or, through
  :func:`t_from_f`, a one-df F statistic.
* ``COR``: raw correlation; ``ZCOR``: Fisher's r-to-z (Fisher RA (1921). Metron 1:3-32).
* ``PR``, ``PLO``: raw and logit proportion.
* :func:`from_ci`: yᵢ and vᵢ from a reported estimate with its Wald-type confidence interval,
  vᵢ = ((ub − lb) / (2·z₁₋α/₂))², on the log scale for ratios (metafor 4's ``conv.wald``).

Zero cells follow metafor's defaults ``add=1/2, to="only0", drop00=False``: 1/2 is added to all
four cells of a table with any zero cell (including bᵢ = 0 or dᵢ = 0), and the adjusted counts
are used for yᵢ and vᵢ alike, also for RD. Double-zero tables are kept (OR/RR yᵢ = 0) unless
``drop00=True``. Proportions get the same rule for xᵢ and nᵢ − xᵢ.

Missing values (NaN) are metafor's NA, row by row: a row with a missing input gets a missing
yᵢ and/or vᵢ, as metafor gives (an MD row without m1i keeps its vᵢ), and takes no part in the
pooled quantities of ``to="if0all"`` and ``vtype="AV"``. As in metafor, ``bi``/``di`` missing in a
row are taken from ``n1i``/``n2i``, and a row with ``ti`` (or ``pi``) uses it instead of the means.
Values that come out ±∞ or NaN make both yᵢ and vᵢ NaN, and a negative vᵢ becomes NaN (metafor's
recoding to NA); ``COR``/``ZCOR`` rows with nᵢ ≤ 3 keep yᵢ and get vᵢ = NaN.

Checked against metafor 3.8-1: the oracle's escalc cases and the random sets of
``tests/fixtures/metafor/make_escalc_random.R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from . import _dist
from ._inputs import ArrayLike, as_vector, check_level, frozen
from .errors import StatsInputError

MEASURES = ("OR", "RR", "RD", "MD", "SMD", "COR", "ZCOR", "PR", "PLO")
ZERO_RULES = ("only0", "all", "if0all", "none")
# Every vtype metafor 3.8-1 knows, and those each measure accepts. OR, RR and ZCOR have one
# variance: metafor accepts and ignores any vtype there (except UB for ZCOR).
METAFOR_VTYPES = ("UB", "LS", "LS2", "HO", "ST", "CS", "AV", "AVHO")
VTYPES = {
    "RD": ("LS", "UB", "AV"),
    "MD": ("LS", "UB", "HO"),
    "SMD": ("LS", "UB", "LS2", "AV"),
    "COR": ("LS", "AV"),
    "PR": ("LS", "UB", "AV"),
    "PLO": ("LS", "AV"),
}
# Scales of a reported estimate and its CI (from_ci): ratios are pooled as logs, correlations
# as Fisher's z, proportions as logits.
CI_TRANSFORMS = ("none", "log", "rtoz", "logit")


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Effect sizes ``yi`` with sampling variances ``vi`` (NaN where undefined)."""

    measure: str
    yi: np.ndarray
    vi: np.ndarray

    @property
    def sei(self) -> np.ndarray:
        return np.sqrt(self.vi)


@dataclass(frozen=True, eq=False)
class WaldConversion(EffectSizes):
    """yi and vi from reported estimates with confidence intervals (see :func:`from_ci`).

    ``off_centre`` flags rows whose estimate lies more than 10 % of the interval's width from
    its midpoint (on the analysis scale): metafor's ``conv.wald`` warns about those, since the
    interval was then probably not a Wald interval around this estimate.
    """

    off_centre: np.ndarray


def _rows(mask: np.ndarray) -> str:
    """1-based study numbers of a boolean mask, for messages (at most ten)."""
    idx = np.flatnonzero(mask)
    text = ", ".join(str(i + 1) for i in idx[:10])
    return text + (", ..." if idx.size > 10 else "")


def _need(name: str, value: ArrayLike | None, k: int | None) -> np.ndarray:
    if value is None:
        raise StatsInputError(f"This measure needs {name}.")
    arr = as_vector(value, name)
    if k is not None and arr.size != k:
        raise StatsInputError(f"{name} has {arr.size} values, expected {k}.")
    return arr


def _optional(name: str, value: ArrayLike | None, k: int) -> np.ndarray:
    """A column that may be absent (all missing) or missing in some rows (NaN)."""
    return np.full(k, np.nan) if value is None else _need(name, value, k)


def _refuse(mask: np.ndarray, message: str) -> None:
    if np.any(mask):
        raise StatsInputError(f"{message} (study {_rows(mask)}).")


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    """metafor's ``.wmean(x, w, na.rm=TRUE)``: NaN when no row has both."""
    ok = ~(np.isnan(x) | np.isnan(w))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(x[ok] * w[ok]) / np.sum(w[ok]))


def _check_vtype(measure: str, vtype: str) -> str:
    name = str(vtype).upper()
    if name not in METAFOR_VTYPES:
        raise StatsInputError(
            f"Unknown vtype {vtype!r}; choose one of {', '.join(METAFOR_VTYPES)}."
        )
    allowed = VTYPES.get(measure)
    if allowed is not None and name not in allowed:
        raise StatsInputError(f"For {measure}, vtype must be one of {', '.join(allowed)}.")
    if measure == "ZCOR" and name == "UB":
        raise StatsInputError("For ZCOR, vtype='UB' is not available (metafor: UCOR only).")
    return name


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
    """Two-group t statistic from a two-sided p-value: sign·t_{1−|p|/2}(n₁ + n₂ − 2).

    Without ``sign`` the p-value's own sign gives the direction, as in metafor 4's
    ``escalc(pi=)``: a negative p-value means group 1 scored lower. With ``sign`` the p-values
    must be positive and ``sign``'s sign gives the direction. Missing values (NaN) stay NaN, and
    fewer than one degree of freedom gives NaN (metafor's ``.convp2t``).
    """
    p = as_vector(pval, "pval")
    df = as_vector(n1i, "n1i") + as_vector(n2i, "n2i") - 2
    if df.shape != p.shape:
        raise StatsInputError(f"pval has {p.size} values, the group sizes {df.size}.")
    given = ~np.isnan(p)
    _refuse(given & ((p == 0) | (np.abs(p) > 1)), "p-values must lie in (0, 1]")
    if sign is None:
        direction = np.sign(p)
    else:
        _refuse(given & (p < 0), "Give the direction either as the p-value's sign or as sign")
        direction = np.sign(as_vector(sign, "sign"))
    with np.errstate(invalid="ignore"):
        return direction * _dist.crit_t(np.abs(p), np.where(df >= 1, df, np.nan))


def t_from_f(fval: ArrayLike, sign: ArrayLike | None = None) -> np.ndarray:
    """t statistic from an F(1, df) statistic of a two-group comparison: sign·√F."""
    f = as_vector(fval, "fval")
    _refuse(f < 0, "F statistics cannot be negative")
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
    pi: ArrayLike | None = None,
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
        group sizes ``n1i``/``n2i``, also row by row (NaN in ``bi``). ``n1i``/``n2i`` are also
        the group sizes for MD and SMD.
    m1i, sd1i, m2i, sd2i
        Group means and standard deviations (MD, SMD).
    ti, pi
        SMD from the t statistic of a two-group comparison, or from its two-sided p-value
        signed with the direction (metafor 4's ``pi``; see :func:`t_from_p`, and
        :func:`t_from_f` for a one-df F). A row with ``ti`` (or ``pi``) uses it instead of the
        means, as metafor does.
    ri, ni
        Correlations and sample sizes (COR, ZCOR); ``xi``, ``ni`` events and sizes (PR, PLO).
    add, to, drop00
        Zero-cell handling as in metafor (``to`` in only0, all, if0all, none).
    vtype
        ``LS`` (default); ``UB`` for SMD, MD, RD and PR; ``LS2`` for SMD; ``HO`` (pooled SD) for
        MD; ``AV`` (the sample-size-weighted average effect in every row's variance) for SMD,
        RD, COR, PR and PLO.
    """
    measure = str(measure).upper()
    if measure not in MEASURES:
        raise StatsInputError(f"Unknown measure {measure!r}; choose one of {', '.join(MEASURES)}.")
    if to not in ZERO_RULES:
        raise StatsInputError(f"to must be one of {', '.join(ZERO_RULES)}.")
    vtype = _check_vtype(measure, vtype)
    if measure in ("OR", "RR", "RD"):
        parts = _two_by_two(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00, vtype)
    elif measure in ("MD", "SMD"):
        parts = _means(measure, m1i, sd1i, m2i, sd2i, n1i, n2i, ti, pi, vtype)
    elif measure in ("COR", "ZCOR"):
        parts = _correlations(measure, ri, ni, vtype)
    else:
        parts = _proportions(measure, xi, ni, add, to, vtype)
    yi, vi = _finish(*parts)
    return EffectSizes(measure=measure, yi=frozen(yi), vi=frozen(vi))


def _finish(yi, vi, complete, vi_missing=None):
    """metafor's last step: ±∞ or NaN (from arithmetic, not from a missing input) make both yi
    and vi missing; explicitly missing variances stay missing; negative variances go missing."""
    vi_missing = np.zeros(yi.shape, dtype=bool) if vi_missing is None else vi_missing
    checked = ~vi_missing
    undefined = np.isinf(yi) | (checked & np.isinf(vi))
    undefined |= complete & (np.isnan(yi) | (checked & np.isnan(vi)))
    yi = np.where(undefined, np.nan, yi)
    vi = np.where(undefined | vi_missing, np.nan, vi)
    with np.errstate(invalid="ignore"):
        vi = np.where(vi < 0, np.nan, vi)
    return yi, vi


def _zero_correction(zero, add, to):
    """What each row gets added to every cell: metafor's ``to`` rules."""
    if to == "all":
        return np.full(zero.shape, float(add))
    if to == "only0":
        return np.where(zero, float(add), 0.0)
    if to == "if0all":
        return np.full(zero.shape, float(add) if np.any(zero) else 0.0)
    return np.zeros(zero.shape)


def _two_by_two(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00, vtype):
    a = _need("ai", ai, None)
    k = a.size
    c = _need("ci", ci, k)
    if bi is None and n1i is None:
        raise StatsInputError("This measure needs bi (or n1i).")
    if di is None and n2i is None:
        raise StatsInputError("This measure needs di (or n2i).")
    b, n1 = _optional("bi", bi, k), _optional("n1i", n1i, k)
    d, n2 = _optional("di", di, k), _optional("n2i", n2i, k)
    for name, x in (("ai", a), ("bi", b), ("ci", c), ("di", d), ("n1i", n1), ("n2i", n2)):
        _refuse(np.isinf(x), f"2x2 counts must be finite numbers; {name} is not")
    with np.errstate(invalid="ignore"):  # metafor compares where both are given
        _refuse(~np.isnan(n1 + b) & (n1 != a + b) & ~np.isnan(a), "n1i is not ai + bi")
        _refuse(~np.isnan(n2 + d) & (n2 != c + d) & ~np.isnan(c), "n2i is not ci + di")
    # metafor: bi <- replmiss(bi, n1i - ai), row by row.
    b = np.where(np.isnan(b), n1 - a, b)
    d = np.where(np.isnan(d), n2 - c, d)
    with np.errstate(invalid="ignore"):
        _refuse(
            (a < 0) | (b < 0) | (c < 0) | (d < 0),
            "Counts cannot be negative (is an event count above its group size?)",
        )
    if drop00:
        both = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        a, b, c, d = (np.where(both, np.nan, x) for x in (a, b, c, d))
    complete = ~(np.isnan(a) | np.isnan(b) | np.isnan(c) | np.isnan(d))
    # R's TRUE | NA is TRUE: a zero cell counts even when another cell of its row is missing.
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    plus = _zero_correction(zero, add, to)
    a, b, c, d = a + plus, b + plus, c + plus, d + plus
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / n1, c / n2
        if measure == "RR":
            return np.log(p1) - np.log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2, complete
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            return yi, 1 / a + 1 / b + 1 / c + 1 / d, complete
        if vtype == "LS":
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        elif vtype == "UB":
            vi = p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1)
        else:  # AV: the size-weighted average risks in every row
            w1, w2 = _wmean(p1, n1), _wmean(p2, n2)
            vi = w1 * (1 - w1) / n1 + w2 * (1 - w2) / n2
        return p1 - p2, vi, complete


def _means(measure, m1i, sd1i, m2i, sd2i, n1i, n2i, ti, pi, vtype):
    n1 = _need("n1i", n1i, None)
    k = n1.size
    n2 = _need("n2i", n2i, k)
    t = np.full(k, np.nan)
    if measure == "SMD":
        t = _optional("ti", ti, k)
        if pi is not None:  # metafor 4: ti <- replmiss(ti, .convp2t(pi, n1i + n2i - 2))
            t = np.where(np.isnan(t), t_from_p(_need("pi", pi, k), n1, n2), t)
    from_t = ~np.isnan(t)
    if from_t.all() and m1i is None:
        m1 = m2 = s1 = s2 = np.full(k, np.nan)
    else:
        m1, m2 = _need("m1i", m1i, k), _need("m2i", m2i, k)
        s1, s2 = _need("sd1i", sd1i, k), _need("sd2i", sd2i, k)
    with np.errstate(invalid="ignore"):
        # metafor: di <- ti * sqrt(1/n1i + 1/n2i); then m1i = di, m2i = 0, sd1i = sd2i = 1.
        m1 = np.where(from_t, t * np.sqrt(1 / n1 + 1 / n2), m1)
        m2 = np.where(from_t, 0.0, m2)
        s1 = np.where(from_t, 1.0, s1)
        s2 = np.where(from_t, 1.0, s2)
        _refuse((s1 < 0) | (s2 < 0), "Standard deviations cannot be negative")
        _refuse((n1 <= 0) | (n2 <= 0), "Group sizes must be positive")
    complete = ~np.any(np.isnan(np.vstack([m1, m2, s1, s2, n1, n2])), axis=0)
    n = n1 + n2
    m = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sdp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m)
        if measure == "MD":
            yi = m1 - m2
            if vtype == "HO":
                return yi, sdp**2 * (1 / n1 + 1 / n2), complete
            return yi, s1**2 / n1 + s2**2 / n2, complete
        d = (m1 - m2) / sdp
        cm = hedges_correction(m)
        g = cm * d
        if vtype == "LS":
            return g, 1 / n1 + 1 / n2 + g**2 / (2 * n), complete
        if vtype == "UB":
            return g, 1 / n1 + 1 / n2 + (1 - (m - 2) / (m * cm**2)) * g**2, complete
        if vtype == "LS2":
            return g, cm**2 * (1 / n1 + 1 / n2 + d**2 / (2 * n)), complete
        w = _wmean(g, n)  # AV: the size-weighted average g in every row
        return g, 1 / n1 + 1 / n2 + w**2 / (2 * n), complete


def _correlations(measure, ri, ni, vtype):
    r = _need("ri", ri, None)
    n = _need("ni", ni, r.size)
    with np.errstate(invalid="ignore"):
        _refuse(np.abs(r) > 1, "Correlations must lie in [-1, 1]")
        _refuse(n <= 0, "Sample sizes must be positive")
    complete = ~(np.isnan(r) | np.isnan(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "COR":
            w = r if vtype == "LS" else _wmean(r, n)
            yi, vi = r, (1 - w**2) ** 2 / (n - 1)
        else:
            yi, vi = 0.5 * np.log((1 + r) / (1 - r)), 1 / (n - 3)
        vi_missing = n <= 3  # metafor: vi[ni <= 3] <- NA, yi kept
    return yi, vi, complete, vi_missing


def _proportions(measure, xi, ni, add, to, vtype):
    x = _need("xi", xi, None)
    n = _need("ni", ni, x.size)
    mi = n - x
    with np.errstate(invalid="ignore"):
        _refuse((x < 0) | (mi < 0), "Event counts must lie between 0 and the group size")
        _refuse(n <= 0, "Group sizes must be positive")
    complete = ~(np.isnan(x) | np.isnan(n))
    zero = (x == 0) | (mi == 0)
    plus = _zero_correction(zero, add, to)
    x, mi = x + plus, mi + plus
    n = x + mi
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        w = _wmean(p, n) if vtype == "AV" else np.nan
        if measure == "PR":
            if vtype == "LS":
                return p, p * (1 - p) / n, complete
            if vtype == "UB":
                return p, p * (1 - p) / (n - 1), complete
            return p, w * (1 - w) / n, complete
        yi = np.log(p / (1 - p))
        if vtype == "LS":
            return yi, 1 / x + 1 / mi, complete
        return yi, 1 / (w * n) + 1 / ((1 - w) * n), complete


def _transform(values: np.ndarray, transf: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if transf == "log":
            return np.log(values)
        if transf == "rtoz":
            return 0.5 * np.log((1 + values) / (1 - values))
        if transf == "logit":
            return np.log(values / (1 - values))
    return values


def from_ci(
    estimate: ArrayLike,
    ci_lb: ArrayLike | None = None,
    ci_ub: ArrayLike | None = None,
    *,
    level: float = 95.0,
    transf: str = "none",
    pval: ArrayLike | None = None,
    zval: ArrayLike | None = None,
) -> WaldConversion:
    """yi and vi from reported estimates with Wald-type confidence intervals.

    Follows metafor 4's ``conv.wald``: yᵢ = f(estimate) and
    vᵢ = ((f(ub) − f(lb)) / (2·z₁₋α/₂))², z₁₋α/₂ = 1.959964… for 95 %, where f is the scale the
    analysis uses: ``transf="log"`` for ratios (OR, RR, HR reported as ratios), ``"rtoz"`` for a
    correlation analysed as Fisher's z, ``"logit"`` for a proportion analysed as a logit,
    ``"none"`` for differences. Rows without an interval fall back on a Wald test:
    vᵢ = (yᵢ / z)², with z from ``zval`` or from a two-sided ``pval`` (z = z₁₋p/2).
    Missing values (NaN) stay missing row by row, as in :func:`escalc`.
    """
    est = _need("estimate", estimate, None)
    k = est.size
    transf = str(transf).lower()
    if transf not in CI_TRANSFORMS:
        raise StatsInputError(f"transf must be one of {', '.join(CI_TRANSFORMS)}.")
    check_level(level)
    alpha = (100.0 - float(level)) / 100.0  # metafor's .level(): exactly 0.05 for 95
    lb, ub = _optional("ci_lb", ci_lb, k), _optional("ci_ub", ci_ub, k)
    z, p = _optional("zval", zval, k), _optional("pval", pval, k)
    with np.errstate(invalid="ignore"):
        _refuse((p < 0) | (p > 1), "p-values must lie in [0, 1]")
    y, tl, tu = (_transform(v, transf) for v in (est, lb, ub))
    with np.errstate(divide="ignore", invalid="ignore"):
        vi = ((tu - tl) / (2 * _dist.crit_norm(alpha))) ** 2
        z = np.where(np.isnan(z), -special.ndtri(p / 2), z)
        from_test = np.isnan(vi)
        vi = np.where(from_test, (y / z) ** 2, vi)
        off_centre = np.abs((tu + tl) / 2 - y) / (tu - tl) > 0.1
    with_ci = ~(np.isnan(est) | np.isnan(lb) | np.isnan(ub))
    with_test = ~(np.isnan(est) | np.isnan(z))
    complete = with_ci | (from_test & with_test)
    yi, vi = _finish(y, vi, complete)
    return WaldConversion(
        measure="GEN", yi=frozen(yi), vi=frozen(vi), off_centre=np.where(with_ci, off_centre, False)
    )
