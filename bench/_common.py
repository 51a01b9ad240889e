"""What the benchmark scripts in bench/ share: paths, the machine line, timing, psql.

A bench runs as ``.venv/bin/python bench/xxx.py`` from the repository root, so Python puts
``bench/`` first on ``sys.path`` and ``from _common import ...`` finds this module. Importing it
puts the repository root on ``sys.path`` too, so that a bench imports the project's packages
(``identification``, ``deduplication``, ``synthesis``) from the checkout without installing it.
Nothing here imports Django or the project: a bench sets up Django itself when it needs it.
"""

from __future__ import annotations

import csv
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The data shared by every project of the workspace (real exports, labelled sets).
SHARED_DATA = ROOT.parent / "shared" / "data"
#: The local PostgreSQL server the database benches create their throwaway databases on.
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


#: The checkout's interpreter, for the child processes a bench starts.
PYTHON = ROOT / ".venv" / "bin" / "python"


def django_env(db: str, **extra: str) -> dict[str, str]:
    """The environment of a bench's Django child processes on the throwaway database ``db`` of
    :data:`LOCAL_POSTGRES`: production-like settings, DEBUG off, jobs run eagerly (no broker),
    quiet logs; ``extra`` adds or overrides variables."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{LOCAL_POSTGRES}/{db}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 60,
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


def cpu_model() -> str:
    """The CPU's model name as lscpu gives it (``platform.processor()`` is often empty)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def memory_gb() -> float | None:
    """Physical memory in GiB, or ``None`` where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (AttributeError, OSError, ValueError):
        return None


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, e.g. ``"1.2, 0.8, 0.5"``."""
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def machine(*, load: bool = True) -> str:
    """One line on the machine a figure was taken on: CPU, cores, memory, OS, Python, load.

    The load average is there because the machines the figures are taken on are shared: a
    wall time means little without it. Each bench prints the date itself, in its title line.
    """
    parts = [cpu_model(), f"{os.cpu_count()} logical CPUs"]
    memory = memory_gb()
    if memory:
        parts.append(f"{memory:.0f} GB RAM")
    parts.append(f"{platform.system()} {platform.release()} ({platform.machine()})")
    parts.append(f"Python {platform.python_version()}")
    if load:
        parts.append(f"load average {load_average()} at start")
    return ", ".join(parts)


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB (Linux gives ``ru_maxrss`` in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Timing:
    """Filled in when the ``with timed()`` block ends."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Wall time and this process's CPU time of a ``with`` block.

    The two differ when other work shares the machine (or when the block waits for another
    process, such as a database server), so the benches report both.
    """
    timing = Timing()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.seconds = time.perf_counter() - started
        timing.cpu_seconds = time.process_time() - cpu


def psql(url: str, sql: str, *, check: bool = True) -> None:
    """Run one SQL statement with psql on the database at ``url``; errors go to stderr."""
    subprocess.run(
        ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=check,
        stdout=subprocess.DEVNULL,
    )


# --- large test files made of copies of real records ------------------------------------------


def ris_records(paths: list[Path]) -> list[str]:
    """Every record of these RIS files, each ending with its ``ER  -`` line."""
    records = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff")
        for part in re.split(r"(?m)^ER  -.*\n?", text.replace("\r\n", "\n")):
            if "TY  -" in part:
                records.append(part.strip("\n") + "\nER  - \n")
    return records


def write_ris_copies(records: list[str], n: int, path: Path, tag: Callable[[int, str], str]):
    """``n`` records cycled from ``records``, each title changed by ``tag(i, title)`` so that no
    two records are identical (as in a real large search)."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(n):
            record = re.sub(
                r"(?m)^(TI|T1)  - (.*)$",
                lambda m, i=i: f"{m.group(1)}  - {tag(i, m.group(2))}",
                records[i % len(records)],
                count=1,
            )
            out.write(record + "\n")


def write_scopus_csv_copies(source: Path, n: int, path: Path, tag: Callable[[int, str], str]):
    """``n`` rows cycled from a Scopus CSV export, titles changed by ``tag(i, title)``.

    Screening exports leave out cited references (12 kB a row in the source, 2.4 GB at 200k
    rows), so the copies do too.
    """
    with source.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    title, references = header.index("Title"), header.index("References")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i in range(n):
            row = list(body[i % len(body)])
            row[title] = tag(i, row[title])
            row[references] = ""
            writer.writerow(row)


def time_blocks(func: Callable[[], object], blocks: int, inner: int) -> tuple[float, float]:
    """Median and minimum seconds per call over ``blocks`` blocks of ``inner`` calls."""
    func()  # warm-up
    per_call = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(inner):
            func()
        per_call.append((time.perf_counter() - start) / inner)
    return statistics.median(per_call), min(per_call)
