"""Reporting: a text summary in the style of metafor's ``print.rma`` and a JSON-able dict.

Both take a :class:`~synthesis.stats.analysis.MetaAnalysis` (the fit plus the analyses run on
it). Pure functions: no I/O.

The dict always has ``k, method, test, level, estimate, se, zval, pval, ci_lb, ci_ub, tau2,
i2, h2, qe, qe_df, qep``; ``zval`` is the t statistic under ``knha`` (with ``df``), as in
metafor. ``tau2_ci_*``, ``i2_ci_*``, ``h2_ci_*`` and ``pi_lb``/``pi_ub`` are present only for
random-effects models (metafor has none for FE); ``egger_z``/``egger_p`` only when Egger's test
was computed (k >= 3). Non-finite numbers (e.g. a t statistic of ±∞ when all effects are equal)
become ``None`` so that the dict serialises to standard JSON.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .analysis import MetaAnalysis
from .metareg import MetaRegFit
from .models import MetaFit
from .sensitivity import SensitivityResult
from .subgroup import SubgroupAnalysis

METHOD_NAMES = {
    "FE": "common-effect (FE)",
    "DL": "DerSimonian-Laird",
    "REML": "restricted maximum likelihood",
    "PM": "Paule-Mandel",
    "ML": "maximum likelihood",
    "HE": "Hedges",
    "SJ": "Sidik-Jonkman",
    "EB": "empirical Bayes",
}


def _num(x: Any) -> float | None:
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def _nums(arr: Any) -> list[float | None]:
    return [_num(x) for x in np.asarray(arr, dtype=float)]


def _fit_dict(fit: MetaFit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "k": fit.k,
        "method": fit.method,
        "test": fit.test,
        "level": fit.level,
        "estimate": _num(fit.estimate),
        "se": _num(fit.se),
        "zval": _num(fit.zval),
        "pval": _num(fit.pval),
        "ci_lb": _num(fit.ci_lb),
        "ci_ub": _num(fit.ci_ub),
        "tau2": _num(fit.tau2),
        "tau": _num(fit.tau),
        "i2": _num(fit.i2),
        "h2": _num(fit.h2),
        "qe": _num(fit.qe),
        "qe_df": fit.qe_df,
        "qep": _num(fit.qep),
    }
    if fit.df is not None:
        out["df"] = fit.df
    if fit.se_tau2 is not None:
        out["se_tau2"] = _num(fit.se_tau2)
    return out


def _metareg_dict(reg: MetaRegFit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "k": reg.k,
        "coefficients": [
            {
                "name": name,
                "estimate": _num(reg.b[j]),
                "se": _num(reg.se[j]),
                "zval": _num(reg.zval[j]),
                "pval": _num(reg.pval[j]),
                "ci_lb": _num(reg.ci_lb[j]),
                "ci_ub": _num(reg.ci_ub[j]),
            }
            for j, name in enumerate(reg.coef_names)
        ],
        "qm": _num(reg.qm),
        "qm_df": list(reg.qm_df),
        "qm_dist": reg.qm_dist,
        "qmp": _num(reg.qmp),
        "tau2": _num(reg.tau2),
        "i2": _num(reg.i2),
        "h2": _num(reg.h2),
        "r2": _num(reg.r2),
        "qe": _num(reg.qe),
        "qe_df": reg.qe_df,
        "qep": _num(reg.qep),
    }
    return out


def _subgroup_dict(sub: SubgroupAnalysis) -> dict[str, Any]:
    out: dict[str, Any] = {
        "groups": [
            {
                "group": s.group,
                "k": s.k,
                "estimate": _num(s.estimate),
                "se": _num(s.se),
                "zval": _num(s.zval),
                "pval": _num(s.pval),
                "ci_lb": _num(s.ci_lb),
                "ci_ub": _num(s.ci_ub),
                "tau2": _num(s.tau2),
                "i2": _num(s.i2),
                "qe": _num(s.qe),
                "qep": _num(s.qep),
            }
            for s in sub.separate
        ],
        "between_separate_tau2": {
            "q": _num(sub.between_separate.statistic),
            "df": sub.between_separate.df[0],
            "pval": _num(sub.between_separate.pval),
        },
        "between_common_tau2": {
            "statistic": _num(sub.common_between.statistic),
            "dist": sub.common_between.dist,
            "df": list(sub.common_between.df),
            "pval": _num(sub.common_between.pval),
            "tau2": _num(sub.common.tau2),
        },
    }
    if sub.fe_between is not None:
        out["fe_partition"] = {
            "q_total": _num(sub.fe_q_total),
            "q_within": _nums(sub.fe_q_within or ()),
            "q_between": _num(sub.fe_between.statistic),
            "pval": _num(sub.fe_between.pval),
        }
    return out


def _sensitivity_rows(res: SensitivityResult, labels: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for i, label in enumerate(labels):
        rows.append(
            {
                "study": label,
                "k": int(res.k[i]),
                "estimate": _num(res.estimate[i]),
                "se": _num(res.se[i]),
                "zval": _num(res.zval[i]),
                "pval": _num(res.pval[i]),
                "ci_lb": _num(res.ci_lb[i]),
                "ci_ub": _num(res.ci_ub[i]),
                "qe": _num(res.q[i]),
                "qep": _num(res.qp[i]),
                "tau2": _num(res.tau2[i]),
                "i2": _num(res.i2[i]),
                "h2": _num(res.h2[i]),
            }
        )
    return rows


def summary_dict(analysis: MetaAnalysis) -> dict[str, Any]:
    """A JSON-able summary of ``analysis`` (see the module docstring for the keys)."""
    fit = analysis.fit
    out = _fit_dict(fit)
    het = analysis.heterogeneity
    if het is not None:
        out.update(
            tau2_ci_lb=_num(het.tau2_lb),
            tau2_ci_ub=_num(het.tau2_ub),
            i2_ci_lb=_num(het.i2_lb),
            i2_ci_ub=_num(het.i2_ub),
            h2_ci_lb=_num(het.h2_lb),
            h2_ci_ub=_num(het.h2_ub),
        )
    pred = analysis.prediction
    if pred.pi_lb is not None and pred.pi_ub is not None:
        out.update(pi_lb=_num(pred.pi_lb[0]), pi_ub=_num(pred.pi_ub[0]))
    if analysis.egger is not None:
        out.update(egger_z=_num(analysis.egger.zval), egger_p=_num(analysis.egger.pval))
        out["egger_limit_estimate"] = _num(analysis.egger.limit_estimate)
    if analysis.egger_lm is not None:
        out.update(egger_lm_t=_num(analysis.egger_lm.zval), egger_lm_p=_num(analysis.egger_lm.pval))
    if analysis.rank is not None:
        out.update(begg_tau=_num(analysis.rank.tau), begg_p=_num(analysis.rank.pval))
    if analysis.trimfill is not None:
        tf = analysis.trimfill
        out["trimfill"] = {
            "estimator": tf.estimator,
            "side": tf.side,
            "k0": tf.k0,
            "se_k0": _num(tf.se_k0),
            "estimate": _num(tf.fit.estimate),
            "ci_lb": _num(tf.fit.ci_lb),
            "ci_ub": _num(tf.fit.ci_ub),
            "filled_yi": _nums(tf.filled_yi),
            "filled_vi": _nums(tf.filled_vi),
        }
    if analysis.metareg is not None:
        out["moderators"] = _metareg_dict(analysis.metareg)
    if analysis.subgroups is not None:
        out["subgroups"] = _subgroup_dict(analysis.subgroups)
    if analysis.leave1out is not None:
        out["leave_one_out"] = _sensitivity_rows(analysis.leave1out, analysis.labels)
    if analysis.cumul is not None:
        out["cumulative"] = _sensitivity_rows(analysis.cumul, analysis.labels)
    out["notes"] = list(analysis.notes)
    return out


# ---------------------------------------------------------------------------- text


def _f(x: float | None, digits: int = 4) -> str:
    if x is None or not math.isfinite(x):
        return "NA" if x is None or math.isnan(x) else ("Inf" if x > 0 else "-Inf")
    return f"{x:.{digits}f}"


def _p(p: float | None, digits: int = 4) -> str:
    if p is None or not math.isfinite(p):
        return "NA"
    return f"<.{'0' * (digits - 1)}1" if p < 10**-digits else f"{p:.{digits}f}"


def _p_eq(p: float | None, digits: int = 4) -> str:
    text = _p(p, digits)
    return f"p-val < {text[1:]}" if text.startswith("<") else f"p-val = {text}"


def _stars(p: float) -> str:
    if not math.isfinite(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(header[j]), *(len(r[j]) for r in rows)) for j in range(len(header))]
    lines = [
        "  ".join(
            h.rjust(w) if j else h.ljust(w)
            for j, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    for r in rows:
        lines.append(
            "  ".join(
                c.rjust(w) if j else c.ljust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return lines


def _heterogeneity_lines(fit: MetaFit | MetaRegFit, residual: bool) -> list[str]:
    what = "residual" if residual else "total"
    lines = []
    if fit.method != "FE":
        se = f" (SE = {_f(fit.se_tau2)})" if fit.se_tau2 is not None else ""
        lines += [
            f"tau^2 (estimated amount of {what} heterogeneity): {_f(fit.tau2)}{se}",
            f"tau (square root of estimated tau^2 value):      {_f(math.sqrt(fit.tau2))}",
        ]
    lines += [
        f"I^2 ({what} heterogeneity / {'unaccounted' if residual else 'total'} variability):"
        f"   {_f(fit.i2, 2)}%",
        f"H^2 ({'unaccounted' if residual else 'total'} variability / sampling variability):"
        f"  {_f(fit.h2, 2)}",
    ]
    return lines


def _model_lines(fit: MetaFit) -> list[str]:
    stat = "tval" if fit.test == "knha" else "zval"
    header = (
        ["estimate", "se", stat]
        + (["df"] if fit.df is not None else [])
        + ["pval", "ci.lb", "ci.ub", ""]
    )
    row = [_f(fit.estimate), _f(fit.se), _f(fit.zval)]
    if fit.df is not None:
        row.append(str(fit.df))
    row += [_p(fit.pval), _f(fit.ci_lb), _f(fit.ci_ub), _stars(fit.pval)]
    return _table(header, [row])


def summary_text(analysis: MetaAnalysis) -> str:
    """A readable summary in the layout of metafor's ``print.rma`` plus the follow-up tests."""
    fit = analysis.fit
    lines: list[str] = []
    if fit.method == "FE":
        lines.append(f"Fixed-Effects Model (k = {fit.k})")
    else:
        lines.append(f"Random-Effects Model (k = {fit.k}; tau^2 estimator: {fit.method})")
    lines.append("")
    lines += _heterogeneity_lines(fit, residual=False)
    lines += [
        "",
        "Test for Heterogeneity:",
        f"Q(df = {fit.qe_df}) = {_f(fit.qe)}, {_p_eq(fit.qep)}",
    ]
    lines += [
        "",
        f"Model Results ({'Knapp-Hartung t test' if fit.test == 'knha' else 'z test'}, "
        f"{fit.level:g}% CI):",
        "",
    ]
    lines += _model_lines(fit)
    het = analysis.heterogeneity
    if het is not None:
        lines += ["", f"Heterogeneity {het.level:g}% CIs (Q-profile):", ""]
        lines += _table(
            ["", "estimate", "ci.lb", "ci.ub"],
            [
                [
                    "tau^2",
                    _f(het.tau2),
                    het.lb_sign + _f(het.tau2_lb),
                    het.ub_sign + _f(het.tau2_ub),
                ],
                ["tau", _f(het.tau), _f(het.tau_lb), _f(het.tau_ub)],
                ["I^2(%)", _f(het.i2), _f(het.i2_lb), _f(het.i2_ub)],
                ["H^2", _f(het.h2), _f(het.h2_lb), _f(het.h2_ub)],
            ],
        )
    pred = analysis.prediction
    if pred.pi_lb is not None and pred.pi_ub is not None:
        lines += [
            "",
            f"Prediction interval ({fit.level:g}%): [{_f(float(pred.pi_lb[0]))}, "
            f"{_f(float(pred.pi_ub[0]))}]",
        ]
    if analysis.egger is not None:
        e = analysis.egger
        stat = "t" if e.dist == "t" else "z"
        df = f", df = {e.df}" if e.df is not None else ""
        lines += [
            "",
            "Regression Test for Funnel Plot Asymmetry (Egger; mixed-effects model, "
            "predictor: SE):",
            f"  {stat} = {_f(e.zval)}{df}, p = {_p(e.pval)}; limit estimate (SE -> 0): "
            f"{_f(e.limit_estimate)} (CI: {_f(e.limit_ci_lb)}, {_f(e.limit_ci_ub)})",
        ]
    if analysis.rank is not None:
        r = analysis.rank
        if math.isnan(r.tau):
            detail = "  Kendall's tau = NA (the standardised effects are all equal)"
        else:
            detail = f"  Kendall's tau = {_f(r.tau)}, p = {_p(r.pval)}" + (
                "" if r.exact else " (normal approximation)"
            )
        lines += ["", "Rank Correlation Test for Funnel Plot Asymmetry (Begg):", detail]
    if analysis.trimfill is not None:
        tf = analysis.trimfill
        lines += [
            "",
            f"Trim-and-fill ({tf.estimator}): estimated number of missing studies on the "
            f"{tf.side} side: {tf.k0} (SE = {_f(tf.se_k0)})",
        ]
        if tf.k0 > 0:
            g = tf.fit
            lines.append(
                f"  Adjusted estimate (k = {g.k}): {_f(g.estimate)} "
                f"(CI: {_f(g.ci_lb)}, {_f(g.ci_ub)}), {_p_eq(g.pval)}"
            )
    if analysis.metareg is not None:
        lines += ["", *_metareg_lines(analysis.metareg)]
    if analysis.subgroups is not None:
        lines += ["", *_subgroup_lines(analysis.subgroups)]
    if analysis.leave1out is not None:
        lines += ["", "Leave-one-out analysis:", ""]
        lines += _sensitivity_table(analysis.leave1out, analysis.labels)
    if analysis.cumul is not None:
        lines += ["", "Cumulative analysis:", ""]
        lines += _sensitivity_table(analysis.cumul, analysis.labels)
    if analysis.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in analysis.notes]
    lines += ["", "---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
    return "\n".join(lines) + "\n"


def _metareg_lines(reg: MetaRegFit) -> list[str]:
    kind = "Meta-Regression, common-effect" if reg.method == "FE" else "Mixed-Effects Model"
    est = "" if reg.method == "FE" else f"; tau^2 estimator: {reg.method}"
    lines = [f"{kind} (k = {reg.k}{est})", ""]
    lines += _heterogeneity_lines(reg, residual=True)
    if reg.r2 is not None:
        lines.append(f"R^2 (amount of heterogeneity accounted for):            {_f(reg.r2, 2)}%")
    lines += [
        "",
        "Test for Residual Heterogeneity:",
        f"QE(df = {reg.qe_df}) = {_f(reg.qe)}, {_p_eq(reg.qep)}",
        "",
    ]
    coefs = ", ".join(str(j + 1) for j in reg.btt)
    if reg.qm_dist == "F":
        lines.append(f"Test of Moderators (coefficients {coefs}):")
        lines.append(
            f"F(df1 = {reg.qm_df[0]}, df2 = {reg.qm_df[1]}) = {_f(reg.qm)}, {_p_eq(reg.qmp)}"
        )
    else:
        lines.append(f"Test of Moderators (coefficients {coefs}):")
        lines.append(f"QM(df = {reg.qm_df[0]}) = {_f(reg.qm)}, {_p_eq(reg.qmp)}")
    stat = "tval" if reg.test == "knha" else "zval"
    rows = [
        [name, _f(reg.b[j]), _f(reg.se[j]), _f(reg.zval[j]), _p(reg.pval[j]), _f(reg.ci_lb[j]),
         _f(reg.ci_ub[j]), _stars(float(reg.pval[j]))]
        for j, name in enumerate(reg.coef_names)
    ]  # fmt: skip
    lines += ["", *_table(["", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", ""], rows)]
    return lines


def _subgroup_lines(sub: SubgroupAnalysis) -> list[str]:
    lines = ["Subgroup analysis (separate tau^2 per subgroup):", ""]
    rows = [
        [s.group, str(s.k), _f(s.estimate), _f(s.se), _p(s.pval), _f(s.ci_lb), _f(s.ci_ub),
         _f(s.tau2), _f(s.i2, 2)]
        for s in sub.separate
    ]  # fmt: skip
    lines += _table(
        ["group", "k", "estimate", "se", "pval", "ci.lb", "ci.ub", "tau^2", "I^2"], rows
    )
    b = sub.between_separate
    lines += [
        "",
        f"Test for subgroup differences (separate tau^2): Q(df = {b.df[0]}) = "
        f"{_f(b.statistic)}, {_p_eq(b.pval)}",
    ]
    c = sub.common_between
    if c.dist == "F":
        lines.append(
            f"Test for subgroup differences (common tau^2 = {_f(sub.common.tau2)}): "
            f"F(df1 = {c.df[0]}, df2 = {c.df[1]}) = {_f(c.statistic)}, {_p_eq(c.pval)}"
        )
    else:
        lines.append(
            f"Test for subgroup differences (common tau^2 = {_f(sub.common.tau2)}): "
            f"QM(df = {c.df[0]}) = {_f(c.statistic)}, {_p_eq(c.pval)}"
        )
    if sub.fe_between is not None:
        lines.append(
            f"Q partition (FE): total {_f(sub.fe_q_total)} = within "
            f"{_f(sum(sub.fe_q_within or ()))} + between {_f(sub.fe_between.statistic)}"
        )
    return lines


def _sensitivity_table(res: SensitivityResult, labels: tuple[str, ...]) -> list[str]:
    stat = "tval" if res.test == "knha" else "zval"
    rows = [
        [labels[i], _f(res.estimate[i]), _f(res.se[i]), _f(res.zval[i]), _p(res.pval[i]),
         _f(res.ci_lb[i]), _f(res.ci_ub[i]), _f(res.q[i]), _f(res.tau2[i]), _f(res.i2[i], 2)]
        for i in range(len(labels))
    ]  # fmt: skip
    return _table(["", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "Q", "tau^2", "I^2"], rows)
