"""GRADE for the summary-of-findings table: pure functions over a synthesis results dict.

Nothing here imports Django. The results dict is the one ``synthesis.bundle.run`` returns
(docs/architecture.md, synthesis): effects on the analysis scale (log for OR and RR, with
``transform == "exp"``), so the null effect is 0 for every measure.

- ``absolute``: assumed and corresponding risks per 1,000 for binary outcomes.
- ``ois``: the optimal information size (GRADE guidelines 6).
- ``domains``: suggested judgements for each GRADE domain, upgrading, and the certainty.
- ``statements``: plain-language statements (GRADE guidelines 26).

Every rule names the section of the GRADE handbook (Schünemann, Brożek, Guyatt, Oxman, eds.,
2013) or the GRADE guidelines paper it follows; the suggestions are drafts a lead accepts or
changes with a written reason.
"""

from .absolute import AbsoluteEffect, absolute_effect, absolute_effect_of, control_risk
from .domains import (
    DomainSuggestion,
    certainty,
    imprecision,
    inconsistency,
    indirectness,
    publication_bias,
    risk_of_bias,
    suggestions,
    upgrades,
)
from .errors import GradeInputError
from .ois import OptimalInformationSize, ois_binary, ois_continuous
from .statements import effect_size_class, statement, statement_of

__all__ = [
    "AbsoluteEffect",
    "DomainSuggestion",
    "GradeInputError",
    "OptimalInformationSize",
    "absolute_effect",
    "absolute_effect_of",
    "certainty",
    "control_risk",
    "effect_size_class",
    "imprecision",
    "inconsistency",
    "indirectness",
    "ois_binary",
    "ois_continuous",
    "publication_bias",
    "risk_of_bias",
    "statement",
    "statement_of",
    "suggestions",
    "upgrades",
]
