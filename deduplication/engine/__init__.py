"""Deduplication engine: pure Python, no Django.

Records in (:class:`DedupRecord`), clusters, automatic merges and a review queue out
(:class:`DedupResult`). The Django side stores the result; see ``deduplicate`` for the
incremental options a living review needs.
"""

from deduplication.engine.engine import (
    Cluster,
    DedupConfig,
    DedupCounts,
    DedupResult,
    ScoredPair,
    deduplicate,
)
from deduplication.engine.merge import (
    FILLABLE,
    BestFields,
    best_fields,
    choose_primary,
    completeness,
)
from deduplication.engine.records import DedupRecord
from deduplication.engine.scoring import FieldComparison

__all__ = [
    "FILLABLE",
    "BestFields",
    "Cluster",
    "DedupConfig",
    "DedupCounts",
    "DedupRecord",
    "DedupResult",
    "FieldComparison",
    "ScoredPair",
    "best_fields",
    "choose_primary",
    "completeness",
    "deduplicate",
]
