"""The ranking model: a linear classifier on TF-IDF features, trained on screened records
(pure, no Django). The app's retraining job, ``simulate_screening`` and the benchmark all call
:func:`train` and :func:`rank`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.svm import LinearSVC

from screening.prioritisation.engine import stopping

#: Share of the queue given to records picked at random rather than by score (one place in
#: fifty), once the ranking is exhausted (:func:`exploring`).
#:
#: Why exploration waits that long. Random picks let the model see records unlike those it
#: knows (plain "max" active learning favours records similar to those already found: Singh,
#: Thomas and Shawe-Taylor 2018), and they are the random sample that checks a decision to stop
#: (Callaghan and Müller-Hansen 2020; the final check of the SAFE procedure, Boetje and van de
#: Schoot 2024). But each random pick taken while the ranking still finds relevant records
#: delays them, and is measured: one place in fifty from the start cost 1.7 points of WSS@95 on
#: Nagtegaal 2019 (ASReview's "mixed" strategy makes the same trade), and one in fifty after 20
#: irrelevant records in a row still cost 0.05-0.1 point, because the longest run of irrelevant
#: records before 95 % recall was 48 to 122 in ASReview's orders of both benchmark sets (five
#: seeds each), so no run length is a safe signal. Exploring only among records scored near the
#: top would cost little but explore little (they are what the ranking shows next anyway). So
#: exploration starts when the hypergeometric stopping test (:mod:`stopping`, default 95 %
#: recall at 95 % confidence) says the recall target is reached (and the ranking has run dry):
#: from there on random records cost nothing on the recall the review aims at, and are exactly
#: the random sample that confirms (or refutes) the stopping decision; before it the queue is
#: the model's order alone (ASReview's, but for the order of records scored exactly alike).
EXPLORATION = 0.02
#: The stopping test is computed only after this many irrelevant records in a row (it cannot
#: fire while relevant records keep coming, and costs a scan of the screening each time).
EXPLORE_AFTER = 20
#: Relevant records weigh this many times all irrelevant ones together (see :func:`train`).
RATIO = 9.8


@dataclass
class Trained:
    """A fitted model: its weights (one per term) and intercept, and how it was trained."""

    coef: np.ndarray
    intercept: float
    n_relevant: int
    n_irrelevant: int
    seconds: float = 0.0
    terms: list[str] = field(default_factory=list)

    def scores(self, matrix: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(matrix @ self.coef).ravel() + self.intercept

    def top_terms(self, n: int = 10) -> list[tuple[str, float]]:
        """The terms that weigh most towards relevance, heaviest first."""
        if not self.terms:
            return []
        order = np.argsort(-self.coef, kind="stable")[:n]
        return [(self.terms[i], float(self.coef[i])) for i in order if self.coef[i] > 0]

    def why(self, matrix_row: sparse.csr_matrix, n: int = 5) -> list[str]:
        """The terms of one record that push it up most (its weight times its TF-IDF)."""
        row = matrix_row.tocsr()
        if not self.terms or row.nnz == 0:
            return []
        contrib = row.data * self.coef[row.indices]
        order = np.argsort(-contrib, kind="stable")
        return [self.terms[row.indices[i]] for i in order[:n] if contrib[i] > 0]


def train(
    matrix: sparse.csr_matrix,
    labelled: np.ndarray,
    labels: np.ndarray,
    *,
    terms: list[str] | None = None,
    C: float = 0.11,
) -> Trained | None:
    """Fit on the rows ``labelled`` with their 0/1 ``labels``; ``None`` until both classes are
    present (ranking starts from the first include and the first exclude).

    A linear support vector machine (squared hinge, C = 0.11) with relevant records weighted
    up: each irrelevant record weighs ``n_relevant / (RATIO * n_irrelevant)`` of a relevant
    one, so that relevant records (2-5 % of a review) count about ten times as much as all
    irrelevant ones together (ASReview's "balanced" balancer with its tuned ratio 9.8). It
    fits a few thousand labelled records in milliseconds (logistic regression took a hundred
    times longer on the same features).
    """
    labels = np.asarray(labels, dtype=int)
    n_rel = int(labels.sum())
    n_irr = int(len(labels) - n_rel)
    if n_rel == 0 or n_irr == 0:
        return None
    started = time.perf_counter()
    clf = LinearSVC(C=C, loss="squared_hinge", max_iter=2000, random_state=0)
    weights = np.where(labels == 1, 1.0, n_rel / (RATIO * n_irr))
    weights *= len(labels) / weights.sum()
    clf.fit(matrix[labelled], labels, sample_weight=weights)
    return Trained(
        coef=clf.coef_.ravel().astype(float),
        intercept=float(clf.intercept_[0]),
        n_relevant=n_rel,
        n_irrelevant=n_irr,
        seconds=time.perf_counter() - started,
        terms=list(terms or []),
    )


def exploring(seen: np.ndarray, n_total: int) -> bool:
    """Whether the queue explores now, for the labels ``seen`` (0/1, in screening order) of a
    review of ``n_total`` records: once the ranking has run dry and the stopping test says the
    default recall target is reached (see :data:`EXPLORATION`)."""
    seen = np.asarray(seen, dtype=int)
    if stopping.consecutive_irrelevant(seen) < EXPLORE_AFTER:
        return False
    return stopping.p_value(seen, n_total) < 1 - stopping.DEFAULT_CONFIDENCE


def rank(
    scores: np.ndarray,
    candidates: np.ndarray,
    *,
    rng: np.random.Generator,
    exploration: float = EXPLORATION,
    offset: int = 0,
    dry: bool = True,
) -> np.ndarray:
    """``candidates`` (row numbers) in the order to screen them: by score, highest first,
    except that every ``1/exploration``-th place of the whole screening (counted from
    ``offset``, the records screened already) goes to a candidate picked at random, when the
    ranking is ``dry`` (:func:`exploring`; see :data:`EXPLORATION`).

    Ties come in numpy's default sort order (see below); the result is deterministic for a
    given ``rng``.
    """
    candidates = np.asarray(candidates, dtype=int)
    n = len(candidates)
    if n == 0:
        return candidates
    # numpy's default sort, as ASReview's "max" query ranks its pool: records scored exactly
    # alike (those sharing no weighted term with any screened record all score the intercept)
    # come in the same order in both tools, so that a replay follows ASReview's record for
    # record. A stable sort (import order) cost 0.6 point of WSS@95 on Nagtegaal seed 1 through
    # one such tie at the 34th record: luck, not the model.
    order = candidates[np.argsort(-np.asarray(scores)[candidates])]
    if exploration <= 0 or n < 2 or not dry:
        return order
    every = max(2, round(1 / exploration))
    places = np.array([p for p in range(n) if (offset + p + 1) % every == 0], dtype=int)
    if len(places) == 0:
        return order
    picked = rng.choice(n, size=len(places), replace=False)
    out = np.empty(n, dtype=int)
    mask = np.zeros(n, dtype=bool)
    mask[places] = True
    out[places] = order[picked]
    keep = np.ones(n, dtype=bool)
    keep[picked] = False
    out[~mask] = order[keep]
    return out
