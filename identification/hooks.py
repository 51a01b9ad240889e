"""What identification lets the later steps join (see :mod:`core.hooks`)."""

from core.hooks import Hook

#: Sent by the import job inside its transaction, after a file's records are stored, with
#: ``review``, ``batch``, ``actor`` and ``progress`` (pct 0-100, message). Each receiver returns
#: a dict merged into the import's summary. Deduplication (order 10) compares the new records
#: with the review's; screening (order 20) adds the new primary records to its queue.
records_imported = Hook("records_imported", __doc__ or "")
