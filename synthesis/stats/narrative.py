"""The numbers of a synthesis without meta-analysis: effect direction, vote counting with the
sign test, combined p-values and a summary of effect estimates.

These are the "acceptable" methods of the Cochrane Handbook, chapter 12 (McKenzie & Brennan,
"Synthesizing and presenting findings using other methods", section 12.2.1, with the worked
example in 12.4), reported with the SWiM guideline (Campbell et al. 2020):

* **Summarising effect estimates** (:func:`summarise_effects`): median, interquartile range and
  range of the studies' estimates on a shared metric. Quartiles are R's ``quantile`` type 7
  (its default), the median R's ``median``.
* **Vote counting based on the direction of effect** (:func:`effect_direction`,
  :func:`sign_test`): each study counts as beneficial or harmful by the direction of its
  estimate, whatever its statistical significance; the proportion of studies showing benefit,
  its confidence interval and the sign test (an exact binomial test of that proportion against
  1/2) are reported. Studies whose direction is not clear (an estimate exactly at the null, or
  with ``basis="ci"`` a CI that includes it) are left out of both counts, as the sign test
  leaves out ties. Vote counting by *statistical significance* is, in the Handbook's words
  (12.2.2), unacceptable: so feed the sign test with ``basis="sign"`` directions.
* **Combining p-values** (:func:`combine_p`): Fisher's and Stouffer's methods as R's ``metap``
  computes them (``sumlog``, ``sumz``), on one-sided p-values (two-sided ones are turned into
  one-sided with the direction of each effect, as ``metap::two2one`` does).

Every function is checked against base R (``binom.test``, ``prop.test``, ``pchisq``,
``pnorm``, ``qnorm``, ``quantile``, ``median``) by ``tests/fixtures/metafor/make_narrative.R``.

References
----------
* McKenzie JE, Brennan SE (2019). Chapter 12: Synthesizing and presenting findings using other
  methods. In Higgins JPT et al. (eds.), Cochrane Handbook for Systematic Reviews of
  Interventions, version 6.
* Campbell M, McKenzie JE, Sowden A, et al. (2020). Synthesis without meta-analysis (SWiM) in
  systematic reviews: reporting guideline. BMJ 368:l6890.
* Hilton Boon M, Thomson H (2021). The effect direction plot revisited: application of the 2019
  Cochrane Handbook guidance on alternative synthesis methods. Res Synth Methods 12:29-33.
* Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case
  of the binomial. Biometrika 26:404-413.
* Brown LD, Cai TT, DasGupta A (2001). Interval estimation for a binomial proportion. Stat Sci
  16:101-133 (recommends Wilson's score interval for small n).
* Fisher RA (1932). Statistical Methods for Research Workers, 4th ed. (section 21.1).
* Stouffer SA, Suchman EA, DeVinney LC, Star SA, Williams RM (1949). The American Soldier,
  vol. 1; weighted form: Liptak T (1958), Mosteller F, Bush RR (1954); Zaykin DV (2011)
  J Evol Biol 24:1836-1841 (weights proportional to the square root of the sample size).
* Dewey M. metap: meta-analysis of significance values (R package; ``sumlog``, ``sumz``,
  ``two2one``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._inputs import ArrayLike, as_vector, check_level, frozen
from .errors import StatsInputError

BENEFICIAL = "beneficial"
HARMFUL = "harmful"
NO_CLEAR_DIFFERENCE = "no clear difference"
DIRECTIONS = (BENEFICIAL, HARMFUL, NO_CLEAR_DIFFERENCE)
FAVOURABLE = ("lower", "higher")
BASES = ("sign", "ci")
INTERVALS = ("clopper-pearson", "wilson")
COMBINE_METHODS = ("fisher", "stouffer")

# binom.test's tolerance when it collects the outcomes "as or less likely" than the observed one.
_R_BINOM_REL_ERR = 1.0 + 1e-7


# --------------------------------------------------------------------------- effect direction


def _number(value, name: str) -> float:
    if isinstance(value, bool):
        raise StatsInputError(f"{name} must be a number, not {value!r}.")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must be a number, not {value!r}.") from None
    if not math.isfinite(out):
        raise StatsInputError(f"{name} must be a finite number, not {value!r}.")
    return out


def _choice(value, name: str, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise StatsInputError(
            f"Unknown {name} {value!r}; choose one of {', '.join(repr(c) for c in choices)}."
        )
    return text


def effect_direction(
    yi: float,
    ci_lb: float | None = None,
    ci_ub: float | None = None,
    *,
    favourable: str,
    basis: str = "sign",
    null: float = 0.0,
) -> str:
    """The direction of one study's effect: ``"beneficial"``, ``"harmful"`` or
    ``"no clear difference"``.

    ``favourable`` says which side of the null is good for the intervention: ``"lower"`` (for
    instance a log risk ratio of a death, or a pain score) or ``"higher"`` (a recovery, a
    quality-of-life score). ``null`` is the value of no effect on the scale of ``yi`` (0 for
    differences and log ratios, 1 for ratios on their own scale).

    Two conventions:

    * ``basis="sign"`` (the default): the direction of the point estimate, whatever its
      confidence interval. This is the Handbook's vote counting based on the direction of effect
      (chapter 12) and what Hilton Boon & Thomson (2021) adopted for the effect-direction plot
      when they removed statistical significance from it. Only an estimate exactly at the null
      is "no clear difference". Use this basis for the sign test.
    * ``basis="ci"``: "no clear difference" whenever the confidence interval includes the null
      (bounds included); otherwise the side of the null the interval lies on. This is the
      three-way labelling many narrative syntheses tabulate (and the original effect-direction
      plot of Thomson & Thomas 2013 drew), but counting its beneficial and harmful studies is
      vote counting by statistical significance, which the Handbook (12.2.2) rules out: use it
      for description, not for :func:`sign_test`.

    The interval, when given, must contain the estimate (bounds included).

    Raises
    ------
    StatsInputError
        For a non-finite estimate or bound, an unknown ``favourable`` or ``basis``, an interval
        with its lower bound above its upper bound or not containing the estimate, or
        ``basis="ci"`` without an interval.
    """
    side = _choice(favourable, "favourable side", FAVOURABLE)
    how = _choice(basis, "basis", BASES)
    y = _number(yi, "The effect estimate (yi)")
    at = _number(null, "The null value")
    if (ci_lb is None) != (ci_ub is None):
        raise StatsInputError("Give both confidence limits (ci_lb and ci_ub) or neither.")
    if ci_lb is not None:
        lb = _number(ci_lb, "The lower confidence limit (ci_lb)")
        ub = _number(ci_ub, "The upper confidence limit (ci_ub)")
        if lb > ub:
            raise StatsInputError(
                f"The lower confidence limit ({lb:g}) is above the upper one ({ub:g})."
            )
        if not lb <= y <= ub:
            raise StatsInputError(
                f"The estimate {y:g} lies outside its confidence interval [{lb:g}, {ub:g}]."
            )
    elif how == "ci":
        raise StatsInputError(
            "basis='ci' needs the confidence interval (ci_lb and ci_ub); use basis='sign' to "
            "count on the point estimate alone."
        )
    if how == "ci":
        if lb <= at <= ub:
            return NO_CLEAR_DIFFERENCE
        below = ub < at
    else:
        if y == at:
            return NO_CLEAR_DIFFERENCE
        below = y < at
    return BENEFICIAL if below == (side == "lower") else HARMFUL


# --------------------------------------------------------------------------- sign test


@dataclass(frozen=True, eq=False)
class SignTest:
    """Vote counting based on the direction of effect, with the sign test.

    ``n`` = studies with a direction (beneficial + harmful); studies with no clear difference are
    not counted, neither here nor in the test (they are the sign test's ties; Handbook chapter
    12, McKenzie & Brennan). ``k`` = studies showing benefit, ``proportion`` = k / n.
    ``p_value`` is two-sided, the exact binomial test of the proportion against 1/2 (R's
    ``binom.test(k, n, p = 0.5)``). ``ci_lb``/``ci_ub`` is the confidence interval of the
    proportion at ``level`` percent: Clopper-Pearson (exact; ``binom.test``'s ``conf.int``) by
    default, or Wilson's score interval (``prop.test(k, n, correct = FALSE)``'s).
    """

    n_beneficial: int
    n_harmful: int
    n: int
    k: int
    proportion: float
    p_value: float
    ci_lb: float
    ci_ub: float
    level: float
    interval: str


def _count(value, name: str) -> int:
    if isinstance(value, bool):
        raise StatsInputError(f"{name} must be a whole number of studies, not {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StatsInputError(f"{name} must be a whole number of studies, not {value!r}.") from None
    if not math.isfinite(number) or number != math.floor(number):
        raise StatsInputError(f"{name} must be a whole number of studies, not {value!r}.")
    if number < 0:
        raise StatsInputError(f"{name} cannot be negative; got {value!r}.")
    return int(number)


def _binom_test_p(k: int, n: int) -> float:
    """Two-sided p-value of R's ``binom.test(k, n, p = 0.5)``, with R's own algorithm."""
    p = 0.5
    m = n * p
    if k == m:
        return 1.0
    d = _dbinom(k, n)
    if k < m:
        i = np.arange(math.ceil(m), n + 1)
        y = int(np.sum(_dbinom(i, n) <= d * _R_BINOM_REL_ERR))
        pval = _pbinom(k, n) + _pbinom_upper(n - y, n)
    else:
        i = np.arange(0, math.floor(m) + 1)
        y = int(np.sum(_dbinom(i, n) <= d * _R_BINOM_REL_ERR))
        pval = _pbinom(y - 1, n) + _pbinom_upper(k - 1, n)
    return float(min(1.0, pval))


def _dbinom(x, n: int):
    """P(X = x) for X ~ Binomial(n, 1/2), through log-gamma (exact enough for any n)."""
    x = np.asarray(x, dtype=float)
    logc = special.gammaln(n + 1.0) - special.gammaln(x + 1.0) - special.gammaln(n - x + 1.0)
    return np.exp(logc - n * math.log(2.0))


def _pbinom(x: int, n: int) -> float:
    """P(X <= x) for X ~ Binomial(n, 1/2)."""
    if x < 0:
        return 0.0
    if x >= n:
        return 1.0
    return float(special.bdtr(x, n, 0.5))


def _pbinom_upper(x: int, n: int) -> float:
    """P(X > x) for X ~ Binomial(n, 1/2)."""
    if x < 0:
        return 1.0
    if x >= n:
        return 0.0
    return float(special.bdtrc(x, n, 0.5))


def _clopper_pearson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """``binom.test``'s interval: qbeta(alpha/2, k, n-k+1), qbeta(1-alpha/2, k+1, n-k)."""
    half = alpha / 2.0
    lower = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, half))
    upper = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - half))
    return lower, upper


def _wilson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """``prop.test(k, n, correct = FALSE)``'s interval (Wilson's score interval), R's formula."""
    z = float(-special.ndtri(alpha / 2.0))
    est = k / n
    z22n = z * z / (2.0 * n)
    if est >= 1.0:
        upper = 1.0
    else:
        upper = (est + z22n + z * math.sqrt(est * (1.0 - est) / n + z22n / (2.0 * n))) / (
            1.0 + 2.0 * z22n
        )
    if est <= 0.0:
        lower = 0.0
    else:
        lower = (est + z22n - z * math.sqrt(est * (1.0 - est) / n + z22n / (2.0 * n))) / (
            1.0 + 2.0 * z22n
        )
    return max(lower, 0.0), min(upper, 1.0)


def sign_test(
    n_beneficial: int,
    n_harmful: int,
    *,
    level: float = 95,
    interval: str = "clopper-pearson",
) -> SignTest:
    """The sign test for vote counting based on the direction of effect.

    Give the numbers of studies whose effect favours the intervention (``n_beneficial``) and
    whose effect favours the comparator (``n_harmful``); studies with no clear difference are
    left out (see :class:`SignTest`).

    Raises
    ------
    StatsInputError
        For counts that are not whole non-negative numbers, when no study has a direction
        (n = 0), for a level outside (0, 100) or an unknown ``interval``.
    """
    n_ben = _count(n_beneficial, "The number of studies showing benefit")
    n_harm = _count(n_harmful, "The number of studies showing harm")
    alpha = check_level(level)
    how = _choice(interval, "interval", INTERVALS)
    n = n_ben + n_harm
    if n == 0:
        raise StatsInputError(
            "The sign test needs at least one study with a direction of effect; every study "
            "here has no clear difference (or there are none), and those are left out of the "
            "count."
        )
    lower, upper = (_clopper_pearson if how == "clopper-pearson" else _wilson)(n_ben, n, alpha)
    return SignTest(
        n_beneficial=n_ben,
        n_harmful=n_harm,
        n=n,
        k=n_ben,
        proportion=n_ben / n,
        p_value=_binom_test_p(n_ben, n),
        ci_lb=lower,
        ci_ub=upper,
        level=float(level),
        interval=how,
    )


# --------------------------------------------------------------------------- combining p-values


@dataclass(frozen=True, eq=False)
class CombinedP:
    """A combined p-value.

    ``method="fisher"`` (``metap::sumlog``): statistic = -2 Σ log pᵢ, chi-squared on
    ``df`` = 2k degrees of freedom. ``method="stouffer"`` (``metap::sumz``): statistic
    z = Σ wᵢ Φ⁻¹(1 - pᵢ) / √(Σ wᵢ²) (all wᵢ = 1 without weights), standard normal; ``df`` is
    None. ``p_value`` is the upper tail (one-sided, in the direction the one-sided p-values
    test). ``p_one_sided`` holds the p-values combined (after the two-sided conversion, if any)
    and ``weights`` the weights used (None for Fisher).
    """

    method: str
    k: int
    statistic: float
    df: int | None
    p_value: float
    p_one_sided: np.ndarray
    weights: np.ndarray | None


def _direction_sign(value, index: int) -> int:
    if isinstance(value, str):
        text = value.strip().lower()
        if text == BENEFICIAL:
            return 1
        if text == HARMFUL:
            return -1
    elif not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if number in (1.0, -1.0):
            return int(number)
    raise StatsInputError(
        f"The direction of study {index} (1-based) is {value!r}; give 'beneficial' or 'harmful' "
        "(or +1/-1): a two-sided p-value can only be made one-sided when the direction of its "
        "effect is known."
    )


def combine_p(
    p_values: ArrayLike,
    *,
    method: str,
    weights: ArrayLike | None = None,
    one_sided: bool = True,
    directions: Sequence | None = None,
) -> CombinedP:
    """Combine the studies' p-values with Fisher's or Stouffer's method.

    Both methods test the joint null hypothesis that there is no effect in any study, against
    an effect in at least one (McKenzie & Brennan, Handbook chapter 12); they say nothing of its
    size. They need one-sided p-values that test the same direction (say, benefit):

    * ``one_sided=True``: ``p_values`` are already one-sided in that direction.
    * ``one_sided=False``: ``p_values`` are two-sided and ``directions`` gives each study's
      direction of effect (``"beneficial"``/``"harmful"`` or +1/-1). As ``metap::two2one``,
      a beneficial study's one-sided p is p/2, a harmful one's 1 - p/2.

    ``weights`` (Stouffer only; ``metap::sumz``'s): positive numbers, one per study, typically
    √nᵢ. The p-values must lie in (0, 1]; Stouffer also excludes 1, whose normal quantile is
    -∞ (``sumz`` drops such studies, this refuses them). As ``metap``, at least two p-values.

    Raises
    ------
    StatsInputError
        For an unknown method, fewer than two p-values, p-values outside (0, 1] (or equal to 1
        for Stouffer), missing or malformed directions or weights, or weights with Fisher.
    """
    how = _choice(method, "method", COMBINE_METHODS)
    p = as_vector(p_values, "p_values")
    k = p.size
    if k < 2:
        raise StatsInputError(f"Combining p-values needs at least two; got {k}.")
    bad = ~np.isfinite(p) | (p <= 0.0) | (p > 1.0)
    if np.any(bad):
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:10])
        raise StatsInputError(
            f"p-values must lie in (0, 1]; study (1-based) {rows} has "
            f"{', '.join(f'{v:g}' for v in p[bad][:10])}."
        )
    if one_sided:
        if directions is not None:
            raise StatsInputError(
                "directions are only used to make two-sided p-values one-sided "
                "(one_sided=False); these p-values are already one-sided."
            )
        p1 = p.copy()
    else:
        if directions is None:
            raise StatsInputError(
                "Two-sided p-values (one_sided=False) need each study's direction of effect "
                "(directions) to be turned into one-sided ones."
            )
        if isinstance(directions, str):
            dirs = [directions]
        else:
            try:
                dirs = list(directions)
            except TypeError:
                dirs = [directions]
        if len(dirs) != k:
            raise StatsInputError(
                f"There are {k} p-values but {len(dirs)} directions; give one direction per study."
            )
        signs = np.array([_direction_sign(d, i + 1) for i, d in enumerate(dirs)])
        half = p / 2.0
        p1 = np.where(signs > 0, half, 1.0 - half)

    if how == "fisher":
        if weights is not None:
            raise StatsInputError(
                "Fisher's method (metap's sumlog) takes no weights; use Stouffer's for weights."
            )
        chisq = float(-2.0 * np.sum(np.log(p1)))
        df = 2 * k
        return CombinedP(
            method=how,
            k=k,
            statistic=chisq,
            df=df,
            p_value=float(special.chdtrc(df, chisq)),
            p_one_sided=frozen(p1),
            weights=None,
        )

    if np.any(p1 >= 1.0):
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(p1 >= 1.0)[:10])
        raise StatsInputError(
            f"Stouffer's method cannot use a one-sided p-value of 1 (its z is -infinity); study "
            f"(1-based) {rows}. Leave it out or use Fisher's method."
        )
    if weights is None:
        w = np.ones(k)
    else:
        w = as_vector(weights, "weights")
        if w.size != k:
            raise StatsInputError(
                f"There are {k} p-values but {w.size} weights; give one weight per study."
            )
        badw = ~np.isfinite(w) | (w <= 0.0)
        if np.any(badw):
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(badw)[:10])
            raise StatsInputError(
                f"Weights must be positive finite numbers; study (1-based) {rows} has "
                f"{', '.join(f'{v:g}' for v in w[badw][:10])}."
            )
    z = -special.ndtri(p1)  # qnorm(p, lower.tail = FALSE)
    zp = float(np.dot(z, w) / math.sqrt(float(np.sum(w * w))))
    return CombinedP(
        method=how,
        k=k,
        statistic=zp,
        df=None,
        p_value=float(special.ndtr(-zp)),  # pnorm(z, lower.tail = FALSE)
        p_one_sided=frozen(p1),
        weights=frozen(w),
    )


# --------------------------------------------------------------------------- summary of effects


@dataclass(frozen=True, eq=False)
class EffectSummary:
    """The distribution of the studies' effect estimates (Handbook chapter 12, "summarizing
    effect estimates"): k, the median (R's ``median``), the lower and upper quartiles (R's
    ``quantile``, type 7) and the range. Meaningful only when the estimates share a metric."""

    k: int
    median: float
    q1: float
    q3: float
    min: float
    max: float


def _quantile7(sorted_x: np.ndarray, prob: float) -> float:
    """R's ``quantile(x, prob, type = 7)`` with R's own arithmetic."""
    n = sorted_x.size
    index = (n - 1) * prob
    lo = math.floor(index)
    hi = math.ceil(index)
    q = float(sorted_x[lo])
    h = index - lo
    if index > lo and sorted_x[hi] != q:
        q = (1.0 - h) * q + h * float(sorted_x[hi])
    return q


def summarise_effects(yi: ArrayLike) -> EffectSummary:
    """Median, quartiles and range of the effect estimates.

    Raises
    ------
    StatsInputError
        For no estimates or a missing or non-finite one.
    """
    y = as_vector(yi, "yi")
    if y.size == 0:
        raise StatsInputError("There are no effect estimates to summarise.")
    bad = ~np.isfinite(y)
    if np.any(bad):
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:10])
        raise StatsInputError(f"Missing or non-finite effect estimate in study (1-based) {rows}.")
    s = np.sort(y)
    n = s.size
    half = n // 2
    median = float(s[half]) if n % 2 else float((s[half - 1] + s[half]) / 2.0)
    return EffectSummary(
        k=n,
        median=median,
        q1=_quantile7(s, 0.25),
        q3=_quantile7(s, 0.75),
        min=float(s[0]),
        max=float(s[-1]),
    )


# --- Within-study synthesis over an outcome domain -------------------------------------------

#: The share of a domain's outcomes that must agree for the domain to take their direction
#: (Thomson & Thomas 2013, kept by Hilton Boon & Thomson 2021 without statistical significance).
DOMAIN_THRESHOLD = 0.7


@dataclass(frozen=True)
class DomainDirection:
    """One study's direction over the outcomes it reports in a domain."""

    direction: str | None
    k: int
    n_beneficial: int
    n_harmful: int
    n_unclear: int


def domain_direction(
    directions: Sequence[str | None], threshold: float = DOMAIN_THRESHOLD
) -> DomainDirection:
    """The direction of one study in one outcome domain from its outcomes' directions.

    The effect direction plot's within-study rule (Thomson H, Thomas S (2013). The effect
    direction plot: visual display of non-standardised effects across multiple outcome domains.
    Res Synth Methods 4:95-101, doi:10.1002/jrsm.1060; its "algorithm for within-study
    synthesis" revised without statistical significance by Hilton Boon & Thomson 2021,
    doi:10.1002/jrsm.1458): when at least ``threshold`` (70 %) of the outcomes with a direction
    share one (beneficial or harmful), the domain takes it; otherwise it is "no clear difference
    / conflicting" (the sideways arrow ◄►, "no change/mixed effects/conflicting findings"). The
    titles, DOIs and the revision's wording were checked against the publishers' abstracts; the
    70 % figure is the papers' as commonly cited, the full texts were not at hand to quote.

    Outcomes without a direction (``None`` or "") are left out of the count; a
    domain with none has no direction (``None``). "No clear difference" outcomes count in the
    denominator (they are reported outcomes that do not point either way)."""
    if not (isinstance(threshold, int | float) and 0.5 < float(threshold) <= 1):
        raise StatsInputError(f"threshold must be above 0.5 and at most 1; got {threshold!r}.")
    given = [d for d in directions if d]
    for d in given:
        if d not in DIRECTIONS:
            raise StatsInputError(f"Unknown direction {d!r}; use one of {', '.join(DIRECTIONS)}.")
    k = len(given)
    n_ben = sum(d == BENEFICIAL for d in given)
    n_harm = sum(d == HARMFUL for d in given)
    n_unclear = k - n_ben - n_harm
    if k == 0:
        direction = None
    elif n_ben >= threshold * k - 1e-12:
        direction = BENEFICIAL
    elif n_harm >= threshold * k - 1e-12:
        direction = HARMFUL
    else:
        direction = NO_CLEAR_DIFFERENCE
    return DomainDirection(direction, k, n_ben, n_harm, n_unclear)
