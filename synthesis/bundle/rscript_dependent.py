"""``analysis.R`` for an analysis with several effect sizes per study (three-level model).

The script reads data.csv (``study, es_id, yi, vi, ...``) and fits metafor's
``rma.mv(yi, V, random = ~ 1 | study/es_id)`` with V = vi, or the CHE working matrix
``vcalc(vi, cluster = study, obs = es_id, rho = rho)``; cluster-robust inference is
``robust(fit, cluster = study)`` (CR1) or ``robust(fit, cluster = study, clubSandwich = TRUE)``
(CR2). Numbers are printed on ``EVIDENT <name> <key> <value>`` lines as in
:mod:`synthesis.bundle.rscript`: ``main`` (with ``sigma2.1``, ``sigma2.2``, their profile CIs
``sigma2_ci_lb.<j>``/``sigma2_ci_ub.<j>`` and the ``robust_*`` keys), ``study.<i>`` (weights) and
``leave1out.<i>`` (one per study, in the order of first appearance).

metafor's default optimiser stops a few 1e-6 short of the optimum where the likelihood is flat,
so the fit is polished with ``nlm`` from the default fit's estimates (as
tests/fixtures/metafor/make_multilevel.R does); confint() then uses uniroot tol 1e-10.
"""

from __future__ import annotations

from typing import Any

from .export import csv_columns
from .rscript import _num_literal, _section, comment, r_str

HEADER = """\
# {title}
#
# Reproduces every number of this analysis's results page with R's metafor package.
# Run it in the folder that holds data.csv:   Rscript analysis.R
# Needs metafor (written against 3.8-1){club}.
#
# Computed by Evident's engine ({engine}).
# Several effect sizes per study: data.csv has one row per effect size: study (the cluster),
# es_id (the effect size within its study), yi, vi and rob.
# Besides metafor's printed output, every number is printed once more on a line
#   EVIDENT <analysis> <key> <value>
# (15 significant digits) so that a program can compare them with results.json.
# Measure: {measure}{transform}

suppressPackageStartupMessages(library(metafor))
{club_library}options(width = 120)

# ---- The data --------------------------------------------------------------------------
col_classes <- c(
{classes}
)
d <- read.csv("data.csv", stringsAsFactors = FALSE, check.names = FALSE, na.strings = "",
              encoding = "UTF-8", colClasses = col_classes)
stopifnot(nrow(d) == {k})

# ---- The model -------------------------------------------------------------------------
method <- {method}   # "REML" or "ML"
test <- {test}       # "z", or "t" (t test with k - p degrees of freedom)
level <- {level}     # confidence level in percent
rho <- {rho}         # within-study correlation of the CHE working matrix (NULL: V = vi)

# metafor's default optimiser (nlminb) stops up to a few 1e-6 short of the optimum where the
# likelihood is flat; the fit is polished with nlm from the default fit's estimates.
polish <- list(optimizer = "nlm", gradtol = 1e-12, steptol = 1e-14, iterlim = 1000)
fit_ml <- function(data) {{
  V <- if (is.null(rho)) data$vi else vcalc(vi, cluster = study, obs = es_id, rho = rho,
                                             data = data)
  one <- function(control) rma.mv(yi, V, random = ~ 1 | study/es_id, data = data,
                                  method = method, test = test, level = level,
                                  control = control, slab = study)
  res0 <- one(list())
  res <- tryCatch(one(c(polish, list(sigma2.init = pmax(res0$sigma2, 1e-10)))),
                  error = function(e) NULL)
  if (is.null(res) || logLik(res) < logLik(res0) - 1e-10) res <- res0
  res
}}

evident <- function(name, key, value) {{
  value <- if (is.null(value) || length(value) == 0 || is.na(value[1])) "NA"
           else format(value[[1]], digits = 15)
  cat(paste("EVIDENT", name, key, value), "\\n", sep = "")
}}

# I^2 per level by metafor's FAQ formula: sigma2_l / (sum(sigma2) + typical sampling variance).
i2_levels <- function(res) {{
  W <- diag(1 / res$vi)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  vt <- (res$k - res$p) / sum(diag(P))
  c(100 * res$sigma2 / (sum(res$sigma2) + vt), 100 * sum(res$sigma2) / (sum(res$sigma2) + vt))
}}

report <- function(name, res) {{
  print(res)
  evident(name, "k", res$k)
  evident(name, "n_clusters", res$s.nlevels[1])
  evident(name, "estimate", coef(res)[[1]])
  evident(name, "se", res$se)
  evident(name, "stat", res$zval)
  evident(name, "pval", res$pval)
  evident(name, "ci_lb", res$ci.lb)
  evident(name, "ci_ub", res$ci.ub)
  evident(name, "sigma2.1", res$sigma2[1])
  evident(name, "sigma2.2", res$sigma2[2])
  i2 <- i2_levels(res)
  evident(name, "i2_levels.1", i2[1]); evident(name, "i2_levels.2", i2[2])
  evident(name, "i2", i2[3])
  evident(name, "q", res$QE)
  evident(name, "q_p", res$QEp)
  invisible(res)
}}
"""


def r_script_dependent(result: dict[str, Any]) -> str:
    """analysis.R of a three-level ``result`` (from :func:`synthesis.bundle.run`)."""
    spec = result["spec"]
    dep = spec["dependent"]
    rows = result["rows"]
    columns = csv_columns(result)
    classes = ["numeric" if c in ("yi", "vi") else "character" for c in columns]
    robust = dep["robust"]
    transform = "  (log scale: exponentiate estimates and bounds to report them)"
    lines = HEADER.format(
        title=f"Evident analysis: {comment(spec['name'])}",
        engine=result.get("engine", ""),
        club=" and clubSandwich (apt-get install r-cran-clubsandwich)" if robust == "cr2" else "",
        club_library="suppressPackageStartupMessages(library(clubSandwich))\n"
        if robust == "cr2"
        else "",
        measure=comment(spec["measure"] or "as given"),
        transform=transform if result.get("transform") == "exp" else "",
        classes=",\n".join(
            f"  {r_str(c)} = {r_str(k)}" for c, k in zip(columns, classes, strict=True)
        ),
        k=len(rows),
        method=r_str(spec["method"]),
        test=r_str("t" if spec["test"] == "knha" else "z"),
        level=_num_literal(spec["level"]),
        rho="NULL" if dep["rho"] is None else repr(float(dep["rho"])),
    ).splitlines()
    lines += _section("1. Main analysis: the three-level model (effect sizes within studies)")
    lines += [
        "res_main <- fit_ml(d)",
        'report("main", res_main)',
        "# The prediction interval (sigma2 of both levels added to the SE).",
        "pr <- predict(res_main)",
        "print(pr)",
        'evident("main", "pi_lb", pr$pi.lb); evident("main", "pi_ub", pr$pi.ub)',
        "# Profile-likelihood CIs of the two variance components.",
        "for (j in 1:2) {",
        "  ci <- confint(res_main, sigma2 = j, control = list(tol = 1e-10))",
        "  print(ci)",
        '  evident("main", paste0("sigma2_ci_lb.", j), ci$random[1, 2])',
        '  evident("main", paste0("sigma2_ci_ub.", j), ci$random[1, 3])',
        "}",
        "# Each effect size's weight in percent (metafor's weights(): diagonal of W).",
        "w <- weights(res_main)",
        'for (i in seq_along(w)) evident(paste0("study.", i), "weight", w[[i]])',
    ]
    if robust:
        lines += _section(f"2. Cluster-robust inference ({robust.upper()}), clustered by study")
        if robust == "cr2":
            lines.append("# CR2 with Satterthwaite degrees of freedom, through clubSandwich.")
            call = "robust(res_main, cluster = study, clubSandwich = TRUE)"
        else:
            lines.append("# CR1 (metafor's default small-sample factor), df = clusters - 1.")
            call = "robust(res_main, cluster = study)"
        lines += [
            f"rob <- {call}",
            "print(rob)",
            'evident("main", "robust_se", rob$se); evident("main", "robust_stat", rob$zval)',
            'evident("main", "robust_df", rob$dfs[1]); evident("main", "robust_pval", rob$pval)',
            'evident("main", "robust_ci_lb", rob$ci.lb)',
            'evident("main", "robust_ci_ub", rob$ci.ub)',
        ]
    if result.get("leave_one_out"):
        lines += _section("3. Leave one study out: every effect size of each study in turn")
        lines += [
            "studies <- unique(d$study)",
            "for (i in seq_along(studies)) {",
            '  n <- paste0("leave1out.", i)',
            "  r <- tryCatch(fit_ml(d[d$study != studies[i], , drop = FALSE]),",
            "                error = function(e) NULL)",
            '  if (is.null(r)) { cat(studies[i], ": refit failed\\n"); next }',
            '  evident(n, "estimate", coef(r)[[1]]); evident(n, "se", r$se)',
            '  evident(n, "ci_lb", r$ci.lb); evident(n, "ci_ub", r$ci.ub)',
            '  evident(n, "pval", r$pval); evident(n, "q", r$QE)',
            "}",
        ]
    lines += ["", 'cat("Done.\\n")', ""]
    return "\n".join(lines)
