"""Candidate pairs without comparing every record with every other.

A pair is a candidate when the two records share at least one blocking key. Each key catches
duplicates the others miss:

- ``doi`` and ``pmid``: the identifier, when both records carry it;
- ``t``: the whole normalised title (punctuation, case, HTML, Greek letters, brackets gone);
- ``tp``/``ts``: the first and the last characters of the title, so a title truncated by the
  database, with a subtitle dropped, a leading article or a note appended still meets its twin;
- ``tw``: the title's longest words in sorted order, for titles whose two ends both differ;
- ``ay``: first author's surname with the year, for letters and news items that each database
  titles its own way;
- ``ap``: first author's surname with the first page, for records whose titles were translated
  or garbled;
- ``vp``: volume, first page and the journal's initial letter, for records whose title and
  authors both differ in style.

A key shared by very many records (an "Editorial" title, a popular first page) would make the
number of pairs grow quadratically, so inside a large block only neighbours in title order are
paired (the sorted-neighbourhood method of Hernández and Stolfo 1995, "The merge/purge problem
for large databases", SIGMOD).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from deduplication.engine.records import PreparedRecord

__all__ = ["blocking_keys", "candidate_pairs"]

TITLE_END_CHARS = 32
TITLE_WORDS = 4
_MIN_WORD = 4


def blocking_keys(record: PreparedRecord) -> list[str]:
    """The blocking keys of one record."""
    keys: list[str] = []
    if record.doi:
        keys.append("doi:" + record.doi)
    if record.pmid:
        keys.append("pmid:" + record.pmid)
    title = record.title_key
    if title:
        keys.append("t:" + title)
        if len(title) > TITLE_END_CHARS:
            keys.append("tp:" + title[:TITLE_END_CHARS])
            keys.append("ts:" + title[-TITLE_END_CHARS:])
        words = sorted({w for w in record.title.split() if len(w) >= _MIN_WORD}, key=len)
        if len(words) >= TITLE_WORDS + 2:
            keys.append("tw:" + " ".join(sorted(words[-TITLE_WORDS:])))
    if record.authors and record.year:
        keys.append(f"ay:{record.authors[0].last}|{record.year}")
    start = record.pages.start if record.pages is not None else None
    if start:
        if record.authors:
            keys.append(f"ap:{record.authors[0].last}|{start}")
        if record.volume and record.journal:
            keys.append(f"vp:{record.volume}|{start}|{record.journal[0][:1]}")
    return keys


def _title_order(record: PreparedRecord) -> tuple[str, int, str, str]:
    # Ties (a block of "Editorial") break on year, first author and first page, so that
    # neighbours are still likely twins.
    return (
        record.title_key,
        record.year or 0,
        record.authors[0].last if record.authors else "",
        record.pages.start if record.pages is not None else "",
    )


def _reversed_title_order(record: PreparedRecord) -> tuple[str, int, str, str]:
    return (record.title_key[::-1], *_title_order(record)[1:])


def _block_pairs(
    key: str,
    members: Sequence[int],
    records: Sequence[PreparedRecord],
    max_block: int,
    window: int,
) -> Iterable[tuple[int, int]]:
    if len(members) <= max_block:
        for position, i in enumerate(members):
            for j in members[position + 1 :]:
                yield i, j
        return
    # Records sharing a title's end differ at its start, so they sort by the reversed title.
    order = _reversed_title_order if key.startswith("ts:") else _title_order
    ordered = sorted(members, key=lambda k: order(records[k]))
    for position, i in enumerate(ordered):
        for j in ordered[position + 1 : position + 1 + window]:
            yield i, j


def candidate_pairs(
    records: Sequence[PreparedRecord],
    *,
    max_block: int = 20,
    window: int = 5,
) -> set[tuple[int, int]]:
    """Pairs of record indices ``(i, j)`` with ``i < j`` sharing a blocking key.

    Pairs of two existing records (``is_new`` false on both) are left out: they were compared
    when the later of them arrived.
    """
    blocks: dict[str, list[int]] = defaultdict(list)
    for record in records:
        for key in blocking_keys(record):
            blocks[key].append(record.index)

    pairs: set[tuple[int, int]] = set()
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        if not any(records[k].is_new for k in members):
            continue
        for i, j in _block_pairs(key, members, records, max_block, window):
            if not (records[i].is_new or records[j].is_new):
                continue
            pairs.add((i, j) if i < j else (j, i))
    return pairs
