"""``analysis.R``: a metafor script that reads data.csv and prints every number of the results.

The script is written for people first (comments say what each block reproduces), and for
tests: besides R's own ``print()`` output, each number is printed once more on a line
``EVIDENT <name> <key> <value>`` with 15 significant digits, where ``<name>`` is ``main``,
``subgroup.<i>``, ``subgroup_test``, ``sensitivity.<i>`` (1-based, the order of the results'
lists), ``leave1out.<i>``, ``study.<i>``, ``egger``, ``rank``, ``trimfill`` or ``metareg``, and
``<key>`` is the results dict's key (``estimate``, ``ci_lb``, ``tau2``, ``i2``, ``pi_lb``...).
No JSON package is assumed in R.

The script is pure ASCII: labels and values are written as R string escapes (``"\\u{e9}"``), so
it runs in any locale; data.csv is read as UTF-8. metafor converges tau^2 to 1e-12 here
(``control``), as the engine does, instead of its default 1e-5, so the numbers agree to far
better than 1e-6; the Q-profile CI is solved to 1e-13 for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .compute import (
    WITHOUT_HIGH_ROB,
    column_kind,
    is_number,
    moderator_kinds,
    subgroup_levels,
    text,
)
from .export import csv_columns


def r_str(value: str) -> str:
    """An R string literal of ``value`` in ASCII (escapes for quotes, control and non-ASCII)."""
    out = ['"']
    for ch in value:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 32 or o == 127 or o > 126:
            out.append(f"\\u{{{o:x}}}" if o <= 0xFFFF else f"\\U{{{o:x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def r_vec(values: Sequence[str]) -> str:
    return "c(" + ", ".join(r_str(v) for v in values) + ")"


def comment(value: str) -> str:
    """Text safe in an R comment: one line, ASCII."""
    flat = " ".join(str(value).split())
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in flat)


def _num_literal(value: Any) -> str:
    return repr(float(value)) if not isinstance(value, int) else str(value)


HEADER = """\
# {title}
#
# Reproduces every number of this analysis's results page with R's metafor package.
# Run it in the folder that holds data.csv:   Rscript analysis.R
# Needs metafor (written against 3.8-1; Debian/Ubuntu: apt-get install r-cran-metafor).
#
# Computed by Evident's engine ({engine}).
# data.csv has one row per study of the main analysis: study, yi, vi, the analysis's
# variables and rob (the risk-of-bias judgement).
# Besides metafor's printed output, every number is printed once more on a line
#   EVIDENT <analysis> <key> <value>
# (15 significant digits) so that a program can compare them with results.json.
# Measure: {measure}{transform}

suppressPackageStartupMessages(library(metafor))
options(width = 120)

# ---- The data --------------------------------------------------------------------------
# Empty cells are missing values (na.strings = ""); every column but yi and vi is read as
# text, exactly as written, and turned into numbers where the analysis uses numbers.
col_classes <- c(
{classes}
)
d <- read.csv("data.csv", stringsAsFactors = FALSE, check.names = FALSE, na.strings = "",
              encoding = "UTF-8", colClasses = col_classes)
stopifnot(nrow(d) == {k})

# ---- The model -------------------------------------------------------------------------
method <- {method}   # tau^2 estimator ("FE" = common-effect model)
test <- {test}       # "z", or "knha" for the Knapp-Hartung t test
level <- {level}     # confidence level in percent
# tau^2 converged to 1e-12 (metafor's default stops at 1e-5); the engine converges fully.
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
ci_ctrl <- list(tol = 1e-13)   # the Q-profile CI of tau^2 solved to 1e-13 likewise
# On some data sets Fisher scoring (ML, REML, EB) jumps between two values and stops without
# converging; such a fit is done again with half steps (stepadj), which reach the same root.
ctrl_half <- c(ctrl, list(stepadj = 0.5))
converged <- function(fitter) tryCatch(fitter(ctrl), error = function(e) fitter(ctrl_half))

fit_with <- function(data, control) {{
  rma(yi, vi, data = data, method = method, test = test, level = level, control = control,
      slab = study)
}}
fit <- function(data) converged(function(control) fit_with(data, control))

evident <- function(name, key, value) {{
  value <- if (is.null(value) || length(value) == 0 || is.na(value[1])) "NA"
           else format(value[[1]], digits = 15)
  cat(paste("EVIDENT", name, key, value), "\\n", sep = "")
}}

# Prints a model and its EVIDENT lines: estimate, CI, tau^2 with its Q-profile CI, I^2 with
# its CI, H^2, Q, and the prediction interval (equal to the CI for a common-effect model).
report <- function(name, res) {{
  print(res)
  pr <- predict(res)
  print(pr)
  evident(name, "k", res$k)
  evident(name, "estimate", coef(res)[[1]])
  evident(name, "se", res$se)
  evident(name, "stat", res$zval)
  evident(name, "pval", res$pval)
  evident(name, "ci_lb", res$ci.lb)
  evident(name, "ci_ub", res$ci.ub)
  evident(name, "tau2", res$tau2)
  evident(name, "i2", res$I2)
  evident(name, "h2", res$H2)
  evident(name, "q", res$QE)
  evident(name, "q_df", res$k - 1)
  evident(name, "q_p", res$QEp)
  if (is.null(pr$pi.lb)) {{
    evident(name, "pi_lb", pr$ci.lb)
    evident(name, "pi_ub", pr$ci.ub)
  }} else {{
    evident(name, "pi_lb", pr$pi.lb)
    evident(name, "pi_ub", pr$pi.ub)
  }}
  if (res$method != "FE" && res$k > 1) {{
    ci <- confint(res, control = ci_ctrl)
    print(ci)
    evident(name, "tau2_ci_lb", ci$random["tau^2", "ci.lb"])
    evident(name, "tau2_ci_ub", ci$random["tau^2", "ci.ub"])
    evident(name, "i2_ci_lb", ci$random["I^2(%)", "ci.lb"])
    evident(name, "i2_ci_ub", ci$random["I^2(%)", "ci.ub"])
  }}
  invisible(res)
}}

# Runs one block; an analysis that cannot be done prints why instead of stopping the script.
attempt <- function(what, expr) {{
  tryCatch(expr, error = function(e) cat(what, "not computed:", conditionMessage(e), "\\n"))
}}
"""


def _section(title: str) -> list[str]:
    return ["", f"# ---- {comment(title)} " + "-" * max(3, 84 - len(comment(title)))]


OP_WORDS = {"eq": "=", "ne": "!=", "in": "is one of", "lt": "<", "gt": ">"}


def _shown(value: Any) -> str:
    return ", ".join(text(v) for v in value) if isinstance(value, list) else text(value)


def _filter_lines(f: dict[str, Any], rows: Sequence[dict[str, Any]]) -> list[str]:
    field, op, value = f["field"], f["op"], f["value"]
    values = value if op == "in" else [value]
    numeric = column_kind(rows, field) == "numeric" and all(is_number(x) for x in values)
    if numeric:
        lines = [f"x <- suppressWarnings(as.numeric(d[[{r_str(field)}]]))"]
        targets = "c(" + ", ".join(repr(float(x)) for x in values) + ")"
    else:
        lines = [f"x <- as.character(d[[{r_str(field)}]])"]
        targets = r_vec([text(x) for x in values])
    cond = {
        "eq": f"x %in% {targets}",
        "in": f"x %in% {targets}",
        "ne": f"!(x %in% {targets})",
        "lt": f"x < {targets.removeprefix('c(').removesuffix(')')}",
        "gt": f"x > {targets.removeprefix('c(').removesuffix(')')}",
    }[op]
    lines.append(f"drop <- !is.na(x) & {cond}")
    return lines


def r_script(result: dict[str, Any]) -> str:
    """analysis.R for ``result`` (from :func:`synthesis.bundle.run`)."""
    spec = result["spec"]
    if spec.get("dependent"):
        from .rscript_dependent import r_script_dependent

        return r_script_dependent(result)
    rows = result["rows"]
    columns = csv_columns(result)
    classes = ["numeric" if c in ("yi", "vi") else "character" for c in columns]
    transform = "  (log scale: exponentiate estimates and bounds to report them)"
    lines = HEADER.format(
        title=f"Evident analysis: {comment(spec['name'])}",
        engine=result.get("engine", ""),
        measure=comment(spec["measure"] or "as given"),
        transform=transform if result.get("transform") == "exp" else "",
        classes=",\n".join(
            f"  {r_str(c)} = {r_str(k)}" for c, k in zip(columns, classes, strict=True)
        ),
        k=len(rows),
        method=r_str(spec["method"]),
        test=r_str(spec["test"]),
        level=_num_literal(spec["level"]),
    ).splitlines()

    lines += _section("1. Main analysis: every study in data.csv")
    lines += [
        "res_main <- fit(d)",
        'report("main", res_main)',
        "# Each study's weight in the main model, in percent (the forest plot's column).",
        "w <- weights(res_main)",
        'for (i in seq_along(w)) evident(paste0("study.", i), "weight", w[[i]])',
    ]

    var = spec["subgroup"]
    if var is not None:
        levels = subgroup_levels(rows, var)
        lines += _section(f"2. Subgroups by {var}")
        lines += [
            "# One model per subgroup (its own tau^2); a study without a value is in none.",
            "# A subgroup of one study is metafor's k = 1 fit: its own estimate, tau^2 = 0.",
            f"g <- as.character(d[[{r_str(var)}]])",
            f"subgroup_levels <- {r_vec(levels)}",
            "sg_est <- c(); sg_se <- c()",
        ]
        for i, level in enumerate(levels, start=1):
            lines += [
                f"# Subgroup {i}: {comment(var)} = {comment(level)}",
                f"res_sg <- fit(d[g %in% subgroup_levels[{i}], , drop = FALSE])",
                f'report("subgroup.{i}", res_sg)',
                "sg_est <- c(sg_est, coef(res_sg)[[1]]); sg_se <- c(sg_se, res_sg$se)",
            ]
        if len(levels) >= 2 and result.get("subgroup_test") is None:
            lines += [
                "# The test of subgroup differences is undefined for these data (the notes of",
                "# results.json say why).",
                'cat("Test of subgroup differences: not computed (see results.json notes).\\n")',
            ]
        elif len(levels) >= 2:
            lines += [
                "# Test of subgroup differences: the omnibus test (QM; F under Knapp-Hartung) of",
                "# the subgroup factor in one meta-regression with a common tau^2.",
                'attempt("The test of subgroup differences", {',
                "  d_sg <- d[!is.na(g), , drop = FALSE]",
                "  evident_group <- factor(g[!is.na(g)], levels = subgroup_levels)",
                "  res_sgt <- converged(function(control) {",
                "    rma(yi, vi, mods = ~ evident_group, data = d_sg, method = method,",
                "        test = test, level = level, control = control)",
                "  })",
                "  print(res_sgt)",
                '  evident("subgroup_test", "qm", res_sgt$QM)',
                '  evident("subgroup_test", "df", res_sgt$QMdf[1])',
                '  evident("subgroup_test", "df2", res_sgt$QMdf[2])',
                '  evident("subgroup_test", "pval", res_sgt$QMp)',
                '  evident("subgroup_test", "tau2", res_sgt$tau2)',
                "  # With a separate tau^2 per subgroup: Q of a common-effect model of the",
                "  # subgroup estimates (Q-between).",
                '  res_between <- rma(sg_est, sei = sg_se, method = "FE")',
                '  cat("Q-between (separate tau^2):", res_between$QE, "p =", res_between$QEp,',
                '      "\\n")',
                '  evident("subgroup_test", "separate_q", res_between$QE)',
                '  evident("subgroup_test", "separate_pval", res_between$QEp)',
                "})",
            ]

    sensitivity = result.get("sensitivity") or []
    if sensitivity:
        lines += _section("3. Sensitivity analyses")
    filters = {f["name"]: f for f in spec["sensitivity"]["filters"]}
    for i, entry in enumerate(sensitivity, start=1):
        name = f"sensitivity.{i}"
        if entry["kind"] == "without_high_rob":
            lines += [
                f"# Sensitivity {i}: {WITHOUT_HIGH_ROB}: drop the studies whose judgement counts",
                "# as high risk; studies without a judgement (empty rob) stay in.",
                f"high_rob <- {r_vec(spec['high_rob'])}",
                "drop <- d$rob %in% high_rob",
            ]
        else:
            f = filters[entry["subset"]]
            lines += [
                f"# Sensitivity {i}: {comment(f['name'])}: drop the studies whose "
                f"{comment(f['field'])} {OP_WORDS[f['op']]} {comment(_shown(f['value']))}",
                "# (a study without a value stays in).",
            ]
            lines += _filter_lines(f, rows)
        lines += [
            'cat("Excluded:", sum(drop), "studies\\n")',
            "if (sum(!drop) >= 2) {",
            f'  report("{name}", fit(d[!drop, , drop = FALSE]))',
            "} else {",
            '  cat("Fewer than two studies remain: nothing to pool.\\n")',
            "}",
        ]

    if spec["sensitivity"]["leave_one_out"]:
        lines += _section("4. Leave-one-out: the main model refitted without each study in turn")
        lines += [
            "l1o <- leave1out(res_main)",
            "# A refit that did not converge is NA: then all refits again with half steps.",
            "if (anyNA(l1o$estimate)) l1o <- leave1out(fit_with(d, ctrl_half))",
            "print(l1o)",
            "for (i in seq_along(l1o$estimate)) {",
            '  n <- paste0("leave1out.", i)',
            '  evident(n, "estimate", l1o$estimate[i]); evident(n, "se", l1o$se[i])',
            '  evident(n, "pval", l1o$pval[i])',
            '  evident(n, "ci_lb", l1o$ci.lb[i]); evident(n, "ci_ub", l1o$ci.ub[i])',
            "  # (a common-effect model has no tau^2: 0, as on the results page)",
            '  evident(n, "tau2", if (is.null(l1o$tau2)) 0 else l1o$tau2[i])',
            '  evident(n, "i2", l1o$I2[i])',
            '  evident(n, "q", l1o$Q[i]); evident(n, "qp", l1o$Qp[i])',
            "}",
        ]

    moderators = spec["moderators"]
    if moderators and result.get("metareg") is not None:
        kinds = moderator_kinds(
            [r for r in rows if all(r.get(m) is not None for m in moderators)], moderators
        )
        lines += _section("5. Meta-regression")
        lines += [
            "# The studies with every moderator; numbers as they are, text as a factor whose",
            "# first level (sorted) is the reference. The moderators get neutral names",
            "# (evident_mod1, ...) so that any column name works.",
            "has_all <- " + " & ".join(f"!is.na(d[[{r_str(m)}]])" for m in moderators),
            "d_mr <- d[has_all, , drop = FALSE]",
        ]
        terms = []
        for j, m in enumerate(moderators, start=1):
            kind = kinds[m]
            if kind["kind"] == "numeric":
                lines.append(f"evident_mod{j} <- as.numeric(d_mr[[{r_str(m)}]])  # {comment(m)}")
            else:
                lines.append(
                    f"evident_mod{j} <- factor(d_mr[[{r_str(m)}]], levels = "
                    f"{r_vec(kind['levels'])})  # {comment(m)}"
                )
            terms.append(f"evident_mod{j}")
        lines += [
            'attempt("The meta-regression", {',
            "  res_mr <- converged(function(control) {",
            f"    rma(yi, vi, mods = ~ {' + '.join(terms)}, data = d_mr, method = method,",
            "        test = test, level = level, control = control)",
            "  })",
            "  print(res_mr)",
            '  evident("metareg", "k", res_mr$k)',
            "  for (j in seq_along(coef(res_mr))) {",
            '    n <- paste0("coef.", j)',
            '    evident("metareg", paste0(n, ".estimate"), coef(res_mr)[[j]])',
            '    evident("metareg", paste0(n, ".se"), res_mr$se[j])',
            '    evident("metareg", paste0(n, ".pval"), res_mr$pval[j])',
            '    evident("metareg", paste0(n, ".ci_lb"), res_mr$ci.lb[j])',
            '    evident("metareg", paste0(n, ".ci_ub"), res_mr$ci.ub[j])',
            "  }",
            '  evident("metareg", "qm", res_mr$QM); evident("metareg", "qm_p", res_mr$QMp)',
            '  evident("metareg", "tau2", res_mr$tau2); evident("metareg", "i2", res_mr$I2)',
            '  evident("metareg", "r2", res_mr$R2)',
            '  evident("metareg", "qe", res_mr$QE); evident("metareg", "qe_p", res_mr$QEp)',
            "})",
        ]

    if spec["publication_bias"]:
        lines += _section("6. Publication bias (small-study effects) of the main model")
        lines += [
            "# Egger's regression test, metafor's default: a meta-regression on the standard error",
            "# with the main model's method and test; its intercept is the limit estimate.",
            'attempt("Egger\'s test", {',
            "  eg <- regtest(res_main)",
            "  print(eg)",
            '  evident("egger", "stat", eg$zval); evident("egger", "pval", eg$pval)',
            '  evident("egger", "limit_estimate", eg$est)',
            '  evident("egger", "limit_ci_lb", eg$ci.lb)',
            '  evident("egger", "limit_ci_ub", eg$ci.ub)',
            "})",
            "# Begg and Mazumdar's rank correlation test.",
            'attempt("Begg\'s test", {',
            "  rk <- ranktest(res_main)",
            "  print(rk)",
            '  evident("rank", "tau", rk$tau); evident("rank", "pval", rk$pval)',
            "})",
            "# Trim-and-fill (L0 estimator; the side chosen as metafor does); the filled studies",
            "# are the ones marked fill.",
            'attempt("Trim-and-fill", {',
            "  # metafor 3.8 refits without the model's control and at 95% unless told: both are",
            "  # passed on, so its numbers are the results page's.",
            "  tf <- converged(function(control) {",
            "    trimfill(res_main, control = control, level = level)",
            "  })",
            "  print(tf)",
            '  evident("trimfill", "k0", tf$k0); evident("trimfill", "side", tf$side)',
            '  evident("trimfill", "estimate", coef(tf)[[1]])',
            '  evident("trimfill", "ci_lb", tf$ci.lb); evident("trimfill", "ci_ub", tf$ci.ub)',
            "  filled <- which(tf$fill)",
            "  for (i in seq_along(filled)) {",
            '    evident(paste0("filled.", i), "yi", tf$yi[filled[i]])',
            '    evident(paste0("filled.", i), "vi", tf$vi[filled[i]])',
            "  }",
            "})",
        ]
    lines += ["", 'cat("Done.\\n")', ""]
    return "\n".join(lines)
