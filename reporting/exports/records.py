"""Records as RIS or CSV files: the record list's export and the included studies'."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from typing import IO

from identification import importers
from identification.models import Record


def records_for_export(records: Iterable[Record]):
    """(ParsedRecord, extra columns) pairs for the pure writers."""
    fields = importers.ParsedRecord.NORMALISED_FIELDS
    for r in records:
        values = {name: getattr(r, name) for name in fields}
        # Lists are copied: the writers must not share the model's lists.
        values["authors"], values["keywords"] = list(r.authors), list(r.keywords)
        parsed = importers.ParsedRecord(**values)
        yield (
            parsed,
            {
                "id": r.pk,
                "search": r.search_id,
                "database": r.search.database,
                "cluster_id": r.cluster_id,
                "duplicate_of": r.duplicate_of_id,
            },
        )


def records_export(records, fmt: str) -> IO[bytes]:
    """Write ``records`` as RIS or CSV into a temporary file (on disk past 8 MB), rewound."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20, mode="w+b")  # noqa: SIM115 - returned open
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    rows = records_for_export(records.iterator(chunk_size=2000))
    if fmt == "ris":
        importers.write_ris((parsed for parsed, _extra in rows), text)
    else:
        importers.write_csv(rows, text, trailing_columns=("cluster_id", "duplicate_of"))
    text.flush()
    text.detach()
    spool.seek(0)
    return spool
