"""Small builders shared by the importer tests."""

from __future__ import annotations

import io

from reviews.importers import open_records


def ris_record(title: str = "A title", *, doi: str = "10.1000/xyz", extra: str = "") -> str:
    return (
        f"TY  - JOUR\nTI  - {title}\nAU  - Smith, Jane\nAU  - Doe, John\nPY  - 2020\n"
        f"DO  - {doi}\nSP  - 123\nEP  - 9\n{extra}ER  - \n\n"
    )


def parse_bytes(data: bytes, filename: str = "upload.ris", **kwargs):
    """``(opened, records)`` for an in-memory upload."""
    opened = open_records(io.BytesIO(data), filename=filename, **kwargs)
    return opened, list(opened)
