"""The risk-of-bias engine: RoB 2 and ROBINS-I questions, domain algorithms and overall rules.

Pure: the standard library only, no Django and no Evident app, so that a methodologist can run
it on its own (``docs/rob_algorithms.md``)::

    >>> from extraction.rob.engine import domain_judgement, overall_judgement
    >>> domain_judgement("rob2", "D1", {"1.1": "Y", "1.2": "Y", "1.3": "N"})
    'Low'
    >>> domain_judgement("rob2", "D3", {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "PN"})
    'Some concerns'
    >>> overall_judgement("rob2", {"D1": "Low", "D2": "Some concerns", "D3": "Low",
    ...                            "D4": "Low", "D5": "Low"})
    'Some concerns'

Tools (``TOOLS``): ``"rob2"`` (``rob2.py``: Sterne et al. BMJ 2019;366:l4898 and the RoB 2 full
guidance document of 22 August 2019; domains ``D1``, ``D2_assignment``, ``D2_adhering``, ``D3``,
``D4``, ``D5``; judgements Low, Some concerns, High) and ``"robins_i"`` (``robins_i.py``: Sterne
et al. BMJ 2016;355:i4919 and its detailed guidance of 2016; domains ``D1`` to ``D7``;
judgements Low, Moderate, Serious, Critical, No information; no domain algorithm is published,
so ``domain_judgement`` returns ``None`` there and the reviewer judges).

Answers map question ids (``"1.1"``) to ``Y``, ``PY``, ``PN``, ``N``, ``NI`` or ``NA``. A
question asked only under a condition is ``NA`` when the condition does not hold (leaving it out
means the same); an answer set that is inconsistent or incomplete raises ``RobAnswerError``
naming the question and why ("2.4 must be NA unless 2.3 is Y or PY").
"""

from __future__ import annotations

from collections.abc import Mapping

from . import rob2, robins_i
from .base import (
    CODES,
    NOT_ASKED,
    OPTIONAL,
    REQUIRED,
    Domain,
    Question,
    RobAnswerError,
    Tool,
    checked_answers,
)
from .base import question_status as _question_status

__all__ = [
    "CODES",
    "NOT_ASKED",
    "OPTIONAL",
    "REQUIRED",
    "TOOLS",
    "Domain",
    "Question",
    "RobAnswerError",
    "Tool",
    "checked_answers_for",
    "domain_judgement",
    "overall_judgement",
    "question_status",
    "questions_asked",
]

TOOLS: dict[str, Tool] = {rob2.TOOL.key: rob2.TOOL, robins_i.TOOL.key: robins_i.TOOL}


def _tool(tool: str) -> Tool:
    found = TOOLS.get(tool) if isinstance(tool, str) else None
    if found is None:
        raise RobAnswerError(f"unknown tool {str(tool)[:30]!r}: one of {', '.join(TOOLS)}")
    return found


def _domain(tool: str, domain: str) -> Domain:
    t = _tool(tool)
    found = t.domain(domain) if isinstance(domain, str) else None
    if found is None:
        raise RobAnswerError(
            f"unknown domain {str(domain)[:30]!r} of {t.name}: one of "
            f"{', '.join(d.id for d in t.domains)}"
        )
    return found


def checked_answers_for(tool: str, domain: str, answers: Mapping[str, str]) -> dict[str, str]:
    """The answers, checked and complete (``NA`` for every question not asked)."""
    return checked_answers(_domain(tool, domain), answers)


def domain_judgement(tool: str, domain: str, answers: Mapping[str, str]) -> str | None:
    """The judgement the tool's published algorithm gives these answers.

    ``None`` for a domain without a published algorithm (every ROBINS-I domain), once the
    answers are checked: the reviewer judges. Raises ``RobAnswerError`` for an unknown tool or
    domain, an unknown question, an answer not allowed, a required question missing, or a
    question answered that is not asked.
    """
    d = _domain(tool, domain)
    complete = checked_answers(d, answers)
    if not d.has_algorithm or d.algorithm is None:
        return None
    return d.algorithm(complete)


def overall_judgement(tool: str, domain_judgements: Mapping[str, str]) -> str:
    """The overall judgement from the domains' judgements.

    Keys ``D1`` to ``D5`` for ``rob2`` (``D2`` being whichever variant was assessed;
    ``D2_assignment`` or ``D2_adhering`` are accepted in its place), ``D1`` to ``D7`` for
    ``robins_i``. Values are
    the tool's judgements. RoB 2: Low if all Low, High if any High, else Some concerns (a
    reviewer may still judge several Some concerns High: an override, not the algorithm).
    ROBINS-I: Sterne et al. 2016, Table 2 (see ``robins_i.overall``).
    """
    t = _tool(tool)
    if not isinstance(domain_judgements, Mapping):
        raise RobAnswerError("domain judgements must map domain ids (D1, D2, ...) to judgements")
    given = rob2._overall_keys(domain_judgements) if t.key == "rob2" else dict(domain_judgements)
    unknown = [str(k)[:30] for k in given if k not in t.overall_keys]
    if unknown:
        raise RobAnswerError(
            f"{unknown[0]!r} is not a domain of {t.name}'s overall rule "
            f"({', '.join(t.overall_keys)})"
        )
    missing = [k for k in t.overall_keys if k not in given]
    if missing:
        raise RobAnswerError(f"the judgement of {', '.join(missing)} is required")
    for k in t.overall_keys:
        if given[k] not in t.judgements:
            raise RobAnswerError(
                f"{k}: judgement {str(given[k])[:30]!r} is not one of {', '.join(t.judgements)}"
            )
    return t.overall(given)


def questions_asked(tool: str, domain: str, answers: Mapping[str, str]) -> list[str]:
    """Ids of the questions to answer given the answers so far, in order; the others must be
    ``NA``. Includes the questions the guidance leaves open (``question_status`` tells them
    apart). Never raises for the answers: a form calls it with partial or stale answers; a
    question whose condition rests on a question not answered yet is not listed yet.
    """
    status = _question_status(_domain(tool, domain), answers)
    return [qid for qid, s in status.items() if s != NOT_ASKED]


def question_status(tool: str, domain: str, answers: Mapping[str, str]) -> dict[str, str]:
    """Each question's status given the answers so far: ``"required"``, ``"optional"`` (the
    guidance leaves it open: answer it or leave it ``NA``) or ``"not asked"`` (must be ``NA``)."""
    return _question_status(_domain(tool, domain), answers)
