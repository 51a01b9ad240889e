"""Load test of screening (issue 6): concurrent reviewers against gunicorn and PostgreSQL.

Usage::

    .venv/bin/python bench/screening_load.py                      # 20 reviewers, 100,000 records
    .venv/bin/python bench/screening_load.py --think-ms 0         # no pause: raw capacity
    .venv/bin/python bench/screening_load.py --records 20000 --duration 30 --keep

What it does:

1. creates a throwaway PostgreSQL database (``evident_screening_bench_<pid>`` on
   127.0.0.1:5432, user ``postgres``, trust auth), migrates it and fills it with one review of
   ``--records`` records (bulk inserts; the records are synthetic but of realistic length),
   ``--reviewers`` reviewers with API tokens, two reviewers per record, blinded;
2. starts gunicorn on a free loopback port (``--workers`` sync workers, persistent database
   connections) with the production-like settings of ``config.settings.local`` and DEBUG off;
3. runs one thread per reviewer for ``--duration`` seconds. Each asks for its first record
   (``GET …/next/``) and then, after a pause drawn from an exponential distribution with mean
   ``--think-ms`` (a person reading), casts a vote with ``POST …/votes/``, whose answer carries
   the next record. The time from sending the vote to having the next record parsed is the
   figure reported (p50, p95, p99, max);
4. checks the counts in the database: every vote a client saw accepted is there once, nothing
   else is, no record has more votes or claims than it needs, and claims match assignments;
5. stops gunicorn and drops the database (unless ``--keep``).

Target (issue 6): p95 of vote-to-next-record at most 50 ms with 20 reviewers on a review of
100,000 records, zero errors, no vote lost or doubled.

One file on purpose (about 500 lines): it is a self-contained load harness. The seeding
and counting scripts it runs inside Django in child processes (``SEED``, ``CHECK``), the
gunicorn it spawns and the reviewer threads that drive it only make sense together, and a reader
follows one run from top to bottom; what it shares with the other benches (paths, the machine
line, psql) is in ``bench/_common.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import LOCAL_POSTGRES, PYTHON, ROOT, django_env, machine, psql

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PG = LOCAL_POSTGRES

WORDS = [
    "gambling",
    "harm",
    "adults",
    "cohort",
    "survey",
    "debt",
    "suicide",
    "lottery",
    "casino",
    "online",
    "betting",
    "sports",
    "problem",
    "pathological",
    "prevalence",
    "treatment",
    "intervention",
    "randomised",
    "trial",
    "anxiety",
    "depression",
    "family",
    "partner",
    "violence",
    "youth",
    "adolescents",
    "older",
    "financial",
    "stress",
    "screening",
    "measure",
    "validity",
    "outcome",
    "exposure",
    "association",
    "risk",
    "factor",
    "public",
    "health",
    "policy",
]


# --- Set-up --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SEED = r"""
import random, sys, time, hashlib
import django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record, Search
from reviews import services as rs
from reviews.constants import Role
from screening import services as ss

n_records, n_reviewers, words = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split()
rng = random.Random(6)
User = get_user_model()
lead = User.objects.create_user("lead", "lead@example.org", "bench-password")
review = rs.review_create(user=lead, title="Screening load", slug="load")
tokens = []
for i in range(n_reviewers):
    name = f"reviewer{i:02d}"
    User.objects.create_user(name, f"{name}@example.org", "bench-password")
    rs.membership_add(actor=lead, review=review, identifier=name, roles=[Role.REVIEWER])
    tokens.append(Token.objects.create(user=User.objects.get(username=name)).key)
ss.settings_update(actor=lead, review=review, reviewers_per_record=2, blinded=True,
                   include_keywords="gambl*\nharm*", exclude_keywords="animal*")
search = Search.objects.create(review=review, database="Synthetic")
digest = hashlib.sha256(b"bench").hexdigest()
batch = ImportBatch.objects.create(review=review, search=search, file=f"imports/{digest}",
    original_name="bench.ris", size=0, sha256=digest, status=BatchStatus.IMPORTED)
start = time.perf_counter()
chunk = []
for i in range(n_records):
    title = " ".join(rng.choice(words) for _ in range(12)).capitalize()
    abstract = " ".join(rng.choice(words) for _ in range(180))
    chunk.append(Record(review=review, search=search, batch=batch, title=f"{title} ({i})",
        abstract=abstract, authors=[f"Author {rng.randint(1, 5000)}, A"] * 3, year=2000 + i % 24,
        journal="Journal of Synthetic Studies", doi=f"10.5555/bench.{i}", keywords=["gambling"]))
    if len(chunk) == 5000:
        Record.objects.bulk_create(chunk)
        chunk = []
if chunk:
    Record.objects.bulk_create(chunk)
records_s = time.perf_counter() - start
start = time.perf_counter()
created = ss.screening_prepare(review=review)
prepare_s = time.perf_counter() - start
print("SEED", records_s, created, prepare_s)
print("TOKENS", " ".join(tokens))
"""

CHECK = r"""
import json, sys
import django
django.setup()
from django.db.models import Count, F
from screening.models import Assignment, ScreeningItem, Vote

accepted = {tuple(x) for x in json.load(sys.stdin)}
rows = list(Vote.objects.filter(review__slug="load").values_list("reviewer__username", "item_id"))
stored = set(rows)
items = ScreeningItem.objects.filter(review__slug="load")
over = items.annotate(n=Count("votes")).filter(n__gt=2)
claims = items.annotate(a=Count("assignments")).exclude(a=F("claims"))
voted_without_claim = Vote.objects.filter(review__slug="load").exclude(
    item__assignments__reviewer=F("reviewer")).count()
print(json.dumps({
    "votes_in_db": len(rows),
    "distinct_in_db": len(stored),
    "accepted_by_clients": len(accepted),
    "lost": len(accepted - stored),
    "unexpected": len(stored - accepted),
    "records_over_two_votes": over.count(),
    "claims_not_matching_assignments": claims.count(),
    "votes_without_claim": voted_without_claim,
    "items_settled": items.filter(status__in=["included", "excluded"]).count(),
    "items_in_conflict": items.filter(status="conflict").count(),
}))
"""


# --- The reviewers -------------------------------------------------------------------------------


@dataclass
class Reviewer:
    name: str
    token: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    accepted: list[tuple[str, int]] = field(default_factory=list)
    first_ms: float = 0.0


def _request(port: int, token: str, method: str, path: str, body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        conn.close()


def _decide(rng: random.Random) -> str:
    # Roughly what title/abstract screening looks like: most records excluded, a few maybes.
    x = rng.random()
    return "include" if x < 0.15 else "maybe" if x < 0.2 else "exclude"


def run_reviewer(r: Reviewer, port: int, base: str, deadline: float, think_ms: float, seed: int):
    rng = random.Random(seed)
    try:
        t0 = time.perf_counter()
        status, body = _request(port, r.token, "GET", f"{base}/next/")
        r.first_ms = 1000 * (time.perf_counter() - t0)
        if status != 200:
            r.errors.append(f"next: HTTP {status} {str(body)[:200]}")
            return
        item = body["item"]
        while item is not None and time.perf_counter() < deadline:
            if think_ms > 0:
                time.sleep(min(rng.expovariate(1 / think_ms) / 1000, 10 * think_ms / 1000))
            vote = {"item": item["id"], "decision": _decide(rng), "note": ""}
            t0 = time.perf_counter()
            try:
                status, body = _request(port, r.token, "POST", f"{base}/votes/", vote)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                r.errors.append(f"vote: {type(exc).__name__}: {exc}")
                return
            elapsed = 1000 * (time.perf_counter() - t0)
            if status != 201:
                r.errors.append(f"vote: HTTP {status} {str(body)[:200]}")
                return
            r.latencies.append(elapsed)
            r.accepted.append((r.name, item["id"]))
            item = body["next"]
    except Exception as exc:  # the report must say what went wrong, whatever it was
        r.errors.append(f"{type(exc).__name__}: {exc}")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def _machine() -> str:
    pg = subprocess.run(
        ["psql", f"{PG}/postgres", "-tAc", "show server_version"], capture_output=True, text=True
    ).stdout.strip()
    return f"{machine()}; PostgreSQL {pg}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of voting")
    parser.add_argument("--think-ms", type=float, default=1000.0, help="mean pause between votes")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="gunicorn sync workers (default: one per CPU; more only queue for the same CPUs)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave Python's garbage collector as it is in the gunicorn workers (by default "
        "each worker freezes the objects of the loaded app after start, gc.freeze(), so that "
        "full collections do not walk Django's import-time objects: a ~170 ms pause otherwise)",
    )
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=None,
        help="on a shared machine: wait (up to 10 min) until the 1-minute load average is "
        "below this before voting starts",
    )
    parser.add_argument(
        "--access-log", help="write gunicorn's access log, with server time in ms, to this file"
    )
    args = parser.parse_args()

    if shutil.which("psql") is None:
        print("psql is needed (PostgreSQL client)", file=sys.stderr)
        return 2
    db = f"evident_screening_bench_{os.getpid()}"
    env = django_env(db, DATABASE_CONN_MAX_AGE="600")
    print(f"date: {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {_machine()}")
    psql(f"{PG}/postgres", f"CREATE DATABASE {db}")
    server = None
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        seeded = subprocess.run(
            [PYTHON, "-c", SEED, str(args.records), str(args.reviewers), " ".join(WORDS)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        tokens: list[str] = []
        for line in seeded.splitlines():
            if line.startswith("SEED"):
                _, records_s, created, prepare_s = line.split()
                print(
                    f"seeded {args.records:,} records in {float(records_s):.1f} s; "
                    f"{int(created):,} screening items in {float(prepare_s):.1f} s"
                )
            elif line.startswith("TOKENS"):
                tokens = line.split()[1:]
        # Fresh statistics, as autovacuum would have gathered on a live site.
        psql(f"{PG}/{db}", "VACUUM ANALYZE")
        port = _free_port()
        gunicorn_conf = Path(tempfile.mkdtemp(prefix="screening-bench-")) / "gunicorn_conf.py"
        gunicorn_conf.write_text(
            "import gc\n\n\ndef post_worker_init(worker):\n    gc.freeze()\n"
            if not args.no_gc_freeze
            else ""
        )
        server = subprocess.Popen(
            [
                str(GUNICORN),
                "config.wsgi:application",
                "--config",
                str(gunicorn_conf),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                "--timeout",
                "60",
                *(
                    [
                        "--access-logfile",
                        args.access_log,
                        "--access-logformat",
                        "%(m)s %(U)s %(s)s %(M)s",
                    ]
                    if args.access_log
                    else []
                ),
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            print("gunicorn did not start", file=sys.stderr)
            return 1
        # Warm each worker's imports and database connection before timing anything.
        for _ in range(args.workers * 3):
            _request(port, tokens[0], "GET", "/api/reviews/load/screening/title-abstract/progress/")

        if args.quiet_load is not None:
            waited = time.monotonic()
            while os.getloadavg()[0] >= args.quiet_load and time.monotonic() - waited < 600:
                time.sleep(5)
            print(f"waited {time.monotonic() - waited:.0f} s for load < {args.quiet_load}")
        load_before = os.getloadavg()[0]
        reviewers = [Reviewer(f"reviewer{i:02d}", t) for i, t in enumerate(tokens)]
        base = "/api/reviews/load/screening/title-abstract"
        deadline = time.perf_counter() + args.duration
        threads = [
            threading.Thread(
                target=run_reviewer, args=(r, port, base, deadline, args.think_ms, i), daemon=True
            )
            for i, r in enumerate(reviewers)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.duration + 120)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()[0]

        latencies = [x for r in reviewers for x in r.latencies]
        errors = [f"{r.name}: {e}" for r in reviewers for e in r.errors]
        accepted = [list(a) for r in reviewers for a in r.accepted]
        check = json.loads(
            subprocess.run(
                [PYTHON, "-c", CHECK],
                cwd=ROOT,
                env=env,
                input=json.dumps(accepted),
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        print(
            f"setup: {args.reviewers} reviewers, {args.records:,} records, 2 reviewers per "
            f"record, blinded; gunicorn {args.workers} sync workers"
            f"{'' if args.no_gc_freeze else ' (gc.freeze after start)'}; think time mean "
            f"{args.think_ms:.0f} ms; {args.duration:.0f} s of voting ({wall:.1f} s wall); "
            f"1-minute load average {load_before:.1f} at the start, {load_after:.1f} at the end"
        )
        print(
            f"votes: {len(latencies):,} ({len(latencies) / wall:.1f}/s); first record "
            f"p50 {_pct([r.first_ms for r in reviewers], 50):.1f} ms"
        )
        print(
            "vote-to-next-record ms: "
            f"p50 {_pct(latencies, 50):.1f}  p95 {_pct(latencies, 95):.1f}  "
            f"p99 {_pct(latencies, 99):.1f}  max {max(latencies, default=float('nan')):.1f}  "
            f"mean {statistics.fmean(latencies) if latencies else float('nan'):.1f}"
        )
        print(f"errors: {len(errors)}")
        for e in errors[:10]:
            print(f"  {e}")
        print("count check: " + ", ".join(f"{k} {v}" for k, v in check.items()))
        ok_counts = (
            check["lost"] == 0
            and check["unexpected"] == 0
            and check["votes_in_db"] == check["distinct_in_db"] == check["accepted_by_clients"]
            and check["records_over_two_votes"] == 0
            and check["claims_not_matching_assignments"] == 0
            and check["votes_without_claim"] == 0
        )
        print(f"no vote lost or doubled: {'yes' if ok_counts else 'NO'}")
        p95 = _pct(latencies, 95)
        print(
            f"target p95 <= 50 ms and zero errors: "
            f"{'met' if p95 <= 50 and not errors and ok_counts else 'NOT met'}"
        )
        return 0 if ok_counts and not errors else 1
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if not args.keep:
            psql(f"{PG}/postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        else:
            print(f"kept database {db}")


if __name__ == "__main__":
    sys.exit(main())
