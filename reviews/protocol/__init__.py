"""The review's protocol: its sections (PRISMA-P), registration, amendments and their diff.

The protocol is part of the review, at the bottom of the dependency order, so every later step
may read its plan: screening shows its eligibility criteria and seeds exclusion reasons from
them, identification lists its planned databases, synthesis reads its synthesis plan
(:func:`reviews.protocol.selectors.synthesis_plan`), and reporting compares plan and practice
(``reporting/deviations.py``).

- ``sections.py`` (pure): the sections and their fields, the choices the statistics engine
  knows, cleaning of content and its SHA-256 fingerprint over canonical JSON;
- ``models.py``: ``ProtocolVersion`` (a draft, the registered version, amendments);
- ``services.py``: every write (save a draft, register, publish an amendment, discard a draft),
  lead only, audited;
- ``selectors.py``: reads, the synthesis plan and the fingerprint check;
- ``diff.py``: side-by-side, word-level differences between two versions;
- ``documents.py`` and ``pdf.py``: a version as Markdown, HTML and PDF, in the order of the
  PROSPERO form;
- ``hooks.py``: ``analyses_run``, which the synthesis app answers with the analyses it ran.
"""
