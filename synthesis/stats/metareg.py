"""Meta-regression: mixed-effects models with continuous and categorical moderators.

References
----------
* Raudenbush SW (2009). Analyzing effect sizes: random-effects models. In Cooper, Hedges &
  Valentine (eds.), The Handbook of Research Synthesis and Meta-Analysis, 2nd ed., 295-315.
* Thompson SG, Higgins JPT (2002). How should meta-regression analyses be undertaken and
  interpreted? Stat Med 21:1559-1573.
* Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single
  covariate. Stat Med 22:2693-2710 (``test="knha"``: t and F tests).
* López-López JA, Marín-Martínez F, Sánchez-Meca J, Van den Noortgate W, Viechtbauer W (2014).
  Estimation of the predictive power of the model in mixed-effects meta-regression. Br J Math
  Stat Psychol 67:30-48 (the pseudo-R² computed here).
* Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import _dist
from ._inputs import (
    ArrayLike,
    check_level,
    check_method,
    check_test,
    effects_and_variances,
    frozen,
)
from ._linear import btt_indices, design_check, fit_linear, wald_statistic
from .errors import StatsInputError
from .models import meta_fit


@dataclass(frozen=True)
class ModeratorTerm:
    """One moderator: ``levels`` is empty for a continuous one, else the sorted factor levels."""

    name: str
    levels: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        return bool(self.levels)

    @property
    def column_names(self) -> tuple[str, ...]:
        if not self.categorical:
            return (self.name,)
        # Treatment coding; the first (alphabetical) level is the reference, as R's factor().
        return tuple(f"{self.name}[{level}]" for level in self.levels[1:])


@dataclass(frozen=True, eq=False)
class ModeratorDesign:
    """Model matrix of the moderators (without the intercept column) and how it was built."""

    X: np.ndarray
    terms: tuple[ModeratorTerm, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for t in self.terms for n in t.column_names)

    def encode(self, rows: Mapping[str, Sequence[object]]) -> np.ndarray:
        """Build design rows for new moderator values (e.g. for predictions)."""
        cols = []
        for term in self.terms:
            if term.name not in rows:
                raise StatsInputError(f"New moderator values lack the column {term.name!r}.")
            values = list(rows[term.name])
            cols.append(_encode_term(term, values))
        return np.column_stack(cols) if cols else np.empty((0, 0))


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return bool(np.isfinite(float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _encode_term(term: ModeratorTerm, values: list[object]) -> np.ndarray:
    if not term.categorical:
        if not all(_is_number(x) for x in values):
            raise StatsInputError(f"Moderator {term.name!r} has missing or non-numeric values.")
        return np.asarray(values, dtype=float)[:, None]
    labels = [str(x).strip() for x in values]
    unknown = sorted(set(labels) - set(term.levels))
    if unknown:
        raise StatsInputError(
            f"Moderator {term.name!r} has unknown level(s): {', '.join(unknown)}."
        )
    return np.array([[lab == level for level in term.levels[1:]] for lab in labels], dtype=float)


def moderator_design(
    moderators: Mapping[str, Sequence[object]],
    *,
    categorical: Iterable[str] = (),
) -> ModeratorDesign:
    """Encode moderators: numeric columns as they are, others as treatment-coded factors.

    Parameters
    ----------
    moderators
        Column name -> one value per study, in a stable order.
    categorical
        Names of columns to treat as factors even if their values look numeric.
    """
    forced = set(categorical)
    terms: list[ModeratorTerm] = []
    cols: list[np.ndarray] = []
    k = None
    for name, values in moderators.items():
        values = list(values)
        if k is None:
            k = len(values)
        elif len(values) != k:
            raise StatsInputError(f"Moderator {name!r} has {len(values)} values, expected {k}.")
        blank = [i for i, x in enumerate(values) if x is None or str(x).strip() == ""]
        if blank:
            rows = ", ".join(str(i + 1) for i in blank[:10])
            raise StatsInputError(f"Moderator {name!r} is missing in study (1-based) {rows}.")
        if name not in forced and all(_is_number(x) for x in values):
            term = ModeratorTerm(name)
        else:
            levels = tuple(sorted({str(x).strip() for x in values}))
            if len(levels) < 2:
                raise StatsInputError(f"Moderator {name!r} has a single level ({levels[0]!r}).")
            term = ModeratorTerm(name, levels)
        terms.append(term)
        cols.append(_encode_term(term, values))
    X = np.column_stack(cols) if cols else np.empty((k or 0, 0))
    return ModeratorDesign(X=X, terms=tuple(terms))


@dataclass(frozen=True, eq=False)
class MetaRegFit:
    """A fitted meta-regression (metafor ``rma(yi, vi, mods=..., method=..., test=...)``).

    ``coef_names``, ``b``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub`` are per coefficient;
    ``vb`` is their covariance (Knapp-Hartung scaled under ``knha``). ``qm`` is the omnibus test
    of the coefficients in ``btt`` (all but the intercept by default): χ²(m) under ``z``, and
    QM/m against F(m, k-p) under ``knha``; ``qm_df`` is (m, None) or (m, k-p). ``r2`` is the
    pseudo-R² in percent, max(0, 100(τ²₀ - τ²)/τ²₀) with τ²₀ from the intercept-only model
    (0 when τ²₀ = 0); for FE models 100·max(0, adjusted R²) of the weighted least-squares fit.
    It is ``None`` when the model has no intercept. Other fields mean what they mean in
    :class:`~synthesis.stats.models.MetaFit`, with k - p residual degrees of freedom.
    """

    k: int
    p: int
    method: str
    test: str
    level: float
    intercept: bool
    coef_names: tuple[str, ...]
    b: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    dist: str
    df: int | None
    btt: tuple[int, ...]
    qm: float
    qm_df: tuple[int, int | None]
    qmp: float
    qm_dist: str
    tau2: float
    se_tau2: float | None
    i2: float
    h2: float
    vt: float
    r2: float | None
    qe: float
    qe_df: int
    qep: float
    s2w: float
    weights: np.ndarray
    ll_ml: float
    ll_reml: float
    converged: bool
    X: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    design: ModeratorDesign | None = None

    @property
    def is_random(self) -> bool:
        return self.method != "FE"

    @property
    def alpha(self) -> float:
        return 1.0 - self.level / 100.0


def _as_design(
    mods: ArrayLike | np.ndarray | ModeratorDesign, names: Sequence[str] | None, k: int
) -> tuple[np.ndarray, tuple[str, ...], ModeratorDesign | None]:
    if isinstance(mods, ModeratorDesign):
        return mods.X, mods.names, mods
    try:
        X = np.asarray(mods, dtype=float)
    except (TypeError, ValueError):
        raise StatsInputError(
            "Moderators must be numeric; encode factors with moderator_design()."
        ) from None
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != k:
        raise StatsInputError(f"Moderators must have one row per study ({k}); got {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise StatsInputError("Moderators contain missing or non-finite values.")
    if names is None:
        names = tuple(f"x{j + 1}" for j in range(X.shape[1]))
    if len(names) != X.shape[1]:
        raise StatsInputError("One name per moderator column is needed.")
    return X, tuple(names), None


def _fe_adjusted_r2(X: np.ndarray, y: np.ndarray, v: np.ndarray) -> float:
    """100·max(0, adjusted R²) of ``lm(y ~ X, weights = 1/v)`` (metafor's R² for FE models)."""
    k, p = X.shape
    if np.var(y) == 0:
        return 0.0
    if k == p:
        return float("nan")  # no residual degrees of freedom: R's adjusted R² is NaN
    w = 1 / v
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    resid = y - X @ coef
    rss = float((w * resid**2).sum())
    ybar = float((w * y).sum() / w.sum())
    tss = float((w * (y - ybar) ** 2).sum())
    r2 = 1 - rss / tss
    adj = 1 - (1 - r2) * (k - 1) / (k - p)
    return max(0.0, 100 * adj)


def metareg_fit(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    mods: ArrayLike | np.ndarray | ModeratorDesign | None = None,
    *,
    sei: ArrayLike | None = None,
    names: Sequence[str] | None = None,
    intercept: bool = True,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    btt: Sequence[int] | None = None,
    compute_r2: bool = True,
) -> MetaRegFit:
    """Fit a meta-regression with moderators ``mods`` (k-by-m numbers or a ModeratorDesign).

    The coefficients and their covariance come from a QR decomposition of √W·X, as metafor's
    ``.invcalc``, which keeps un-centred moderators (e.g. a publication year) accurate. τ²
    estimators, truncation and tests follow :func:`synthesis.stats.models.meta_fit`, with k - p
    residual degrees of freedom. ``btt`` gives the 0-based coefficients tested by QM.
    ``compute_r2=False`` skips the pseudo-R² (it refits the intercept-only model).

    Raises
    ------
    StatsInputError
        Degenerate inputs, too few studies for the number of coefficients (k - p < 1 for
        random-effects models), or a rank-deficient model matrix.
    """
    method = check_method(method)
    test = check_test(test)
    alpha = check_level(level)
    y, v = effects_and_variances(yi, vi, sei=sei, min_k=2)
    if mods is None:
        raise StatsInputError("Meta-regression needs at least one moderator.")
    Xm, mod_names, design = _as_design(mods, names, y.size)
    if intercept:
        X = np.column_stack([np.ones(y.size), Xm])
        coef_names = ("intercept", *mod_names)
    else:
        X = Xm
        coef_names = mod_names
    if X.shape[1] == 0:
        raise StatsInputError("The model has no coefficients.")
    design_check(X, y.size, method)
    lf = fit_linear(X, y, v, method, test)
    k, p = X.shape
    b, se = lf.b, lf.se
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = b / se
    if test == "knha":
        df = k - p
        if df > 0:
            pval = _dist.p_t_two_sided(zval, df)
            crit = float(_dist.crit_t(alpha, df))
        else:
            pval = np.full(p, np.nan)
            crit = np.nan
    else:
        df = None
        pval = _dist.p_norm_two_sided(zval)
        crit = _dist.crit_norm(alpha)
    btt_idx = btt_indices(btt, p, intercept)
    m = len(btt_idx)
    sel = np.array(btt_idx)
    qm = wald_statistic(b, lf.vb, sel)
    if test == "knha":
        qm = qm / m
        qm_df: tuple[int, int | None] = (m, k - p)
        qmp = float(_dist.f_sf(qm, m, k - p)) if k - p > 0 else float("nan")
        qm_dist = "F"
    else:
        qm_df = (m, None)
        qmp = float(_dist.chi2_sf(qm, m))
        qm_dist = "chisq"
    qep = float(_dist.chi2_sf(lf.qe, lf.qe_df)) if lf.qe_df > 0 else 1.0
    r2: float | None = None
    if intercept and p > 1 and compute_r2:
        if method == "FE":
            r2 = _fe_adjusted_r2(X, y, v)
        else:
            tau2_0 = meta_fit(y, v, method=method, test=test, level=level).tau2
            r2 = 0.0 if tau2_0 == 0 else max(0.0, 100 * (tau2_0 - lf.tau2) / tau2_0)
    return MetaRegFit(
        k=k,
        p=p,
        method=method,
        test=test,
        level=float(level),
        intercept=intercept,
        coef_names=coef_names,
        b=frozen(b),
        se=frozen(se),
        zval=frozen(zval),
        pval=frozen(pval),
        ci_lb=frozen(b - crit * se),
        ci_ub=frozen(b + crit * se),
        vb=frozen(lf.vb),
        dist="t" if test == "knha" else "norm",
        df=df,
        btt=btt_idx,
        qm=qm,
        qm_df=qm_df,
        qmp=qmp,
        qm_dist=qm_dist,
        tau2=lf.tau2,
        se_tau2=lf.se_tau2,
        i2=lf.i2,
        h2=lf.h2,
        vt=lf.vt,
        r2=r2,
        qe=lf.qe,
        qe_df=lf.qe_df,
        qep=qep,
        s2w=lf.s2w,
        weights=frozen(lf.weights),
        ll_ml=lf.ll_ml,
        ll_reml=lf.ll_reml,
        converged=lf.converged,
        X=frozen(X),
        yi=frozen(y),
        vi=frozen(v),
        design=design,
    )
