"""Summary of findings with GRADE certainty (issue 19).

``models`` (app label ``synthesis``, imported from synthesis/models.py), ``services`` (every
write, audited), ``selectors`` (the table as shown: suggestions from ``synthesis.grade`` over
each row's stored result, accepted judgements, certainty, absolute effects, staleness),
``exports`` (HTML, XLSX, CSV), ``views``/``urls`` and ``api``/``api_urls``.
"""
