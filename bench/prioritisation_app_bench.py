"""Retraining the screening queue's ranking in the app (issue 15), end to end on PostgreSQL.

Usage::

    .venv/bin/python bench/prioritisation_app_bench.py                  # 10,000 and 100,000
    .venv/bin/python bench/prioritisation_app_bench.py --sizes 10000 --runs 5

Target (issue 15): retraining a 10,000-record review takes under a second, a 100,000-record one
under ten seconds. ``bench/prioritisation_bench.py --timing`` times the engine's steps on
matrices in memory; this one times the service the retraining job runs
(``screening.prioritisation.services.retrain``), with everything it does: reading the items'
ids and statuses and the stored TF-IDF matrix from the database, fitting, scoring and ranking,
and writing every unscreened item's priority back.

For each size it:

1. creates a throwaway database (``evident_prio_bench_<pid>`` on 127.0.0.1:5432, user
   ``postgres``, trust auth), migrates it and fills one review with that many records whose
   titles and abstracts are drawn (with repeats) from the two labelled sets of
   ``../shared/data/screening``; 10 % of the title/abstract items are settled (included or
   excluded as the set labels them) in import order;
2. runs the features job's work (``features_refresh``: counting every record's terms and
   storing counts and TF-IDF), as the job after an import does;
3. times ``retrain`` in ``--runs`` fresh processes (a worker's first retrain of the review:
   it reads the stored matrix), and in each, after five more records settle, a second
   ``retrain`` (a worker that keeps the review's matrix: what follows most votes).

There is no peer figure: no other screening tool retrains on a server we could time beside it
(ASReview LAB retrains in the reviewer's own process; ``bench/prioritisation_bench.py`` times its
whole replays beside ours).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

from _common import LOCAL_POSTGRES, PYTHON, ROOT, django_env, machine, psql

SEED = r"""
import hashlib, json, sys, time
import numpy as np
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from identification.constants import BatchStatus
from identification.models import ImportBatch, Record, Search
from reviews import services as rs
from screening import services as ss
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem
from screening.prioritisation import services as prio
from screening.prioritisation.engine import simulate

n, shared = int(sys.argv[1]), sys.argv[2]
titles, abstracts, labels = [], [], []
for name in ("Nagtegaal_2019", "Kitchenham_2010"):
    with open(f"{shared}/screening/{name}.csv", "rb") as fh:
        data = simulate.load_csv(fh.read())
    titles += data.titles; abstracts += data.abstracts; labels += list(data.labels)
rng = np.random.default_rng(0)
rows = rng.integers(len(titles), size=n)
User = get_user_model()
lead = User.objects.create_user("lead", "lead@example.org", "bench-password")
review = rs.review_create(user=lead, title="Ranking bench", slug="rank")
search = Search.objects.create(review=review, database="Synthetic")
digest = hashlib.sha256(b"bench").hexdigest()
batch = ImportBatch.objects.create(review=review, search=search, file=f"imports/{digest}",
    original_name="bench.ris", size=0, sha256=digest, status=BatchStatus.IMPORTED)
chunk = []
for i, r in enumerate(rows):
    chunk.append(Record(review=review, search=search, batch=batch, title=titles[r],
        abstract=abstracts[r], authors=["Author, A"], year=2000 + i % 24,
        journal="Journal", doi=f"10.5555/bench.{i}", keywords=[]))
    if len(chunk) == 5000:
        Record.objects.bulk_create(chunk); chunk = []
if chunk:
    Record.objects.bulk_create(chunk)
ss.screening_prepare(review=review)
items = list(ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT)
             .order_by("pk").values_list("pk", flat=True))
y = np.asarray([labels[r] for r in rows])
now = timezone.now()
settled = n // 10
with transaction.atomic():
    for status, value in ((ItemStatus.INCLUDED, 1), (ItemStatus.EXCLUDED, 0)):
        pks = [items[i] for i in range(settled) if y[i] == value]
        ScreeningItem.objects.filter(pk__in=pks).update(status=status, settled_at=now)
started = time.perf_counter()
result = prio.features_refresh(review)
print("FEATURES", json.dumps({"seconds": time.perf_counter() - started, **result}))
"""

RETRAIN = r"""
import json, sys, time
import numpy as np
import django
django.setup()
from django.utils import timezone
from reviews.models import Review
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem
from screening.prioritisation import services as prio

review = Review.objects.get(slug="rank")
started = time.perf_counter()
cold = prio.retrain(review)
cold_s = time.perf_counter() - started
# Five more records settle (excluded), as votes come in, and the same worker retrains.
nxt = list(ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT,
           status=ItemStatus.PENDING).order_by("-priority", "pk").values_list("pk", flat=True)[:5])
ScreeningItem.objects.filter(pk__in=nxt).update(status=ItemStatus.EXCLUDED,
                                                settled_at=timezone.now())
started = time.perf_counter()
warm = prio.retrain(review)
warm_s = time.perf_counter() - started
ScreeningItem.objects.filter(pk__in=nxt).update(status=ItemStatus.PENDING, settled_at=None)
print("RETRAIN", json.dumps({"cold": cold_s, "warm": warm_s, "cold_phases": cold["phases"],
                             "warm_phases": warm["phases"], "trained_on": cold["trained_on"],
                             "ranked": cold["ranked"], "featurised": cold["featurised"]}))
"""


def _child(script: str, args: list[str], env: dict, tag: str) -> dict:
    done = subprocess.run(
        [PYTHON, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"{tag} failed:\n{done.stderr[-3000:]}")
    out = done.stdout
    line = next(x for x in out.splitlines() if x.startswith(tag + " "))
    return json.loads(line.split(" ", 1)[1])


def _fmt(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if shutil.which("psql") is None:
        print("psql is needed (PostgreSQL client)", file=sys.stderr)
        return 2
    print(machine())
    print(
        "| records | settled | features job s | retrain, fresh process s | read | fit | rank "
        "| write | retrain after 5 more votes s | read | fit | rank | write |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    shared = str(ROOT.parent / "shared" / "data")
    for n in args.sizes:
        db = f"evident_prio_bench_{os.getpid()}_{n}"
        env = django_env(db)
        psql(f"{LOCAL_POSTGRES}/postgres", f"CREATE DATABASE {db}")
        try:
            subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            feats = _child(SEED, [str(n), shared], env, "FEATURES")
            runs = [_child(RETRAIN, [], env, "RETRAIN") for _ in range(args.runs)]
            cells = [f"{n:,}", f"{runs[0]['trained_on']:,}", f"{feats['seconds']:.1f}"]
            for kind in ("cold", "warm"):
                cells.append(_fmt([r[kind] for r in runs]))
                for phase in ("read", "fit", "rank", "write"):
                    cells.append(_fmt([r[f"{kind}_phases"][phase] for r in runs]))
            print("| " + " | ".join(cells) + " |", flush=True)
        finally:
            if args.keep:
                print(f"kept database {db}")
            else:
                psql(f"{LOCAL_POSTGRES}/postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
