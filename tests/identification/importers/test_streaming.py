"""A 200,000-record file parses record by record, without holding the file or the records."""

from __future__ import annotations

import io
import os
import time
import tracemalloc

from identification.importers import open_records

RECORDS = 200_000


class GeneratedRIS(io.RawIOBase):
    """A read-only, seekable binary file of ``count`` RIS records made on the fly.

    The test file is never in memory as a whole, so tracemalloc's peak is the parser's own.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.size = sum(len(self._record(i)) for i in range(count))
        self.position = 0
        self.index = 0
        self.buffer = b""

    @staticmethod
    def _record(i: int) -> bytes:
        return (
            f"TY  - JOUR\r\nTI  - Streaming record number {i}\r\nAU  - Author, Number {i}\r\n"
            f"PY  - {1990 + i % 30}\r\nDO  - https://doi.org/10.5555/STREAM.{i}\r\n"
            f"SP  - {i % 900 + 100}-{i % 9 + 1}\r\nER  - \r\n\r\n"
        ).encode()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset != 0:
            raise io.UnsupportedOperation("only rewinding is needed")
        self.position = self.index = 0
        self.buffer = b""
        return 0

    def readinto(self, target) -> int:
        while len(self.buffer) < len(target) and self.index < self.count:
            self.buffer += b"".join(self._record(i) for i in range(self.index, self.index + 200))
            self.index = min(self.index + 200, self.count)
        n = min(len(target), len(self.buffer))
        target[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        self.position += n
        return n


def _rss_bytes() -> int:
    """Resident memory of this process now (Linux), or 0 where /proc is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def test_it_parses_200k_records_in_bounded_memory():
    # tracemalloc slows allocation-heavy code several times over, so it watches only the last
    # WINDOW records: a parser that kept records (or the file) would grow by megabytes there.
    # Resident memory is sampled over the whole run as a second, cruder witness.
    window = 4_000
    source = io.BufferedReader(GeneratedRIS(RECORDS), buffer_size=1 << 16)
    started = time.perf_counter()
    baseline = _rss_bytes()
    highest = baseline
    count = 0
    last = None
    grown = peak = 0
    try:
        opened = open_records(source, filename="big.ris")
        for batch in opened.batches(2000):
            count += len(batch)
            last = batch[-1]
            if count == RECORDS - window:
                tracemalloc.start()
                at_start, _ = tracemalloc.get_traced_memory()
            if count % 20_000 == 0 and not tracemalloc.is_tracing():
                highest = max(highest, _rss_bytes())
            del batch
        current, peak = tracemalloc.get_traced_memory()
        grown = current - at_start
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert count == RECORDS == opened.report.parsed
    assert last is not None
    assert (last.title, last.doi, last.pages) == (
        f"Streaming record number {RECORDS - 1}",
        f"10.5555/stream.{RECORDS - 1}",
        "299-292",  # "299-2" in full
    )
    assert last.source_line == (RECORDS - 1) * 8 + 1
    # The file is ~31 MB; its 200,000 records as objects would take several hundred MB. We
    # hold one batch (2,000 small records, ~3 MB) and a 64 KiB read buffer; keeping the
    # records of the window alone would add ~8 MB (measured).
    assert grown < 1024 * 1024, f"grew {grown / 1e6:.1f} MB over {window} records"
    assert peak < 10 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert highest - baseline < 100 * 1024 * 1024, f"RSS grew {(highest - baseline) / 1e6:.0f} MB"
    # About 5 s on an idle 2-core Xeon, 9 s when the machine is busy; bench/ has the figures.
    assert elapsed < 60, f"{elapsed:.1f} s"
