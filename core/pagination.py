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


def page_serializer(serializer_class, name: str):
    """The schema of a page of ``serializer_class`` items, for views that page by hand
    (:func:`paginated`): ``count``, ``next``, ``previous`` and ``results``."""
    from rest_framework import serializers

    return type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": f"A page of {serializer_class.__name__.removesuffix('Serializer')}s "
            "(limit/offset, like every list of the API).",
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def page_parameters() -> list:
    """``limit`` and ``offset`` as the schema documents them for a paged list."""
    from drf_spectacular.utils import OpenApiParameter

    return [
        OpenApiParameter("limit", int, description=LimitOffsetPagination.limit_query_description),
        OpenApiParameter("offset", int, description="The initial index of the results."),
    ]


def paginated(view, request, items: list, serializer_class):
    """A page of ``items`` (already plain data) answered as every list of the API answers."""
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
