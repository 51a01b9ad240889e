"""The site's URL patterns, read from the URL resolver, and how to fill in their parameters.

Shared by the access tests (``test_access.py``: outsiders and anonymous visitors on every
review-scoped route) and the persona walk (``test_persona_walk.py``: every route, every
persona). A route with an object id needs a sample object in ``SAMPLE_OBJECTS``; the tests fail
and say so until one is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from core.models import Job
from deduplication.models import DuplicatePair
from identification.models import ImportBatch, Record, Search
from reviews.models import Membership


def _screening(kind: str) -> Callable:
    def find(review) -> int:
        from tests.screening.factories import sample_pk

        return sample_pk(review, kind)

    return find


def _protocol_version(review) -> int:
    from tests.reviews.protocol_factories import sample_version

    return sample_version(review)


def _study(review) -> int:
    from extraction.models import Study

    study = Study.objects.filter(review=review).first()
    return (study or Study.objects.create(review=review, label="Sample 2020")).pk


def _extraction_snapshot(review) -> int:
    from extraction.models import ExtractionSnapshot

    snap = ExtractionSnapshot.objects.filter(review=review).first()
    if snap is None:
        empty = {"studies": [], "left_out": []}
        snap = ExtractionSnapshot.objects.create(
            review=review, number=1, content=empty, sha256="0" * 64
        )
    return snap.pk


def _narrative(review) -> int:
    from tests.synthesis.test_narrative_app_world import sample_narrative

    return sample_narrative(review)


def _synthesis(kind: str) -> Callable:
    def find(review) -> int:
        from tests.synthesis.app_world import sample_objects

        return sample_objects(review)[kind]

    return find


def _sof_row(review) -> int:
    from tests.synthesis.sof_world import sof_sample

    return sof_sample(review)["sof_row"]


SAMPLE_OBJECTS: dict[str, Callable] = {
    # url name -> how to find an object of the review for the route's ``pk``
    "reviews:team_remove": lambda review: Membership.objects.filter(review=review).first().pk,
    "reviews:job": lambda review: Job.objects.filter(review=review).first().pk,
    "api-membership-detail": lambda review: Membership.objects.filter(review=review).first().pk,
    "api-job-detail": lambda review: Job.objects.filter(review=review).first().pk,
    "identification:search": lambda review: Search.objects.filter(review=review).first().pk,
    "identification:search_edit": lambda review: Search.objects.filter(review=review).first().pk,
    "identification:search_delete": lambda review: Search.objects.filter(review=review).first().pk,
    "identification:batch_mapping": lambda review: (
        ImportBatch.objects.filter(review=review).first().pk
    ),
    "identification:record": lambda review: Record.objects.filter(review=review).first().pk,
    "api-search-detail": lambda review: Search.objects.filter(review=review).first().pk,
    "api-search-files": lambda review: Search.objects.filter(review=review).first().pk,
    "api-record-detail": lambda review: Record.objects.filter(review=review).first().pk,
    "deduplication:dedup_decide": lambda review: (
        DuplicatePair.objects.filter(review=review).first().pk
    ),
    "deduplication:dedup_unmerge": lambda review: Record.objects.filter(review=review).first().pk,
    "deduplication:dedup_primary": lambda review: Record.objects.filter(review=review).first().pk,
    "screening:reason_edit": _screening("reason"),
    "screening:reason_move": _screening("reason"),
    "screening:reason_delete": _screening("reason"),
    "screening:ft_report": _screening("ft_item"),
    "screening:ft_report_file": _screening("ft_item"),
    "screening:ft_not_retrieved": _screening("ft_item"),
    "screening:ta_resolve": _screening("ta_item"),
    "screening:ft_resolve": _screening("ft_item"),
    "api-screening-ta-vote-detail": _screening("vote"),
    "api-screening-ta-item": _screening("ta_item"),
    "api-screening-ta-resolve": _screening("ta_item"),
    "api-screening-ft-vote-detail": _screening("vote"),
    "api-screening-ft-item": _screening("ft_item"),
    "api-screening-ft-resolve": _screening("ft_item"),
    "api-dedup-pair": lambda review: DuplicatePair.objects.filter(review=review).first().pk,
    "api-dedup-decide": lambda review: DuplicatePair.objects.filter(review=review).first().pk,
    "api-dedup-unmerge": lambda review: Record.objects.filter(review=review).first().pk,
    "api-dedup-primary": lambda review: Record.objects.filter(review=review).first().pk,
    "api-screening-reason": _screening("reason"),
    "api-screening-reason-move": _screening("reason"),
    "protocol:version": _protocol_version,
    "protocol:version_download": _protocol_version,
    "api-protocol-version": _protocol_version,
    "api-protocol-version-download": _protocol_version,
    "extraction:study": _study,
    "extraction:study_link": _study,
    "extraction:study_unlink": _study,
    "extraction:study_delete": _study,
    "api-study": _study,
    "api-study-link": _study,
    "api-study-unlink": _study,
    "extraction:extract": _study,
    "extraction:extract_done": _study,
    "extraction:compare": _study,
    "extraction:fulltext": _study,
    "api-extractions": _study,
    "api-extraction-done": _study,
    "extraction:rob_assess": _study,
    "extraction:rob_done": _study,
    "extraction:rob_compare": _study,
    "api-rob-assessments": _study,
    "api-rob-done": _study,
    "api-rob-comparison": _study,
    "api-rob-consensus": _study,
    "api-study-comparison": _study,
    "api-study-consensus": _study,
    "api-study-effects": _study,
    **{
        name: _sof_row
        for name in (
            "synthesis:sof_row",
            "api-synthesis-sof-row",
            "api-synthesis-sof-judge",
            "api-synthesis-sof-statement",
            "api-synthesis-sof-redraft",
        )
    },
    "extraction:snapshot": _extraction_snapshot,
    "synthesis:narrative": _narrative,
    "synthesis:narrative_edit": _narrative,
    "synthesis:narrative_delete": _narrative,
    "synthesis:narrative_direction": _narrative,
    "synthesis:narrative_export": _narrative,
    "synthesis:narrative_domains": _narrative,
    "synthesis:narrative_swim": _narrative,
    "synthesis:narrative_swim_md": _narrative,
    "synthesis:narrative_figure": _narrative,
    "api-narrative": _narrative,
    "api-narrative-results": _narrative,
    "api-narrative-directions": _narrative,
    "api-narrative-domains": _narrative,
    "api-narrative-swim": _narrative,
    "api-narrative-export": _narrative,
    "api-narrative-figure": _narrative,
    "api-extraction-snapshot": _extraction_snapshot,
    **{
        name: _synthesis(kind)
        for kind, names in {
            "analysis": [
                "synthesis:analysis",
                "synthesis:analysis_edit",
                "synthesis:analysis_delete",
                "synthesis:analysis_run",
                "api-synthesis-analysis",
                "api-synthesis-run-start",
                "api-synthesis-results",
            ],
            "analysis_run": ["synthesis:run", "api-synthesis-run"],
            "analysis_result": [
                "synthesis:result",
                "synthesis:result_export",
                "synthesis:figure",
                "api-synthesis-result",
                "api-synthesis-result-export",
                "api-synthesis-result-figure",
            ],
        }.items()
        for name in names
    },
}

# Route parameters other than the review and an object id, with a value that exists.
OTHER_KWARGS = {
    "<str:fmt>": "svg",
    "<str:rob_figure>": "summary",  # a risk-of-bias figure
    "<str:figure>": "forest",  # a synthesis result's figure
    "<str:narrative_figure>": "effect_direction",  # a narrative synthesis's figure
    "<str:name>": "included-csv",
    "<str:token>": "no-such-invitation",  # an invitation's link (no invitation has it)
}


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}{p.namespace}:"
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (namespace + p.name) if p.name else None


def all_routes() -> list[tuple[str, str | None]]:
    """Every URL pattern of the site as ``(route, name)``, the admin's apart."""
    return [(route, name) for route, name in _walk(get_resolver().url_patterns)]


def is_review_scoped(route: str) -> bool:
    return "<slug:slug>" in route or "(?P<slug>" in route


def review_scoped_routes() -> list[tuple[str, str | None]]:
    return [(route, name) for route, name in all_routes() if is_review_scoped(route)]


def has_pk(route: str) -> bool:
    return "<int:pk>" in route or "(?P<pk>" in route


def build_path(route: str, name: str | None, review=None, *, pk: int | None = None) -> str:
    """The path of ``route`` in ``review``: its object id is ``pk`` if given, else a sample
    object of ``review`` (``SAMPLE_OBJECTS``)."""
    path = route
    if review is not None:
        path = path.replace("<slug:slug>", review.slug)
        path = re.sub(r"\(\?P<slug>[^)]*\)", review.slug, path)
    if has_pk(path):
        if pk is None:
            assert name in SAMPLE_OBJECTS, (
                f"add a sample object for the review-scoped route {name}: {route}"
            )
            pk = SAMPLE_OBJECTS[name](review)
        path = path.replace("<int:pk>", str(pk))
        path = re.sub(r"\(\?P<pk>[^)]*\)", str(pk), path)
    for pattern, value in OTHER_KWARGS.items():
        path = path.replace(pattern, value)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".")
    path = re.sub(r"\(\?P<format>[^)]*\)", "", path)
    assert "<" not in path and "(?" not in path, f"unfilled parameter in {route}"
    return "/" + path
