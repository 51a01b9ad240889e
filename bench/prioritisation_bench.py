"""Prioritised screening beside ASReview LAB, on the same labelled files, in the same run.

    .venv/bin/python bench/prioritisation_bench.py [--seeds 5] [--asreview PATH] [--no-asreview]
        [--sets Nagtegaal_2019 Kitchenham_2010] [--timing]

For every labelled set in ``../shared/data/screening`` and every seed, our replay
(``screening.prioritisation.engine.simulate``, the code the app and ``simulate_screening``
run) and ``asreview simulate`` with its default model (ELAS u4 in ASReview 2: TF-IDF and a
linear SVM) start from the same prior records (one relevant, one irrelevant, drawn with the
seed) and every metric is computed by the same function from each tool's screening order.

ASReview pins its own scikit-learn, so it lives in its own environment, never in
requirements.txt:

    python3 -m venv /tmp/asreview-venv && /tmp/asreview-venv/bin/pip install asreview==2.2
    .venv/bin/python bench/prioritisation_bench.py --asreview /tmp/asreview-venv/bin/asreview

``--timing`` also times the engine's steps in memory (counting terms, weighing, fitting,
scoring every record) on synthetic reviews of 10,000 and 100,000 records built from the sets'
texts (``--sizes`` to choose); ``bench/prioritisation_app_bench.py`` times the app's whole
retrain, database included.

``--asreview-cache DIR`` keeps each ASReview order (per set, seed and prior records) and reuses
it in a later run; ``--asreview-only`` runs only ASReview (to fill the cache while our code is
being changed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _common import SHARED_DATA, machine

from screening.prioritisation.engine import features, model, simulate

SETS = ("Nagtegaal_2019", "Kitchenham_2010")
KEYS = ("wss95", "wss100", "recall_at_10", "recall_at_25", "rrf10", "stop_at", "seconds")


def asreview_order(exe: str, path: Path, prior: tuple[int, int], seed: int, n: int) -> np.ndarray:
    """The row numbers in the order ASReview's default model screened them (those it never
    reached, after the last relevant record, appended in file order)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sim.asreview"
        cmd = [exe, "simulate", str(path), "--prior-idx", str(prior[0]), str(prior[1]),
               "--seed", str(seed), "-o", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)
        with zipfile.ZipFile(out) as zf:
            name = next(n for n in zf.namelist() if n.endswith("results.db"))
            zf.extract(name, tmp)
        con = sqlite3.connect(Path(tmp) / name)
        rows = [r[0] for r in con.execute("SELECT record_id FROM results ORDER BY rowid")]
        con.close()
    # ASReview numbers records by row (0-based) when the file's record_id is its row + 1.
    seen = [int(r) for r in rows]
    rest = [i for i in range(n) if i not in set(seen)]
    return np.asarray(seen + rest)


def asreview_cached(
    exe: str, path: Path, prior: tuple[int, int], seed: int, n: int, cache: Path | None
) -> tuple[np.ndarray, float]:
    """:func:`asreview_order` and its wall time, kept in ``cache`` (one JSON file per set, seed
    and prior) when given, so that the slow ASReview runs can go on while our code changes and
    be reused by the next run (the file says when it was made)."""
    key = cache / f"{path.stem}_seed{seed}_prior{prior[0]}-{prior[1]}.json" if cache else None
    if key and key.exists():
        saved = json.loads(key.read_text())
        return np.asarray(saved["order"]), float(saved["seconds"])
    t = time.perf_counter()
    order = asreview_order(exe, path, prior, seed, n)
    seconds = time.perf_counter() - t
    if key:
        cache.mkdir(parents=True, exist_ok=True)
        made = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        key.write_text(json.dumps({"order": order.tolist(), "seconds": seconds, "made": made}))
    return order, seconds


def run_set(
    name: str, seeds: int, exe: str | None, *, cache: Path | None = None, ours_too: bool = True
) -> list[str]:
    path = SHARED_DATA / "screening" / f"{name}.csv"
    data = simulate.load_csv(path.read_bytes(), name=path.name)
    ids = [int(x) for x in data.record_ids]
    if ids != list(range(1, len(ids) + 1)) and exe:
        print(f"warning: {name}: record_id is not the row number + 1", file=sys.stderr)
    started = time.perf_counter()
    matrix, _ = features.featurize(data.texts())
    feat_seconds = time.perf_counter() - started
    ours, theirs = [], []
    for seed in range(seeds):
        prior = simulate.prior_rows(data.labels, seed)
        if ours_too:
            t = time.perf_counter()
            order = simulate.replay(matrix, data.labels, seed=seed, prior=prior)
            seconds = time.perf_counter() - t + feat_seconds
            ours.append(simulate.metrics(data.labels[order], seconds))
        if exe:
            order, seconds = asreview_cached(exe, path, prior, seed, len(data.labels), cache)
            theirs.append(simulate.metrics(data.labels[order], seconds))
        ours_note = f"ours {ours[-1]['wss95']}" if ours else ""
        theirs_note = f", ASReview {theirs[-1]['wss95']}" if theirs else ""
        print(f"  {name} seed {seed}: {ours_note}{theirs_note}", file=sys.stderr, flush=True)
    lines = []
    for label, runs in (("Evident", ours), ("ASReview 2.2 elas_u4", theirs)):
        if not runs:
            continue
        cells = []
        for key in KEYS:
            vals = [r[key] for r in runs if r[key] is not None]
            if not vals:
                cells.append("never")
                continue
            mean = statistics.mean(vals)
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            cells.append(f"{mean:.1f} ± {sd:.1f}")
        lines.append(f"| {name} ({len(data.labels)}, {int(data.labels.sum())} rel.) | {label} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    return lines


def timing(sizes: tuple[int, ...] = (10_000, 100_000)) -> list[str]:
    """The engine's steps, in memory, on synthetic reviews of 10,000 and 100,000 records (texts
    drawn from both sets, 10 % labelled): counting the terms of every record (the features job
    after a first import) and of 1 % more (a later import), weighing the counts into TF-IDF,
    fitting, and scoring and ranking every record. ``bench/prioritisation_app_bench.py`` times
    the whole retrain the app runs (with the database reads and writes) on PostgreSQL."""
    texts, labels = [], []
    for name in SETS:
        data = simulate.load_csv((SHARED_DATA / "screening" / f"{name}.csv").read_bytes())
        texts += data.texts()
        labels += list(data.labels)
    rng = np.random.default_rng(0)
    lines = []
    for n in sizes:
        rows = rng.integers(len(texts), size=n + n // 100)
        t_texts = [texts[i] for i in rows[:n]]
        y = np.asarray([labels[i] for i in rows[:n]])
        t0 = time.perf_counter()
        counts, vocab = features.count(t_texts)
        t1 = time.perf_counter()
        features.count([texts[i] for i in rows[n:]], list(vocab))
        t2 = time.perf_counter()
        matrix = features.weigh(counts)
        t3 = time.perf_counter()
        labelled = np.arange(n // 10)
        trained = model.train(matrix, labelled, y[labelled], terms=vocab)
        t4 = time.perf_counter()
        scores = trained.scores(matrix)
        model.rank(scores, np.arange(n // 10, n), rng=rng)
        t5 = time.perf_counter()
        lines.append(
            f"| {n:,} | {t1 - t0:.2f} | {t2 - t1:.2f} | {t3 - t2:.2f} | {t4 - t3:.2f} "
            f"| {t5 - t4:.2f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sets", nargs="*", default=list(SETS), help="none: timing only")
    parser.add_argument("--asreview", default=shutil.which("asreview"))
    parser.add_argument("--no-asreview", action="store_true")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument(
        "--asreview-cache", type=Path, help="keep ASReview's orders here and reuse them"
    )
    parser.add_argument(
        "--asreview-only", action="store_true", help="run (and cache) ASReview only"
    )
    args = parser.parse_args()
    exe = None if args.no_asreview else args.asreview
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"{args.seeds} seeds; mean ± SD; percentages except stop_at (records) and seconds")
    if not exe:
        print("(ASReview not run: pass --asreview PATH)")
    if args.sets:
        print(
            "| set | model | WSS@95 | WSS@100 | recall@10 % | recall@25 % | RRF@10 | stop at | s |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        lines = run_set(
            name, args.seeds, exe, cache=args.asreview_cache, ours_too=not args.asreview_only
        )
        for line in lines:
            print(line, flush=True)
    if args.timing:
        print("\n| records | count all s | count 1 % more s | weigh s | fit s | score and rank s |")
        print("|---|---|---|---|---|---|")
        for line in timing(tuple(args.sizes)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
