"""When a record settles and when it is a conflict: one pure function, no Django.

The rules, for the votes a record has at one stage:

* fewer votes than the review requires: the record waits (pending);
* every vote Include: included; every vote Exclude: excluded, with the one reason the votes
  give (a vote without a reason takes nothing away);
* any disagreement is a conflict, and so is a Maybe unless the review counts a Maybe as Include;
* Exclude votes with different reasons: where reasons must agree (full text: PRISMA 2020 reports
  each excluded report under one reason) a conflict; elsewhere (title and abstract) the votes
  agree, and the outcome carries no reason, so that neither voter's reason silently stands for
  both: each stays on its vote, and the caller shows them together.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"
PENDING, CONFLICT, INCLUDED, EXCLUDED = "pending", "conflict", "included", "excluded"


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: Hashable | None = None
    why: str = ""


def decide(
    decisions: Sequence[str],
    *,
    required: int,
    maybe_is_include: bool = False,
    reasons: Sequence[Hashable | None] | None = None,
    reasons_must_agree: bool = False,
) -> Outcome:
    """The outcome of ``decisions`` (in the order they were cast) and their ``reasons``."""
    if required < 1:
        raise ValueError("a record needs at least one vote")
    if reasons is not None and len(reasons) != len(decisions):
        raise ValueError("one reason (or None) per decision")
    if len(decisions) < required:
        return Outcome(PENDING)
    unknown = set(decisions) - {INCLUDE, EXCLUDE, MAYBE}
    if unknown:
        raise ValueError(f"unknown decision(s): {sorted(unknown)}")
    effective = [INCLUDE if (d == MAYBE and maybe_is_include) else d for d in decisions]
    if MAYBE in effective:
        return Outcome(CONFLICT, why="a reviewer voted Maybe")
    if all(d == INCLUDE for d in effective):
        return Outcome(INCLUDED)
    if all(d == EXCLUDE for d in effective):
        given = [r for r in (reasons or []) if r is not None]
        if len(set(given)) > 1:
            if reasons_must_agree:
                return Outcome(CONFLICT, why="the reasons for excluding differ")
            return Outcome(EXCLUDED, why="excluded for different reasons, each kept on its vote")
        return Outcome(EXCLUDED, reason=given[0] if given else None)
    return Outcome(CONFLICT, why="the votes differ")
