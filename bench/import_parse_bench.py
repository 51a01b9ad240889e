"""Parsing speed and memory of identification.importers on large files, beside bare rispy.

Builds RIS files of 10k, 100k and 200k records from the real Scopus RIS exports in
tests/data/exports and demo_data (Scopus RIS is what rispy reads without error), and a Scopus
CSV of the same sizes from the real Scopus CSV export (without its cited-references column,
as screening exports are made); writes them under /tmp; then, for each
file, runs each parser in a fresh subprocess so that peak resident memory (ru_maxrss) belongs
to that parse alone.

    .venv/bin/python bench/import_parse_bench.py            # 10k, 100k, 200k
    .venv/bin/python bench/import_parse_bench.py 10000      # just one size

"ours" is the full import-layer parse: decoding (with a UTF-8 validation pass), format
detection, tag reading and normalisation of every field into ParsedRecord, in batches of 2000.
"rispy" is ``rispy.load`` on the same file: tag reading only, every record kept in a list.
This measures parsing only; bench/import_bench.py (Django side) adds the database inserts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    ROOT,
    machine,
    peak_rss_mb,
    ris_records,
    timed,
    write_ris_copies,
    write_scopus_csv_copies,
)

SOURCES_RIS = [
    ROOT / "tests/data/exports/synthesisr__scopus.ris",
    ROOT / "tests/data/exports/asreview__scopus.ris",
    ROOT / "demo_data/gambling_harms_5db/20221207_gambling-harms_scopus_255.ris",
]
SOURCE_CSV = ROOT / "tests/data/exports/metaknowledge__scopus_testing.csv"
OUT = Path("/tmp/evident_import_bench")
SIZES = (10_000, 100_000, 200_000)


def build_ris(count: int) -> Path:
    path = OUT / f"scopus_{count}.ris"
    if not path.exists():
        write_ris_copies(ris_records(SOURCES_RIS), count, path, lambda i, title: f"[{i}] {title}")
    return path


def build_csv(count: int) -> Path:
    path = OUT / f"scopus_{count}.csv"
    if not path.exists():
        write_scopus_csv_copies(SOURCE_CSV, count, path, lambda i, title: f"[{i}] {title}")
    return path


def run_one(parser: str, path: str) -> dict[str, float]:
    """Parse ``path`` with ``parser`` in this (fresh) process; return timing and memory."""
    if parser == "rispy":
        import rispy

        before = peak_rss_mb()
        with timed() as timing, open(path, encoding="utf-8") as handle:
            count = len(rispy.load(handle))
    else:
        from identification.importers import open_records

        before = peak_rss_mb()
        count = 0
        with timed() as timing, open(path, "rb") as handle:
            for batch in open_records(handle, filename=path).batches(2000):
                count += len(batch)
    return {
        "records": count,
        "seconds": timing.seconds,
        "records_per_s": count / timing.seconds,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": before,
    }


def measure(parser: str, path: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--one", parser, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def main(sizes: tuple[int, ...]) -> None:
    OUT.mkdir(exist_ok=True)
    print(f"# {time.strftime('%Y-%m-%d')} on {machine()}")
    print(
        "| file | records | MB | ours s | ours rec/s | ours peak RSS MB "
        "| rispy s | rispy rec/s | rispy peak RSS MB | ours/rispy time |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        for path in (build_ris(size), build_csv(size)):
            ours = measure("ours", path)
            assert ours["records"] == size, ours
            megabytes = path.stat().st_size / 1e6
            row = (
                f"| {path.name} | {size:,} | {megabytes:.0f} | {ours['seconds']:.2f} "
                f"| {ours['records_per_s']:,.0f} | {ours['peak_rss_mb']:.0f} |"
            )
            if path.suffix == ".ris":
                bare = measure("rispy", path)
                assert bare["records"] == size, bare
                row += (
                    f" {bare['seconds']:.2f} | {bare['records_per_s']:,.0f} "
                    f"| {bare['peak_rss_mb']:.0f} | {ours['seconds'] / bare['seconds']:.2f} |"
                )
            else:
                row += " - | - | - | - |"
            print(row, flush=True)
    print(f"Interpreter with imports, before parsing: ~{ours['rss_before_mb']:.0f} MB RSS.")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], sys.argv[3])))
    else:
        main(tuple(int(arg) for arg in sys.argv[1:]) or SIZES)
