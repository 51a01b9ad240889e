"""The worker process of :mod:`.parallel`: ``python -m identification.importers.worker``.

Reads a JSON job on the first line of stdin, then one part of the file a line, and writes the
parts' frames to stdout. A module of its own so that running it does not load
:mod:`.parallel` twice (once as the package's, once as ``__main__``).
"""

from __future__ import annotations

import json
import sys

from identification.importers.parallel import run_worker


def main() -> None:
    stdin = sys.stdin.buffer
    job = json.loads(stdin.readline())
    run_worker(job, (json.loads(line) for line in stdin), sys.stdout.buffer)


if __name__ == "__main__":
    main()
