"""Text features of records: TF-IDF over title, abstract and keywords (pure, no Django).

The features are built in two steps so that the app can keep the slow one off the retraining
path:

1. :func:`count` tokenises records into a term-count matrix, extending a vocabulary. It is the
   only step that reads text (Python-level tokenising, about a millisecond a record), and a
   record's counts never change once made: the app runs it in a background job after an import,
   on the new records only (``services.features_refresh``), and stores the counts.
2. :func:`weigh` turns the counts of the records being ranked into TF-IDF (document
   frequencies, the 95 % cut, sublinear tf, idf, l2 norm): vectorised numpy over the non-zero
   entries, a fraction of a second at 100,000 records. The retraining job runs only this step.

:func:`featurize` runs both on a list of texts (``simulate_screening`` and the benchmark) and
gives the matrix scikit-learn's ``TfidfVectorizer`` with :func:`vectorizer`'s settings gives,
to the last bit (checked on both benchmark sets; ``tests/screening/
test_prioritisation_features.py`` checks it on a 150-record fixture): the features are
ASReview's, only faster to build. What made the old build
slow (27 s at 10,000 records) was ``TfidfVectorizer`` itself: its pure-Python n-gram loop and
per-token counting, then sorting and pruning a vocabulary of hundreds of thousands of bigrams on
every fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import chain, pairwise

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

#: The text a record is ranked on: its title, abstract and keywords, one string.
FIELDS = ("title", "abstract", "keywords")
#: Terms in more than this share of the records are dropped (ASReview's ELAS u4 setting).
MAX_DF = 0.95
#: Names how texts become terms (:func:`terms_of`). A stored count matrix made by another
#: analyser is counted again from the texts (``services.features_refresh``), never mixed.
#: 2: accents kept, as ASReview's ELAS u4 keeps them (1 stripped them; see :func:`terms_of`).
ANALYSER = "words-bigrams/2"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


def record_text(title: str = "", abstract: str = "", keywords: str = "") -> str:
    return " ".join(p for p in (title or "", abstract or "", keywords or "") if p)


def vectorizer() -> TfidfVectorizer:
    """Word unigrams and bigrams with sublinear term frequency; terms in more than 95 % of the
    records dropped (the settings ASReview tuned on the SYNERGY datasets for ELAS u4). The
    reference :func:`featurize` reproduces; not used on the app's path."""
    return TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
        max_df=MAX_DF,
        lowercase=True,
        dtype=np.float64,
    )


def terms_of(text: str) -> list[str]:
    """The terms of one text, as :func:`vectorizer`'s analyser gives them: lower-cased, words
    of two characters or more, then every pair of neighbouring words.

    Accents are kept, as ASReview keeps them. Stripping them (analyser 1) changed which
    records share a term with the screened ones, and so the order of records scored exactly
    alike; on Nagtegaal 2019 the replays then parted from ASReview's at a tie (seed 1 at the
    37th record, seed 4 at the 134th) and WSS@95 moved by up to two points either way. With
    accents kept the ten benchmark replays (two sets, five seeds) are ASReview's orders record
    for record, and the gain of folding "é" into "e" is small for the English-language
    records of most reviews."""
    words = _TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def count(
    texts: Iterable[str], vocabulary: Sequence[str] = ()
) -> tuple[sparse.csr_matrix, list[str]]:
    """The term counts of ``texts`` (one row each) and the vocabulary (the term of each column):
    ``vocabulary``'s terms keep their columns and new terms are appended in the order they
    first appear, as scikit-learn numbers them before sorting. Within a row the entries are in
    column order. Terms are mapped to columns by pandas' hash tables, in C: counting them with
    a Python dictionary per record took longer than finding them."""
    per_text = [terms_of(t) for t in texts]
    lengths = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
    flat = np.fromiter(chain.from_iterable(per_text), dtype=object, count=int(lengths.sum()))
    terms = list(vocabulary)
    if terms and len(flat):
        codes = pd.Index(terms, dtype=object).get_indexer(flat)
        new = codes < 0
        if new.any():
            new_codes, new_terms = pd.factorize(flat[new])
            codes[new] = len(terms) + new_codes
            terms.extend(new_terms)
    else:
        codes, new_terms = pd.factorize(flat)
        terms.extend(new_terms)
    rows = np.repeat(np.arange(len(per_text)), lengths)
    matrix = sparse.csr_matrix(
        (np.ones(len(flat)), (rows, codes)), shape=(len(per_text), len(terms))
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix, terms


def sort_columns(
    matrix: sparse.csr_matrix, vocabulary: Sequence[str]
) -> tuple[sparse.csr_matrix, list[str]]:
    """Columns in alphabetical order of their terms, and the terms: scikit-learn's numbering.
    Within a row the entries stay in the order the terms first appeared in the texts, as
    scikit-learn leaves them, so that every sum over a row runs in the same order and the
    scores come out the same to the last bit (the benchmark's replays equal ASReview's)."""
    old_of_new = np.argsort(np.asarray(vocabulary, dtype=object), kind="stable")
    terms = [vocabulary[i] for i in old_of_new]
    new_of_old = np.empty(len(terms), dtype=np.int32)
    new_of_old[old_of_new] = np.arange(len(terms), dtype=np.int32)
    out = sparse.csr_matrix(
        (matrix.data, new_of_old[matrix.indices], matrix.indptr),
        shape=(matrix.shape[0], len(terms)),
    )
    out.has_sorted_indices = False
    return out, terms


def pad_columns(matrix: sparse.csr_matrix, n_columns: int) -> sparse.csr_matrix:
    """``matrix`` with empty columns added up to ``n_columns`` (rows counted before a
    vocabulary grew)."""
    if matrix.shape[1] == n_columns:
        return matrix
    return sparse.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_columns)
    )


def weigh(counts: sparse.csr_matrix, max_df: float = MAX_DF) -> sparse.csr_matrix:
    """TF-IDF from term counts, as :func:`vectorizer` computes it: terms in more than
    ``max_df`` of the rows dropped (their columns left empty rather than removed, so column
    numbers stay those of the vocabulary), ``1 + log(tf)``, smooth idf
    ``1 + log((1 + n) / (1 + df))``, rows scaled to unit length. If every term would be
    dropped (one or two records) none is."""
    n = counts.shape[0]
    if counts.nnz == 0:
        return sparse.csr_matrix(counts.shape, dtype=np.float64)
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    dropped = df > max_df * n
    if dropped.all() or not (~dropped & (df > 0)).any():
        dropped[:] = False
    idf = np.log((n + 1) / (df + 1.0)) + 1.0
    idf[dropped] = 0.0
    out = sparse.csr_matrix(
        (np.log(counts.data) + 1.0, counts.indices.copy(), counts.indptr.copy()),
        shape=counts.shape,
    )
    out.data *= idf[out.indices]
    if dropped.any():
        out.eliminate_zeros()
    return normalize(out, norm="l2", copy=False)


def featurize(texts: Sequence[str]) -> tuple[sparse.csr_matrix, list[str]]:
    """The TF-IDF matrix of ``texts`` and the name of each column (a term)."""
    counts, vocab = count(texts)
    if not vocab:
        return sparse.csr_matrix((len(texts), 0)), []
    counts, terms = sort_columns(counts, vocab)
    return weigh(counts), terms
