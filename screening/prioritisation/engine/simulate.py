"""Replaying a labelled review with the app's model (pure, no Django): ``simulate_screening``
and ``bench/prioritisation_bench.py`` both run :func:`simulate`.

The replay follows ASReview's simulation: the screening starts from one relevant and one
irrelevant record chosen at random (the "prior knowledge"; the same two for every model in a
benchmark run), then the model is retrained after each record and the highest-ranked unscreened
record is screened next, except for the exploration share (``model.EXPLORATION``, once the
stopping test fires: ``model.exploring``), exactly as the app orders its queue.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass

import numpy as np

from screening.prioritisation.engine import features, model, stopping

REQUIRED = ("title", "abstract", "label_included")


class DatasetError(ValueError):
    """A labelled file that cannot be replayed, with a message for people."""


@dataclass
class Dataset:
    titles: list[str]
    abstracts: list[str]
    keywords: list[str]
    labels: np.ndarray
    record_ids: list[str]

    def texts(self) -> list[str]:
        return [
            features.record_text(t, a, k)
            for t, a, k in zip(self.titles, self.abstracts, self.keywords, strict=True)
        ]


def load_csv(data: bytes | str, *, name: str = "the file") -> Dataset:
    """Read a labelled CSV (``title``, ``abstract``, ``label_included`` 0/1; optional
    ``record_id``, ``keywords``), or raise :class:`DatasetError` saying what is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DatasetError(f"{name} is not UTF-8 text.") from None
    data = data.lstrip("\ufeff")
    try:
        reader = csv.DictReader(io.StringIO(data))
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise DatasetError(f"{name} is not a readable CSV file: {exc}.") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DatasetError(
            f"{name} lacks the column(s) {', '.join(missing)}; it needs title, abstract and "
            f"label_included (0 or 1), and may have record_id "
            f"(found: {', '.join(header) or 'none'})."
        )
    reader.fieldnames = header
    titles, abstracts, keywords, labels, ids = [], [], [], [], []
    try:
        for line, row in enumerate(reader, start=2):
            value = (row.get("label_included") or "").strip()
            if value not in {"0", "1", "0.0", "1.0"}:
                raise DatasetError(
                    f"{name}, line {line}: label_included must be 0 or 1, not {value[:20]!r}."
                )
            labels.append(int(float(value)))
            titles.append(row.get("title") or "")
            abstracts.append(row.get("abstract") or "")
            keywords.append(row.get("keywords") or "")
            ids.append((row.get("record_id") or str(line - 1)).strip())
    except csv.Error as exc:
        raise DatasetError(f"{name} is not a readable CSV file: {exc}.") from None
    if len(labels) < 2:
        raise DatasetError(f"{name} has fewer than two records.")
    arr = np.asarray(labels, dtype=int)
    if arr.sum() == 0 or arr.sum() == len(arr):
        raise DatasetError(f"{name} needs at least one relevant and one irrelevant record.")
    return Dataset(titles, abstracts, keywords, arr, ids)


def prior_rows(labels: np.ndarray, seed: int) -> tuple[int, int]:
    """The one relevant and one irrelevant record a replay starts from, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    rel = np.flatnonzero(labels == 1)
    irr = np.flatnonzero(labels == 0)
    return int(rel[rng.integers(len(rel))]), int(irr[rng.integers(len(irr))])


def replay(
    matrix,
    labels: np.ndarray,
    *,
    seed: int = 0,
    prior: tuple[int, int] | None = None,
    exploration: float = model.EXPLORATION,
) -> np.ndarray:
    """The order in which the app's model would have the whole review screened.

    Once the last relevant record is screened the rest follow in file order without
    retraining (ASReview's simulation stops there too): every metric of :func:`metrics`,
    the stopping test's firing point included, reads only the labels in order, and past the
    last relevant record they are all 0 whatever the order."""
    n = len(labels)
    rng = np.random.default_rng(seed + 1_000_003)
    prior = prior if prior is not None else prior_rows(labels, seed)
    order = list(prior)
    unseen = np.ones(n, dtype=bool)
    unseen[list(prior)] = False
    left = int(labels.sum()) - int(labels[list(prior)].sum())  # relevant still unscreened
    while unseen.any():
        if left == 0:
            order.extend(int(i) for i in np.flatnonzero(unseen))
            break
        seen_rows = np.asarray(order)
        trained = model.train(matrix, seen_rows, labels[seen_rows])
        candidates = np.flatnonzero(unseen)
        if trained is None:
            nxt = int(candidates[0])
        else:
            nxt = int(
                model.rank(
                    trained.scores(matrix),
                    candidates,
                    rng=rng,
                    exploration=exploration,
                    offset=len(order),
                    dry=model.exploring(labels[seen_rows], n),
                )[0]
            )
        order.append(nxt)
        unseen[nxt] = False
        left -= int(labels[nxt])
    return np.asarray(order)


def metrics(labels_in_order: np.ndarray, seconds: float = 0.0) -> dict:
    """WSS@95, WSS@100, recall after 10/25/50 % screened and RRF@10 (percentages, 0-100),
    the stopping test's firing point (records screened; default recall target and
    confidence) and the recall there, for the labels in screening order."""
    y = np.asarray(labels_in_order, dtype=int)
    n, total = len(y), int(y.sum())
    found = np.cumsum(y)

    def screened_for(recall: float) -> int:
        need = math.ceil(recall * total - 1e-9)
        return int(np.argmax(found >= need)) + 1

    def wss(recall: float) -> float:
        return 100 * ((n - screened_for(recall)) / n - (1 - recall))

    def recall_after(share: float) -> float:
        k = math.ceil(share * n)
        return 100 * float(found[k - 1]) / total if k else 0.0

    stop = stopping.stop_index(y)
    return {
        "wss95": round(wss(0.95), 2),
        "wss100": round(wss(1.0), 2),
        "recall_at_10": round(recall_after(0.10), 2),
        "recall_at_25": round(recall_after(0.25), 2),
        "recall_at_50": round(recall_after(0.50), 2),
        "rrf10": round(recall_after(0.10), 2),
        "stop_at": stop,
        "recall_at_stop": round(100 * float(found[stop - 1]) / total, 2) if stop else None,
        "seconds": round(seconds, 2),
    }


def simulate(dataset: Dataset, *, seed: int = 0, exploration: float = model.EXPLORATION) -> dict:
    """Replay ``dataset`` and measure it (see :func:`metrics`)."""
    started = time.perf_counter()
    matrix, _ = features.featurize(dataset.texts())
    order = replay(matrix, dataset.labels, seed=seed, exploration=exploration)
    return metrics(dataset.labels[order], time.perf_counter() - started)
