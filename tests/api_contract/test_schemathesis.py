"""The API keeps its contract: schemathesis drives every operation of ``/api/schema/``.

The demo review (a lead, two reviewers, a statistician, five searches with records imported,
screening with votes and a conflict) is built in the test database; then every operation is
called with generated data with the lead's token, a reviewer's (who has votes of their own, so
that the vote routes reach real votes under blinding) and an outsider's (a lead of another
review, member of nothing here). Every response must:

- not be a server error (``not_a_server_error``);
- have a documented status code, content type and body (``status_code_conformance``,
  ``content_type_conformance``, ``response_schema_conformance``);
- for the outsider, on every route under ``/api/reviews/{slug}/`` of the demo review, be a 404
  (or a documented 401/403), never data; and the outsider's review list never names it.

Path parameters are drawn mostly from the real review (its slug, the ids of its searches,
records, memberships, jobs, screening items and votes), so that the calls reach real objects and
not only 404s. Each call runs inside a savepoint that is rolled back, so a lead's DELETE or a
vote does not change what the next call sees.

The size of the run is ``EVIDENT_API_CONTRACT_EXAMPLES`` examples per operation and persona
(default 3, for ``make test``; ``.ci/run`` sets more). Generation is derandomised: a run is
reproducible, and a failure names the operation, the request (as curl) and the broken check.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.models import Job
from deduplication.models import DuplicatePair
from demo.build import demo_build
from extraction.models import ExtractionSnapshot, Study
from identification.models import Record, Search
from reviews.models import Membership
from reviews.protocol.models import ProtocolVersion
from screening.constants import ItemStatus, Stage
from screening.models import ExclusionReason, ScreeningItem, Vote
from tests.conftest import make_user

EXAMPLES = int(os.environ.get("EVIDENT_API_CONTRACT_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
STAGE_SEGMENT = {"title-abstract": Stage.TITLE_ABSTRACT, "full-text": Stage.FULL_TEXT}


@contextmanager
def _wsgi_app():
    """Django's WSGI application talking to the test database inside the test's transaction.

    As Django's test client does, requests must not close the connection at their start and
    end (that would end the test's transaction).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # Thousands of expected 4xx would each log a warning; server errors still log.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        yield get_wsgi_application()
    finally:
        request_log.setLevel(level)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _ids(review) -> dict[str, list[int]]:
    """The ids of the review's objects, by the path segment that names them."""
    ids = {
        "searches": list(Search.objects.filter(review=review).values_list("pk", flat=True)),
        "records": list(Record.objects.filter(review=review).values_list("pk", flat=True)[:50]),
        "memberships": list(Membership.objects.filter(review=review).values_list("pk", flat=True)),
        "jobs": list(Job.objects.filter(review=review).values_list("pk", flat=True)),
        "duplicates/pairs": list(
            DuplicatePair.objects.filter(review=review).values_list("pk", flat=True)[:50]
        ),
        # Records merged into another (undo, primary) first, then any.
        "duplicates/records": list(
            Record.objects.filter(review=review, cluster__isnull=False).values_list(
                "pk", flat=True
            )[:50]
        ),
        "reasons": list(ExclusionReason.objects.filter(review=review).values_list("pk", flat=True)),
        "protocol/versions": list(
            ProtocolVersion.objects.filter(review=review).values_list("pk", flat=True)
        ),
    }
    # Data extraction's studies (one made when the demo has none yet).
    ids["extraction/studies"] = list(
        Study.objects.filter(review=review).values_list("pk", flat=True)
    ) or [Study.objects.create(review=review, label="Contract 2020").pk]
    ids["extraction/rob/studies"] = ids["extraction/studies"]  # risk of bias, by study
    # Finalised extraction snapshots (one made when the demo has none yet).
    ids["extraction/snapshots"] = list(
        ExtractionSnapshot.objects.filter(review=review).values_list("pk", flat=True)
    ) or [
        ExtractionSnapshot.objects.create(
            review=review, number=1, content={"studies": [], "left_out": []}, sha256="0" * 64
        ).pk
    ]
    # Synthesis: an analysis with a stored result and its finished run.
    from tests.synthesis.app_world import sample_objects

    synthesis = sample_objects(review)
    ids["synthesis/analyses"] = [synthesis["analysis"]]
    ids["synthesis/results"] = [synthesis["analysis_result"]]
    ids["synthesis/runs"] = [synthesis["analysis_run"]]
    # Narrative synthesis (issue 22): a sample with a direction set by hand.
    from tests.synthesis.test_narrative_app_world import sample_narrative

    ids["synthesis/narrative"] = [sample_narrative(review)]
    # Summary of findings (issue 19): a table with one row on the sample analysis.
    from tests.synthesis.sof_world import sof_sample

    ids["synthesis/sof/rows"] = [sof_sample(review)["sof_row"]]
    for segment, stage in STAGE_SEGMENT.items():
        items = ScreeningItem.objects.filter(review=review, stage=stage)
        ids[f"{segment}/items"] = list(items.values_list("pk", flat=True)[:50])
        ids[f"{segment}/conflicts"] = list(
            items.filter(status=ItemStatus.CONFLICT).values_list("pk", flat=True)
        ) or list(items.values_list("pk", flat=True)[:5])
        ids[f"{segment}/votes"] = list(
            Vote.objects.filter(review=review, item__stage=stage).values_list("pk", flat=True)[:50]
        )
    return ids


def _id_source(path: str, ids: dict[str, list[int]]) -> list[int]:
    # The longest key first: ``duplicates/records`` before ``records``.
    for key in sorted(ids, key=len, reverse=True):
        if re.search(rf"/{re.escape(key)}/\{{id\}}", path):
            return ids[key]
    raise AssertionError(f"no ids known for {path}; add them to _ids()")


def _path_parameters(operation, review, ids) -> st.SearchStrategy[dict]:
    """Mostly the real review and its objects; sometimes anything the schema allows."""
    path = operation.path
    fixed: dict[str, st.SearchStrategy] = {}
    if "{slug}" in path:
        fixed["slug"] = st.sampled_from([review.slug, review.slug, review.slug, "elsewhere"])
    if "{id}" in path:
        real = _id_source(path, ids)
        fixed["id"] = (
            st.one_of(st.sampled_from(real), st.integers(min_value=1, max_value=2**31 - 1))
            if real
            else st.integers(min_value=1, max_value=2**31 - 1)
        )
    return st.fixed_dictionaries(fixed)


def _outsider_check(operation, case, response, review) -> str | None:
    """The outsider learns nothing of a review they are not in."""
    params = case.path_parameters or {}
    if params.get("slug") == review.slug:
        documented = set(operation.responses.status_codes)
        allowed = {404} | {code for code in (401, 403) if str(code) in documented}
        if response.status_code not in allowed:
            return f"outsider got {response.status_code} for the review {review.slug!r}"
    listing = operation.path == "/api/reviews/" and operation.method.upper() == "GET"
    if listing and response.status_code == 200:
        slugs = {r.get("slug") for r in response.json().get("results", [])}
        if review.slug in slugs or review.title in response.text:
            return "outsider's review list names the review"
    return None


def _brief(exc: BaseException, limit: int = 1500) -> str:
    """A failure's report, cut to a readable length (generated bodies can be huge)."""
    text = str(exc)
    for sub in getattr(exc, "exceptions", ()):
        text += f"\n  - {type(sub).__name__}: {str(sub)[:300]}"
    return text if len(text) <= limit else text[:limit] + " …"


def _run_operation(
    operation, *, app, token, review, ids, outsider: bool, statuses: Counter
) -> list[str]:
    failures: list[str] = []
    headers = {"Authorization": f"Token {token}"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        # Shrinking multiplies the calls; the first failure of each operation is enough.
        phases=[p for p in settings.default.phases if p.name != "shrink"],
        print_blob=False,
    )
    @given(data=st.data())
    def run(data):
        mode = data.draw(st.sampled_from(list(GenerationMode)), label="mode")
        path_parameters = data.draw(_path_parameters(operation, review, ids), label="path")
        case = data.draw(
            operation.as_strategy(generation_mode=mode, path_parameters=path_parameters),
            label="case",
        )
        with transaction.atomic():
            try:
                response = case.call(app=app, headers=headers)
                statuses[(operation.label, response.status_code)] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (AssertionError, FailureGroup) as exc:
                    failures.append(f"{operation.label} [{mode}]: {_brief(exc)}")
                    return
                if outsider:
                    problem = _outsider_check(operation, case, response, review)
                    if problem:
                        failures.append(
                            f"{operation.label}: {problem}\n{case.as_curl_command(headers)}"
                        )
            finally:
                transaction.set_rollback(True)

    run()
    return list(dict.fromkeys(failures))  # Hypothesis replays a failing example at the end


@pytest.fixture
def contract_world(db):
    review = demo_build()
    outsider = make_user("contract_outsider")
    from reviews import services

    services.review_create(user=outsider, title="Someone else's review", slug="elsewhere")
    lead = review.memberships.filter(role="lead").first().user
    reviewer = review.memberships.filter(role="reviewer").first().user
    return {
        "review": review,
        "ids": _ids(review),
        "tokens": {
            "lead": Token.objects.create(user=lead).key,
            "reviewer": Token.objects.create(user=reviewer).key,
            "outsider": Token.objects.create(user=outsider).key,
        },
    }


@pytest.mark.parametrize("persona", ["lead", "reviewer", "outsider"])
def test_every_api_operation_keeps_its_contract(contract_world, persona):
    review = contract_world["review"]
    with _wsgi_app() as app:
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30, "the schema lost its operations"
        failures: list[str] = []
        statuses: Counter = Counter()
        for operation in operations:
            failures += _run_operation(
                operation,
                app=app,
                token=contract_world["tokens"][persona],
                review=review,
                ids=contract_world["ids"],
                outsider=persona == "outsider",
                statuses=statuses,
            )
    for (label, code), n in sorted(statuses.items()):
        print(f"{persona:8} {label:75} {code} x{n}")
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(failures)
