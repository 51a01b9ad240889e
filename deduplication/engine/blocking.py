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
from collections.abc import Iterator, Sequence

from deduplication.engine.records import PreparedRecord

__all__ = ["blocking_keys", "candidate_pairs", "iter_candidate_pairs"]

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
        # Longest words; among words of one length, the alphabetically last (the order of a set
        # of strings changes from run to run, and the keys must not).
        words = sorted(sorted({w for w in record.title.split() if len(w) >= _MIN_WORD}), key=len)
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


def iter_candidate_pairs(
    records: Sequence[PreparedRecord],
    *,
    max_block: int = 20,
    window: int = 5,
) -> Iterator[tuple[int, int]]:
    """The pairs of :func:`candidate_pairs`, one at a time, each once, in record order.

    A pair is found from its first record: that record's partners are every other member of
    its small blocks and its ``window`` neighbours on either side in its large ones (the pairs
    a block yields, seen from one member). Nothing holds all the pairs at once: a run over
    a million records has several million, and the set of them was most of its memory.
    """
    blocks: dict[str, list[int]] = defaultdict(list)
    # Each record's blocks (the lists themselves: the keys' strings are not kept twice).
    blocks_of: list[list[list[int]]] = []
    for record in records:
        own = []
        for key in blocking_keys(record):
            block = blocks[key]
            block.append(record.index)
            own.append(block)
        blocks_of.append(own)
    # Blocks holding a new record (the others were compared when their last record came);
    # a large one with its members in title order, and each member's place in that order.
    live: set[int] = set()
    large: dict[int, tuple[list[int], list[int], dict[int, int]]] = {}
    for key, members in blocks.items():
        if len(members) < 2 or not any(records[k].is_new for k in members):
            continue
        live.add(id(members))
        if len(members) > max_block:
            # Records sharing a title's end differ at its start: they sort by the reversed title.
            order = _reversed_title_order if key.startswith("ts:") else _title_order
            ordered = sorted(members, key=lambda k: order(records[k]))
            place = {member: at for at, member in enumerate(ordered)}
            large[id(members)] = (members, ordered, place)  # the block itself keeps its id
    del blocks
    for record in records:
        i = record.index
        partners: set[int] = set()
        for members in blocks_of[i]:
            if id(members) not in live:  # alive while blocks_of holds it: the id is its own
                continue
            size = len(members)
            if size <= max_block:
                partners.update(members)
            else:
                _, ordered, place = large[id(members)]
                at = place[i]
                partners.update(ordered[max(0, at - window) : at + window + 1])
        blocks_of[i] = []  # done with: free as we go
        if record.is_new:
            for j in sorted(partners):
                if j > i:
                    yield i, j
        else:
            for j in sorted(partners):
                if j > i and records[j].is_new:
                    yield i, j


def candidate_pairs(
    records: Sequence[PreparedRecord],
    *,
    max_block: int = 20,
    window: int = 5,
) -> set[tuple[int, int]]:
    """Pairs of record indices ``(i, j)`` with ``i < j`` sharing a blocking key.

    Pairs of two existing records (``is_new`` false on both) are left out: they were compared
    when the later of them arrived. A block of more than ``max_block`` records pairs each
    with its ``window`` neighbours in title order only. :func:`iter_candidate_pairs` gives
    the same pairs without holding them all.
    """
    return set(iter_candidate_pairs(records, max_block=max_block, window=window))
