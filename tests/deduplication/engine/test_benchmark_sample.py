"""The engine on samples of the two labelled benchmark sets (``tests/data/dedup``).

The bounds are the targets of issue 5 for the full sets, which ``bench/dedup_bench.py``
measures; the samples hold a fifth to a quarter of the records, so a regression shows here first.
"""

import csv
import re
from itertools import combinations
from pathlib import Path

import pytest

from deduplication.engine import DedupRecord, DedupResult, deduplicate
from tests.paths import DATA

DATA = DATA / "dedup"


def _groups(path: Path) -> list[set[int]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            {int(i.removeprefix("id_")) for i in row["merged_ids"].split(";")}
            for row in csv.DictReader(handle)
        ]


def _year(value: str) -> int | None:
    match = re.search(r"\d{4}", value or "")
    return int(match.group(0)) if match else None


def load_haematology() -> tuple[list[DedupRecord], list[set[int]]]:
    with (DATA / "haematology_sample.csv").open(encoding="utf-8", newline="") as handle:
        records = [
            DedupRecord(
                id=int(row["ID"].removeprefix("id_")),
                title=row["title"],
                authors=[a for a in row["author"].split(" and ") if a],
                year=_year(row["year"]),
                journal=row["journal"] or None,
                volume=row["volume"] or None,
                issue=row["number"] or None,
                pages=row["pages"] or None,
            )
            for row in csv.DictReader(handle)
        ]
    return records, _groups(DATA / "haematology_sample_groups.csv")


def load_asysd() -> tuple[list[DedupRecord], list[set[int]]]:
    # ASySD joins author names without a separator: "Adeli K.Lewis G. F.".
    breaks = re.compile(r"(?<=\.)(?=[^\s.,;-])")
    with (DATA / "asysd_diabetes_sample.csv").open(encoding="utf-8", newline="") as handle:
        records = [
            DedupRecord(
                id=int(row["record_id"]),
                title=row["title"],
                authors=[a for a in breaks.split(row["author"]) if a.strip()],
                year=_year(row["year"]),
                journal=row["journal"] or None,
                volume=row["volume"] or None,
                issue=row["number"] or None,
                pages=row["pages"] or None,
                doi=row["doi"] or None,
                isbn=row["isbn"] or None,
            )
            for row in csv.DictReader(handle)
        ]
    return records, _groups(DATA / "asysd_diabetes_sample_groups.csv")


def _pairs(groups) -> set[tuple[int, int]]:
    return {pair for group in groups for pair in combinations(sorted(group), 2)}


def _figures(result: DedupResult, truth: list[set[int]]) -> tuple[float, float, int]:
    """Automatic precision, recall with a perfect answer to the queue, and queued pairs."""
    true_pairs = _pairs(truth)
    auto = _pairs(c.member_ids for c in result.clusters)
    group_of = {i: n for n, group in enumerate(truth) for i in group}
    confirmed = [
        (p.left_id, p.right_id)
        for p in result.queued_pairs
        if p.left_id in group_of and group_of[p.left_id] == group_of.get(p.right_id)
    ]
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.setdefault(i, i) != i:
            i = parent[i]
        return i

    for cluster in result.clusters:
        for other in cluster.member_ids[1:]:
            parent[find(other)] = find(cluster.member_ids[0])
    for a, b in confirmed:
        parent[find(b)] = find(a)
    found = {(a, b) for a, b in true_pairs if find(a) == find(b)}
    precision = len(auto & true_pairs) / len(auto) if auto else 1.0
    return precision, len(found) / len(true_pairs), len(result.queued_pairs)


@pytest.mark.parametrize("loader", [load_haematology, load_asysd], ids=["haematology", "asysd"])
def test_it_meets_the_issue_targets_on_a_sample_of_a_real_benchmark_set(loader):
    records, truth = loader()
    assert len(records) > 300 and len(truth) >= 100  # the sample has not shrunk

    precision, recall, queued = _figures(deduplicate(records, with_fields=False), truth)

    assert precision >= 0.995
    assert recall >= 0.97
    assert queued <= len(records) / 10
