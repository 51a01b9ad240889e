"""Time an app analysis of 100 studies on the real Celery worker, and its results page, beside
metafor running the same analysis from the exported files in the same run (issue 18's Speed).

    .venv/bin/python bench/synthesis_app_bench.py [--runs 10] [--pg postgres://postgres@127.0.0.1:5432]
        [--redis redis://127.0.0.1:6379/13] [--no-r] [--concurrency 1]

What it does, in order:

* makes a throwaway PostgreSQL database (dropped and created, migrated) and starts a real
  Celery worker (``celery -A config worker``) on it, with Redis database 13 as the broker (one
  no test uses; flushed before and after), and waits until the worker answers a ping;
* makes a review with a finalised extraction snapshot of 100 studies and their finished
  risk-of-bias consensus judgements (written directly, as tests/synthesis/app_world.py does).
  The studies are synthetic, the seeded rows of bench/synthesis_bench.py (``make_rows``):
  for timing only, nothing here is evidence about any treatment;
* defines, through ``synthesis.services``, an analysis with the issue's bundle: the REML model
  with its heterogeneity CIs and prediction interval, a subgroup analysis (3 allocation
  groups), leave-one-out, without high risk of bias (read from the RoB module), a filter
  sensitivity analysis (without studies before 1980) and publication bias (funnel, Egger,
  Begg, trim-and-fill);
* submits it ``--runs`` times (after one warm-up run, shown apart) through
  ``services.analysis_run``, as the analysis page's Run button does, and times each run two
  ways: the job's own ``created_at`` to ``finished_at`` (queued to results stored, the issue's
  measure), and the wall clock from the submit call until the ``AnalysisResult`` is visible to
  this process (polled every 5 ms);
* metafor, the peer: the last result's exported ``data.csv`` and ``analysis.R`` (the files
  the results page offers), run by Rscript, ``source("analysis.R")`` timed inside R with
  ``proc.time`` over ``--runs`` runs after a warm-up (R's start-up and loading metafor not
  counted), output sunk; one run's printed estimate and tau^2 are checked against ours;
* the results page, as a signed-in member through ``django.test.Client``: the first GET of
  each figure the page shows (SVG; drawn and stored) for information, then, figures cached,
  the page and each figure, median of ``--runs`` GETs after a warm-up, beside the 300 ms target.

Django runs with ``config.settings.local`` and ``DEBUG=0`` in both this process and the worker.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import LOCAL_POSTGRES, ROOT, machine, psql
from synthesis_bench import make_rows

BENCH_DB = "evident_synthesis_app_bench"
REDIS = "redis://127.0.0.1:6379/13"
OUTCOME = "Outcome"
K = 100
JOB_TARGET = 1.0
PAGE_TARGET = 0.300
ANALYSIS = {
    "name": "Bench: 100 studies, the issue's bundle",
    "outcome": OUTCOME,
    "method": "REML",
    "test": "z",
    "level": 95,
    "subgroup": "alloc",
    "leave_one_out": True,
    "without_high_rob": True,
    "sensitivity_filters": [
        {"name": "without before 1980", "field": "year", "op": "lt", "value": 1980}
    ],
    "publication_bias": True,
}

R_WRAPPER = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
runs <- as.integer(args[1])
out <- capture.output(source("analysis.R"))  # warm-up, and the numbers to check
cat(grep("^EVIDENT main (estimate|tau2|ci_lb|ci_ub) ", out, value = TRUE), sep = "\n")
per <- numeric(runs)
for (b in seq_len(runs)) {
  sink(nullfile())
  t0 <- proc.time()[["elapsed"]]
  source("analysis.R")
  per[b] <- proc.time()[["elapsed"]] - t0
  sink()
}
cat("time", per, "\n")
cat("metafor", as.character(packageVersion("metafor")), "\n")
cat("R", R.version$major, R.version$minor, "\n")
"""


# --- the throwaway world ------------------------------------------------------------------


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def start_worker(env: dict, hostname: str, concurrency: int, log: Path) -> subprocess.Popen:
    out = log.open("w")
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--hostname",
            hostname,
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_ping(hostname: str, worker: subprocess.Popen, log: Path, timeout: float = 90):
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited ({worker.returncode}):\n{log.read_text()[-3000:]}")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return
        time.sleep(0.5)
    raise SystemExit(
        f"the worker did not answer a ping in {timeout:.0f} s:\n{log.read_text()[-3000:]}"
    )


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: the pool's children exit with it
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)  # the session this script started
            worker.wait()


def make_world(rows: list[dict]):
    """A review (its lead signed in to the pages), a finalised snapshot of ``rows`` with the
    consensus RoB judgements of their ``rob`` column, and the analysis: (lead, review, analysis)."""
    from django.contrib.auth import get_user_model

    from extraction.models import ExtractionSnapshot, Study
    from extraction.rob.models import RobAssessment, RobTool
    from reviews import services as review_services
    from reviews.protocol.sections import fingerprint
    from synthesis import services

    lead = get_user_model().objects.create_user(username="bench-lead", email="lead@example.org")
    review = review_services.review_create(
        user=lead, title="Synthesis app benchmark (synthetic data)", slug="synthesis-app-bench"
    )
    studies = []
    for row in rows:
        study = Study.objects.create(review=review, label=row["study"])
        if row["rob"]:
            RobAssessment.objects.create(
                review=review,
                study=study,
                kind=RobAssessment.Kind.CONSENSUS,
                tool=RobTool.ROB2,
                overall_proposed=row["rob"],
                overall=row["rob"],
                done=True,
            )
        studies.append(
            {
                "label": row["study"],
                "reports": [],
                "form_version": 1,
                # As extraction stores them: text, read back as numbers by the selectors.
                "values": {
                    "alloc": row["alloc"],
                    "ablat": str(row["ablat"]),
                    "year": str(row["year"]),
                },
                "effects": [
                    {
                        "row": 1,
                        "outcome": OUTCOME,
                        "timepoint": "",
                        "arm1": "Treatment",
                        "arm2": "Control",
                        "measure": "SMD",
                        "yi": row["yi"],
                        "vi": row["vi"],
                    }
                ],
            }
        )
    content = {"studies": studies, "left_out": []}
    ExtractionSnapshot.objects.create(
        review=review,
        number=1,
        content=content,
        sha256=fingerprint(content),
        studies=len(studies),
        created_by=lead,
    )
    analysis = services.analysis_create(actor=lead, review=review, data=ANALYSIS)
    return lead, review, analysis


# --- timing ----------------------------------------------------------------------------------


def run_once(lead, review, analysis) -> dict:
    """Submit one run as the page does and wait for its stored result."""
    from core.constants import JobStatus
    from synthesis import services
    from synthesis.models import AnalysisResult

    started = time.perf_counter()
    job = services.analysis_run(actor=lead, review=review, analysis=analysis)
    deadline = started + 120
    while not AnalysisResult.objects.filter(job_id=job.pk).exists():
        if time.perf_counter() > deadline:
            raise SystemExit(f"job {job.pk} gave no result in 120 s (status: {job.status})")
        job.refresh_from_db(fields=["status", "error"])
        if job.status == JobStatus.FAILED:
            raise SystemExit(f"job {job.pk} failed: {job.error}")
        time.sleep(0.005)
    visible = time.perf_counter() - started
    while True:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.005)
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"job {job.pk} ended {job.status}: {job.error}")
    result = AnalysisResult.objects.get(job_id=job.pk)
    return {
        "queued_to_stored": (job.finished_at - job.created_at).total_seconds(),
        "wait": (job.started_at - job.created_at).total_seconds(),
        "run": (job.finished_at - job.started_at).total_seconds(),
        "visible": visible,
        "compute": result.seconds,
        "worker": job.worker,
        "result": result,
    }


def run_r(result, runs: int) -> tuple[list[float] | None, str, dict[str, float]]:
    from synthesis import exports

    with tempfile.TemporaryDirectory(prefix="synthesis-app-bench-r-") as tmp:
        folder = Path(tmp)
        # The files the results page offers, under the names analysis.R reads them by.
        for fmt, name in (("data", "data.csv"), ("r", "analysis.R")):
            (folder / name).write_bytes(exports.export_bytes(result, fmt)[0])
        (folder / "bench.R").write_text(R_WRAPPER)
        proc = subprocess.run(
            ["Rscript", "bench.R", str(runs)], cwd=folder, capture_output=True, text=True
        )
    if proc.returncode != 0:
        return None, f"Rscript failed: {proc.stderr.strip()[-500:]}", {}
    times, version, r_version, numbers = None, "metafor ?", "", {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts[:1] == ["time"]:
            times = [float(p) for p in parts[1:]]
        elif parts[:1] == ["metafor"]:
            version = f"metafor {parts[1]}"
        elif parts[:1] == ["R"]:
            r_version = f"R {parts[1]}.{parts[2]}"
        elif parts[:2] == ["EVIDENT", "main"]:
            numbers[parts[2]] = float(parts[3])
    return times, f"{version}, {r_version}", numbers


def get_timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {url}: {response.status_code}")
    return seconds


def figure_urls(page: str) -> dict[str, str]:
    """The figures the results page shows: ``{kind: url}`` from its ``<img>`` tags."""
    found = {}
    for src in re.findall(r'<img src="([^"]+)"', page):
        url = html.unescape(src)
        match = re.search(r"/figures/([a-z_]+)\.svg", url)
        if match:
            found[match.group(1)] = url
    return found


def ms(seconds: float) -> str:
    value = seconds * 1e3
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def summary(values: list[float]) -> str:
    return f"{ms(statistics.median(values)):>8} {ms(min(values)):>8} {ms(max(values)):>8}"


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs (median reported)")
    parser.add_argument("--pg", default=LOCAL_POSTGRES)
    parser.add_argument("--redis", default=REDIS, help="the broker (a Redis database of its own)")
    parser.add_argument("--no-r", action="store_true", help="skip metafor")
    parser.add_argument("--concurrency", type=int, default=1, help="the worker's processes")
    args = parser.parse_args()
    runs = max(3, args.runs)

    host = machine()  # before the work, so that the load average is the one at the start
    when = datetime.now(UTC)
    tmp = Path(tempfile.mkdtemp(prefix="synthesis-app-bench-"))
    env = dict(
        os.environ,
        DATABASE_URL=f"{args.pg}/{BENCH_DB}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        CELERY_BROKER_URL=args.redis,
        CELERY_TASK_ALWAYS_EAGER="0",
        DEBUG="0",
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        MEDIA_ROOT=str(tmp / "media"),
    )
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    psql(f"{args.pg}/postgres", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    psql(f"{args.pg}/postgres", f"CREATE DATABASE {BENCH_DB}")
    redis_flush(args.redis)
    worker = None
    django_ready = False
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True
        )
        os.environ.clear()
        os.environ.update(env)
        import django

        django.setup()
        django_ready = True
        from django.test import Client
        from django.urls import reverse

        from synthesis import bundle
        from synthesis.models import AnalysisFigure

        hostname = f"synthesis-bench-{os.getpid()}@{socket.gethostname()}"
        worker = start_worker(env, hostname, args.concurrency, tmp / "worker.log")
        wait_for_ping(hostname, worker, tmp / "worker.log")

        rows = make_rows(K)
        lead, review, analysis = make_world(rows)

        # The job: one warm-up run (a cold worker process), then the timed runs.
        cold = run_once(lead, review, analysis)
        timed_runs = [run_once(lead, review, analysis) for _ in range(runs)]
        last = timed_runs[-1]["result"]
        engine = json.loads(json.dumps(bundle.run(last.inputs["spec"], last.inputs["rows"])))
        same = last.results == engine
        main_model = last.results["main"]
        shape = (
            f"k = {main_model['k']}; {len(last.results.get('subgroups') or [])} subgroups; "
            f"sensitivity: {', '.join(s['subset'] for s in last.results.get('sensitivity') or [])}"
            f" (k = {', '.join(str(s.get('k')) for s in last.results.get('sensitivity') or [])});"
            f" leave-one-out {len(last.results.get('leave_one_out') or [])}; publication bias: "
            f"{', '.join(k for k, v in (last.results.get('publication_bias') or {}).items() if v)}"
        )

        # metafor on the exported files.
        r_times, r_note, r_numbers = None, "", {}
        if args.no_r:
            r_note = "metafor skipped (--no-r)"
        elif shutil.which("Rscript") is None:
            r_note = "Rscript not found (apt-get install r-cran-metafor)"
        else:
            r_times, r_note, r_numbers = run_r(last, runs)

        # The results page, signed in as the review's lead (a member).
        client = Client()
        client.force_login(lead)
        page_url = reverse("synthesis:result", args=[review.slug, last.pk])
        first_page = get_timed(client, page_url)
        figures = figure_urls(client.get(page_url).content.decode())
        first_draw = {kind: get_timed(client, url) for kind, url in figures.items()}
        stored = AnalysisFigure.objects.filter(result=last).count()
        for url in [page_url, *figures.values()]:
            get_timed(client, url)  # warm-up
        page_times = [get_timed(client, page_url) for _ in range(runs)]
        figure_times = {k: [get_timed(client, u) for _ in range(runs)] for k, u in figures.items()}
        whole = [page_times[i] + sum(figure_times[k][i] for k in figure_times) for i in range(runs)]
    finally:
        if worker is not None:
            stop_worker(worker)
        if django_ready:
            from django.db import connections

            connections.close_all()
        psql(f"{args.pg}/postgres", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", check=False)
        redis_flush(args.redis)
        shutil.rmtree(tmp, ignore_errors=True)

    import numpy
    import scipy

    print(f"Synthesis in the app benchmark, {when:%Y-%m-%d %H:%M} UTC")
    print(f"Machine: {host}")
    print(
        f"PostgreSQL (throwaway database), Redis broker {args.redis}, a real Celery worker "
        f"(--concurrency={args.concurrency}, {timed_runs[-1]['worker']}); numpy "
        f"{numpy.__version__}, scipy {scipy.__version__}; {r_note}"
    )
    print(f"{K} synthetic studies (seeded rows of synthesis_bench.make_rows: timing only).")
    print(f"Analysis: {shape}.")
    print(
        f"Stored results equal synthesis.bundle.run on the stored inputs: {'yes' if same else 'NO'}"
    )
    if r_numbers:
        diffs = [abs(r_numbers[k] - main_model[k]) for k in r_numbers if k in main_model]
        print(
            f"metafor's main estimate {r_numbers.get('estimate', float('nan')):.6f}, ours "
            f"{main_model['estimate']:.6f}; largest difference of estimate, CI, tau^2: "
            f"{max(diffs):.1e}"
        )
    print()
    print(f"The analysis job: ms over {runs} runs after a warm-up run")
    header = f"{'':<52}{'median':>8} {'min':>8} {'max':>8}  target"
    print(header)
    print("-" * len(header))

    def line(label: str, values: list[float], target: str = "") -> None:
        print(f"{label:<52}{summary(values)}  {target}")

    queued = [r["queued_to_stored"] for r in timed_runs]
    verdict = "met" if statistics.median(queued) < JOB_TARGET else "MISSED"
    line("queued -> results stored (Job.created_at->finished_at)", queued, f"< 1 s: {verdict}")
    line("  of which waiting for the worker (-> started_at)", [r["wait"] for r in timed_runs])
    line("  of which running (started_at -> finished_at)", [r["run"] for r in timed_runs])
    line("  of which computing (bundle.run in the job)", [r["compute"] for r in timed_runs])
    line("submit -> AnalysisResult visible (wall clock)", [r["visible"] for r in timed_runs])
    if r_times:
        line("metafor: source(analysis.R) on data.csv (in R)", r_times)
    print(
        f"first run on the cold worker: {ms(cold['queued_to_stored'])} ms queued -> stored "
        f"({ms(cold['compute'])} ms computing)"
    )
    if r_times:
        print(
            f"metafor / app job (medians): "
            f"{statistics.median(r_times) / statistics.median(queued):.1f}x"
        )
    print()
    print(f"The results page, figures cached: ms per GET over {runs} GETs after a warm-up")
    print(header)
    print("-" * len(header))
    line("results page (HTML)", page_times, "< 300 ms")
    for kind, values in figure_times.items():
        line(f"  figure {kind} (svg, stored)", values)
    verdict = "met" if statistics.median(whole) < PAGE_TARGET else "MISSED"
    line("page + its figures, one after another", whole, f"< 300 ms: {verdict}")
    print(
        f"first GET of the page {ms(first_page)} ms; first draws (uncached, drawn and stored), "
        + ", ".join(f"{k} {ms(v)} ms" for k, v in first_draw.items())
        + f"; {stored} figures stored"
    )


if __name__ == "__main__":
    main()
