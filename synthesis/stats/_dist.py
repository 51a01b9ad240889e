"""Thin, fast wrappers over scipy.special for the distributions the engine needs.

``scipy.stats`` distribution objects cost ~30 µs per call in argument checking; the engine calls
them many times per analysis, so it uses the underlying special functions directly.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def p_norm_two_sided(z):
    """Two-sided normal p-value 2·P(Z > |z|)."""
    return 2.0 * special.ndtr(-np.abs(z))


def p_t_two_sided(t, df):
    """Two-sided Student t p-value 2·P(T_df > |t|)."""
    return 2.0 * special.stdtr(df, -np.abs(t))


def crit_norm(alpha: float) -> float:
    """Upper alpha/2 quantile of the standard normal."""
    return float(-special.ndtri(alpha / 2.0))


def crit_t(alpha: float, df):
    """Upper alpha/2 quantile of Student's t."""
    return -special.stdtrit(df, alpha / 2.0)


def chi2_sf(x, df):
    return special.chdtrc(df, x)


def chi2_upper_quantile(p: float, df) -> float:
    """x with P(X_df > x) = p."""
    return special.chdtri(df, p)


def f_sf(x, df1, df2):
    return special.fdtrc(df1, df2, x)
