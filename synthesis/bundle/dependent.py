"""``run()`` for an analysis with several effect sizes per study (issue 20, the app part).

Every matching result row is an effect size; rows carry ``study`` (the cluster) and ``es_id``
(the effect size within its study). The main model is metafor's three-level model
``rma.mv(yi, V, random = ~ 1 | study/es_id)`` fitted by :func:`synthesis.stats.
multilevel_analyse` (REML or ML; V = diag(vi), or the CHE working matrix of ``vcalc`` with the
within-study correlation rho), with profile-likelihood CIs of both variance components and, on
request, cluster-robust inference (CR1, or CR2 with Satterthwaite dfs as clubSandwich).

``main`` keeps the MODEL keys where they apply (``tau2`` and its CI, ``h2`` and the I² CI do
not: they are None) and adds ``sigma2`` (outer, inner), ``sigma2_levels``, ``sigma2_ci_lb``,
``sigma2_ci_ub``, ``n_clusters``, ``i2_levels``, ``rho`` and, with robust inference,
``robust_type, robust_se, robust_stat, robust_df, robust_pval, robust_ci_lb, robust_ci_ub``.
The prediction interval is metafor's ``predict``: estimate ± crit·sqrt(se² + σ²₁ + σ²₂).

What applies around it: leave one *study* out (all its effect sizes) refits the three-level
model. Subgroups, sensitivity subsets, meta-regression and the publication-bias tests are not
computed for dependent effect sizes here: Egger's and Begg's tests and trim-and-fill assume
independent estimates; a note says so when the specification asks for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as sps

from synthesis.stats import StatsError
from synthesis.stats.multilevel import multilevel_fit
from synthesis.stats.multilevel_analysis import multilevel_analyse

from .compute import ENGINE, LOG_MEASURES, num


def _test(spec: dict[str, Any]) -> str:
    return "t" if spec["test"] == "knha" else "z"


def _crit(level: float, df: int | None) -> float:
    q = 1.0 - (1.0 - level / 100.0) / 2.0
    return float(sps.t.ppf(q, df)) if df is not None else float(sps.norm.ppf(q))


def _weights(data: list[dict], sigma2: tuple[float, float], rho: float | None) -> list[float]:
    """metafor's ``weights(fit)`` of an rma.mv fit: diag(W) in percent, W = M⁻¹ per study."""
    diag = np.zeros(len(data))
    blocks: dict[str, list[int]] = {}
    for i, r in enumerate(data):
        blocks.setdefault(r["study"], []).append(i)
    for idx in blocks.values():
        v = np.array([data[i]["vi"] for i in idx])
        s = np.sqrt(v)
        V = np.outer(s, s) * (rho or 0.0)
        np.fill_diagonal(V, v)
        M = V + sigma2[0] + sigma2[1] * np.eye(len(idx))
        diag[idx] = np.diag(np.linalg.inv(M))
    return list(100.0 * diag / diag.sum())


def _model(fit, profile, rob, notes) -> dict[str, Any]:
    df = fit.df if fit.test == "t" else None
    crit = _crit(fit.level, df)
    se = float(fit.se[0])
    spread = float(np.sqrt(se**2 + sum(fit.sigma2)))
    out: dict[str, Any] = {
        "method": fit.method,
        "test": "knha" if fit.test == "t" else "z",
        "level": fit.level,
        "k": fit.k,
        "estimate": num(fit.b[0]),
        "se": num(se),
        "stat": num(fit.zval[0]),
        "df": df,
        "pval": num(fit.pval[0]),
        "ci_lb": num(fit.ci_lb[0]),
        "ci_ub": num(fit.ci_ub[0]),
        "tau2": None,
        "tau2_ci_lb": None,
        "tau2_ci_ub": None,
        "i2": num(fit.i2_total),
        "i2_ci_lb": None,
        "i2_ci_ub": None,
        "h2": None,
        "q": num(fit.qe),
        "q_df": fit.qe_df,
        "q_p": num(fit.qep),
        "pi_lb": num(fit.b[0] - crit * spread),
        "pi_ub": num(fit.b[0] + crit * spread),
        "model": "three-level",
        "sigma2": [num(x) for x in fit.sigma2],
        "sigma2_levels": ["study", "study/es_id"],
        "i2_levels": [num(x) for x in fit.i2],
        "n_clusters": fit.n_clusters,
        "rho": fit.rho,
    }
    if profile is not None:
        out["sigma2_ci_lb"] = [num(ci.ci_lb) for ci in profile]
        out["sigma2_ci_ub"] = [num(ci.ci_ub) for ci in profile]
    if rob is not None:
        out.update(
            robust_type=rob.vcov_type,
            robust_se=num(rob.se[0]),
            robust_stat=num(rob.tval[0]),
            robust_df=num(rob.df[0]),
            robust_pval=num(rob.pval[0]),
            robust_ci_lb=num(rob.ci_lb[0]),
            robust_ci_ub=num(rob.ci_ub[0]),
        )
    return out


def _leave_one_study_out(data, spec, dep) -> list[dict]:
    out = []
    studies = list(dict.fromkeys(r["study"] for r in data))
    for label in studies:
        rest = [r for r in data if r["study"] != label]
        entry: dict[str, Any] = {"study": label, "k": len(rest)}
        try:
            fit = multilevel_fit(
                [r["yi"] for r in rest], [r["vi"] for r in rest],
                cluster=[r["study"] for r in rest], es_id=[r["es_id"] for r in rest],
                rho=dep["rho"], method=spec["method"], test=_test(spec), level=spec["level"],
            )  # fmt: skip
        except StatsError as exc:
            entry.update(dict.fromkeys(("estimate", "se", "stat", "pval", "ci_lb", "ci_ub")))
            entry.update(tau2=None, i2=None, h2=None, q=None, qp=None, sigma2=None)
            entry["error"] = str(exc)
            out.append(entry)
            continue
        entry.update(
            estimate=num(fit.b[0]), se=num(fit.se[0]), stat=num(fit.zval[0]),
            pval=num(fit.pval[0]), ci_lb=num(fit.ci_lb[0]), ci_ub=num(fit.ci_ub[0]),
            tau2=None, i2=num(fit.i2_total), h2=None, q=num(fit.qe), qp=num(fit.qep),
            sigma2=[num(x) for x in fit.sigma2],
        )  # fmt: skip
        out.append(entry)
    return out


def run_dependent(spec: dict[str, Any], data: list[dict]) -> dict[str, Any]:
    """The results dict of a three-level analysis (see the module docstring)."""
    dep = spec["dependent"]
    notes: list[str] = []
    robust_type = dep["robust"].upper() if dep["robust"] else None
    analysis = multilevel_analyse(
        [r["yi"] for r in data], [r["vi"] for r in data],
        cluster=[r["study"] for r in data], es_id=[r["es_id"] for r in data],
        rho=dep["rho"], method=spec["method"], test=_test(spec), level=spec["level"],
        robust_type=robust_type, cluster_name="study", es_id_name="es_id",
    )  # fmt: skip
    fit = analysis.fit
    notes += list(analysis.notes)
    main = _model(fit, analysis.profile, analysis.robust, notes)
    crit = _crit(spec["level"], None)
    weights = _weights(data, fit.sigma2, dep["rho"])
    studies = [
        {
            "study": r["study"],
            "es_id": r["es_id"],
            "label": r.get("es_label") or f"effect size {r['es_id']}",
            "yi": r["yi"],
            "vi": r["vi"],
            "ci_lb": num(r["yi"] - crit * np.sqrt(r["vi"])),
            "ci_ub": num(r["yi"] + crit * np.sqrt(r["vi"])),
            "weight": num(w),
            "subgroup": None,
            "rob": r["rob"],
        }
        for r, w in zip(data, weights, strict=True)
    ]
    skipped = []
    if spec["subgroup"]:
        skipped.append("subgroups")
    if spec["moderators"]:
        skipped.append("meta-regression")
    sens = spec["sensitivity"]
    if sens["without_high_rob"] or sens["filters"]:
        skipped.append("sensitivity subsets")
    if skipped:
        notes.append(
            "With several effect sizes per study only the three-level model and leave one study "
            f"out are computed here; not computed: {', '.join(skipped)}."
        )
    if spec["publication_bias"]:
        notes.append(
            "Publication bias: Egger's and Begg's tests and trim-and-fill assume independent "
            "effect sizes, so they are not computed for several effect sizes per study."
        )
    notes.append(
        f"Several effect sizes per study: {fit.k} effect sizes in {fit.n_clusters} studies, "
        "three-level model (effect sizes within studies)"
        + (f", CHE working correlation rho = {dep['rho']:g}" if dep["rho"] is not None else "")
        + (f", cluster-robust {robust_type} inference." if robust_type else ".")
    )
    return {
        "spec": spec,
        "rows": data,
        "main": main,
        "studies": studies,
        "subgroups": [],
        "subgroup_test": None,
        "sensitivity": [],
        "leave_one_out": _leave_one_study_out(data, spec, dep) if sens["leave_one_out"] else [],
        "metareg": None,
        "publication_bias": None,
        "transform": "exp" if spec["measure"] in LOG_MEASURES else None,
        "notes": notes,
        "engine": ENGINE,
    }
