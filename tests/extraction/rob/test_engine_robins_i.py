"""ROBINS-I (2016): the overall rule on every combination, the questions, and no domain algorithm.

Sources, transcribed here independently of the engine's code:

- Sterne JAC, Hernán MA, Reeves BC, et al. BMJ 2016;355:i4919, Table 2 ("Interpretation of
  domain-level and overall risk of bias judgements"), the overall column (TABLE_2 below);
- the ROBINS-I tool template (19 September 2016) and detailed guidance (12 October 2016): the
  signalling questions, their response options and routing instructions.
"""

from __future__ import annotations

import itertools

import pytest

from extraction.rob import engine
from extraction.rob.engine import RobAnswerError, domain_judgement, overall_judgement

LOW, MODERATE, SERIOUS, CRITICAL, NI = "Low", "Moderate", "Serious", "Critical", "No information"
JUDGEMENTS = (LOW, MODERATE, SERIOUS, CRITICAL, NI)
KEYS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")

# Table 2, "Criterion for the overall judgement", each as printed.
TABLE_2 = {
    # "The study is judged to be at low risk of bias for all domains."
    LOW: lambda js: all(j == LOW for j in js),
    # "The study is judged to be at low or moderate risk of bias for all domains." (and, being
    # a separate row from Low, not low in all of them)
    MODERATE: lambda js: all(j in (LOW, MODERATE) for j in js) and MODERATE in js,
    # "... serious risk of bias in at least one domain, but not at critical risk of bias in any"
    SERIOUS: lambda js: SERIOUS in js and CRITICAL not in js,
    # "The study is judged to be at critical risk of bias in at least one domain."
    CRITICAL: lambda js: CRITICAL in js,
    # "There is no clear indication that the study is at serious or critical risk of bias and
    # there is a lack of information in one or more key domains of bias (a judgement is required
    # for this)." -- every domain counted as key; see the engine's docstring.
    NI: lambda js: SERIOUS not in js and CRITICAL not in js and NI in js,
}


def test_overall_rule_on_all_5_to_the_7_combinations():
    combos = itertools.product(JUDGEMENTS, repeat=7)
    count = 0
    for combo in combos:
        met = [j for j, rule in TABLE_2.items() if rule(combo)]
        assert len(met) == 1, combo  # the table's rows do not overlap, and cover everything
        assert overall_judgement("robins_i", dict(zip(KEYS, combo, strict=True))) == met[0]
        count += 1
    assert count == 5**7


def test_overall_refuses_incomplete_or_foreign_judgements():
    full = dict.fromkeys(KEYS, LOW)
    with pytest.raises(RobAnswerError, match="the judgement of D7 is required"):
        overall_judgement("robins_i", {k: v for k, v in full.items() if k != "D7"})
    with pytest.raises(RobAnswerError, match="D2: judgement 'High' is not one of"):
        overall_judgement("robins_i", {**full, "D2": "High"})
    with pytest.raises(RobAnswerError, match="'D2_assignment' is not a domain"):
        overall_judgement("robins_i", {**full, "D2_assignment": LOW})


def test_the_tool_shape():
    tool = engine.TOOLS["robins_i"]
    assert tool.judgements == JUDGEMENTS
    assert tool.high == {SERIOUS, CRITICAL}
    assert [d.id for d in tool.domains] == list(KEYS)
    assert [len(d.questions) for d in tool.domains] == [8, 5, 3, 6, 5, 4, 3]
    assert not any(d.has_algorithm for d in tool.domains)
    assert "BMJ 2016;355:i4919" in tool.citation
    rob2 = engine.TOOLS["rob2"]
    assert rob2.judgements == ("Low", "Some concerns", "High")
    assert rob2.high == {"High"}
    assert [d.id for d in rob2.domains] == ["D1", "D2_assignment", "D2_adhering", "D3", "D4", "D5"]
    assert "BMJ 2019;366:l4898" in rob2.citation


# Consistent answer sets: the judgement is the reviewer's (None), the answers are checked.
VALID = [
    ("D1", {"1.1": "N"}),  # "If N/PN to 1.1: ... no further signalling questions"
    ("D1", {"1.1": "Y", "1.2": "N", "1.4": "Y", "1.5": "PY", "1.6": "N"}),
    ("D1", {"1.1": "Y", "1.2": "Y", "1.3": "N", "1.4": "N", "1.6": "N"}),
    ("D1", {"1.1": "PY", "1.2": "Y", "1.3": "Y", "1.7": "Y", "1.8": "Y"}),
    # 1.2 NI: the template names no route; the later questions may be answered or left NA.
    ("D1", {"1.1": "Y", "1.2": "NI"}),
    ("D1", {"1.1": "Y", "1.2": "NI", "1.3": "N", "1.4": "PN", "1.6": "N"}),
    ("D2", {"2.1": "N", "2.4": "Y"}),
    ("D2", {"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "Y", "2.5": "N"}),
    ("D2", {"2.1": "N", "2.4": "N", "2.5": "NI"}),
    ("D3", {"3.1": "Y", "3.2": "PN", "3.3": "NI"}),
    ("D4", {"4.1": "N"}),  # effect of assignment
    ("D4", {"4.1": "Y", "4.2": "PN"}),
    ("D4", {"4.3": "Y", "4.4": "Y", "4.5": "Y"}),  # effect of starting and adhering
    ("D4", {"4.3": "Y", "4.4": "N", "4.5": "Y", "4.6": "PY"}),
    ("D5", {"5.1": "Y", "5.2": "N", "5.3": "N"}),
    ("D5", {"5.1": "N", "5.2": "N", "5.3": "N", "5.4": "Y", "5.5": "NI"}),
    ("D6", {"6.1": "N", "6.2": "Y", "6.3": "Y", "6.4": "N"}),
    ("D7", {"7.1": "N", "7.2": "PN", "7.3": "NI"}),
]


@pytest.mark.parametrize(("domain", "answers"), VALID)
def test_consistent_answers_leave_the_judgement_to_the_reviewer(domain, answers):
    assert domain_judgement("robins_i", domain, answers) is None


INVALID = [
    ("D1", {"1.1": "NI"}, "1.1: answer 'NI' is not one of Y, PY, PN, N"),  # no NI for 1.1
    ("D1", {"1.1": "N", "1.2": "Y"}, "1.2 must be NA unless 1.1 is Y or PY"),
    ("D1", {"1.1": "Y", "1.2": "N", "1.3": "Y"}, "1.3 must be NA unless"),
    ("D1", {"1.1": "Y", "1.2": "N", "1.4": "Y", "1.6": "N"}, "1.5 is required"),
    ("D1", {"1.1": "Y", "1.2": "Y", "1.3": "Y", "1.4": "Y"}, "1.4 must be NA unless"),
    ("D1", {"1.1": "Y", "1.2": "Y", "1.3": "Y"}, "1.7 is required"),
    ("D2", {"2.1": "N", "2.2": "Y", "2.4": "Y"}, "2.2 must be NA unless 2.1 is Y or PY"),
    ("D2", {"2.1": "N", "2.4": "N"}, "2.5 is required"),
    ("D2", {"2.1": "N", "2.4": "Y", "2.5": "Y"}, "2.5 must be NA unless"),
    ("D3", {"3.1": "Y", "3.2": "Y"}, "3.3 is required"),
    ("D4", {}, "answer 4.1-4.2 (the effect of assignment to intervention) or 4.3-4.6"),
    ("D4", {"4.1": "N", "4.3": "Y"}, "4.1 must be NA unless"),
    ("D4", {"4.3": "Y", "4.4": "Y"}, "4.5 is required"),
    ("D4", {"4.3": "Y", "4.4": "Y", "4.5": "Y", "4.6": "Y"}, "4.6 must be NA unless"),
    ("D5", {"5.1": "Y", "5.2": "N", "5.3": "N", "5.4": "Y"}, "5.4 must be NA unless"),
    ("D5", {"5.1": "PN", "5.2": "N", "5.3": "N", "5.4": "Y"}, "5.5 is required"),
    ("D6", {"6.1": "N", "6.2": "Y", "6.3": "Y"}, "6.4 is required"),
    ("D7", {"7.1": "N", "7.2": "N", "7.3": "maybe"}, "7.3: answer 'maybe' is not one of"),
]


@pytest.mark.parametrize(("domain", "answers", "message"), INVALID)
def test_inconsistent_answers_are_refused(domain, answers, message):
    with pytest.raises(RobAnswerError) as err:
        domain_judgement("robins_i", domain, answers)
    assert str(err.value).startswith(message), str(err.value)


def test_question_status_tells_open_questions_apart():
    status = engine.question_status("robins_i", "D1", {"1.1": "Y", "1.2": "NI"})
    assert status["1.3"] == engine.OPTIONAL
    assert status["1.4"] == engine.OPTIONAL
    assert status["1.5"] == engine.NOT_ASKED
    assert engine.questions_asked("robins_i", "D4", {}) == ["4.1", "4.3", "4.4", "4.5"]
    assert engine.questions_asked("robins_i", "D4", {"4.1": "Y"}) == ["4.1", "4.2"]
    assert engine.questions_asked("robins_i", "D4", {"4.4": "N"}) == ["4.3", "4.4", "4.5", "4.6"]


def test_questions_asked_never_raises_on_partial_or_stale_answers():
    # A stale 2.3 (2.1 changed to N) must not open 2.4: 2.3 reads as NA once not asked.
    assert engine.questions_asked(
        "rob2", "D2_assignment", {"2.1": "N", "2.2": "N", "2.3": "Y", "2.4": "Y"}
    ) == ["2.1", "2.2", "2.6"]
    assert engine.questions_asked("rob2", "D1", {"1.1": "bogus", 7: None}) == ["1.1", "1.2", "1.3"]
    with pytest.raises(RobAnswerError, match="unknown domain"):
        engine.questions_asked("robins_i", "D8", {})
