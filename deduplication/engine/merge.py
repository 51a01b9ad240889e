"""Which member of a cluster is the primary record, and the best fields of the cluster."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from deduplication.engine.normalise import normalise_doi, normalise_pmid
from deduplication.engine.records import DedupRecord

__all__ = ["FILLABLE", "BestFields", "best_fields", "choose_primary", "completeness"]

# Fields a primary may take from another member when it has none of its own.
FILLABLE = ("abstract", "doi", "pmid", "journal", "volume", "issue", "pages", "year", "issn")


def completeness(record: DedupRecord) -> tuple[int, int, int, int, int]:
    """Sort key for "most complete": DOI, abstract, PMID, other fields, abstract length."""
    others = sum(
        1
        for value in (
            record.title,
            record.authors,
            record.year,
            record.journal,
            record.volume,
            record.issue,
            record.pages,
            record.issn or record.isbn,
        )
        if value
    )
    return (
        1 if normalise_doi(record.doi) else 0,
        1 if (record.abstract or "").strip() else 0,
        1 if normalise_pmid(record.pmid) else 0,
        others,
        len((record.abstract or "").strip()),
    )


def choose_primary(members: Sequence[DedupRecord], pinned: Collection[int] = ()) -> DedupRecord:
    """The member to show for the cluster.

    A member whose id is in ``pinned`` (a person chose it) wins; otherwise the most complete
    record (:func:`completeness`), and among equals the lowest id, usually the first imported,
    so that reruns give the same answer.
    """
    if not members:
        raise ValueError("a cluster has at least one member")
    chosen = [m for m in members if m.id in pinned]
    candidates = chosen or list(members)
    return max(candidates, key=lambda m: (completeness(m), -m.id))


@dataclass(frozen=True, slots=True)
class BestFields:
    """The primary record with gaps filled from other members, and where each fill came from."""

    record: DedupRecord
    sources: dict[str, int] = field(default_factory=dict)


def best_fields(primary: DedupRecord, members: Sequence[DedupRecord]) -> BestFields:
    """Fill the primary's empty fields from the other members.

    The abstract comes from the member with the longest one; DOI and PMID from the value most
    members agree on (normalised, so "10.1/X" and "https://doi.org/10.1/x" count together);
    other fields from the most complete member that has them. Fields the primary has are kept:
    a person may have corrected them.
    """
    others = sorted(
        (m for m in members if m.id != primary.id), key=lambda m: (completeness(m), -m.id)
    )
    others.reverse()
    changes: dict[str, object] = {}
    sources: dict[str, int] = {}
    for name in FILLABLE:
        if getattr(primary, name):
            continue
        donor: DedupRecord | None = None
        value: object = None
        if name == "abstract":
            with_abstract = [m for m in others if (m.abstract or "").strip()]
            if with_abstract:
                donor = max(with_abstract, key=lambda m: (len(m.abstract.strip()), -m.id))
                value = donor.abstract
        elif name in ("doi", "pmid"):
            normalise = normalise_doi if name == "doi" else normalise_pmid
            values = [(normalise(getattr(m, name)), m) for m in others]
            votes = Counter(v for v, _ in values if v)
            if votes:
                best = max(votes, key=lambda v: (votes[v], v))
                donor = next(m for v, m in values if v == best)
                value = best
        else:
            donor = next((m for m in others if getattr(m, name)), None)
            value = getattr(donor, name) if donor is not None else None
        if donor is not None and value:
            changes[name] = value
            sources[name] = donor.id
    return BestFields(replace(primary, **changes) if changes else primary, sources)
