"""The record list's query language, as the pure parser reads it (``identification/query.py``):
phrases, prefixes, AND/OR/NOT, fields, odd and hostile input, and the marks on matches. The
searches it makes are in ``test_records_search.py``."""

from __future__ import annotations

import re

import pytest

from identification import query
from identification.query import And, Exact, Not, Or, QueryError, Term, parse
from identification.templatetags.record_search import excerpt, highlight


def t(*words, field=None, prefix=False):
    return Term(words=tuple(words), field=field, prefix=prefix)


# --- Parsing --------------------------------------------------------------------------------


def test_a_quoted_phrase_is_one_term_and_words_are_and_ed():
    assert parse('"wildfire smoke"').tree == t("wildfire", "smoke")
    assert parse("wildfire smoke").tree == And((t("wildfire"), t("smoke")))
    assert parse("wildfire*").tree == t("wildfire", prefix=True)
    assert parse("“wildfire smoke”").tree == t("wildfire", "smoke")  # typographic quotes


def test_and_binds_tighter_than_or_and_not_tightest():
    assert parse("a OR b AND c").tree == Or((t("a"), And((t("b"), t("c")))))
    assert parse("a b OR c").tree == Or((And((t("a"), t("b"))), t("c")))
    assert parse("NOT a b").tree == And((Not(t("a")), t("b")))
    assert parse("a AND NOT b").tree == And((t("a"), Not(t("b"))))
    assert parse("(a OR b) c").tree == And((Or((t("a"), t("b"))), t("c")))
    assert parse("a or b").tree == Or((t("a"), t("b")))  # operators in any case
    assert parse('a "or" b').tree == And((t("a"), t("or"), t("b")))  # quoted: the word


def test_fields_restrict_terms_phrases_and_groups():
    assert parse('title:"wildfire smoke"').tree == t("wildfire", "smoke", field="title")
    assert parse("author:müller").tree == t("müller", field="authors")
    assert parse("ti:(smoke OR fire*)").tree == Or(
        (t("smoke", field="title"), t("fire", field="title", prefix=True))
    )
    assert parse("year:2015-2020").tree == Exact("year", low=2015, high=2020)
    assert parse("year:2020").tree == Exact("year", low=2020, high=2020)
    assert parse("year:-2010").tree == Exact("year", low=None, high=2010)
    assert parse("doi:https://doi.org/10.1000/ABC").tree == Term(
        words=(), field="doi", literal="10.1000/abc"
    )
    # Not a field: read as words.
    assert parse("http://example.org").tree == t("http", "example", "org")


@pytest.mark.parametrize(
    ("text", "tree", "notice"),
    [
        ('"wildfire smoke', t("wildfire", "smoke"), "closing quotation mark"),
        ("(a OR b", Or((t("a"), t("b"))), "closing parenthesis was missing"),
        ("a) b", And((t("a"), t("b"))), "without an opening one"),
        ("a AND", t("a"), "AND needs a term"),
        ("OR a", t("a"), "OR needs a term"),
        ("a NOT", t("a"), "NOT needs a term"),
        ("title:", None, "nothing after it"),
        ("()", None, ""),
    ],
)
def test_odd_queries_are_read_the_sensible_way_and_say_so(text, tree, notice):
    parsed = parse(text)
    assert parsed.tree == tree
    assert notice in " ".join(parsed.notices)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 10_000, "at most 500 characters"),
        (" ".join(f"w{i}" for i in range(40)), "too many terms"),
        ("(" * 20 + "a" + ")" * 20, "nested too deep"),
        ("year:abc", "year: needs a year"),
        ("pmid:abc", "PubMed id"),
    ],
)
def test_queries_that_cannot_be_searched_are_refused_with_a_message(text, message):
    with pytest.raises(QueryError, match=message):
        parse(text)


def test_regex_and_sql_metacharacters_are_words_or_literals():
    tree = parse(r"PM2.5 C++ 100% $cost a^b \ [methods] .* '; DROP TABLE x; --").tree
    words = [part.words for part in tree.parts]
    literals = [part.literal for part in tree.parts if not part.words]
    assert ("PM2", "5") in words and ("C",) in words and ("methods",) in words
    assert "\\" in literals and ".*" in literals and "--" in literals
    for part in tree.parts:
        if part.words:
            # Only the words a person typed (letters, digits, _) reach a pattern, between the
            # pattern's own word edges and gaps.
            typed = re.sub(r"\(\^\|\\W\)|\(\$\|\\W\)|\\W\+|\\w\*", " ", query.term_regex(part))
            assert re.fullmatch(r"[\w ]+", typed), typed


# --- Highlighting ---------------------------------------------------------------------------


def test_matches_are_marked_and_everything_else_escaped():
    marks = parse('"wildfire smoke" OR smok* NOT tobacco').highlighter()
    html = str(highlight("<b>Wildfire  smoke</b> & smokers, tobacco", marks["title"]))
    assert html == (
        "&lt;b&gt;<mark>Wildfire  smoke</mark>&lt;/b&gt; &amp; <mark>smokers</mark>, tobacco"
    )
    assert str(highlight("<script>alert(1)</script>", None)) == (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )
    authors = parse("author:müller").highlighter()
    assert str(highlight(["Müller, K", "<Smith>"], authors["authors"])) == (
        "<mark>Müller</mark>, K; &lt;Smith&gt;"
    )
    assert authors["title"] is None  # a field-restricted term marks only its field
    long = "x " * 200 + "the <asthma> & more " + "y " * 200
    snippet = str(excerpt(long, parse("asthma").highlighter()["abstract"]))
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "&lt;<mark>asthma</mark>&gt; &amp;" in snippet
