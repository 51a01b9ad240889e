"""The review's audit log as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from core.spreadsheet import spreadsheet_safe
from reviews import selectors as review_selectors
from reviews.models import Review

AUDIT_CSV_COLUMNS = ["id", "when", "who", "verb", "object_type", "object_id", "object", "changes"]


def audit_csv_rows(*, review: Review) -> Iterator[str]:
    """The review's audit log as CSV text, streamed row by row, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_CSV_COLUMNS)
    yield buffer.getvalue()
    events = review_selectors.audit_events_of(review=review).order_by("created_at", "pk")
    for event in events.iterator(chunk_size=2000):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                event.pk,
                event.created_at.isoformat(),
                spreadsheet_safe(event.actor_username or "system"),
                event.verb,
                event.object_type,
                event.object_id,
                spreadsheet_safe(event.object_repr),
                spreadsheet_safe(json.dumps(event.changes, ensure_ascii=False, sort_keys=True)),
            ]
        )
        yield buffer.getvalue()
