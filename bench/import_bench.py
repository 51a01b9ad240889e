"""Import benchmark: large RIS and CSV files into PostgreSQL, beside rispy's bare parse time.

Builds files of 10k, 100k and 200k records from the real exports in ../shared/data/exports
(records cycled, each title made unique), then for each file, in a fresh subprocess so that peak
memory is the file's own:

* imports it through the real import job (parse, normalise, batched inserts, one transaction)
  into a throwaway PostgreSQL database, reporting records/s and peak RSS;
* for RIS, times ``rispy.load`` on the same file (parse only, no database), the yardstick the
  issue sets: 100k RIS records imported in at most twice rispy's parse time, under 1 GB.

Usage: .venv/bin/python bench/import_bench.py [--sizes 10000,100000,200000]
       [--pg postgres://postgres@127.0.0.1:5432] [--keep-files DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "exports"
RIS_SOURCES = [
    "asreview__scopus.ris",
    "synthesisr__scopus.ris",
    "synthesisr__ebsco_ASP_ris_example.ris",
]
CSV_SOURCE = "metaknowledge__scopus_testing.csv"
BENCH_DB = "evident_import_bench"


def _ris_records(text: str) -> list[str]:
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    parts = re.split(r"(?m)^ER  -.*\n?", text)
    return [p.strip("\n") + "\nER  - \n" for p in parts if "TY  -" in p]


def build_ris(n: int, path: Path) -> None:
    pool: list[str] = []
    for name in RIS_SOURCES:
        pool.extend(_ris_records((SHARED / name).read_text(encoding="utf-8", errors="replace")))
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(n):
            record = pool[i % len(pool)]
            record = re.sub(r"(?m)^(TI|T1)  - (.*)$", rf"\1  - \2 [copy {i}]", record, count=1)
            out.write(record + "\n")


def build_csv(n: int, path: Path) -> None:
    with (SHARED / CSV_SOURCE).open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    title = header.index("Title")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i in range(n):
            row = list(body[i % len(body)])
            row[title] = f"{row[title]} [copy {i}]"
            writer.writerow(row)


# --- child processes --------------------------------------------------------------------------


def child_import(path: str, database_url: str) -> dict:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from reviews import imports, services
    from reviews.models import ImportBatch, Record

    user, _ = get_user_model().objects.get_or_create(username="bench")
    slug = f"bench-{os.getpid()}"
    review = services.review_create(user=user, title=slug, slug=slug)
    search = imports.search_create(actor=user, review=review, database="Bench")
    with open(path, "rb") as fh:
        batch = imports.batch_upload(
            actor=user, search=search, fileobj=fh, filename=Path(path).name, enqueue=False
        )
    batch = ImportBatch.objects.get(pk=batch.pk)
    start = time.perf_counter()
    with transaction.atomic():
        summary = imports.import_file(batch)
    elapsed = time.perf_counter() - start
    count = Record.objects.filter(batch=batch).count()
    return {
        "seconds": elapsed,
        "imported": summary["imported"],
        "in_db": count,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_rispy(path: str) -> dict:
    import rispy

    start = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        entries = rispy.load(fh)
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "parsed": len(entries),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def psql(pg: str, sql: str) -> None:
    subprocess.run(["psql", f"{pg}/postgres", "-q", "-c", sql], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--sizes", default="10000,100000,200000")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep-files", default="")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_import(*rest) if kind == "import" else child_rispy(*rest)
        print(json.dumps(result))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(args.keep_files or tempfile.mkdtemp(prefix="evident-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "psql",
            f"{args.pg}/postgres",
            "-q",
            "-c",
            f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)",
        ],
        check=True,
    )
    subprocess.run(
        ["psql", f"{args.pg}/postgres", "-q", "-c", f"CREATE DATABASE {BENCH_DB}"], check=True
    )
    database_url = f"{args.pg}/{BENCH_DB}"
    env = dict(
        os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings.local"
    )
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True)

    print(f"# Import benchmark, {time.strftime('%Y-%m-%d')}, {machine()}, PostgreSQL")
    print(
        f"{'file':<16}{'records':>9}{'import s':>10}{'rec/s':>9}{'peak MB':>9}"
        f"{'rispy s':>9}{'ratio':>7}{'rispy MB':>10}"
    )
    for n in sizes:
        for fmt in ("ris", "csv"):
            path = workdir / f"bench_{n}.{fmt}"
            if not path.exists():
                (build_ris if fmt == "ris" else build_csv)(n, path)
            result = run_child("import", str(path), database_url)
            assert result["imported"] == result["in_db"] == n, result
            rispy_s = rispy_mb = ratio = ""
            if fmt == "ris":
                bare = run_child("rispy", str(path))
                assert bare["parsed"] == n, bare
                rispy_s = f"{bare['seconds']:.2f}"
                rispy_mb = f"{bare['peak_rss_mb']:.0f}"
                ratio = f"{result['seconds'] / bare['seconds']:.2f}"
            print(
                f"{path.name:<16}{n:>9}{result['seconds']:>10.2f}{n / result['seconds']:>9.0f}"
                f"{result['peak_rss_mb']:>9.0f}{rispy_s:>9}{ratio:>7}{rispy_mb:>10}",
                flush=True,
            )
    subprocess.run(
        [
            "psql",
            f"{args.pg}/postgres",
            "-q",
            "-c",
            f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)",
        ],
        check=False,
    )


if __name__ == "__main__":
    main()
