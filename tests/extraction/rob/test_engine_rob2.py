"""RoB 2: every consistent answer set of every domain against the published mapping tables.

The published algorithm is transcribed HERE, independently of the engine's code, from

    Higgins JPT, Savović J, Page MJ, Sterne JAC (eds). Revised Cochrane risk-of-bias tool for
    randomized trials (RoB 2), full guidance document, 22 August 2019:
    - the signalling questions as printed, with their conditions ("If Y/PY to 2.3: ...") and
      response options (QUESTIONS below: the condition strings are the guidance's own, parsed);
    - per domain, the table mapping answers to a proposed judgement (RULES below, row by row):
      Table 4 (domain 1), Table 6 (domain 2, effect of assignment, parts 1 and 2), Table 8
      (domain 2, effect of adhering), Table 10 (domain 3), Table 12 (domain 4), Table 14
      (domain 5); the flowcharts "Algorithm for suggested judgement of risk of bias arising
      from ..." draw the same mappings; the criteria tables (3, 5, 7, 9, 11, 13) word them;
    - Table 1 for the overall judgement (and Sterne et al. BMJ 2019;366:l4898).

The engine follows the flowcharts question by question; these tests enumerate every
combination of answers the guidance allows (each asked question over its allowed answers, each
question not asked NA) and require that every combination is covered by the table, that all
rows covering it agree, and that the engine says the same.
"""

from __future__ import annotations

import itertools
import re

import pytest

from extraction.rob import engine
from extraction.rob.engine import RobAnswerError, domain_judgement, overall_judgement

FIVE = ("Y", "PY", "PN", "N", "NI")
LOW, SOME, HIGH = "Low", "Some concerns", "High"

# ---------------------------------------------------------------------------------------------
# The questions as printed in the guidance: (id, condition as printed or "", answers when asked)
# ---------------------------------------------------------------------------------------------

QUESTIONS = {
    "D1": [("1.1", "", FIVE), ("1.2", "", FIVE), ("1.3", "", FIVE)],
    "D2_assignment": [
        ("2.1", "", FIVE),
        ("2.2", "", FIVE),
        ("2.3", "If Y/PY/NI to 2.1 or 2.2", FIVE),
        ("2.4", "If Y/PY to 2.3", FIVE),
        ("2.5", "If Y/PY/NI to 2.4", FIVE),
        ("2.6", "", FIVE),
        ("2.7", "If N/PN/NI to 2.6", FIVE),
    ],
    "D2_adhering": [
        ("2.1", "", FIVE),
        ("2.2", "", FIVE),
        # "[If applicable:]": NA is an answer even when asked.
        ("2.3", "If Y/PY/NI to 2.1 or 2.2", (*FIVE, "NA")),
        ("2.4", "", (*FIVE, "NA")),
        ("2.5", "", (*FIVE, "NA")),
        ("2.6", "If N/PN/NI to 2.3, or Y/PY/NI to 2.4 or 2.5", FIVE),
    ],
    "D3": [
        ("3.1", "", FIVE),
        ("3.2", "If N/PN/NI to 3.1", ("Y", "PY", "PN", "N")),  # no NI in the guidance
        ("3.3", "If N/PN to 3.2", FIVE),
        ("3.4", "If Y/PY/NI to 3.3", FIVE),
    ],
    "D4": [
        ("4.1", "", FIVE),
        ("4.2", "", FIVE),
        ("4.3", "If N/PN/NI to 4.1 and 4.2", FIVE),
        ("4.4", "If Y/PY/NI to 4.3", FIVE),
        ("4.5", "If Y/PY/NI to 4.4", FIVE),
    ],
    "D5": [("5.1", "", FIVE), ("5.2", "", FIVE), ("5.3", "", FIVE)],
}


def parse_condition(text: str):
    """'If Y/PY/NI to 2.1 or 2.2' -> predicate over the answers; '' -> always asked.

    Clauses joined by ', or ' are alternatives; 'to A or B' means either, 'to A and B' both.
    """
    if not text:
        return lambda a: True
    clauses = []
    for clause in text.removeprefix("If ").split(", or "):
        m = re.fullmatch(r"([A-Z/]+) to ([\d.]+(?: (?:or|and) [\d.]+)*)", clause)
        assert m, clause
        codes = set(m.group(1).split("/"))
        if " and " in m.group(2):
            qs, quant = m.group(2).split(" and "), all
        else:
            qs, quant = m.group(2).split(" or "), any
        clauses.append((codes, qs, quant))
    return lambda a: any(quant(a.get(q) in codes for q in qs) for codes, qs, quant in clauses)


def consistent_sets(domain: str):
    """Every answer set the guidance allows for the domain."""
    questions = [(q, parse_condition(c), answers) for q, c, answers in QUESTIONS[domain]]

    def walk(i: int, so_far: dict):
        if i == len(questions):
            yield dict(so_far)
            return
        qid, asked, answers = questions[i]
        for value in answers if asked(so_far) else ("NA",):
            so_far[qid] = value
            yield from walk(i + 1, so_far)
        del so_far[qid]

    return list(walk(0, {}))


# ---------------------------------------------------------------------------------------------
# The mapping tables: (judgement, {question: answers}, either) -- a row applies when every
# listed question has one of its listed answers and, if `either` is given, one of its
# alternatives does too. Questions a row does not list are "Any response" (or NA).
# ---------------------------------------------------------------------------------------------

YPY, NPN = "Y PY", "N PN"
YPYNI, NPNNI = "Y PY NI", "N PN NI"


def _qid(name: str) -> str:
    return name.removeprefix("q").replace("_", ".")  # q2_4 -> "2.4"


def row(judgement, either=None, **answers):
    conds = {_qid(q): set(codes.split()) for q, codes in answers.items()}
    alts = [{_qid(q): set(c.split()) for q, c in alt.items()} for alt in either or []]
    return judgement, conds, alts


AWARE = [{"q2_1": YPYNI}, {"q2_2": YPYNI}]  # "Either 2.1 or 2.2 Y/PY/NI"

RULES = {
    # Table 4 (and the domain 1 flowchart). The row "N/PN | Y/PY | N/PN/NI" is the criteria
    # table's (Table 3) "allocation sequence adequately concealed AND not random": Some concerns,
    # the flowchart's 1.2 Y/PY -> 1.1 N/PN -> Some concerns.
    "D1": [
        row(LOW, q1_1="Y PY NI", q1_2=YPY, q1_3=NPNNI),
        row(SOME, q1_1=YPY, q1_2=YPY, q1_3=YPY),
        row(SOME, q1_1=NPNNI, q1_2=YPY, q1_3=YPY),
        row(SOME, q1_1=NPN, q1_2=YPY, q1_3=NPNNI),
        row(SOME, q1_2="NI", q1_3=NPNNI),
        row(HIGH, q1_2="NI", q1_3=YPY),
        row(HIGH, q1_2=NPN),
    ],
    # Table 6, part 1 (questions 2.1 to 2.5).
    "D2_assignment/part1": [
        row(LOW, q2_1=NPN, q2_2=NPN),
        row(LOW, either=AWARE, q2_3=NPN),
        row(SOME, either=AWARE, q2_3="NI"),
        row(SOME, either=AWARE, q2_3=YPY, q2_4=NPN),
        row(SOME, either=AWARE, q2_3=YPY, q2_4=YPYNI, q2_5=YPY),
        row(HIGH, either=AWARE, q2_3=YPY, q2_4=YPYNI, q2_5=NPNNI),
    ],
    # Table 6, part 2 (questions 2.6 and 2.7).
    "D2_assignment/part2": [
        row(LOW, q2_6=YPY),
        row(SOME, q2_6=NPNNI, q2_7=NPN),
        row(HIGH, q2_6=NPNNI, q2_7=YPYNI),
    ],
    # Table 8.
    "D2_adhering": [
        row(LOW, q2_1=NPN, q2_2=NPN, q2_4="N PN NA", q2_5="N PN NA"),
        row(LOW, either=AWARE, q2_3="Y PY NA", q2_4="N PN NA", q2_5="N PN NA"),
        row(SOME, q2_1=NPN, q2_2=NPN, q2_4=YPYNI, q2_6=YPY),
        row(SOME, q2_1=NPN, q2_2=NPN, q2_5=YPYNI, q2_6=YPY),
        row(SOME, either=AWARE, q2_3="Y PY NA", q2_4=YPYNI, q2_6=YPY),
        row(SOME, either=AWARE, q2_3="Y PY NA", q2_5=YPYNI, q2_6=YPY),
        row(SOME, either=AWARE, q2_3=NPNNI, q2_6=YPY),
        row(HIGH, q2_1=NPN, q2_2=NPN, q2_4=YPYNI, q2_6=NPNNI),
        row(HIGH, q2_1=NPN, q2_2=NPN, q2_5=YPYNI, q2_6=NPNNI),
        row(HIGH, either=AWARE, q2_3="Y PY NA", q2_4=YPYNI, q2_6=NPNNI),
        row(HIGH, either=AWARE, q2_3="Y PY NA", q2_5=YPYNI, q2_6=NPNNI),
        row(HIGH, either=AWARE, q2_3=NPNNI, q2_6=NPNNI),
    ],
    # Table 10.
    "D3": [
        row(LOW, q3_1=YPY),
        row(LOW, q3_1=NPNNI, q3_2=YPY),
        row(LOW, q3_1=NPNNI, q3_2=NPN, q3_3=NPN),
        row(SOME, q3_1=NPNNI, q3_2=NPN, q3_3=YPYNI, q3_4=NPN),
        row(HIGH, q3_1=NPNNI, q3_2=NPN, q3_3=YPYNI, q3_4=YPYNI),
    ],
    # Table 12.
    "D4": [
        row(LOW, q4_1=NPNNI, q4_2=NPN, q4_3=NPN),
        row(LOW, q4_1=NPNNI, q4_2=NPN, q4_3=YPYNI, q4_4=NPN),
        row(SOME, q4_1=NPNNI, q4_2=NPN, q4_3=YPYNI, q4_4=YPYNI, q4_5=NPN),
        row(HIGH, q4_1=NPNNI, q4_2=NPN, q4_3=YPYNI, q4_4=YPYNI, q4_5=YPYNI),
        row(SOME, q4_1=NPNNI, q4_2="NI", q4_3=NPN),
        row(SOME, q4_1=NPNNI, q4_2="NI", q4_3=YPYNI, q4_4=NPN),
        row(SOME, q4_1=NPNNI, q4_2="NI", q4_3=YPYNI, q4_4=YPYNI, q4_5=NPN),
        row(HIGH, q4_1=NPNNI, q4_2="NI", q4_3=YPYNI, q4_4=YPYNI, q4_5=YPYNI),
        row(HIGH, q4_1=YPY),
        row(HIGH, q4_2=YPY),
    ],
    # Table 14.
    "D5": [
        row(LOW, q5_1=YPY, q5_2=NPN, q5_3=NPN),
        row(SOME, q5_1=NPNNI, q5_2=NPN, q5_3=NPN),
        row(SOME, q5_2=NPN, q5_3="NI"),
        row(SOME, q5_2="NI", q5_3=NPN),
        row(SOME, q5_2="NI", q5_3="NI"),
        row(HIGH, either=[{"q5_2": YPY}, {"q5_3": YPY}]),
    ],
}


def table_judgement(rules, answers: dict) -> str:
    """The judgement of the rows that apply; fails unless at least one applies and all agree."""
    found = {
        judgement
        for judgement, conds, alts in rules
        if all(answers[q] in codes for q, codes in conds.items())
        and (not alts or any(all(answers[q] in c for q, c in alt.items()) for alt in alts))
    }
    assert len(found) == 1, f"{answers}: rows give {found or 'nothing'}"
    return found.pop()


def published(domain: str, answers: dict) -> str:
    if domain == "D2_assignment":
        # Table 5 criteria: Low if both parts Low, High if either part High, else Some concerns.
        parts = {
            table_judgement(RULES["D2_assignment/part1"], answers),
            table_judgement(RULES["D2_assignment/part2"], answers),
        }
        return HIGH if HIGH in parts else LOW if parts == {LOW} else SOME
    return table_judgement(RULES[domain], answers)


DOMAINS = list(QUESTIONS)

# The number of answer sets the guidance allows, counted by hand from its conditions (a check
# that the enumeration is the one intended).
EXPECTED_COUNTS = {
    "D1": 125,
    # 2.1/2.2: 4 sets both N/PN (then 2.3 NA) + 21 aware; aware: 2.3 N/PN/NI (3) or Y/PY (2)
    # x (2.4 N/PN: 2, or Y/PY/NI: 3 x 2.5 five) = 3 + 2 x 17 = 37; part 2: 2 + 3 x 5 = 17.
    "D2_assignment": (4 + 21 * 37) * 17,
    # 2.4 x 2.5 (6 x 6): 9 pairs within N/PN/NA leave 2.6 NA, 27 ask it (5): 144; not aware
    # (4 sets of 2.1/2.2): 2.3 NA, 144; aware (21): 2.3 Y/PY/NA (3) x 144 or N/PN/NI (3) x 180.
    "D2_adhering": 4 * 144 + 21 * (3 * 144 + 3 * 36 * 5),
    "D3": 2 + 3 * (2 + 2 * (2 + 3 * 5)),
    # 4.1 Y/PY: 2 x 5; else 4.2 Y/PY: 3 x 2; else 3 x 3 x (4.3 N/PN: 2, or 3 x (2 + 3 x 5)).
    "D4": 2 * 5 + 3 * 2 + 3 * 3 * (2 + 3 * (2 + 3 * 5)),
    "D5": 125,
}


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_consistent_answer_set_gets_the_published_judgement(domain):
    sets = consistent_sets(domain)
    assert len(sets) == EXPECTED_COUNTS[domain]
    seen = set()
    for answers in sets:
        expected = published(domain, answers)
        assert domain_judgement("rob2", domain, answers) == expected, answers
        seen.add(expected)
    assert seen == {LOW, SOME, HIGH}


def not_asked(domain: str, answers: dict) -> list[str]:
    return [q for q, c, _ in QUESTIONS[domain] if not parse_condition(c)(answers)]


@pytest.mark.parametrize("domain", DOMAINS)
def test_leaving_out_questions_not_asked_means_na(domain):
    for answers in consistent_sets(domain)[::7]:
        skipped = not_asked(domain, answers)
        shorter = {q: a for q, a in answers.items() if q not in skipped}
        assert domain_judgement("rob2", domain, shorter) == published(domain, answers)


@pytest.mark.parametrize("domain", DOMAINS)
def test_questions_asked_follow_the_printed_conditions(domain):
    conditions = {q: parse_condition(c) for q, c, _ in QUESTIONS[domain]}
    for answers in consistent_sets(domain):
        expected = [q for q, asked in conditions.items() if asked(answers)]
        assert engine.questions_asked("rob2", domain, answers) == expected, answers


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_catalogue_has_the_printed_questions_and_answers(domain):
    d = engine.TOOLS["rob2"].domain(domain)
    assert d.has_algorithm
    assert [q.id for q in d.questions] == [q for q, _, _ in QUESTIONS[domain]]
    for q, (_, condition, answers) in zip(d.questions, QUESTIONS[domain], strict=True):
        offered = set(answers) | ({"NA"} if condition else set())
        assert set(q.answers) == offered, q.id
        assert q.text.endswith("?") and len(q.text) > 20
        assert bool(q.asked_when) == bool(condition), q.id


# ---------------------------------------------------------------------------------------------
# Inconsistent answer sets are refused, naming the question.
# ---------------------------------------------------------------------------------------------


CONDITIONAL_DOMAINS = [d for d in DOMAINS if any(c for _, c, _ in QUESTIONS[d])]


@pytest.mark.parametrize("domain", CONDITIONAL_DOMAINS)
def test_a_question_not_asked_but_answered_is_refused(domain):
    allowed = {q: a for q, _, a in QUESTIONS[domain]}
    checked = 0
    for answers in consistent_sets(domain)[::3]:
        for qid in not_asked(domain, answers):
            assert answers[qid] == "NA"
            for wrong in allowed[qid]:
                if wrong == "NA":
                    continue
                bad = {**answers, qid: wrong}
                with pytest.raises(RobAnswerError, match=rf"^{re.escape(qid)} must be NA unless"):
                    domain_judgement("rob2", domain, bad)
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_required_question_missing_is_refused(domain):
    for answers in consistent_sets(domain)[::5]:
        for qid in answers:
            if qid in not_asked(domain, answers):
                continue
            missing = {q: a for q, a in answers.items() if q != qid}
            with pytest.raises(RobAnswerError, match=rf"^{re.escape(qid)} is required"):
                domain_judgement("rob2", domain, missing)


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("bad", ["X", "", "yes", "y", "Low", 1, None])
def test_an_answer_that_is_no_code_is_refused(domain, bad):
    answers = consistent_sets(domain)[0]
    qid = next(iter(answers))
    if bad is None:
        return  # None is "left out": covered by the required test
    with pytest.raises(RobAnswerError, match=rf"^{re.escape(qid)}: answer .* is not one of"):
        domain_judgement("rob2", domain, {**answers, qid: bad})


def test_na_for_a_question_asked_is_refused_unless_the_guidance_offers_it():
    with pytest.raises(RobAnswerError, match=r"^2\.3 is asked because 2\.1 or 2\.2 is Y, PY"):
        domain_judgement("rob2", "D2_assignment", {"2.1": "Y", "2.2": "N", "2.3": "NA", "2.6": "Y"})
    with pytest.raises(RobAnswerError, match=r"^1\.1: answer 'NA' is not one of Y, PY, PN, N, NI$"):
        domain_judgement("rob2", "D1", {"1.1": "NA", "1.2": "Y", "1.3": "N"})
    with pytest.raises(RobAnswerError, match=r"^3\.2: answer 'NI' is not one of Y, PY, PN, N, NA$"):
        domain_judgement("rob2", "D3", {"3.1": "N", "3.2": "NI"})
    # [If applicable:] questions of the effect of adhering take NA when asked.
    assert (
        domain_judgement(
            "rob2", "D2_adhering", {"2.1": "Y", "2.2": "Y", "2.3": "NA", "2.4": "NA", "2.5": "NA"}
        )
        == LOW
    )


def test_the_messages_name_the_question_and_why():
    cases = [
        ("D1", {"1.1": "Y", "1.3": "N"}, "1.2 is required"),
        (
            "D2_assignment",
            {"2.1": "N", "2.2": "N", "2.4": "Y", "2.6": "Y"},
            "2.4 must be NA unless 2.3 is Y or PY",
        ),
        (
            "D1",
            {"1.1": "X", "1.2": "Y", "1.3": "N"},
            "1.1: answer 'X' is not one of Y, PY, PN, N, NI",
        ),
        (
            "D2_assignment",
            {"2.1": "Y", "2.2": "N", "2.3": "Y", "2.6": "Y"},
            "2.4 is required (asked when 2.3 is Y or PY)",
        ),
        ("D1", {"1.1": "Y", "1.2": "Y", "1.3": "N", "1.4": "Y"}, "'1.4' is not a question of D1"),
    ]
    for domain, answers, message in cases:
        with pytest.raises(RobAnswerError) as err:
            domain_judgement("rob2", domain, answers)
        assert str(err.value).startswith(message), str(err.value)


def test_unknown_tools_and_domains_are_refused():
    with pytest.raises(RobAnswerError, match="unknown tool 'rob1'"):
        domain_judgement("rob1", "D1", {})
    with pytest.raises(RobAnswerError, match="unknown domain 'D2' of RoB 2"):
        domain_judgement("rob2", "D2", {})
    with pytest.raises(RobAnswerError, match="answers must map"):
        domain_judgement("rob2", "D1", [("1.1", "Y")])
    assert issubclass(RobAnswerError, ValueError)


# ---------------------------------------------------------------------------------------------
# The overall rule (guidance Table 1), on all 3^5 domain combinations.
# ---------------------------------------------------------------------------------------------


def table_1(judgements: list[str]) -> str:
    criteria = {
        LOW: all(j == LOW for j in judgements),
        SOME: SOME in judgements and HIGH not in judgements,
        HIGH: HIGH in judgements,  # "or some concerns for multiple domains ...": a reviewer's call
    }
    met = [j for j, ok in criteria.items() if ok]
    assert len(met) == 1, judgements
    return met[0]


def test_overall_rule_on_every_combination():
    combos = list(itertools.product((LOW, SOME, HIGH), repeat=5))
    assert len(combos) == 243
    for combo in combos:
        given = dict(zip(("D1", "D2", "D3", "D4", "D5"), combo, strict=True))
        assert overall_judgement("rob2", given) == table_1(list(combo)), combo


def test_several_some_concerns_stay_some_concerns_for_the_reviewer_to_raise():
    assert overall_judgement("rob2", dict.fromkeys(("D1", "D2", "D3", "D4", "D5"), SOME)) == SOME


def test_overall_accepts_the_variant_name_of_domain_2_once():
    base = {"D1": LOW, "D3": LOW, "D4": LOW, "D5": LOW}
    assert overall_judgement("rob2", {**base, "D2_adhering": HIGH}) == HIGH
    assert overall_judgement("rob2", {**base, "D2_assignment": LOW}) == LOW
    with pytest.raises(RobAnswerError, match="give domain 2 once"):
        overall_judgement("rob2", {**base, "D2": LOW, "D2_assignment": LOW})


def test_overall_refuses_missing_unknown_and_bad_judgements():
    full = dict.fromkeys(("D1", "D2", "D3", "D4", "D5"), LOW)
    with pytest.raises(RobAnswerError, match="the judgement of D5 is required"):
        overall_judgement("rob2", {k: v for k, v in full.items() if k != "D5"})
    with pytest.raises(RobAnswerError, match="'D6' is not a domain"):
        overall_judgement("rob2", {**full, "D6": LOW})
    with pytest.raises(RobAnswerError, match="D3: judgement 'Moderate' is not one of"):
        overall_judgement("rob2", {**full, "D3": "Moderate"})
    with pytest.raises(RobAnswerError, match="D3: judgement 'low' is not one of"):
        overall_judgement("rob2", {**full, "D3": "low"})


# ---------------------------------------------------------------------------------------------
# Worked examples, from the situations the guidance's elaborations describe.
# ---------------------------------------------------------------------------------------------

EXAMPLES = [
    # 1.1 "Answer 'Yes' if a random component was used ... computer-generated random numbers";
    # 1.2 "Answer 'Yes' if the trial used any form of remote or centrally administered method";
    # 1.3 "Answer 'No' if no imbalances are apparent or if any observed imbalances are
    # compatible with chance."
    ("D1", {"1.1": "Y", "1.2": "Y", "1.3": "N"}, LOW),
    # Alternation ("Answer 'No' if ... alternation") with allocation known in advance.
    ("D1", {"1.1": "N", "1.2": "N", "1.3": "N"}, HIGH),
    # "the only information about randomization methods is a statement that the study is
    # randomized": NI to 1.1 and 1.2; baseline differences compatible with chance (Table 3:
    # no information about concealment, baseline compatible with chance -> Some concerns).
    ("D1", {"1.1": "NI", "1.2": "NI", "1.3": "N"}, SOME),
    # ... and the same with a large imbalance in a key prognostic factor: High.
    ("D1", {"1.1": "NI", "1.2": "NI", "1.3": "Y"}, HIGH),
    # Double-blind placebo-controlled trial analysed by intention to treat.
    ("D2_assignment", {"2.1": "N", "2.2": "N", "2.6": "Y"}, LOW),
    # Open-label trial without deviations from the trial context, analysed per protocol after
    # excluding many participants who switched (2.7: substantial impact).
    (
        "D2_assignment",
        {"2.1": "Y", "2.2": "Y", "2.3": "N", "2.6": "N", "2.7": "Y"},
        HIGH,
    ),
    # Open-label trial, deviations because of the trial context that were likely to affect
    # the outcome but were balanced; modified ITT analysis.
    (
        "D2_assignment",
        {"2.1": "Y", "2.2": "PY", "2.3": "PY", "2.4": "PY", "2.5": "Y", "2.6": "Y"},
        SOME,
    ),
    # Effect of adhering: blinded trial with poor adherence, naïve per-protocol analysis.
    ("D2_adhering", {"2.1": "N", "2.2": "N", "2.4": "N", "2.5": "Y", "2.6": "N"}, HIGH),
    # Outcome data for nearly all participants (e.g. 95 % of a continuous outcome).
    ("D3", {"3.1": "Y"}, LOW),
    # Depression trial: drop-out for lack of efficacy, likely to depend on the true outcome.
    ("D3", {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "Y"}, HIGH),
    # Missingness could depend on the outcome but probably did not.
    ("D3", {"3.1": "PN", "3.2": "PN", "3.3": "PY", "3.4": "PN"}, SOME),
    # All-cause mortality ("outcome assessment ... not influenced"): assessors aware, 4.4 No.
    ("D4", {"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "N"}, LOW),
    # Self-reported pain in an unblinded trial (the participant is the assessor).
    ("D4", {"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "Y", "4.5": "PY"}, HIGH),
    # No analysis plan available; no sign of selection among measurements or analyses.
    ("D5", {"5.1": "NI", "5.2": "N", "5.3": "N"}, SOME),
    # Result picked from several scales reported selectively.
    ("D5", {"5.1": "N", "5.2": "Y", "5.3": "N"}, HIGH),
]


@pytest.mark.parametrize(("domain", "answers", "expected"), EXAMPLES)
def test_worked_examples(domain, answers, expected):
    assert domain_judgement("rob2", domain, answers) == expected


def test_the_documented_examples_run():
    import doctest

    result = doctest.testmod(engine, verbose=False)
    assert result.attempted >= 3 and result.failed == 0
