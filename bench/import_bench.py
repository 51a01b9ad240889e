"""Import benchmark: large RIS and CSV files into PostgreSQL, beside rispy's bare parse time.

Builds files of 10k, 100k and 200k records from the real exports in ../shared/data/exports
(records cycled, each title made unique; the CSV without its cited-references column, as
screening exports are made and as in bench/import_parse_bench.py), then for each file, in a
fresh subprocess so that peak memory is the file's own:

* imports it through the real import path (``import_file``: parse, normalise, COPY, in one
  transaction whose commit is timed too) into a throwaway PostgreSQL database, reporting
  records/s, peak RSS, and the CPU time of our process and of its PostgreSQL backend (read
  from /proc when the server runs on this machine);
* for RIS, times ``rispy.load`` on the same file (parse only, no database), the yardstick the
  issue sets: 100k RIS records imported in at most twice rispy's parse time, under 1 GB.

Uploads go to a temporary MEDIA_ROOT, and the upload limit is raised for the children (the
200k RIS file is 870 MB, over the 512 MB default). ``--repeat N`` runs each measurement N
times, interleaved, and reports medians (the machine is shared: single runs are noisy).

Usage: .venv/bin/python bench/import_bench.py [--sizes 10000,100000,200000] [--repeat 1]
       [--pg postgres://postgres@127.0.0.1:5432] [--keep-files DIR] [--formats ris,csv]
       [--processes N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    LOCAL_POSTGRES,
    ROOT,
    SHARED_DATA,
    machine,
    peak_rss_mb,
    psql,
    ris_records,
    timed,
    write_ris_copies,
    write_scopus_csv_copies,
)

SHARED = SHARED_DATA / "exports"
RIS_SOURCES = [
    "asreview__scopus.ris",
    "synthesisr__scopus.ris",
    "synthesisr__ebsco_ASP_ris_example.ris",
]
CSV_SOURCE = "metaknowledge__scopus_testing.csv"
BENCH_DB = "evident_import_bench"


def build_ris(n: int, path: Path) -> None:
    records = ris_records([SHARED / name for name in RIS_SOURCES])
    write_ris_copies(records, n, path, lambda i, title: f"{title} [copy {i}]")


def build_csv(n: int, path: Path) -> None:
    write_scopus_csv_copies(SHARED / CSV_SOURCE, n, path, lambda i, title: f"{title} [copy {i}]")


# --- child processes --------------------------------------------------------------------------


def _backend_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local PostgreSQL backend, or None if not readable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_import(path: str, database_url: str) -> dict:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from identification import import_job
    from identification import services as imports
    from identification.models import ImportBatch, Record
    from reviews import services

    user, _ = get_user_model().objects.get_or_create(username="bench")
    slug = f"bench-{os.getpid()}"
    review = services.review_create(user=user, title=slug, slug=slug)
    search = imports.search_create(actor=user, review=review, database="Bench")
    with open(path, "rb") as fh:
        batch = imports.batch_upload(
            actor=user, search=search, fileobj=fh, filename=Path(path).name, enqueue=False
        )
    batch = ImportBatch.objects.get(pk=batch.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server_before = _backend_cpu(backend)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with timed() as timing, transaction.atomic():
        summary = import_job.import_file(batch)
    server_after = _backend_cpu(backend)
    peak = peak_rss_mb()
    # The import's worker processes (if it read the file in parts) have exited by now.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    count = Record.objects.filter(batch=batch).count()
    return {
        "seconds": timing.seconds,
        "cpu_seconds": timing.cpu_seconds,
        "server_cpu_seconds": (
            server_after - server_before
            if server_before is not None and server_after is not None
            else None
        ),
        "imported": summary["imported"],
        "in_db": count,
        "peak_rss_mb": peak,
        "processes": summary["processes"],
        "workers_cpu_seconds": workers_cpu,
        "worker_peak_mb": children.ru_maxrss / 1024 if summary["processes"] > 1 else 0.0,
    }


def child_rispy(path: str) -> dict:
    import rispy

    with timed() as timing, open(path, encoding="utf-8") as fh:
        entries = rispy.load(fh)
    return {
        "seconds": timing.seconds,
        "cpu_seconds": timing.cpu_seconds,
        "parsed": len(entries),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_child(*args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(results: list[dict], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--sizes", default="10000,100000,200000")
    parser.add_argument("--formats", default="ris,csv")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pg", default=LOCAL_POSTGRES)
    parser.add_argument("--keep-files", default="")
    parser.add_argument(
        "--processes",
        default="",
        help="EVIDENT_IMPORT_PROCESSES for the imports (default: the setting's)",
    )
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_import(*rest) if kind == "import" else child_rispy(*rest)
        print(json.dumps(result))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(args.keep_files or tempfile.mkdtemp(prefix="evident-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    media = Path(tempfile.mkdtemp(prefix="evident-import-bench-media-"))
    psql(f"{args.pg}/postgres", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    psql(f"{args.pg}/postgres", f"CREATE DATABASE {BENCH_DB}")
    database_url = f"{args.pg}/{BENCH_DB}"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        MEDIA_ROOT=str(media),
        EVIDENT_MAX_UPLOAD_MB="4096",
    )
    if args.processes:
        env["EVIDENT_IMPORT_PROCESSES"] = args.processes
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True)

    print(f"# Import benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}, PostgreSQL")
    print(
        f"{'file':<17}{'records':>8}{'MB':>5}{'import s':>9}{'CPU s':>7}{'procs':>6}"
        f"{'wkr CPU':>8}{'PG CPU s':>9}{'rec/s':>7}{'peak MB':>8}{'wkr MB':>7}{'all MB':>7}"
        f"{'rispy s':>8}{'CPU s':>7}{'rispy MB':>9}{'ratio':>6}"
    )
    verdicts = []
    try:
        for n in sizes:
            for fmt in args.formats.split(","):
                path = workdir / f"bench_{n}.{fmt}"
                if not path.exists():
                    (build_ris if fmt == "ris" else build_csv)(n, path)
                ours, bare = [], []
                for _ in range(args.repeat):
                    result = run_child("import", str(path), database_url, env=env)
                    assert result["imported"] == result["in_db"] == n, result
                    ours.append(result)
                    if fmt == "ris":
                        bare.append(run_child("rispy", str(path)))
                        assert bare[-1]["parsed"] == n, bare[-1]
                    for upload in media.rglob("*"):
                        if upload.is_file():
                            upload.unlink()
                seconds = _median(ours, "seconds")
                server = _median(ours, "server_cpu_seconds")
                peak = max(r["peak_rss_mb"] for r in ours)
                processes = max(r["processes"] for r in ours)
                worker_peak = max(r["worker_peak_mb"] for r in ours)
                # Upper bound of the memory in use at once: the importing process and every
                # worker at its own peak.
                peak_all = peak + (processes * worker_peak if processes > 1 else 0)
                line = (
                    f"{path.name:<17}{n:>8}{path.stat().st_size / 1e6:>5.0f}{seconds:>9.2f}"
                    f"{_median(ours, 'cpu_seconds'):>7.2f}{processes:>6}"
                    f"{_median(ours, 'workers_cpu_seconds'):>8.2f}"
                    f"{(f'{server:.2f}' if server is not None else '-'):>9}"
                    f"{n / seconds:>7.0f}{peak:>8.0f}{worker_peak:>7.0f}{peak_all:>7.0f}"
                )
                if bare:
                    rispy_s = _median(bare, "seconds")
                    ratio = seconds / rispy_s
                    line += (
                        f"{rispy_s:>8.2f}{_median(bare, 'cpu_seconds'):>7.2f}"
                        f"{max(r['peak_rss_mb'] for r in bare):>9.0f}{ratio:>6.2f}"
                    )
                    if n == 100_000:
                        verdicts.append(
                            f"target (100k RIS <= 2x rispy, < 1 GB): ratio {ratio:.2f}, "
                            f"peak {peak_all:.0f} MB (all processes): "
                            + ("met" if ratio <= 2 and peak_all < 1024 else "NOT met")
                        )
                print(line, flush=True)
        for verdict in verdicts:
            print(verdict)
    finally:
        psql(f"{args.pg}/postgres", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", check=False)
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
