"""The API's pagination: DRF's limit/offset with a ceiling on the limit.

Without ``max_limit`` a client's ``?limit=`` went to the database as it was, and 2**63 or more
(more than a 64-bit LIMIT holds) was a 500. Here a larger limit gives ``max_limit`` results, an
offset past the end gives an empty page (DRF never asks the database for it), and values that
are not whole numbers >= 0 are ignored (the default limit, the first page), as in DRF.
"""

from __future__ import annotations

from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = 1000
    limit_query_description = f"Number of results to return per page (at most {max_limit})."
