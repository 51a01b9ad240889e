"""RoB 2 for individually randomised, parallel-group trials: questions, algorithms, overall rule.

Sources (the engine encodes these and nothing else):

- Higgins JPT, Savović J, Page MJ, Sterne JAC (eds), on behalf of the RoB2 Development Group.
  *Revised Cochrane risk-of-bias tool for randomized trials (RoB 2)*, full guidance document,
  version of 22 August 2019 (riskofbias.info). For each domain the guidance gives the signalling
  questions with their response options, a table of criteria for the judgements, a table mapping
  the answers to a proposed judgement, and the same mapping drawn as the flowchart "Algorithm for
  suggested judgement of risk of bias arising from ..." (also printed in the RoB 2 tool template):

  ============================  ==========================  ========================
  domain                        criteria / mapping tables   function here
  ============================  ==========================  ========================
  1 randomization process       Tables 3 and 4              ``randomisation``
  2 effect of assignment        Tables 5 and 6              ``assignment``
  2 effect of adhering          Tables 7 and 8              ``adhering``
  3 missing outcome data        Tables 9 and 10             ``missing_outcome_data``
  4 measurement of the outcome  Tables 11 and 12            ``measurement``
  5 selection of the result     Tables 13 and 14            ``selection``
  overall                       Table 1                     ``overall``
  ============================  ==========================  ========================

- Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias in
  randomised trials. *BMJ* 2019;366:l4898 (the domains, the three judgements and the overall
  rule, as in the guidance).

The functions below follow the flowcharts, question by question. The exhaustive tests
(``tests/extraction/rob/test_engine_rob2.py``) check them against the mapping tables, transcribed
there row by row, over every consistent answer set.

Conditional questions: the guidance prints the condition before the question ("If Y/PY to 2.3:
Were these deviations likely to have affected the outcome?") and lists ``NA`` among its answers;
``NA`` is the answer exactly when the condition does not hold. In the effect-of-adhering variant
of domain 2, questions 2.3 to 2.5 are marked "[If applicable:]": ``NA`` is an answer there even
when they are asked (the review team did not select that kind of deviation), and the algorithm
reads ``NA`` like ``N/PN`` for 2.4 and 2.5 and like ``Y/PY`` for 2.3. Question 3.2 has no ``NI``
answer in the guidance ("NA / Y / PY / PN / N"); every other question allows ``NI``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import (
    FIVE,
    NA,
    NI,
    NO,
    YES,
    Condition,
    Domain,
    Question,
    RobAnswerError,
    Tool,
    worst,
)

LOW, SOME, HIGH = "Low", "Some concerns", "High"
JUDGEMENTS: tuple[str, ...] = (LOW, SOME, HIGH)

GUIDANCE = (
    "Higgins JPT, Savović J, Page MJ, Sterne JAC (eds). Revised Cochrane risk-of-bias tool for "
    "randomized trials (RoB 2), full guidance document, 22 August 2019"
)
CITATION = (
    "Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias in "
    "randomised trials. BMJ 2019;366:l4898. " + GUIDANCE + "."
)

YES_NI = YES | {NI}
NO_NI = NO | {NI}
CONDITIONAL = (*FIVE, NA)


def _any(*pairs: tuple[str, frozenset[str]]) -> Condition:
    """Asked when any of the questions has one of its listed answers."""
    return lambda a: any(a.get(q) in codes for q, codes in pairs)


def _all(*pairs: tuple[str, frozenset[str]]) -> Condition:
    """Asked when every one of the questions has one of its listed answers."""
    return lambda a: all(a.get(q) in codes for q, codes in pairs)


def _q(qid: str, text: str, when: str = "", condition: Condition | None = None, **kw) -> Question:
    answers = kw.pop("answers", CONDITIONAL if condition or kw.get("na_when_asked") else FIVE)
    return Question(qid, text, answers, when, condition=condition, **kw)


# --- Domain 1: bias arising from the randomization process (Tables 3, 4) ---------------------


def randomisation(a: Mapping[str, str]) -> str:
    """Flowchart of domain 1: start at 1.2 (concealment), then 1.1, then 1.3."""
    if a["1.2"] in NO:
        return HIGH
    if a["1.2"] == NI:
        return HIGH if a["1.3"] in YES else SOME
    if a["1.1"] in NO:  # 1.2 Y/PY
        return SOME
    return SOME if a["1.3"] in YES else LOW  # 1.1 Y/PY/NI


D1 = Domain(
    "D1",
    "Randomisation process",
    (
        _q("1.1", "Was the allocation sequence random?"),
        _q(
            "1.2",
            "Was the allocation sequence concealed until participants were enrolled and "
            "assigned to interventions?",
        ),
        _q(
            "1.3",
            "Did baseline differences between intervention groups suggest a problem with the "
            "randomization process?",
        ),
    ),
    True,
    title="Risk of bias arising from the randomization process",
    source=GUIDANCE + ", domain 1, Tables 3 and 4 and its algorithm flowchart",
    algorithm=randomisation,
)


# --- Domain 2, effect of assignment to intervention (Tables 5, 6) -----------------------------

_AWARE_2_1 = "Were participants aware of their assigned intervention during the trial?"
_AWARE_2_2 = (
    "Were carers and people delivering the interventions aware of participants' assigned "
    "intervention during the trial?"
)
_IF_AWARE = "2.1 or 2.2 is Y, PY or NI"


def assignment(a: Mapping[str, str]) -> str:
    """Flowchart of domain 2 (effect of assignment): part 1 (2.1-2.5) and part 2 (2.6-2.7);
    the domain is Low when both parts are Low, High when either is High, else Some concerns."""
    if (a["2.1"] in NO and a["2.2"] in NO) or a["2.3"] in NO:
        part1 = LOW
    elif a["2.3"] == NI or a["2.4"] in NO:
        part1 = SOME
    else:  # 2.4 Y/PY/NI
        part1 = SOME if a["2.5"] in YES else HIGH
    # Part 2: 2.6 Y/PY is Low; else (2.6 N/PN/NI) 2.7 decides.
    part2 = LOW if a["2.6"] in YES else SOME if a["2.7"] in NO else HIGH
    return worst(JUDGEMENTS, part1, part2)


D2_ASSIGNMENT = Domain(
    "D2_assignment",
    "Deviations from intended interventions (effect of assignment)",
    (
        _q("2.1", _AWARE_2_1),
        _q("2.2", _AWARE_2_2),
        _q(
            "2.3",
            "Were there deviations from the intended intervention that arose because of the "
            "trial context?",
            _IF_AWARE,
            _any(("2.1", YES_NI), ("2.2", YES_NI)),
        ),
        _q(
            "2.4",
            "Were these deviations likely to have affected the outcome?",
            "2.3 is Y or PY",
            _any(("2.3", YES)),
        ),
        _q(
            "2.5",
            "Were these deviations from intended intervention balanced between groups?",
            "2.4 is Y, PY or NI",
            _any(("2.4", YES_NI)),
        ),
        _q(
            "2.6",
            "Was an appropriate analysis used to estimate the effect of assignment to "
            "intervention?",
        ),
        _q(
            "2.7",
            "Was there potential for a substantial impact (on the result) of the failure to "
            "analyse participants in the group to which they were randomized?",
            "2.6 is N, PN or NI",
            _any(("2.6", NO_NI)),
        ),
    ),
    True,
    title="Risk of bias due to deviations from the intended interventions "
    "(effect of assignment to intervention)",
    source=GUIDANCE + ", domain 2 (effect of assignment), Tables 5 and 6 and its flowchart",
    algorithm=assignment,
)


# --- Domain 2, effect of adhering to intervention (Tables 7, 8) -------------------------------


def adhering(a: Mapping[str, str]) -> str:
    """Flowchart of domain 2 (effect of adhering): awareness (2.1, 2.2), then balance of
    non-protocol interventions (2.3) if aware, then implementation and adherence (2.4, 2.5),
    then the analysis (2.6) when any of these raised a problem."""
    aware = a["2.1"] in YES_NI or a["2.2"] in YES_NI
    if not (aware and a["2.3"] in NO_NI) and a["2.4"] in NO | {NA} and a["2.5"] in NO | {NA}:
        return LOW
    # 2.3 N/PN/NI (if aware), or 2.4 or 2.5 Y/PY/NI: the analysis decides.
    return SOME if a["2.6"] in YES else HIGH


D2_ADHERING = Domain(
    "D2_adhering",
    "Deviations from intended interventions (effect of adhering)",
    (
        _q("2.1", _AWARE_2_1),
        _q("2.2", _AWARE_2_2),
        _q(
            "2.3",
            "Were important non-protocol interventions balanced across intervention groups?",
            _IF_AWARE,
            _any(("2.1", YES_NI), ("2.2", YES_NI)),
            na_when_asked=True,
        ),
        _q(
            "2.4",
            "Were there failures in implementing the intervention that could have affected the "
            "outcome?",
            na_when_asked=True,
        ),
        _q(
            "2.5",
            "Was there non-adherence to the assigned intervention regimen that could have "
            "affected participants' outcomes?",
            na_when_asked=True,
        ),
        _q(
            "2.6",
            "Was an appropriate analysis used to estimate the effect of adhering to the "
            "intervention?",
            "2.3 is N, PN or NI, or 2.4 or 2.5 is Y, PY or NI",
            _any(("2.3", NO_NI), ("2.4", YES_NI), ("2.5", YES_NI)),
        ),
    ),
    True,
    title="Risk of bias due to deviations from the intended interventions "
    "(effect of adhering to intervention)",
    source=GUIDANCE + ", domain 2 (effect of adhering), Tables 7 and 8 and its flowchart",
    algorithm=adhering,
)


# --- Domain 3: missing outcome data (Tables 9, 10) --------------------------------------------


def missing_outcome_data(a: Mapping[str, str]) -> str:
    """Flowchart of domain 3: 3.1, then 3.2, 3.3, 3.4 as long as the answer raises a problem."""
    if a["3.1"] in YES or a["3.2"] in YES or a["3.3"] in NO:
        return LOW
    return SOME if a["3.4"] in NO else HIGH  # 3.3 Y/PY/NI; 3.4 Y/PY/NI: High


D3 = Domain(
    "D3",
    "Missing outcome data",
    (
        _q(
            "3.1",
            "Were data for this outcome available for all, or nearly all, participants randomized?",
        ),
        _q(
            "3.2",
            "Is there evidence that the result was not biased by missing outcome data?",
            "3.1 is N, PN or NI",
            _any(("3.1", NO_NI)),
            answers=("Y", "PY", "PN", "N", NA),
        ),
        _q(
            "3.3",
            "Could missingness in the outcome depend on its true value?",
            "3.2 is N or PN",
            _any(("3.2", NO)),
        ),
        _q(
            "3.4",
            "Is it likely that missingness in the outcome depended on its true value?",
            "3.3 is Y, PY or NI",
            _any(("3.3", YES_NI)),
        ),
    ),
    True,
    title="Risk of bias due to missing outcome data",
    source=GUIDANCE + ", domain 3, Tables 9 and 10 and its algorithm flowchart",
    algorithm=missing_outcome_data,
)


# --- Domain 4: measurement of the outcome (Tables 11, 12) -------------------------------------


def measurement(a: Mapping[str, str]) -> str:
    """Flowchart of domain 4: an inappropriate method (4.1) or a measurement that could differ
    between groups (4.2) is High; then assessors' awareness (4.3) and its possible (4.4) and
    likely (4.5) influence. With 4.2 NI, the paths that end Low end in Some concerns."""
    if a["4.1"] in YES or a["4.2"] in YES:
        return HIGH
    best = LOW if a["4.2"] in NO else SOME  # 4.2 N/PN, or NI
    if a["4.3"] in NO or a["4.4"] in NO:
        return best
    return SOME if a["4.5"] in NO else HIGH  # 4.4 Y/PY/NI; 4.5 Y/PY/NI: High


D4 = Domain(
    "D4",
    "Measurement of the outcome",
    (
        _q("4.1", "Was the method of measuring the outcome inappropriate?"),
        _q(
            "4.2",
            "Could measurement or ascertainment of the outcome have differed between "
            "intervention groups?",
        ),
        _q(
            "4.3",
            "Were outcome assessors aware of the intervention received by study participants?",
            "4.1 and 4.2 are N, PN or NI",
            _all(("4.1", NO_NI), ("4.2", NO_NI)),
        ),
        _q(
            "4.4",
            "Could assessment of the outcome have been influenced by knowledge of intervention "
            "received?",
            "4.3 is Y, PY or NI",
            _any(("4.3", YES_NI)),
        ),
        _q(
            "4.5",
            "Is it likely that assessment of the outcome was influenced by knowledge of "
            "intervention received?",
            "4.4 is Y, PY or NI",
            _any(("4.4", YES_NI)),
        ),
    ),
    True,
    title="Risk of bias in measurement of the outcome",
    source=GUIDANCE + ", domain 4, Tables 11 and 12 and its algorithm flowchart",
    algorithm=measurement,
)


# --- Domain 5: selection of the reported result (Tables 13, 14) -------------------------------


def selection(a: Mapping[str, str]) -> str:
    """Flowchart of domain 5: selection from several measurements (5.2) or analyses (5.3) is
    High; no information on either is Some concerns; otherwise the analysis plan (5.1)."""
    if a["5.2"] in YES or a["5.3"] in YES:
        return HIGH
    if a["5.2"] == NI or a["5.3"] == NI:
        return SOME
    return LOW if a["5.1"] in YES else SOME  # 5.2 and 5.3 N/PN


D5 = Domain(
    "D5",
    "Selection of the reported result",
    (
        _q(
            "5.1",
            "Were the data that produced this result analysed in accordance with a "
            "pre-specified analysis plan that was finalized before unblinded outcome data were "
            "available for analysis?",
        ),
        _q(
            "5.2",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple eligible outcome measurements (e.g. scales, "
            "definitions, time points) within the outcome domain?",
        ),
        _q(
            "5.3",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple eligible analyses of the data?",
        ),
    ),
    True,
    title="Risk of bias in selection of the reported result",
    source=GUIDANCE + ", domain 5, Tables 13 and 14 and its algorithm flowchart",
    algorithm=selection,
)


# --- Overall (guidance Table 1) ---------------------------------------------------------------

OVERALL_KEYS = ("D1", "D2", "D3", "D4", "D5")


def overall(domains: Mapping[str, str]) -> str:
    """The overall judgement of guidance Table 1 (and Sterne et al. 2019).

    Low when every domain is Low; High when any domain is High; otherwise Some concerns.

    Table 1 also lets review authors judge a result High when it "has some concerns for multiple
    domains in a way that substantially lowers confidence in the result". That is a judgement
    of the reviewers, not a step of the algorithm: the engine proposes Some concerns and a
    reviewer may override it to High with a written justification.
    """
    found = [domains[k] for k in OVERALL_KEYS]
    if HIGH in found:
        return HIGH
    if all(j == LOW for j in found):
        return LOW
    return SOME


def _overall_keys(domains: Mapping[str, str]) -> dict[str, str]:
    """D2 may be given as D2, D2_assignment or D2_adhering (exactly one of them)."""
    given = dict(domains)
    variants = [k for k in ("D2", "D2_assignment", "D2_adhering") if k in given]
    if len(variants) > 1:
        raise RobAnswerError(
            f"give domain 2 once (as D2, the variant assessed), not as {' and '.join(variants)}"
        )
    if variants:
        given["D2"] = given.pop(variants[0])
    return given


TOOL = Tool(
    key="rob2",
    name="RoB 2",
    citation=CITATION,
    domains=(D1, D2_ASSIGNMENT, D2_ADHERING, D3, D4, D5),
    judgements=JUDGEMENTS,
    high=frozenset({HIGH}),
    overall=overall,
    overall_keys=OVERALL_KEYS,
)
