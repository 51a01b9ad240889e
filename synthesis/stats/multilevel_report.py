"""Reporting a three-level analysis: a JSON-able dict and a text summary in metafor's layout.

The dict keeps the keys of :func:`synthesis.stats.report.summary_dict` where they apply
(``k, method, test, level, estimate, se, zval, pval, ci_lb, ci_ub, qe, qe_df, qep``; ``zval``
is the t statistic under ``test="t"``, which also adds ``tval`` (the same number) and ``df``;
``i2`` is the total I²) and adds ``model`` (``"three-level"``), ``sigma2`` (one per level, outer
first), ``sigma2_levels`` (their names), ``sigma2_ci_lb``/``sigma2_ci_ub`` (profile likelihood),
``i2_levels``, ``n_clusters`` and ``rho``. With robust inference: ``robust_type`` (CR1/CR2),
``robust_se``, ``robust_tval``, ``robust_df``, ``robust_pval``, ``robust_ci_lb``,
``robust_ci_ub``. Moderators add a ``moderators`` block (one entry per coefficient, robust
columns included, and the omnibus tests). ``qe``/``qep`` are ``None`` when the working V is
singular; non-finite numbers become ``None``.
"""

from __future__ import annotations

from typing import Any

from .multilevel import MultilevelFit
from .multilevel_analysis import MultilevelAnalysis
from .report import _f, _num, _p, _p_eq, _stars, _table
from .robust import RobustResult


def _levels(analysis: MultilevelAnalysis) -> list[str]:
    inner = analysis.es_id_name or "es_id"
    return [analysis.cluster_name, f"{analysis.cluster_name}/{inner}"]


def _robust_cells(rob: RobustResult, j: int) -> dict[str, Any]:
    return {
        "robust_se": _num(rob.se[j]),
        "robust_tval": _num(rob.tval[j]),
        "robust_df": _num(rob.df[j]),
        "robust_pval": _num(rob.pval[j]),
        "robust_ci_lb": _num(rob.ci_lb[j]),
        "robust_ci_ub": _num(rob.ci_ub[j]),
    }


def _common(fit: MultilevelFit) -> dict[str, Any]:
    return {
        "sigma2": [_num(s) for s in fit.sigma2],
        "i2": _num(fit.i2_total),
        "i2_levels": [_num(x) for x in fit.i2],
        "qe": _num(fit.qe),
        "qe_df": fit.qe_df,
        "qep": _num(fit.qep),
    }


def multilevel_summary_dict(analysis: MultilevelAnalysis) -> dict[str, Any]:
    """A JSON-able summary of ``analysis`` (see the module docstring for the keys)."""
    fit = analysis.fit
    out: dict[str, Any] = {
        "model": "three-level",
        "k": fit.k,
        "method": fit.method,
        "test": fit.test,
        "level": fit.level,
        "estimate": _num(fit.b[0]),
        "se": _num(fit.se[0]),
        "zval": _num(fit.zval[0]),
    }
    if fit.test == "t":
        out["tval"] = _num(fit.zval[0])
        out["df"] = fit.df
    out.update(
        pval=_num(fit.pval[0]),
        ci_lb=_num(fit.ci_lb[0]),
        ci_ub=_num(fit.ci_ub[0]),
        n_clusters=fit.n_clusters,
        rho=fit.rho,
        sigma2_levels=_levels(analysis),
    )
    out.update(_common(fit))
    if analysis.profile is not None:
        out["sigma2_ci_lb"] = [_num(ci.ci_lb) for ci in analysis.profile]
        out["sigma2_ci_ub"] = [_num(ci.ci_ub) for ci in analysis.profile]
    if analysis.robust is not None:
        out["robust_type"] = analysis.robust.vcov_type
        out.update(_robust_cells(analysis.robust, 0))
    reg = analysis.metareg
    if reg is not None:
        rob = analysis.metareg_robust
        coefs = []
        for j, name in enumerate(reg.coef_names):
            row: dict[str, Any] = {
                "name": name,
                "estimate": _num(reg.b[j]),
                "se": _num(reg.se[j]),
                "zval": _num(reg.zval[j]),
                "pval": _num(reg.pval[j]),
                "ci_lb": _num(reg.ci_lb[j]),
                "ci_ub": _num(reg.ci_ub[j]),
            }
            if rob is not None:
                row.update(_robust_cells(rob, j))
            coefs.append(row)
        block: dict[str, Any] = {
            "k": reg.k,
            "coefficients": coefs,
            "qm": _num(reg.qm),
            "qm_df": list(reg.qm_df),
            "qm_dist": reg.qm_dist,
            "qmp": _num(reg.qmp),
        }
        block.update(_common(reg))
        if rob is not None:
            block.update(
                robust_type=rob.vcov_type,
                robust_qm=_num(rob.qm),
                robust_qm_df=[_num(x) for x in rob.qm_df],
                robust_qmp=_num(rob.qmp),
            )
        out["moderators"] = block
    out["notes"] = list(analysis.notes)
    return out


# ---------------------------------------------------------------------------- text


def _df(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _coef_rows(fit: MultilevelFit) -> list[list[str]]:
    rows = []
    for j, name in enumerate(fit.coef_names):
        row = [name, _f(fit.b[j]), _f(fit.se[j]), _f(fit.zval[j])]
        if fit.df is not None:
            row.append(str(fit.df))
        row += [_p(fit.pval[j]), _f(fit.ci_lb[j]), _f(fit.ci_ub[j]), _stars(float(fit.pval[j]))]
        rows.append(row)
    return rows


def _robust_lines(rob: RobustResult, intercept_only: bool) -> list[str]:
    how = "Satterthwaite df" if rob.vcov_type == "CR2" else "df = clusters - coefficients"
    lines = [f"Cluster-robust inference ({rob.vcov_type}, t tests with {how}; "
             f"{rob.n_clusters} clusters):", ""]  # fmt: skip
    rows = [
        [name, _f(rob.b[j]), _f(rob.se[j]), _f(rob.tval[j]), _df(rob.df[j]), _p(rob.pval[j]),
         _f(rob.ci_lb[j]), _f(rob.ci_ub[j]), _stars(float(rob.pval[j]))]
        for j, name in enumerate(rob.coef_names)
    ]  # fmt: skip
    lines += _table(["", "estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub", ""], rows)
    if not intercept_only:
        lines += [
            "",
            f"Test of Moderators (robust): F(df1 = {_df(rob.qm_df[0])}, df2 = "
            f"{_df(rob.qm_df[1])}) = {_f(rob.qm)}, {_p_eq(rob.qmp)}",
        ]
    return lines


def _fit_lines(analysis: MultilevelAnalysis, fit: MultilevelFit, title: str) -> list[str]:
    lines = [f"{title} (k = {fit.k}; method: {fit.method})", ""]
    working = (
        "sampling errors independent (V = diag(vi))"
        if fit.rho is None
        else f"CHE working model, within-cluster correlation rho = {fit.rho:g}"
    )
    lines += [f"Levels: {fit.n_clusters} clusters ({analysis.cluster_name}), {fit.k} effect sizes;"
              f" {working}", "", "Variance Components:", ""]  # fmt: skip
    header = ["", "estim", "sqrt", "nlvls", "I^2(%)"]
    profile = analysis.profile if fit is analysis.fit else None
    if profile is not None:
        header += ["ci.lb", "ci.ub"]
    rows = []
    names = _levels(analysis)
    nlvls = (fit.n_clusters, fit.k)
    for j in range(2):
        row = [f"sigma^2.{j + 1}", _f(fit.sigma2[j]), _f(fit.sigma2[j] ** 0.5), str(nlvls[j]),
               _f(fit.i2[j], 2)]  # fmt: skip
        if profile is not None:
            row += [profile[j].lb_sign + _f(profile[j].ci_lb),
                    profile[j].ub_sign + _f(profile[j].ci_ub)]  # fmt: skip
        rows.append(row)
    lines += _table(header, rows)
    lines += [f"  (sigma^2.1: {names[0]}; sigma^2.2: {names[1]}; total I^2 = "
              f"{_f(fit.i2_total, 2)}%)"]  # fmt: skip
    residual = "Residual " if fit.p > 1 or not fit.intercept else ""
    lines += ["", f"Test for {residual}Heterogeneity:"]
    if fit.qe is None:
        lines.append("Q: not available (the working covariance matrix is not positive definite)")
    else:
        lines.append(f"Q{'E' if residual else ''}(df = {fit.qe_df}) = {_f(fit.qe)}, "
                     f"{_p_eq(fit.qep)}")  # fmt: skip
    if fit.p > 1 or not fit.intercept:
        coefs = ", ".join(str(j + 1) for j in fit.btt)
        lines += ["", f"Test of Moderators (coefficients {coefs}):"]
        if fit.qm_dist == "F":
            lines.append(f"F(df1 = {fit.qm_df[0]}, df2 = {fit.qm_df[1]}) = {_f(fit.qm)}, "
                         f"{_p_eq(fit.qmp)}")  # fmt: skip
        else:
            lines.append(f"QM(df = {fit.qm_df[0]}) = {_f(fit.qm)}, {_p_eq(fit.qmp)}")
    stat = "tval" if fit.test == "t" else "zval"
    header = ["", "estimate", "se", stat] + (["df"] if fit.df is not None else [])
    header += ["pval", "ci.lb", "ci.ub", ""]
    lines += ["", f"Model Results ({fit.level:g}% CI):", "", *_table(header, _coef_rows(fit))]
    return lines


def multilevel_summary_text(analysis: MultilevelAnalysis) -> str:
    """A readable summary in the layout of metafor's ``print.rma.mv`` (and ``robust``)."""
    fit = analysis.fit
    lines = _fit_lines(analysis, fit, "Three-Level Meta-Analysis Model")
    if analysis.robust is not None:
        lines += ["", *_robust_lines(analysis.robust, intercept_only=True)]
    if analysis.metareg is not None:
        lines += ["", *_fit_lines(analysis, analysis.metareg, "Three-Level Mixed-Effects Model")]
        if analysis.metareg_robust is not None:
            lines += ["", *_robust_lines(analysis.metareg_robust, intercept_only=False)]
    if analysis.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in analysis.notes]
    lines += ["", "---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
    return "\n".join(lines) + "\n"
