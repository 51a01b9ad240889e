"""Hand-built synthesis results dicts (the shape in docs/architecture.md, synthesis) for the
GRADE tests: effects on the analysis scale (log for RR and OR)."""

from __future__ import annotations

import math


def model(est, lb, ub, *, k=5, i2=0.0, i2_ci=(None, None), pi=None, q=3.0, q_p=0.5):
    pi_lb, pi_ub = pi if pi else (lb, ub)
    return {
        "method": "REML",
        "test": "z",
        "level": 95,
        "k": k,
        "estimate": est,
        "se": None if lb is None or ub is None else (ub - lb) / 3.92,
        "stat": None,
        "pval": None,
        "ci_lb": lb,
        "ci_ub": ub,
        "tau2": 0.0,
        "tau2_ci_lb": None,
        "tau2_ci_ub": None,
        "i2": i2,
        "i2_ci_lb": i2_ci[0],
        "i2_ci_ub": i2_ci[1],
        "h2": 1.0,
        "q": q,
        "q_df": k - 1,
        "q_p": q_p,
        "pi_lb": pi_lb,
        "pi_ub": pi_ub,
    }


def study(label, yi, lb, ub, weight, rob=None):
    return {
        "study": label,
        "yi": yi,
        "vi": ((ub - lb) / 3.92) ** 2,
        "ci_lb": lb,
        "ci_ub": ub,
        "weight": weight,
        "subgroup": None,
        "rob": rob,
    }


def result(
    main,
    studies=(),
    *,
    measure="RR",
    high_rob=("High",),
    sensitivity=(),
    publication_bias=None,
):
    ratio = measure in ("RR", "OR")
    return {
        "spec": {
            "name": "main",
            "measure": measure,
            "method": "REML",
            "test": "z",
            "level": 95,
            "subgroup": None,
            "moderators": [],
            "sensitivity": {"leave_one_out": False, "without_high_rob": True, "filters": []},
            "publication_bias": publication_bias is not None,
            "high_rob": list(high_rob),
        },
        "rows": [],
        "main": main,
        "studies": list(studies),
        "subgroups": [],
        "subgroup_test": None,
        "sensitivity": list(sensitivity),
        "leave_one_out": [],
        "metareg": None,
        "publication_bias": publication_bias,
        "transform": "exp" if ratio else None,
        "notes": [],
        "engine": "synthesis.stats / metafor 3.8-1",
    }


def without_high_rob(est, lb, ub, excluded, **kw):
    return {
        **model(est, lb, ub, **kw),
        "subset": "without high risk of bias",
        "kind": "without_high_rob",
        "excluded": list(excluded),
    }


def log(x):
    return math.log(x)
