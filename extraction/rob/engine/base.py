"""The shapes every risk-of-bias tool of the engine shares, and the answer checks.

Pure standard library: no Django, no Evident app (``tests/extraction/rob/test_engine_purity.py``).

Answers are the tools' own codes: ``Y`` (yes), ``PY`` (probably yes), ``PN`` (probably no),
``N`` (no), ``NI`` (no information) and ``NA`` (not applicable). A question the guidance asks
only under a condition ("If Y/PY to 2.3: ...") is ``NA`` when the condition does not hold; when
it holds, ``NA`` is an answer only where the guidance offers it ("[If applicable:]").

A question's condition answers one of three ways, from the answers given so far:

- ``True``: it is asked; it must be answered (``REQUIRED``);
- ``False``: it is not asked; it must be ``NA`` (or left out, which means ``NA``) (``NOT_ASKED``);
- ``None``: the guidance leaves it open (ROBINS-I only: it names no route for an ``NI`` answer,
  and its domain 4 has two sets of questions of which the reviewer answers the one matching the
  aim of the assessment); it may be answered or be ``NA`` (``OPTIONAL``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Y, PY, PN, N, NI, NA = "Y", "PY", "PN", "N", "NI", "NA"
#: Every answer code, in the order the tools print them.
CODES: tuple[str, ...] = (Y, PY, PN, N, NI, NA)
YES: frozenset[str] = frozenset({Y, PY})
NO: frozenset[str] = frozenset({N, PN})
#: The five answers of a question asked without condition.
FIVE: tuple[str, ...] = (Y, PY, PN, N, NI)

REQUIRED, OPTIONAL, NOT_ASKED = "required", "optional", "not asked"

#: A condition: the answers so far -> True (asked), False (not asked), None (open).
Condition = Callable[[Mapping[str, str]], "bool | None"]


class RobAnswerError(ValueError):
    """An answer set the tool cannot judge: a message naming the question and why."""


@dataclass(frozen=True)
class Question:
    """One signalling question.

    ``answers`` lists every code a form may offer (``NA`` included for a conditional question);
    ``asked_when`` says in words when it is asked ("" = always). ``na_when_asked`` is true where
    the guidance offers ``NA`` even when the question is asked ("[If applicable:]").
    """

    id: str
    text: str
    answers: tuple[str, ...]
    asked_when: str = ""
    na_when_asked: bool = False
    condition: Condition | None = field(default=None, compare=False, repr=False)

    def status(self, answers: Mapping[str, str]) -> str:
        """``REQUIRED``, ``OPTIONAL`` or ``NOT_ASKED`` given the answers so far."""
        if self.condition is None:
            return REQUIRED
        asked = self.condition(answers)
        if asked is None:
            return OPTIONAL
        return REQUIRED if asked else NOT_ASKED

    def answers_when_asked(self) -> tuple[str, ...]:
        if self.na_when_asked:
            return self.answers
        return tuple(a for a in self.answers if a != NA)


@dataclass(frozen=True)
class Domain:
    """One bias domain: its questions, and whether the tool publishes an algorithm for it.

    ``name`` is the short name ("Randomisation process"), ``title`` the guidance's heading,
    ``source`` where its questions and algorithm come from.
    """

    id: str
    name: str
    questions: tuple[Question, ...]
    has_algorithm: bool
    title: str = ""
    source: str = ""
    algorithm: Callable[[Mapping[str, str]], str] | None = field(
        default=None, compare=False, repr=False
    )
    #: A check over the whole answer set, beyond each question's own (raises RobAnswerError).
    check: Callable[[Mapping[str, str]], None] | None = field(
        default=None, compare=False, repr=False
    )

    def question(self, qid: str) -> Question | None:
        for q in self.questions:
            if q.id == qid:
                return q
        return None


@dataclass(frozen=True)
class Tool:
    """A risk-of-bias tool: its domains and its judgements, best to worst."""

    key: str
    name: str
    citation: str
    domains: tuple[Domain, ...]
    judgements: tuple[str, ...]
    high: frozenset[str]
    overall: Callable[[Mapping[str, str]], str] = field(compare=False, repr=False)
    #: The domain keys of the overall rule (RoB 2: D1..D5, D2 being either variant).
    overall_keys: tuple[str, ...] = ()

    def domain(self, domain_id: str) -> Domain | None:
        for d in self.domains:
            if d.id == domain_id:
                return d
        return None


def one_of(codes: tuple[str, ...] | frozenset[str]) -> str:
    """``Y, PY, PN, N, NI`` in the tools' order."""
    return ", ".join(c for c in CODES if c in codes)


def or_list(codes: tuple[str, ...] | frozenset[str]) -> str:
    """``Y or PY``; ``Y, PY or NI``."""
    ordered = [c for c in CODES if c in codes]
    if len(ordered) == 1:
        return ordered[0]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


def checked_answers(domain: Domain, answers: Mapping[str, str]) -> dict[str, str]:
    """The answers, complete (``NA`` filled in for questions not asked), or RobAnswerError.

    Questions are checked in order, so a message is about the first question out of place.
    """
    if not isinstance(answers, Mapping):
        raise RobAnswerError("answers must map question ids (such as '1.1') to answer codes")
    known = [q.id for q in domain.questions]
    unknown = [str(k) for k in answers if k not in known]
    if unknown:
        raise RobAnswerError(
            f"{unknown[0]!r} is not a question of {domain.id} ({domain.name}); "
            f"its questions are {', '.join(known)}"
        )
    out: dict[str, str] = {}
    view = _view(answers)
    for q in domain.questions:
        value = answers.get(q.id)
        if value is not None and (not isinstance(value, str) or value not in q.answers):
            raise RobAnswerError(
                f"{q.id}: answer {str(value)[:20]!r} is not one of {one_of(q.answers)}"
            )
        status = q.status(view)
        when = f" (asked when {q.asked_when})" if q.asked_when else ""
        if status == NOT_ASKED:
            if value not in (None, NA):
                raise RobAnswerError(f"{q.id} must be NA unless {q.asked_when}")
            out[q.id] = view[q.id] = NA
        elif status == REQUIRED:
            if value is None:
                raise RobAnswerError(f"{q.id} is required{when}")
            allowed = q.answers_when_asked()
            if value not in allowed:
                raise RobAnswerError(
                    f"{q.id} is asked{' because ' + q.asked_when if q.asked_when else ''}: "
                    f"answer {value!r} is not one of {one_of(allowed)}"
                )
            out[q.id] = value
        else:  # OPTIONAL
            out[q.id] = NA if value is None else value
    if domain.check is not None:
        domain.check(out)
    return out


def _view(answers: Mapping[str, str]) -> dict[str, str]:
    """What conditions read: the string answers given (a question found not asked then reads
    as ``NA``, so a stale answer to it opens nothing further)."""
    if not isinstance(answers, Mapping):
        return {}
    return {str(k): v for k, v in answers.items() if isinstance(v, str)}


def question_status(domain: Domain, answers: Mapping[str, str]) -> dict[str, str]:
    """Each question's status given the answers so far, without checking them."""
    view = _view(answers)
    status: dict[str, str] = {}
    for q in domain.questions:
        status[q.id] = q.status(view)
        if status[q.id] == NOT_ASKED:
            view[q.id] = NA
    return status


def worst(judgements: tuple[str, ...], *found: str) -> str:
    """The worst of ``found`` in the order ``judgements`` (best first)."""
    return max(found, key=judgements.index)
