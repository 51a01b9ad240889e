"""The record list's search box: a small query language, as database searchers expect it.

``wildfire smoke`` (both words: AND is implied), ``"wildfire smoke"`` (the phrase), ``smok*``
(words that start so), ``a OR b``, ``a AND NOT b``, ``(a OR b) AND c``; AND binds tighter than
OR, NOT tightest; the operators may be written in any case (quote them, ``"and"``, to search for
the word). ``title:``, ``abstract:``, ``author:``, ``journal:``, ``keyword:`` and ``doi:`` keep a
term (or a phrase, or a group in parentheses) to one field; ``year:2020`` and ``year:2015-2020``
filter by year, ``pmid:`` by PubMed id.

A term matches whole words: ``smoke`` finds "smoke" and "Smoke," but not "smoker"; a phrase
matches its words in order with only spaces or punctuation between them. Matching ignores case.

:func:`parse` is pure and never raises for a query that merely looks odd: an unclosed quote or
parenthesis, a stray ``)`` or an operator with nothing on one side are read the sensible way
and said in :attr:`Query.notices`. Only what cannot be searched in bounded time is refused
(:class:`QueryError`, with a message for people): too many terms, parentheses nested too deep,
a year that is no year. :func:`to_q` turns a query into a Django ``Q`` that runs on SQLite and
PostgreSQL alike (``iregex`` with ``(^|\\W)``/``($|\\W)`` word edges, which both read the same
way); :meth:`Query.highlighter` gives the patterns that mark the matches in a record.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.db.models import Q

from core.text import is_digits

MAX_LENGTH = 500
MAX_TERMS = 30
MAX_DEPTH = 8

#: Field names people type, and the field they mean.
FIELDS = {
    "title": "title",
    "ti": "title",
    "abstract": "abstract",
    "ab": "abstract",
    "author": "authors",
    "authors": "authors",
    "au": "authors",
    "journal": "journal",
    "source": "journal",
    "so": "journal",
    "keyword": "keywords",
    "keywords": "keywords",
    "kw": "keywords",
    "doi": "doi",
    "year": "year",
    "py": "year",
    "pmid": "pmid",
}
#: Where a term without a field is looked for.
DEFAULT_FIELDS = ("title", "abstract", "authors", "journal", "keywords", "doi")
#: Fields stored as JSON lists: matched in their JSON text (see :func:`_json_word`).
JSON_FIELDS = frozenset({"authors", "keywords"})
OPERATORS = {"AND", "OR", "NOT"}

_WORD = re.compile(r"\w+")
_YEAR = re.compile(r"^(\d{1,4})?(-)?(\d{1,4})?$")


class QueryError(ValueError):
    """A query that cannot be searched, with a message for the person who typed it."""


# --- The tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """Words to find in order (one word, or a phrase), in ``field`` or the default fields.

    ``prefix``: the last word may continue (``smok*``). ``literal``: no word at all was typed
    (``C++`` has one, ``%`` none); the text is then looked for as it is.
    """

    words: tuple[str, ...]
    field: str | None = None
    prefix: bool = False
    literal: str = ""


@dataclass(frozen=True)
class Exact:
    """An exact value of a field that is no text: ``year`` (a range) or ``pmid``."""

    field: str
    low: int | None = None
    high: int | None = None
    value: str = ""


@dataclass(frozen=True)
class And:
    parts: tuple


@dataclass(frozen=True)
class Or:
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


@dataclass
class Query:
    """A parsed query: its tree (``None`` when nothing is left to search for) and notices."""

    text: str
    tree: object | None
    notices: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.tree is not None

    def highlighter(self) -> Highlighter:
        return Highlighter.of(self.tree)


NO_QUERY = Query(text="", tree=None)


# --- Reading the text -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # "word", "phrase", "(", ")", "op", "field"
    text: str


def _tokens(text: str, notices: list[str]) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(_Tok(c, c))
            i += 1
        elif c in '"“”':
            end = _closing_quote(text, i + 1)
            if end < 0:
                notices.append(
                    "A closing quotation mark is missing: the words after the opening one were "
                    "searched for as a phrase."
                )
                out.append(_Tok("phrase", text[i + 1 :]))
                break
            out.append(_Tok("phrase", text[i + 1 : end]))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"“”':
                j += 1
            word = text[i:j]
            name, colon, rest = word.partition(":")
            if colon and name.lower() in FIELDS:
                out.append(_Tok("field", FIELDS[name.lower()]))
                if rest:
                    out.append(_Tok("word", rest))
            elif word.upper() in OPERATORS:
                out.append(_Tok("op", word.upper()))
            else:
                out.append(_Tok("word", word))
            i = j
    return out


def _closing_quote(text: str, start: int) -> int:
    for k in range(start, len(text)):
        if text[k] in '"“”':
            return k
    return -1


class _Parser:
    """Recursive descent over the tokens: or := and (OR and)*; and := not ([AND] not)*;
    not := NOT not | atom; atom := ( or ) | [field:] (word | phrase | ( or ))."""

    def __init__(self, tokens: list[_Tok], notices: list[str]):
        self.tokens = tokens
        self.pos = 0
        self.notices = notices
        self.terms = 0
        self.depth = 0
        self._said: set[str] = set()

    def notice(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            self.notices.append(message)

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self):
        tree = self.parse_or(None)
        while self.peek() is not None:  # only a stray ")" stops parse_or early
            self.take()
            self.notice("A closing parenthesis without an opening one was ignored.")
            more = self.parse_or(None)
            tree = _join(And, [tree, more])
        return tree

    def parse_or(self, fld):
        parts = [self.parse_and(fld)]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "OR":
            self.take()
            parts.append(self.parse_and(fld))
        if len(parts) > 1 and None in parts:
            self.notice("OR needs a term on each side; a lone OR was ignored.")
        return _join(Or, parts)

    def parse_and(self, fld):
        parts = []
        while (tok := self.peek()) is not None and tok.kind != ")":
            if tok.kind == "op" and tok.text == "OR":
                break
            if tok.kind == "op" and tok.text == "AND":
                self.take()
                if not parts or self._ends_here():
                    self.notice("AND needs a term on each side; a lone AND was ignored.")
                continue
            parts.append(self.parse_not(fld))
        return _join(And, parts)

    def _ends_here(self) -> bool:
        tok = self.peek()
        return tok is None or tok.kind == ")" or (tok.kind == "op" and tok.text != "NOT")

    def parse_not(self, fld):
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "NOT":
            self.take()
            if self._ends_here():
                self.notice("NOT needs a term after it; a lone NOT was ignored.")
                return None
            part = self.parse_not(fld)
            return None if part is None else Not(part)
        return self.parse_atom(fld)

    def parse_atom(self, fld):
        tok = self.take()
        if tok.kind == "field":
            nxt = self.peek()
            if nxt is None or nxt.kind in (")", "op"):
                self.notice(f"A field name with nothing after it ({tok.text}:) was ignored.")
                return None
            return self.parse_atom(tok.text)
        if tok.kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QueryError(f"Parentheses are nested too deep (at most {MAX_DEPTH} levels).")
            inner = self.parse_or(fld)
            self.depth -= 1
            if self.peek() is None:
                self.notice("A closing parenthesis was missing; it was added at the end.")
            else:
                self.take()  # the ")"
            return inner
        return self.term(tok.text, fld, phrase=tok.kind == "phrase")

    def term(self, text: str, fld: str | None, *, phrase: bool):
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"The search has too many terms (at most {MAX_TERMS}).")
        if fld == "year":
            return _year(text)
        if fld == "pmid":
            digits = "".join(_WORD.findall(text))
            if not is_digits(digits):
                raise QueryError(f"pmid: needs a PubMed id (digits), not “{text[:40]}”.")
            return Exact("pmid", value=digits)
        if fld == "doi":
            doi = _doi(text)
            return Term(words=(), field="doi", literal=doi) if doi else None
        stripped = text.strip()
        prefix = stripped.endswith("*") and not phrase
        words = tuple(_WORD.findall(stripped))
        if phrase and words and stripped.endswith("*"):
            prefix = True
        if not words:
            return Term(words=(), field=fld, literal=stripped) if stripped else None
        return Term(words=words, field=fld, prefix=prefix)


def _join(kind, parts):
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return kind(tuple(parts))


def _year(text: str) -> Exact:
    m = _YEAR.match(text.strip())
    if not m or not (m.group(1) or m.group(3)) or (m.group(2) is None and m.group(3)):
        raise QueryError(f"year: needs a year (2020) or a range (2015-2020), not “{text[:40]}”.")
    low = int(m.group(1)) if m.group(1) else None
    high = int(m.group(3)) if m.group(3) else (None if m.group(2) else low)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return Exact("year", low=low, high=high)


def _doi(text: str) -> str:
    doi = text.strip().lower()
    for lead in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if doi.startswith(lead):
            doi = doi[len(lead) :]
    return doi


def parse(text: str | None) -> Query:
    """The query in ``text``; :class:`QueryError` for one that cannot be searched."""
    text = text or ""
    if len(text) > MAX_LENGTH:
        raise QueryError(
            f"The search is too long: at most {MAX_LENGTH} characters (it has {len(text)})."
        )
    notices: list[str] = []
    if "\x00" in text:
        text = text.replace("\x00", " ")
    tokens = _tokens(text, notices)
    tree = _Parser(tokens, notices).parse()
    return Query(text=text, tree=tree, notices=notices)


# --- Matching in the database ---------------------------------------------------------------


def _json_word(word: str) -> str:
    """A word's pattern in JSON text: SQLite keeps JSON with non-ASCII letters escaped
    (``M\\u00fcller``), PostgreSQL as they are; the pattern finds either."""
    out = []
    for ch in word:
        if ch.isascii():
            out.append(ch)
            continue
        forms = {ch, ch.lower(), ch.upper()}
        alts = sorted(forms | {json.dumps(f)[1:-1].replace("\\", "\\\\") for f in forms})
        out.append("(?:" + "|".join(alts) + ")")
    return "".join(out)


def term_regex(term: Term, *, json_text: bool = False) -> str:
    """The pattern of ``term`` for ``iregex``: the same meaning in Python's ``re`` (Django's
    SQLite function) and in PostgreSQL's regular expressions. Words hold only letters, digits
    and ``_``, so nothing a person typed is read as regex syntax."""
    words = [_json_word(w) if json_text else w for w in term.words]
    body = r"\W+".join(words)
    end = r"\w*" if term.prefix else r"($|\W)"
    return r"(^|\W)" + body + end


def _term_q(term: Term) -> Q:
    fields = (term.field,) if term.field else DEFAULT_FIELDS
    q = Q()
    for name in fields:
        if not term.words:
            if name in JSON_FIELDS:
                if not term.field:
                    continue  # punctuation alone: not looked for in the lists' JSON syntax
                one = Q()
                for ascii_only in {True, not term.literal.isascii()}:  # as SQLite, PostgreSQL
                    text = json.dumps(term.literal, ensure_ascii=ascii_only)[1:-1]
                    one |= Q(**{f"{name}__icontains": text})
            else:
                one = Q(**{f"{name}__icontains": term.literal})
        else:
            one = Q(**{f"{name}__iregex": term_regex(term, json_text=name in JSON_FIELDS)})
            ascii_words = [w for w in term.words if w.isascii()]
            if ascii_words:
                # A plain substring test first: cheap, and it spares the regex most rows.
                longest = max(ascii_words, key=len)
                one = Q(**{f"{name}__icontains": longest}) & one
        q |= one
    return q


def to_q(node) -> Q:
    """The filter on records of a query's tree (``Q()`` for an empty one)."""
    if node is None:
        return Q()
    if isinstance(node, Term):
        return _term_q(node)
    if isinstance(node, Exact):
        if node.field == "pmid":
            return Q(pmid=node.value)
        q = Q()
        if node.low is not None:
            q &= Q(year__gte=node.low)
        if node.high is not None:
            q &= Q(year__lte=node.high)
        return q
    if isinstance(node, Not):
        return ~to_q(node.part)
    parts = [to_q(p) for p in node.parts]
    q = parts[0]
    for p in parts[1:]:
        q = (q & p) if isinstance(node, And) else (q | p)
    return q


# --- Marking the matches --------------------------------------------------------------------


def _positive_terms(node, negated: bool = False):
    if node is None or isinstance(node, Exact):
        return
    if isinstance(node, Term):
        if not negated:
            yield node
        return
    if isinstance(node, Not):
        yield from _positive_terms(node.part, not negated)
        return
    for part in node.parts:
        yield from _positive_terms(part, negated)


def _python_pattern(term: Term) -> str:
    if not term.words:
        return re.escape(term.literal)
    body = r"\W+".join(term.words)
    return r"(?<!\w)" + body + (r"\w*" if term.prefix else r"(?!\w)")


@dataclass(frozen=True)
class Highlighter:
    """Patterns that find a query's terms (those not under NOT) in each field of a record."""

    patterns: dict[str, re.Pattern[str]]

    @classmethod
    def of(cls, tree) -> Highlighter:
        by_field: dict[str, list[str]] = {}
        for term in _positive_terms(tree):
            for name in (term.field,) if term.field else DEFAULT_FIELDS:
                by_field.setdefault(name, []).append(_python_pattern(term))
        return cls(
            {
                name: re.compile("|".join(f"(?:{p})" for p in sorted(set(ps), key=len)[::-1]), re.I)
                for name, ps in by_field.items()
            }
        )

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __getitem__(self, name: str) -> re.Pattern[str] | None:
        return self.patterns.get(name)

    def get(self, name: str) -> re.Pattern[str] | None:
        return self.patterns.get(name)


def segments(text: str, pattern: re.Pattern[str] | None) -> list[tuple[str, bool]]:
    """``text`` cut into ``(piece, is_match)``; the caller escapes every piece."""
    if not text:
        return []
    if pattern is None:
        return [(text, False)]
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() == m.end():
            continue
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def snippet(text: str, pattern: re.Pattern[str] | None, width: int = 240) -> tuple[str, str, str]:
    """Around the first match in ``text``: (``"…"`` or ``""``, the excerpt, ``"…"`` or ``""``);
    the whole excerpt is empty when nothing matches."""
    if not text or pattern is None:
        return "", "", ""
    m = pattern.search(text)
    if m is None:
        return "", "", ""
    start = max(0, m.start() - width // 3)
    end = min(len(text), start + width)
    if start > 0:
        space = text.find(" ", start)
        if 0 <= space < m.start():
            start = space + 1
    return ("…" if start > 0 else ""), text[start:end], ("…" if end < len(text) else "")
