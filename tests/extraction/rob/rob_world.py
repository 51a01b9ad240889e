"""A review with two assessors, a third extractor, a viewer and studies, for the risk-of-bias
app's tests; and helpers that answer a whole RoB 2 assessment through the engine."""

from __future__ import annotations

import pytest

from extraction.models import Study
from extraction.rob import selectors, services
from reviews import services as review_services
from reviews.constants import Role
from tests.conftest import make_user

A_MARKER = "A-ROB-MARKER-71c2"
B_MARKER = "B-ROB-MARKER-9f3a"


def member(review, lead, name, role):
    user = make_user(name)
    review_services.membership_add(actor=lead, review=review, identifier=name, roles=[role])
    return user


@pytest.fixture
def rob_a(review, lead):
    return member(review, lead, "rob_a", Role.EXTRACTOR)


@pytest.fixture
def rob_b(review, lead):
    return member(review, lead, "rob_b", Role.EXTRACTOR)


@pytest.fixture
def rob_third(review, lead):
    return member(review, lead, "rob_third", Role.EXTRACTOR)


@pytest.fixture
def rob_viewer(review, lead):
    return member(review, lead, "rob_viewer", Role.VIEWER)


@pytest.fixture
def trial(review):
    return Study.objects.create(review=review, label="Aronson 1948")


def full_answers(review, prefer=("N", "NI", "Y", "PN", "PY"), variant="assignment") -> dict:
    """Answers to every question the engine asks, each the first of ``prefer`` allowed."""
    from extraction.rob import engine

    tool = selectors.tool_of(selectors.settings_of(review))
    out = {}
    for d in tool["domains"]:
        engine_id = selectors.engine_domain(tool, d["id"], variant)
        dom = engine.TOOLS[tool["key"]].domain(engine_id)
        answers: dict[str, str] = {}
        for _ in range(len(dom.questions) + 1):
            asked = engine.questions_asked(tool["key"], engine_id, answers)
            open_ = [q for q in asked if q not in answers]
            if not open_:
                break
            for qid in open_:
                allowed = dom.question(qid).answers
                answers[qid] = next(a for a in prefer if a in allowed)
        out[d["id"]] = answers
    return out


def assess(
    review,
    user,
    study,
    *,
    prefer=("N", "NI", "Y", "PN", "PY"),
    support=None,
    done=True,
    judgements=None,
    overall=None,
    outcome="",
):
    saved = services.assessment_save(
        actor=user,
        review=review,
        study=study,
        outcome=outcome,
        answers=full_answers(review, prefer),
        support=support or {},
        judgements=judgements or {},
        overall=overall,
    )
    if done:
        saved = services.assessment_mark(
            actor=user, review=review, study=study, outcome=outcome, done=True
        )
    return saved
