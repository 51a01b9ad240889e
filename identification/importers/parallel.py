"""Read a large export in several processes: the file cut into parts at record boundaries,
each part parsed, normalised and encoded as COPY rows by a worker, the rows handed back in
file order.

Why: parsing and normalising is pure Python and single-threaded, and on a large file it is
most of an import's time (the database stores rows faster than one process makes them).
Worker processes rather than :mod:`multiprocessing`: a Celery prefork worker is a daemonic
process, which may not have multiprocessing children; a plain subprocess it may. The workers
import only this package (no Django), so they start in a fraction of a second.

How the file is cut: at a line that opens a record (RIS ``TY  - ``), so every part starts with
a record and no record spans two parts. The reader of a part is told the file line its part
starts at (records and errors name the same lines as a whole-file read) and whether more
follows (a record left open at a part's end was closed by the next part's ``TY``, as when the
whole file is read). Only encodings in which a line end is one byte that never occurs inside
a character (UTF-8, cp1252, Latin-1) are cut; anything else is read whole, in one process.

Order and memory: part *i* goes to worker ``i % processes``; each worker does its parts in
order, so the parent takes rows part by part, and the same file gives the same rows in the
same order however many workers ran. Each worker's rows wait in a short queue: a worker that
runs ahead blocks instead of filling memory.

Protocol (worker stdout): frames of ``kind (1 byte), part (uint32), records (uint32), length
(uint32)`` and ``length`` bytes: ``R`` rows, ``D`` the part's report (JSON), ``E`` an
:class:`ImportFormatError` (JSON), after which the worker stops.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import logging
import os
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from identification.importers.api import ImportReport, Skipped, _checked
from identification.importers.encoding import iter_line_lists
from identification.importers.errors import ImportFormatError
from identification.importers.formats import Format
from identification.importers.pgcopy import RowFormat
from identification.importers.ris import read_ris_lists

#: What a part of each splittable format starts with (after a line end).
SPLIT_MARKERS = {Format.RIS: b"\nTY  - "}
#: Encodings whose line ends are single bytes that no other character contains.
SPLIT_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "cp1252", "latin-1"})
#: Records per frame of rows (about 2 MB of Scopus records with their references).
FRAME_RECORDS = 500
#: Frames a worker may have waiting for the parent.
QUEUE_FRAMES = 8
_BLOCK = 1 << 22
_HEADER = struct.Struct("!cIII")
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger(__name__)


class WorkerFailed(RuntimeError):
    """A worker process died without reporting (killed, out of memory, a bug)."""


@dataclass(frozen=True)
class Part:
    """Bytes ``start:end`` of the file; ``first_line`` is the file line that ``start`` opens."""

    index: int
    start: int
    end: int
    first_line: int
    last: bool


def _line_ends(block: bytes, start: int, end: int, previous: int) -> int:
    """Line ends (LF, CR or CRLF, as :func:`~.encoding.iter_chunks` counts them) in
    ``block[start:end]``; ``previous`` is the byte before ``start`` (-1: none), so that the LF
    of a CRLF cut in two is not counted twice."""
    if end <= start:
        return 0
    # numpy counts bytes several times faster than bytes.count() (0.27 s against 0.6 s for
    # the line ends of a 435 MB file), and this pass is work the workers wait for. Imported
    # here: the workers, which never cut, start faster without it.
    import numpy as np

    data = np.frombuffer(block, dtype=np.uint8, count=end - start, offset=start)
    cr = int(np.count_nonzero(data == 13))
    count = int(np.count_nonzero(data == 10)) + cr
    if cr:
        count -= int(np.count_nonzero((data[:-1] == 13) & (data[1:] == 10)))
    if previous == 13 and data[0] == 10:
        count -= 1
    return count


def splittable(fmt: Format, encoding: str) -> bool:
    """Whether a file of this format and encoding can be read in parts."""
    return fmt in SPLIT_MARKERS and encoding in SPLIT_ENCODINGS


def iter_parts(binary: BinaryIO, *, fmt: Format, part_bytes: int) -> Iterator[Part]:
    """Cut the file into parts of about ``part_bytes`` (at least one part), as it is read.

    Reads the whole file once (line numbers need every line end before a cut); a part is
    yielded as soon as the next cut is found, so workers can start before the end.
    """
    marker = SPLIT_MARKERS[fmt]
    binary.seek(0)
    index = 0
    part_start, part_line = 0, 1
    lines = 0  # line ends before ``position``
    position = 0  # file offset of the start of ``block``
    target = max(part_bytes, 1)
    tail = b""  # the last bytes of the previous block, for a marker across two blocks
    while block := binary.read(_BLOCK):
        found: list[int] = []  # cuts in this block (offsets in the block)
        if tail:
            across = (tail + block[: len(marker) - 1]).find(marker)
            if across >= 0 and position - len(tail) + across + 1 >= target:
                found.append(across + 1 - len(tail))  # the cut falls in this block
        # A marker at ``search`` puts its cut (after the line end) at ``target``.
        search = max(target - position - 1, 0)
        counted = 0
        previous = tail[-1] if tail else -1
        while True:
            if found:
                cut = found.pop()
            else:
                at = block.find(marker, search)
                if at < 0:
                    break
                cut = at + 1
            lines += _line_ends(block, counted, cut, previous)
            previous = block[cut - 1] if cut > 0 else previous
            counted = max(cut, 0)
            yield Part(index, part_start, position + cut, part_line, False)
            index += 1
            part_start, part_line = position + cut, lines + 1
            target = part_start + part_bytes
            search = max(target - position - 1, cut)
        lines += _line_ends(block, counted, len(block), previous)
        position += len(block)
        tail = block[-(len(marker) - 1) :]
    binary.seek(0)
    yield Part(index, part_start, position, part_line, True)


# --- the worker ---------------------------------------------------------------------------


def _part_codec(encoding: str, start: int) -> str:
    # Only the first part starts with the byte-order mark.
    return "utf-8" if encoding == "utf-8-sig" and start else encoding


class _Slice(io.RawIOBase):
    """Bytes ``start:end`` of an open binary file, as a file of their own (read only; nothing
    else may move the file's position while it is read)."""

    def __init__(self, binary: BinaryIO, start: int, end: int) -> None:
        binary.seek(start)
        self._binary = binary
        self._position = start
        self._end = end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        size = min(len(buffer), self._end - self._position)
        if size <= 0:
            return 0
        data = self._binary.read(size)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _send(out: BinaryIO, kind: bytes, index: int, records: int, payload: bytes) -> None:
    out.write(_HEADER.pack(kind, index, records, len(payload)))
    out.write(payload)


def run_worker(job: dict[str, Any], parts: Iterable[list[Any]], out: BinaryIO) -> None:
    """Parse ``parts`` (``[index, start, end, first_line, last]`` lists, as they come) of the
    file that ``job`` names, writing their frames to ``out`` (see the module)."""
    fmt = Format(job["format"])
    if fmt not in SPLIT_MARKERS:
        raise ValueError(f"{fmt.value} files are not read in parts")
    rows = RowFormat.from_json(job["columns"])
    with open(job["path"], "rb") as fh:
        for index, start, end, first_line, last in parts:
            # Streamed, not read whole: a part is cut at the first record after its target
            # size, so a file with few record starts can make one very large part.
            text = io.TextIOWrapper(
                io.BufferedReader(_Slice(fh, start, end), buffer_size=1 << 16),
                encoding=_part_codec(job["encoding"], start),
                errors="replace",
                newline="",
            )
            report = ImportReport()
            records = _checked(
                read_ris_lists(iter_line_lists(text), first_line=first_line, last=last), report
            )
            try:
                while chunk := list(itertools.islice(records, FRAME_RECORDS)):
                    _send(out, b"R", index, len(chunk), rows.encode(chunk))
            except ImportFormatError as exc:
                error = {"message": str(exc), "line": exc.line}
                _send(out, b"E", index, 0, json.dumps(error).encode())
                out.flush()
                return
            done = {
                "parsed": report.parsed,
                "skipped": [[item.line, item.reason] for item in report.skipped],
                "skipped_count": report.skipped_count,
            }
            _send(out, b"D", index, 0, json.dumps(done).encode())
            out.flush()


# --- the parent ----------------------------------------------------------------------------


def _error_from(payload: bytes) -> ImportFormatError:
    error = json.loads(payload)
    line, message = error.get("line"), str(error["message"])
    prefix = f"line {line}: "
    if line and message.startswith(prefix):
        message = message[len(prefix) :]
    return ImportFormatError(message, line=line)


def _read_frames(stream: BinaryIO, frames: queue.Queue, stop: threading.Event) -> None:
    read = stream.read
    try:
        while not stop.is_set():
            header = read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            kind, index, records, length = _HEADER.unpack(header)
            payload = read(length)
            if len(payload) < length:
                break
            if not _put(frames, (kind, index, records, payload), stop):
                return
    finally:
        _put(frames, (b"", 0, 0, b""), stop)  # end of stream: the worker stopped


def _put(frames: queue.Queue, item: tuple, stop: threading.Event) -> bool:
    """Queue ``item``, waiting while the queue is full, unless the reader is being closed."""
    while not stop.is_set():
        try:
            frames.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


class PartsReader:
    """Run workers over ``parts`` of the file at ``path``; iterate for ``(records, rows, done)``
    in file order, ``done`` being the bytes of the file read so far.

    Skipped records are added to ``report`` as their part completes. Raises the first (in
    file order) :class:`ImportFormatError` a worker met, or :class:`WorkerFailed`. Always
    stops its workers (use it as a context manager, or call :meth:`close`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        parts: Iterable[Part],
        fmt: Format,
        encoding: str,
        row_format: RowFormat,
        processes: int,
        report: ImportReport,
        on_close: Callable[[], object] | None = None,
    ) -> None:
        self._parts = iter(parts)
        self.parts: list[Part] = []
        self.report = report
        self.processes = max(1, processes)
        self._on_close = on_close
        self._stop = threading.Event()
        self._workers: list[subprocess.Popen] = []
        self._errors: list[Any] = []
        self._queues: list[queue.Queue] = []
        self._threads: list[threading.Thread] = []
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(_PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        # The same job for every worker; the parts follow, a line each (see _hand_out).
        job = {
            "path": str(path),
            "format": fmt.value,
            "encoding": encoding,
            "columns": row_format.to_json(),
        }
        header = json.dumps(job).encode() + b"\n"
        try:
            for number in range(self.processes):
                errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
                self._errors.append(errors)
                worker = subprocess.Popen(
                    [sys.executable, "-m", "identification.importers.worker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    cwd=_PROJECT_ROOT,
                    env=env,
                )
                self._workers.append(worker)
                worker.stdin.write(header)
                worker.stdin.flush()
                frames: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
                thread = threading.Thread(
                    target=_read_frames,
                    args=(worker.stdout, frames, self._stop),
                    name=f"import-part-reader-{number}",
                    daemon=True,
                )
                thread.start()
                self._queues.append(frames)
                self._threads.append(thread)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> PartsReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _hand_out(self) -> None:
        """Give every part to its worker as the cutting finds it, then close their input."""
        alive = [True] * self.processes
        for part in self._parts:
            self.parts.append(part)
            number = part.index % self.processes
            if alive[number]:
                line = [part.index, part.start, part.end, part.first_line, part.last]
                try:
                    self._workers[number].stdin.write(json.dumps(line).encode() + b"\n")
                    self._workers[number].stdin.flush()
                except BrokenPipeError:  # it died: reading its frames will say why
                    alive[number] = False
        for worker in self._workers:
            with contextlib.suppress(BrokenPipeError):
                worker.stdin.close()

    def __iter__(self) -> Iterator[tuple[int, bytes, int]]:
        self._hand_out()
        for part in self.parts:
            number = part.index % self.processes
            frames = self._queues[number]
            while True:
                kind, index, records, payload = frames.get()
                if kind == b"R" and index == part.index:
                    yield records, payload, part.start
                elif kind == b"D" and index == part.index:
                    done = json.loads(payload)
                    self.report.add(
                        ImportReport(
                            parsed=done["parsed"],
                            skipped=[Skipped(line, reason) for line, reason in done["skipped"]],
                            skipped_count=done["skipped_count"],
                        )
                    )
                    yield 0, b"", part.end
                    break
                elif kind == b"E" and index == part.index:
                    raise _error_from(payload)
                else:
                    raise WorkerFailed(self._failure(number))

    def _failure(self, number: int) -> str:
        worker = self._workers[number]
        try:
            code = worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        errors = self._errors[number]
        errors.seek(0)
        tail = errors.read()[-4000:].decode("utf-8", "replace").strip()
        if tail:
            logger.error("import worker %s stopped (exit code %s):\n%s", number, code, tail)
        # The message is shown to the user: the last line (the exception), not the traceback.
        last = tail.splitlines()[-1] if tail else ""
        return f"import worker {number} stopped (exit code {code})" + (f": {last}" if last else "")

    def close(self) -> None:
        self._stop.set()
        for worker in self._workers:
            if worker.poll() is None:
                worker.kill()
            with contextlib.suppress(OSError):
                worker.stdin.close()
        for worker in self._workers:
            worker.wait()
            if worker.stdout:
                worker.stdout.close()
        for thread in self._threads:
            thread.join(timeout=5)
        for errors in self._errors:
            errors.close()
        self._workers, self._threads, self._errors = [], [], []
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
