"""What deduplication lets the later steps join (see :mod:`core.hooks`)."""

from core.hooks import Hook

#: Sent inside the transaction whenever clusters change (a run, a merge decided by a person, an
#: undone merge, a new primary), with ``review``, ``actor`` and ``full`` (True when a record
#: merged earlier may have become primary again). Screening adds records that became primary to
#: its queue.
clusters_changed = Hook("clusters_changed")

#: Asked before a run, with ``review``: receivers return the ids of records a later step has
#: started work on (screening: records with votes). They stay their cluster's primary, so a
#: more complete copy found later joins them instead of sending the study back to the queue.
records_in_use = Hook("records_in_use")
