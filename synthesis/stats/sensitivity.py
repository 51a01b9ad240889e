"""Leave-one-out and cumulative meta-analysis (metafor's ``leave1out`` and ``cumul``).

Each refit uses the model's method and test. All k refits run as one vectorised batch (see
:mod:`synthesis.stats._batch`), in chunks so memory stays bounded for large k.

References
----------
* Viechtbauer W, Cheung MW-L (2010). Outlier and influence diagnostics for meta-analysis.
  Res Synth Methods 1:112-125 (leave-one-out).
* Lau J, Antman EM, Jimenez-Silva J, Kupelnick B, Mosteller F, Chalmers TC (1992). Cumulative
  meta-analysis of therapeutic trials for myocardial infarction. N Engl J Med 327:248-254.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _batch
from ._inputs import frozen
from .models import MetaFit


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """One row per refit: row i leaves study i out (``leave1out``) or pools studies 1..i
    (``cumul``, input order).

    ``zval`` is a t statistic under ``knha`` (except for a cumulative k = 1 fit, which metafor
    tests with z). ``converged`` is false for a refit whose τ² iteration did not converge; its
    numbers are NaN (metafor reports NA). ``tau2`` is all zeros for FE models.
    """

    kind: str
    method: str
    test: str
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    q: np.ndarray
    qp: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    converged: np.ndarray


def _run(fit: MetaFit, kind: str) -> SensitivityResult:
    y = np.asarray(fit.yi)
    v = np.asarray(fit.vi)
    k = y.size
    names = ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "qe", "qep", "tau2", "i2", "h2")
    out = {n: np.full(k, np.nan) for n in names}
    kk = np.zeros(k, dtype=int)
    conv = np.zeros(k, dtype=bool)
    for idx, mask in _batch.chunked_masks(k, kind):
        n = idx.size
        batch = _batch.Batch(np.broadcast_to(y, (n, k)), np.broadcast_to(v, (n, k)), mask)
        bf = _batch.fit_batch(batch, fit.method, fit.test, fit.alpha)
        for name in names:
            out[name][idx] = np.where(bf.converged, getattr(bf, name), np.nan)
        kk[idx] = bf.k
        conv[idx] = bf.converged
    return SensitivityResult(
        kind=kind,
        method=fit.method,
        test=fit.test,
        k=kk,
        estimate=frozen(out["estimate"]),
        se=frozen(out["se"]),
        zval=frozen(out["zval"]),
        pval=frozen(out["pval"]),
        ci_lb=frozen(out["ci_lb"]),
        ci_ub=frozen(out["ci_ub"]),
        q=frozen(out["qe"]),
        qp=frozen(out["qep"]),
        tau2=frozen(out["tau2"]),
        i2=frozen(out["i2"]),
        h2=frozen(out["h2"]),
        converged=conv,
    )


def leave_one_out(fit: MetaFit) -> SensitivityResult:
    """Refit the model k times, each time without one study (needs k >= 2)."""
    return _run(fit, "leave1out")


def cumulative(fit: MetaFit) -> SensitivityResult:
    """Refit the model to studies 1..i for i = 1..k, in input order.

    The first fit has k = 1: τ² = 0, Q = 0, I² = 0, H² = 1, and a z test even under ``knha``
    (metafor switches to ``test="z"`` when k = 1).
    """
    return _run(fit, "cumul")
