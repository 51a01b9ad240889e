"""The engine's input record and its normalised form."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from deduplication.engine.generic import is_generic_title
from deduplication.engine.normalise import (
    AuthorKey,
    PageRange,
    author_keys,
    compact,
    journal_tokens,
    normalise_doi,
    normalise_issue,
    normalise_pages,
    normalise_pmid,
    normalise_title,
    normalise_volume,
    normalise_year,
)

__all__ = ["DedupRecord", "PreparedRecord", "prepare_record"]


@dataclass(frozen=True, slots=True)
class DedupRecord:
    """One bibliographic record as the engine sees it.

    Fields may be raw or already normalised by an importer; the engine normalises again.
    ``id`` is the caller's record id and must be unique across all records in one run.
    """

    id: int
    title: str = ""
    authors: Sequence[str] = ()
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    abstract: str | None = None
    isbn: str | None = None
    issn: str | None = None


_ISSN = re.compile(r"\b(\d{4})-?(\d{3}[\dxX])\b")


@dataclass(slots=True)
class PreparedRecord:
    """Normalised fields of one record, computed once and compared many times."""

    index: int
    id: int
    title: str  # normalised words
    title_key: str  # the words without spaces
    authors: tuple[AuthorKey, ...]
    surnames: frozenset[str]  # last words of the surnames, see AuthorKey.last
    year: int | None
    journal: tuple[str, ...]
    issns: frozenset[str]
    volume: str | None
    issue: str | None
    pages: PageRange | None
    doi: str | None
    pmid: str | None
    is_new: bool
    #: The title names a kind of item ("Editorial", "Reply"), see ``generic.py``.
    generic_title: bool = False


def prepare_record(record: DedupRecord, index: int, *, is_new: bool = True) -> PreparedRecord:
    """Normalise every field of ``record`` once; ``index`` is its position in the run."""
    title = normalise_title(record.title)
    journal = journal_tokens(record.journal)
    # A bare string (hand entry, an old import) would otherwise be read letter by letter.
    names = record.authors
    authors = author_keys([names] if isinstance(names, str) else names)
    return PreparedRecord(
        index=index,
        id=record.id,
        title=title,
        title_key=compact(title),
        authors=authors,
        surnames=frozenset(a.last for a in authors),
        year=normalise_year(record.year),
        journal=journal,
        # ISSNs hide in the ISBN field too (ASySD's test set, EndNote's "SN" tag).
        issns=frozenset(
            f"{a}-{b.lower()}" for a, b in _ISSN.findall(f"{record.issn or ''} {record.isbn or ''}")
        ),
        volume=normalise_volume(record.volume),
        issue=normalise_issue(record.issue),
        pages=normalise_pages(record.pages),
        doi=normalise_doi(record.doi),
        pmid=normalise_pmid(record.pmid),
        is_new=is_new,
        generic_title=is_generic_title(title, journal),
    )
