"""ROBINS-I (2016) for non-randomised studies of interventions: questions and overall rule.

Sources:

- Sterne JAC, Hernán MA, Reeves BC, et al. ROBINS-I: a tool for assessing risk of bias in
  non-randomised studies of interventions. *BMJ* 2016;355:i4919. Table 2 ("Interpretation of
  domain-level and overall risk of bias judgements") gives the overall rule encoded in
  ``overall``.
- Sterne JAC, Higgins JPT, Elbers RG, Reeves BC and the development group for ROBINS-I. *Risk Of
  Bias In Non-randomized Studies of Interventions (ROBINS-I): detailed guidance*, updated
  12 October 2016, and the tool template (version of 19 September 2016): the signalling
  questions of the seven domains (guidance Boxes 4 to 10), their response options and the
  instructions that route between them ("If N/PN to 1.2, answer questions relating to baseline
  confounding (1.4 to 1.6)").

No domain algorithm. The 2016 guidance gives, for each domain, criteria in words for each
judgement (guidance Tables 5 to 11: for example, Critical for confounding when "confounding
inherently not controllable, or the use of negative controls strongly suggests unmeasured
confounding") and says the signalling questions help the reviewer reach it; it publishes no
mapping from answers to a judgement, and several criteria need facts that no answer records.
So every domain has ``has_algorithm=False``: ``domain_judgement`` checks the answers and returns
``None``, and the reviewer judges. (Algorithms arrived with ROBINS-I version 2, a different
tool with different questions, still a draft when this was written; it is not encoded here.)

Routing the engine reads from the template, and where the template is silent:

- 1.1 has no ``NI`` answer. 1.2 is asked when 1.1 is Y/PY; 1.3 when 1.2 is Y/PY; the baseline
  questions 1.4 and 1.6 when 1.2 or 1.3 is N/PN; the time-varying ones 1.7 when 1.3 is Y/PY;
  1.5 when 1.4 is Y/PY and 1.8 when 1.7 is Y/PY. For an ``NI`` answer to 1.2 or 1.3 the template
  names no route: the questions it would open are optional (answered, or ``NA``).
- Domain 4 has two sets: 4.1-4.2 when the aim is the effect of assignment to intervention,
  4.3-4.6 when it is the effect of starting and adhering to intervention. The aim is not an
  answer, so the engine reads it from the answers: once 4.1 is answered, 4.3-4.6 are ``NA``;
  once any of 4.3-4.5 is, 4.1-4.2 are; one of the two sets must be answered.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import FIVE, NA, NI, NO, YES, Condition, Domain, Question, RobAnswerError, Tool

LOW, MODERATE, SERIOUS, CRITICAL, NO_INFORMATION = (
    "Low",
    "Moderate",
    "Serious",
    "Critical",
    "No information",
)
JUDGEMENTS: tuple[str, ...] = (LOW, MODERATE, SERIOUS, CRITICAL, NO_INFORMATION)

GUIDANCE = (
    "Sterne JAC, Higgins JPT, Elbers RG, Reeves BC and the development group for ROBINS-I. "
    "Risk Of Bias In Non-randomized Studies of Interventions (ROBINS-I): detailed guidance, "
    "updated 12 October 2016"
)
CITATION = (
    "Sterne JAC, Hernán MA, Reeves BC, et al. ROBINS-I: a tool for assessing risk of bias in "
    "non-randomised studies of interventions. BMJ 2016;355:i4919. " + GUIDANCE + "."
)

CONDITIONAL = (*FIVE, NA)


def _if(qid: str, codes: frozenset[str]) -> Condition:
    return lambda a: a.get(qid) in codes


def _q(qid: str, text: str, when: str = "", condition: Condition | None = None, **kw) -> Question:
    answers = kw.pop("answers", CONDITIONAL if condition else FIVE)
    return Question(qid, text, answers, when, condition=condition, **kw)


# --- Domain 1: confounding (guidance Box 4, Table 5) ------------------------------------------


def _time_split(a: Mapping[str, str]) -> bool | None:
    """Is 1.3 asked: the analysis split follow-up time by intervention received (1.2 Y/PY)."""
    if a.get("1.2") in YES:
        return True
    return None if a.get("1.2") == NI else False


def _baseline(a: Mapping[str, str]) -> bool | None:
    """Are the baseline-confounding questions (1.4, 1.6) asked."""
    if a.get("1.1") not in YES:
        return False
    if a.get("1.3") in NO or a.get("1.2") in NO:
        return True
    if a.get("1.3") in YES:
        return False
    if a.get("1.2") == NI or (a.get("1.2") in YES and a.get("1.3") == NI):
        return None
    return False


def _time_varying(a: Mapping[str, str]) -> bool | None:
    """Is 1.7 asked: switches were likely related to prognostic factors (1.3 Y/PY)."""
    if a.get("1.1") not in YES or a.get("1.2") in NO:
        return False
    if a.get("1.3") in YES:
        return True
    if a.get("1.3") in NO:
        return False
    if a.get("1.2") == NI or (a.get("1.2") in YES and a.get("1.3") == NI):
        return None
    return False


_VALID = (
    "Were confounding domains that were {verb} for measured validly and reliably by the "
    "variables available in this study?"
)

D1 = Domain(
    "D1",
    "Confounding",
    (
        _q(
            "1.1",
            "Is there potential for confounding of the effect of intervention in this study?",
            answers=("Y", "PY", "PN", "N"),
        ),
        _q(
            "1.2",
            "Was the analysis based on splitting participants' follow up time according to "
            "intervention received?",
            "1.1 is Y or PY",
            _if("1.1", YES),
        ),
        _q(
            "1.3",
            "Were intervention discontinuations or switches likely to be related to factors "
            "that are prognostic for the outcome?",
            "1.2 is Y or PY (optional when 1.2 is NI)",
            _time_split,
        ),
        _q(
            "1.4",
            "Did the authors use an appropriate analysis method that controlled for all the "
            "important confounding domains?",
            "1.2 or 1.3 is N or PN (baseline confounding; optional when 1.2 or 1.3 is NI)",
            _baseline,
        ),
        _q("1.5", _VALID.format(verb="controlled"), "1.4 is Y or PY", _if("1.4", YES)),
        _q(
            "1.6",
            "Did the authors control for any post-intervention variables that could have been "
            "affected by the intervention?",
            "1.2 or 1.3 is N or PN (baseline confounding; optional when 1.2 or 1.3 is NI)",
            _baseline,
        ),
        _q(
            "1.7",
            "Did the authors use an appropriate analysis method that adjusted for all the "
            "important confounding domains and for time-varying confounding?",
            "1.3 is Y or PY (time-varying confounding; optional when 1.2 or 1.3 is NI)",
            _time_varying,
        ),
        _q("1.8", _VALID.format(verb="adjusted"), "1.7 is Y or PY", _if("1.7", YES)),
    ),
    False,
    title="Bias due to confounding",
    source=GUIDANCE + ", Box 4 (questions) and Table 5 (criteria; no algorithm)",
)


# --- Domain 2: selection of participants (Box 5, Table 6) -------------------------------------

D2 = Domain(
    "D2",
    "Selection of participants",
    (
        _q(
            "2.1",
            "Was selection of participants into the study (or into the analysis) based on "
            "participant characteristics observed after the start of intervention?",
        ),
        _q(
            "2.2",
            "Were the post-intervention variables that influenced selection likely to be "
            "associated with intervention?",
            "2.1 is Y or PY",
            _if("2.1", YES),
        ),
        _q(
            "2.3",
            "Were the post-intervention variables that influenced selection likely to be "
            "influenced by the outcome or a cause of the outcome?",
            "2.2 is Y or PY",
            _if("2.2", YES),
        ),
        _q(
            "2.4",
            "Do start of follow-up and start of intervention coincide for most participants?",
        ),
        _q(
            "2.5",
            "Were adjustment techniques used that are likely to correct for the presence of "
            "selection biases?",
            "2.2 and 2.3 are Y or PY, or 2.4 is N or PN",
            lambda a: (a.get("2.2") in YES and a.get("2.3") in YES) or a.get("2.4") in NO,
        ),
    ),
    False,
    title="Bias in selection of participants into the study",
    source=GUIDANCE + ", Box 5 (questions) and Table 6 (criteria; no algorithm)",
)


# --- Domain 3: classification of interventions (Box 6, Table 7) -------------------------------

D3 = Domain(
    "D3",
    "Classification of interventions",
    (
        _q("3.1", "Were intervention groups clearly defined?"),
        _q(
            "3.2",
            "Was the information used to define intervention groups recorded at the start of "
            "the intervention?",
        ),
        _q(
            "3.3",
            "Could classification of intervention status have been affected by knowledge of "
            "the outcome or risk of the outcome?",
        ),
    ),
    False,
    title="Bias in classification of interventions",
    source=GUIDANCE + ", Box 6 (questions) and Table 7 (criteria; no algorithm)",
)


# --- Domain 4: deviations from intended interventions (Box 7, Table 8) ------------------------

_ADHERING_SET = ("4.3", "4.4", "4.5")


def _answered(a: Mapping[str, str], qid: str) -> bool:
    return a.get(qid) not in (None, NA)


def _assignment_aim(a: Mapping[str, str]) -> bool | None:
    if any(_answered(a, q) for q in _ADHERING_SET):
        return False
    return True if _answered(a, "4.1") else None


def _adhering_aim(a: Mapping[str, str]) -> bool | None:
    if _answered(a, "4.1"):
        return False
    return True if any(_answered(a, q) for q in _ADHERING_SET) else None


def _one_aim(a: Mapping[str, str]) -> None:
    if not (_answered(a, "4.1") or any(_answered(a, q) for q in _ADHERING_SET)):
        raise RobAnswerError(
            "answer 4.1-4.2 (the effect of assignment to intervention) or 4.3-4.6 (the effect "
            "of starting and adhering to intervention)"
        )


_ASSIGNMENT = "the effect of assignment is assessed, that is 4.3 to 4.5 are NA"
_ADHERING = "the effect of starting and adhering is assessed, that is 4.1 is NA"

D4 = Domain(
    "D4",
    "Deviations from intended interventions",
    (
        _q(
            "4.1",
            "Were there deviations from the intended intervention beyond what would be "
            "expected in usual practice?",
            _ASSIGNMENT,
            _assignment_aim,
        ),
        _q(
            "4.2",
            "Were these deviations from intended intervention unbalanced between groups and "
            "likely to have affected the outcome?",
            "4.1 is Y or PY",
            _if("4.1", YES),
        ),
        _q(
            "4.3",
            "Were important co-interventions balanced across intervention groups?",
            _ADHERING,
            _adhering_aim,
        ),
        _q(
            "4.4",
            "Was the intervention implemented successfully for most participants?",
            _ADHERING,
            _adhering_aim,
        ),
        _q(
            "4.5",
            "Did study participants adhere to the assigned intervention regimen?",
            _ADHERING,
            _adhering_aim,
        ),
        _q(
            "4.6",
            "Was an appropriate analysis used to estimate the effect of starting and adhering "
            "to the intervention?",
            "4.3, 4.4 or 4.5 is N or PN",
            lambda a: any(a.get(q) in NO for q in _ADHERING_SET),
        ),
    ),
    False,
    title="Bias due to deviations from intended interventions",
    source=GUIDANCE + ", Box 7 (questions) and Table 8 (criteria; no algorithm)",
    check=_one_aim,
)


# --- Domain 5: missing data (Box 8, Table 9) --------------------------------------------------

_MISSING = "5.1 is N or PN, or 5.2 or 5.3 is Y or PY"


def _missing(a: Mapping[str, str]) -> bool:
    return a.get("5.1") in NO or a.get("5.2") in YES or a.get("5.3") in YES


D5 = Domain(
    "D5",
    "Missing data",
    (
        _q("5.1", "Were outcome data available for all, or nearly all, participants?"),
        _q("5.2", "Were participants excluded due to missing data on intervention status?"),
        _q(
            "5.3",
            "Were participants excluded due to missing data on other variables needed for the "
            "analysis?",
        ),
        _q(
            "5.4",
            "Are the proportion of participants and reasons for missing data similar across "
            "interventions?",
            _MISSING,
            _missing,
        ),
        _q(
            "5.5",
            "Is there evidence that results were robust to the presence of missing data?",
            _MISSING,
            _missing,
        ),
    ),
    False,
    title="Bias due to missing data",
    source=GUIDANCE + ", Box 8 (questions) and Table 9 (criteria; no algorithm)",
)


# --- Domain 6: measurement of outcomes (Box 9, Table 10) --------------------------------------

D6 = Domain(
    "D6",
    "Measurement of outcomes",
    (
        _q(
            "6.1",
            "Could the outcome measure have been influenced by knowledge of the intervention "
            "received?",
        ),
        _q(
            "6.2",
            "Were outcome assessors aware of the intervention received by study participants?",
        ),
        _q(
            "6.3",
            "Were the methods of outcome assessment comparable across intervention groups?",
        ),
        _q(
            "6.4",
            "Were any systematic errors in measurement of the outcome related to intervention "
            "received?",
        ),
    ),
    False,
    title="Bias in measurement of outcomes",
    source=GUIDANCE + ", Box 9 (questions) and Table 10 (criteria; no algorithm)",
)


# --- Domain 7: selection of the reported result (Box 10, Table 11) ----------------------------

_SELECTED = (
    "Is the reported effect estimate likely to be selected, on the basis of the results, from "
)

D7 = Domain(
    "D7",
    "Selection of the reported result",
    (
        _q("7.1", _SELECTED + "multiple outcome measurements within the outcome domain?"),
        _q("7.2", _SELECTED + "multiple analyses of the intervention-outcome relationship?"),
        _q("7.3", _SELECTED + "different subgroups?"),
    ),
    False,
    title="Bias in selection of the reported result",
    source=GUIDANCE + ", Box 10 (questions) and Table 11 (criteria; no algorithm)",
)


# --- Overall (Sterne et al. 2016, Table 2) ----------------------------------------------------

OVERALL_KEYS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")


def overall(domains: Mapping[str, str]) -> str:
    """The overall judgement of Sterne et al. 2016, Table 2, in its order:

    - Critical: critical risk of bias in at least one domain;
    - Serious: serious in at least one domain, but not critical in any;
    - No information: "no clear indication that the study is at serious or critical risk of
      bias and there is a lack of information in one or more key domains of bias (a judgement
      is required for this)". The engine counts every domain as key: a No information domain
      with none Serious or Critical gives No information. Whether that domain is key is the
      reviewers' judgement, and they may override (with a written justification);
    - Moderate: low or moderate risk of bias in all domains;
    - Low: low risk of bias in all domains.
    """
    found = [domains[k] for k in OVERALL_KEYS]
    if CRITICAL in found:
        return CRITICAL
    if SERIOUS in found:
        return SERIOUS
    if NO_INFORMATION in found:
        return NO_INFORMATION
    if MODERATE in found:
        return MODERATE
    return LOW


TOOL = Tool(
    key="robins_i",
    name="ROBINS-I",
    citation=CITATION,
    domains=(D1, D2, D3, D4, D5, D6, D7),
    judgements=JUDGEMENTS,
    high=frozenset({SERIOUS, CRITICAL}),
    overall=overall,
    overall_keys=OVERALL_KEYS,
)
