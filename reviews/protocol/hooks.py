"""What the protocol lets the later steps join (see :mod:`core.hooks`)."""

from core.hooks import Hook

#: Sent by the deviation report (``reporting/deviations.py``) with ``review``: which analyses
#: were run. The synthesis app answers (from its ``AppConfig.ready``) with a list of dicts, one
#: per analysis run: ``name``, ``effect_measure`` (a measure of ``synthesis.stats.escalc``),
#: ``estimator`` (``synthesis.stats.METHODS``: FE, REML, DL, ...), ``knapp_hartung`` (bool),
#: ``subgroups``, ``sensitivity`` (lists of names) and ``publication_bias`` (funnel, egger,
#: rank, trimfill); keys it cannot say are left out. No receiver: no analysis run yet.
analyses_run = Hook("analyses_run")
