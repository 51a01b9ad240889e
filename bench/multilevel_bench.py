"""Time the three-level REML fit beside R's metafor (rma.mv), on the same data, in the same run.

    .venv/bin/python bench/multilevel_bench.py [--no-r] [--no-sparse] [--r-cap 300]
                                               [--sizes 100,1000,10000]

For k = 100, 1,000 and 10,000 effect sizes in clusters of 1 to 10 (the layout of a review with
several outcomes per study), it times ``multilevel_fit(yi, vi, cluster=...)`` (REML) and
metafor's ``rma.mv(yi, vi, random = ~ 1 | cluster/es_id)`` with its default dense k-by-k
matrices, and again with ``sparse = TRUE``. Python figures are the median (minimum) over
blocks of repeated calls (perf_counter); R figures are timed inside R (proc.time around the
fit only, so start-up and package loading are not counted), the median over a few calls. Each
R size runs in its own Rscript process under a time cap: a fit that does not finish is
reported as "did not finish in N s". The σ² estimates of both are printed, to show that the
two fits agree.

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
from synthesis.stats.multilevel import multilevel_fit

SIZES = (100, 1000, 10_000)
# (blocks, calls per block) for Python and R, per k.
PLAN_PY = {100: (20, 10), 1000: (15, 5), 10_000: (9, 1)}
PLAN_R = {100: (5, 3), 1000: (3, 1), 10_000: (1, 1)}


def make_data(k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """k effect sizes in clusters of 1-10: σ² = (0.1, 0.05), μ = 0.3, vᵢ = 4/n·U(0.8, 1.25)."""
    rng = np.random.default_rng(seed)
    sizes = []
    while sum(sizes) < k:
        sizes.append(int(rng.integers(1, 11)))
    sizes[-1] -= sum(sizes) - k
    sizes = [s for s in sizes if s > 0]
    cluster = np.repeat(np.arange(len(sizes)), sizes)
    es_id = np.concatenate([np.arange(1, s + 1) for s in sizes])
    n = rng.integers(20, 201, k)
    v = np.round(4 / n * rng.uniform(0.8, 1.25, k), 6)
    u = rng.normal(0, np.sqrt(0.1), len(sizes))[cluster]
    y = np.round(0.3 + u + rng.normal(0, np.sqrt(0.05), k) + rng.normal(0, np.sqrt(v)), 6)
    return y, v, cluster, es_id


R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
blocks <- as.integer(args[2]); inner <- as.integer(args[3]); sparse <- args[4] == "sparse"
f <- function() rma.mv(yi, vi, random = ~ 1 | cluster/es_id, data = d, sparse = sparse)
per <- numeric(blocks)
for (b in seq_len(blocks)) {
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(inner)) res <- f()
  per[b] <- (proc.time()[["elapsed"]] - t0) / inner
}
cat("time", median(per), min(per), "\n")
cat("sigma2", sprintf("%.15g", res$sigma2), "\n")
cat("version", as.character(packageVersion("metafor")), R.version$major, R.version$minor, "\n")
"""


def run_r(path: Path, k: int, sparse: bool, cap: float) -> dict[str, object]:
    """One metafor size in its own process; ``{"timeout": cap}`` if it did not finish."""
    blocks, inner = PLAN_R[k]
    script = path.parent / "bench.R"
    script.write_text(R_SCRIPT)
    mode = "sparse" if sparse else "dense"
    try:
        out = subprocess.run(
            ["Rscript", str(script), str(path), str(blocks), str(inner), mode],
            capture_output=True, text=True, check=True, timeout=cap,
        ).stdout  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"timeout": cap}
    except subprocess.CalledProcessError as exc:
        return {"error": (exc.stderr.strip().splitlines() or ["?"])[-1]}
    result: dict[str, object] = {}
    for line in out.splitlines():
        parts = line.split()
        if parts[:1] == ["time"]:
            result["time"] = (float(parts[1]), float(parts[2]))
        elif parts[:1] == ["sigma2"]:
            result["sigma2"] = (float(parts[1]), float(parts[2]))
        elif parts[:1] == ["version"]:
            result["version"] = f"metafor {parts[1]}, R {parts[2]}.{parts[3]}"
    return result


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:,.1f} s"
    ms = seconds * 1e3
    return f"{ms:,.2f} ms" if ms < 100 else f"{ms:,.0f} ms"


def r_cell(res: dict[str, object] | None) -> str:
    if res is None:
        return "-"
    if "timeout" in res:
        return f"did not finish in {res['timeout']:g} s"
    if "error" in res:
        return f"failed: {res['error']}"[:40]
    med, low = res["time"]  # type: ignore[misc]
    return f"{fmt(med)} [{fmt(low)}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-r", action="store_true", help="skip metafor")
    parser.add_argument("--no-sparse", action="store_true", help="skip metafor's sparse=TRUE")
    parser.add_argument("--r-cap", type=float, default=300.0, help="seconds per metafor size")
    parser.add_argument("--sizes", default=",".join(str(k) for k in SIZES))
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    host = machine()  # before the timing, so that the load average is the one at the start
    py: dict[int, tuple[float, float]] = {}
    py_sigma2: dict[int, tuple[float, float]] = {}
    r_dense: dict[int, dict[str, object]] = {}
    r_sparse: dict[int, dict[str, object]] = {}
    r_note = ""
    have_r = not args.no_r and shutil.which("Rscript") is not None
    if args.no_r:
        r_note = "metafor skipped (--no-r)"
    elif not have_r:
        r_note = "Rscript not found: Python figures only (apt-get install r-cran-metafor)"
    with tempfile.TemporaryDirectory(prefix="multilevel-bench-") as tmp:
        for k in sizes:
            y, v, cluster, es_id = make_data(k, seed=k)
            blocks, inner = PLAN_PY.get(k, (5, 1))
            py[k] = time_blocks(
                lambda y=y, v=v, c=cluster: multilevel_fit(y, v, cluster=c), blocks, inner
            )
            py_sigma2[k] = multilevel_fit(y, v, cluster=cluster).sigma2
            if not have_r:
                continue
            path = Path(tmp) / f"k{k}.csv"
            rows = "\n".join(
                f"{float(a)!r},{float(b)!r},{c},{e}"
                for a, b, c, e in zip(y, v, cluster, es_id, strict=True)
            )
            path.write_text("yi,vi,cluster,es_id\n" + rows + "\n")
            r_dense[k] = run_r(path, k, False, args.r_cap)
            if not args.no_sparse:
                r_sparse[k] = run_r(path, k, True, args.r_cap)
            for res in (r_dense[k], r_sparse.get(k, {})):
                if "version" in res:
                    r_note = str(res["version"])

    print(f"Three-level meta-analysis benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine: {host}")
    print(f"numpy {np.__version__}, scipy {scipy.__version__}; {r_note}")
    print("REML fit of rma.mv(yi, vi, random = ~ 1 | cluster/es_id); median [minimum] per fit.")
    print(f"metafor runs are capped at {args.r_cap:g} s per size.")
    print()
    header = (
        f"{'k':>7}{'clusters':>10}{'Python':>24}{'metafor (dense)':>30}"
        f"{'metafor sparse=TRUE':>30}{'speed-up':>11}{'speed-up sparse':>17}"
    )
    print(header)
    print("-" * len(header))
    for k in sizes:
        _, _, cluster, _ = make_data(k, seed=k)
        p_med, p_min = py[k]
        dense, sparse = r_dense.get(k), r_sparse.get(k)

        def speed(res: dict[str, object] | None, p_med: float = p_med) -> str:
            if not res:
                return "-"
            if "timeout" in res:
                return f"> {res['timeout'] / p_med:,.0f}x"
            if "time" in res:
                return f"{res['time'][0] / p_med:,.0f}x"  # type: ignore[index]
            return "-"

        print(
            f"{k:>7,}{cluster.max() + 1:>10,}{fmt(p_med) + ' [' + fmt(p_min) + ']':>24}"
            f"{r_cell(dense):>30}{r_cell(sparse):>30}{speed(dense):>11}{speed(sparse):>17}"
        )
    print()
    print("sigma2 (Python | metafor dense | metafor sparse):")
    for k in sizes:
        cells = [", ".join(f"{x:.6g}" for x in py_sigma2[k])]
        for res in (r_dense.get(k), r_sparse.get(k)):
            cells.append(", ".join(f"{x:.6g}" for x in res["sigma2"]) if res and "sigma2" in res
                         else "-")  # fmt: skip
        print(f"  k = {k:>6,}: " + " | ".join(cells))
    print()
    for k in sizes:
        dense = r_dense.get(k)
        if k >= 1000 and dense and "time" in dense:
            ratio = dense["time"][0] / py[k][0]  # type: ignore[index]
            verdict = "met" if ratio >= 10 else "MISSED"
            print(f"target >= 10x faster than metafor at k = {k:,}: {verdict} ({ratio:,.0f}x)")
        elif k >= 1000 and dense and "timeout" in dense:
            print(
                f"target >= 10x faster than metafor at k = {k:,}: met (metafor did not finish "
                f"in {dense['timeout']:g} s, Python took {fmt(py[k][0])})"
            )


if __name__ == "__main__":
    main()
