"""Time the meta-analysis engine beside R's metafor, on the same data, in the same run.

    .venv/bin/python bench/meta_bench.py [--no-r] [--scale 1.0]

Prints one table: REML fits at k = 10, 100, 1,000 and 10,000, and the k = 100 "bundle" (fit,
Q-profile CIs, prediction interval, Egger's regtest, Begg's ranktest, trim-and-fill,
leave-one-out). Each figure is the median (and the minimum) over blocks of repeated calls, timed
inside the process (Python's perf_counter, R's proc.time), so interpreter start-up and package
loading are not counted. metafor builds k-by-k matrices, so R is timed up to k = 1,000 only.
metafor runs with its default control (looser than ours: we converge to ~1e-14).

Without Rscript (Debian: ``apt-get install r-cran-metafor``) the Python figures are printed alone.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy
from _common import machine, time_blocks

# _common (imported first) puts the checkout on sys.path: the script runs without installation.
from synthesis.stats import (
    egger_test,
    heterogeneity_confint,
    leave_one_out,
    meta_fit,
    predict_pooled,
    rank_test,
    trim_and_fill,
)

SIZES = (10, 100, 1000, 10_000)
R_MAX_K = 1000
BUNDLE_K = 100
# (blocks, calls per block) for each workload; scaled by --scale.
PLAN_PY = {10: (30, 50), 100: (30, 30), 1000: (20, 10), 10_000: (15, 3), "bundle": (15, 3)}
PLAN_R = {10: (10, 20), 100: (10, 5), 1000: (3, 1), "bundle": (3, 1)}


def make_data(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic studies like the oracle's: vᵢ = 4/n·U(0.8, 1.25), τ² = 0.1, μ = 0.3."""
    rng = np.random.default_rng(seed)
    n = rng.integers(10, 201, k)
    v = np.round(4 / n * rng.uniform(0.8, 1.25, k), 6)
    y = np.round(rng.normal(0.3, np.sqrt(v + 0.1)), 6)
    return y, v


def bundle(y: np.ndarray, v: np.ndarray) -> None:
    fit = meta_fit(y, v, method="REML")
    heterogeneity_confint(fit)
    predict_pooled(fit)
    egger_test(fit)
    rank_test(fit)
    trim_and_fill(fit)
    leave_one_out(fit)


R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
plan <- read.csv(file.path(dir, "plan.csv"), stringsAsFactors = FALSE)
time_blocks <- function(f, blocks, inner) {
  f()
  per <- numeric(blocks)
  for (b in seq_len(blocks)) {
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_len(inner)) f()
    per[b] <- (proc.time()[["elapsed"]] - t0) / inner
  }
  c(median(per), min(per))
}
for (r in seq_len(nrow(plan))) {
  d <- read.csv(file.path(dir, plan$file[r]))
  yi <- d$yi; vi <- d$vi
  if (plan$what[r] == "fit") {
    f <- function() rma(yi, vi, method = "REML")
  } else {
    f <- function() {
      res <- rma(yi, vi, method = "REML")
      confint(res); predict(res); regtest(res); ranktest(res); trimfill(res); leave1out(res)
    }
  }
  t <- time_blocks(f, plan$blocks[r], plan$inner[r])
  cat(plan$label[r], t[1], t[2], "\n")
}
cat("metafor", as.character(packageVersion("metafor")), "\n")
cat("R", R.version$major, R.version$minor, "\n")
"""


def run_r(datasets: dict[str, Path], scale: float) -> tuple[dict[str, tuple[float, float]], str]:
    rows = ["label,what,file,blocks,inner"]
    for k in SIZES:
        if k > R_MAX_K:
            continue
        blocks, inner = PLAN_R[k]
        rows.append(f"fit{k},fit,{datasets[str(k)].name},{_scaled(blocks, scale)},{inner}")
    blocks, inner = PLAN_R["bundle"]
    rows.append(f"bundle,bundle,{datasets[str(BUNDLE_K)].name},{_scaled(blocks, scale)},{inner}")
    folder = datasets[str(BUNDLE_K)].parent
    (folder / "plan.csv").write_text("\n".join(rows) + "\n")
    script = folder / "bench.R"
    script.write_text(R_SCRIPT)
    out = subprocess.run(
        ["Rscript", str(script), str(folder)], capture_output=True, text=True, check=True
    ).stdout
    times: dict[str, tuple[float, float]] = {}
    version = "metafor ?"
    r_version = ""
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "metafor":
            version = f"metafor {parts[1]}"
        elif parts and parts[0] == "R":
            r_version = f"R {parts[1]}.{parts[2]}"
        elif len(parts) == 3:
            times[parts[0]] = (float(parts[1]), float(parts[2]))
    return times, f"{version}, {r_version}"


def _scaled(n: int, scale: float) -> int:
    return max(3, round(n * scale))


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    return f"{ms:,.2f}" if ms < 100 else f"{ms:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-r", action="store_true", help="skip metafor")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the number of blocks")
    args = parser.parse_args()

    host = machine()  # before the timing, so that the load average is the one at the start
    py: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="meta-bench-") as tmp:
        datasets: dict[str, Path] = {}
        for k in SIZES:
            y, v = make_data(k, seed=k)
            path = Path(tmp) / f"k{k}.csv"
            rows = "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in zip(y, v, strict=True))
            path.write_text("yi,vi\n" + rows + "\n")
            datasets[str(k)] = path
            blocks, inner = PLAN_PY[k]
            py[f"fit{k}"] = time_blocks(
                lambda y=y, v=v: meta_fit(y, v, method="REML"), _scaled(blocks, args.scale), inner
            )
        y, v = make_data(BUNDLE_K, seed=BUNDLE_K)
        blocks, inner = PLAN_PY["bundle"]
        py["bundle"] = time_blocks(lambda: bundle(y, v), _scaled(blocks, args.scale), inner)

        r: dict[str, tuple[float, float]] = {}
        r_note = ""
        if args.no_r:
            r_note = "metafor skipped (--no-r)"
        elif shutil.which("Rscript") is None:
            r_note = "Rscript not found: Python figures only (apt-get install r-cran-metafor)"
        else:
            try:
                r, r_note = run_r(datasets, args.scale)
            except subprocess.CalledProcessError as exc:
                r_note = f"Rscript failed: {exc.stderr.strip().splitlines()[-1:]}"

    print(f"Meta-analysis engine benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine: {host}")
    print(f"numpy {np.__version__}, scipy {scipy.__version__}; {r_note}")
    print("Times in ms per call: median over blocks (minimum in brackets).")
    print()
    header = f"{'workload':<26}{'Python':>20}{'metafor':>22}{'speed-up':>10}"
    print(header)
    print("-" * len(header))
    labels = [(f"fit{k}", f"REML fit, k = {k:,}") for k in SIZES]
    labels.append(("bundle", f"bundle, k = {BUNDLE_K}"))
    for key, label in labels:
        p_med, p_min = py[key]
        r_med, r_min = r.get(key, (None, None))
        py_cell = f"{fmt(p_med)} [{fmt(p_min)}]"
        r_cell = f"{fmt(r_med)} [{fmt(r_min)}]" if r_med is not None else "-"
        speed = f"{r_med / p_med:,.0f}x" if r_med else "-"
        print(f"{label:<26}{py_cell:>20}{r_cell:>22}{speed:>10}")
    print()
    print("bundle = fit, Q-profile CIs, prediction interval, Egger (regtest), Begg (ranktest),")
    print("trim-and-fill, leave-one-out; metafor beyond k = 1,000 is not timed (k-by-k matrices).")
    print()
    for line in verdicts(py, r):
        print(line)


def verdicts(py: dict[str, tuple[float, float]], r: dict[str, tuple[float, float]]) -> list[str]:
    """The issue's targets, checked on the medians."""

    def ok(flag: bool) -> str:
        return "met" if flag else "MISSED"

    out = [
        f"target REML k = 10,000 < 20 ms: {ok(py['fit10000'][0] < 0.020)}",
        f"target bundle k = 100 < 50 ms: {ok(py['bundle'][0] < 0.050)}",
    ]
    if "fit10" in r:
        out.append(
            f"target not slower than metafor at k = 10: {ok(py['fit10'][0] <= r['fit10'][0])}"
        )
        ratios = [r[key][0] / py[key][0] for key in ("fit100", "fit1000", "bundle") if key in r]
        out.append(f"target >= 10x faster from k = 100: {ok(min(ratios) >= 10)}")
    return out


if __name__ == "__main__":
    main()
