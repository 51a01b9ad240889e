"""What the review lets the later steps join (see :mod:`core.hooks`)."""

from core.hooks import Hook

#: Sent inside ``review_create``'s transaction with ``review`` and ``actor`` (its first lead).
#: Screening sets up its settings and default exclusion reasons, attributed to that person.
review_created = Hook("review_created")
