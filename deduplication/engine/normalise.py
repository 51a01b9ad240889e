"""Normalisation of bibliographic fields for comparison.

Every function here is pure, total (bad input gives ``None`` or an empty value, never an
exception) and idempotent, because records arrive from today's importers, from older imports
and from hand entry, and the engine cannot trust any of them to be clean.

Over 500 lines on purpose: one function per field (title, authors, journal, pages, DOI, PMID,
year), each with the quirks of real exports it handles named beside it; split, the rules for one
field would sit apart from the quirk list that explains them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from rapidfuzz import fuzz

__all__ = [
    "AuthorKey",
    "PageRange",
    "author_key",
    "author_keys",
    "compact",
    "journal_similarity",
    "journal_tokens",
    "normalise_doi",
    "normalise_issue",
    "normalise_pages",
    "normalise_pmid",
    "normalise_text",
    "normalise_title",
    "normalise_volume",
    "normalise_year",
    "pages_match",
    "years_match",
]

# --------------------------------------------------------------------------------------------
# Text


# Greek letters are spelled out because databases disagree: PubMed writes "TNF-alpha", Scopus
# and publishers' sites "TNF-α". Spelling out (rather than transliterating to one letter) keeps
# "alpha" written by hand equal to "α".
_GREEK = {
    "α": "alpha",
    "β": "beta",
    "ϐ": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ϵ": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ϑ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "ϰ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "µ": "mu",  # MICRO SIGN, which NFKD turns into mu anyway
    "ν": "nu",
    "ξ": "xi",
    "ο": "omicron",
    "π": "pi",
    "ϖ": "pi",
    "ρ": "rho",
    "ϱ": "rho",
    "σ": "sigma",
    "ς": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "ϕ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
}

# Letters that NFKD does not decompose into ASCII plus combining marks.
_LIGATURES = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ł": "l",
    "ı": "i",
}

_TRANSLATE = str.maketrans({**_GREEK, **_LIGATURES})
_TAG = re.compile(r"<[^<>]{0,200}>")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_text(text: str | None) -> str:
    """Lower-case ASCII words separated by single spaces.

    Strips HTML tags and entities, folds diacritics, spells out Greek letters and turns every
    run of punctuation or whitespace into one space.

    >>> normalise_text("TNF-α <i>in vivo</i> &amp; Müller's")
    'tnf alpha in vivo and muller s'
    """
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
        if "<" in text:  # entities that spelled out tags, "&lt;i&gt;"
            text = _TAG.sub(" ", text)
        text = text.replace("&", " and ")
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_TRANSLATE))
        text = text.translate(_TRANSLATE)  # NFKD may expose more (e.g. micro sign -> mu)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", text).strip()


def compact(normalised: str) -> str:
    """Remove spaces, so that "beta-cell", "beta cell" and "betacell" agree."""
    return normalised.replace(" ", "")


# Trailing bracketed notes added by databases: "[Japanese]", "[Review]", "[see comments]",
# "[Erratum appears in J Pediatr. 2003 Jun ..." (Ovid truncates the latter, so the closing
# bracket may be missing).
_TRAILING_BRACKET = re.compile(r"\s*\[[^\[\]]*\]?\s*[.]?\s*$")
_UNBALANCED_NOTE = re.compile(r"\s*\[[^\]]*$")
# Corrections cite the corrected article after its title: Web of Science writes
# "Title (vol 360, pg 542, 2009)", Embase "Title (New England Journal of Medicine (2009) 360,
# (542-544))". Without the citation the title compares equal to the article's.
_CITATION_NOTE = re.compile(
    r"\s*\("
    r"(?:vol\.? [^()]*\b(?:19|20)\d\d"  # (vol 360, pg 542, 2009)
    r"|[^()]*\((?:19|20)\d\d\)[^()]*(?:\([^()]*\))?[^()]*)"  # (Journal (2009) 360, (542-544))
    r"\)\s*[.]?\s*$",
    re.IGNORECASE,
)


def normalise_title(title: str | None) -> str:
    """Title as normalised words, without database notes and translation brackets.

    MEDLINE puts titles translated into English in square brackets ("[Clinical aspects of the
    complement system]. [Japanese]") while other databases give the bare English title.

    >>> normalise_title("[Clinical aspects of the complement system]. [Japanese]")
    'clinical aspects of the complement system'
    """
    if not title:
        return ""
    text = title.strip()
    if ")" in text:
        text = _CITATION_NOTE.sub("", text) or text
    # Drop trailing notes while enough of the title remains to be a title.
    for _ in range(4 if "[" in text else 0):
        stripped = _TRAILING_BRACKET.sub("", text)
        if stripped == text:
            stripped = _UNBALANCED_NOTE.sub("", text)
        if stripped == text or len(stripped) < 12:
            break
        text = stripped.rstrip(" .")
    text = text.strip().rstrip(".").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return normalise_text(text)


# --------------------------------------------------------------------------------------------
# Identifiers

_DOI = re.compile(r"10\.\d{3,9}/\S+")
_DOI_TRAILING = ".,;:)]}>'\""


def normalise_doi(doi: str | None) -> str | None:
    """Bare lower-case DOI, or ``None`` when there is none.

    Accepts URLs (``https://doi.org/``, ``http://dx.doi.org/``, percent-encoded), ``doi:``
    prefixes, surrounding text, and several DOIs in one field (the first one wins).

    >>> normalise_doi(" https://dx.doi.org/10.1000/ABC.123. ")
    '10.1000/abc.123'
    """
    if not doi:
        return None
    text = doi.strip()
    if "%" in text:
        text = unquote(text)
    match = _DOI.search(text)
    if match is None:
        return None
    value = match.group(0).lower()
    # Trailing punctuation belongs to the sentence, not the DOI; a closing bracket is kept
    # only when the DOI opened one, as in 10.1016/s0140-6736(20)30183-5.
    while value and value[-1] in _DOI_TRAILING:
        if value[-1] == ")" and value.count("(") >= value.count(")"):
            break
        value = value[:-1]
    return value or None


_DIGITS = re.compile(r"\d+")


def normalise_pmid(pmid: str | int | None) -> str | None:
    """PubMed id as digits without leading zeros ("PMID: 00123" -> "123")."""
    if pmid is None:
        return None
    match = _DIGITS.search(str(pmid))
    if match is None:
        return None
    value = match.group(0).lstrip("0")
    return value or None


def normalise_year(year: int | str | None) -> int | None:
    """Four-digit year between 1000 and 2999, or ``None``."""
    if year is None:
        return None
    if isinstance(year, int):
        return year if 1000 <= year <= 2999 else None
    match = re.search(r"(?<!\d)([12]\d{3})(?!\d)", str(year))
    return int(match.group(1)) if match else None


def years_match(a: int | None, b: int | None, tolerance: int = 1) -> bool | None:
    """Whether two years agree within ``tolerance``; ``None`` when either is unknown.

    One year apart is common for the same paper: online-first versus issue date.
    """
    if a is None or b is None:
        return None
    return abs(a - b) <= tolerance


def normalise_volume(volume: str | int | None) -> str | None:
    """Leading number of a volume ("9 (8) (no pagination)" -> "9"), else its normalised text."""
    if volume is None:
        return None
    text = str(volume).strip()
    match = _DIGITS.search(text)
    if match is not None:
        return match.group(0).lstrip("0") or "0"
    text = normalise_text(text)
    return text or None


normalise_issue = normalise_volume


# --------------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True, slots=True)
class PageRange:
    """Normalised pages: ``start`` and ``end`` as strings ("e0123" -> "e123")."""

    start: str
    end: str | None = None

    def __str__(self) -> str:
        return (
            self.start if self.end is None or self.end == self.start else f"{self.start}-{self.end}"
        )


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_PAGE_LABEL = re.compile(r"^(?:pages?|pp?)\.?\s*")
_PAGE_PART = re.compile(r"([a-z]*)0*(\d+)([a-z]*)")


def _page_part(text: str) -> tuple[str, str, str] | None:
    match = _PAGE_PART.search(text)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3)


def normalise_pages(pages: str | None) -> PageRange | None:
    """Pages with the end expanded: ``123-9`` -> 123-129, ``e0123`` -> e123, ``S12-4`` -> s12-s14.

    >>> str(normalise_pages("1260-70"))
    '1260-1270'
    """
    if not pages:
        return None
    text = str(pages).strip().lower()
    text = _PAGE_LABEL.sub("", text)
    parts = re.split(r"\s*(?:[-‐‑‒–—−]+|\s+to\s+)\s*", text, maxsplit=1)
    first = _page_part(parts[0])
    if first is None:
        return None
    prefix, start_digits, suffix = first
    start = f"{prefix}{start_digits}{suffix}"
    end = None
    if len(parts) == 2:
        second = _page_part(parts[1])
        if second is not None:
            end_prefix, end_digits, end_suffix = second
            # MEDLINE abbreviates the end page: 1260-70 means 1260-1270.
            if len(end_digits) < len(start_digits):
                end_digits = start_digits[: len(start_digits) - len(end_digits)] + end_digits
            end = f"{end_prefix or prefix}{end_digits}{end_suffix}"
    return PageRange(start, end)


def pages_match(a: PageRange | None, b: PageRange | None) -> bool | None:
    """Whether two page ranges describe the same article; ``None`` when either is unknown.

    Only the start page is compared: one database gives "45", another "45-52". A letter
    prefix only one side has is ignored (Nephron Clinical Practice's "c37" is "37" elsewhere).
    """
    if a is None or b is None:
        return None
    if a.start == b.start:
        return True
    return a.start.lstrip(_LETTERS) == b.start.lstrip(_LETTERS) and (
        a.start[:1].isdigit() or b.start[:1].isdigit()
    )


# --------------------------------------------------------------------------------------------
# Authors

_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "dos",
        "das",
        "du",
        "le",
        "la",
        "el",
        "al",
        "ter",
        "ten",
        "vander",
        "vanden",
        "st",
    ]
)
_NOT_NAMES = frozenset({"et al", "et al.", "others", "anonymous", "anon"})
_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.?-?){1,4}$")


@dataclass(frozen=True, slots=True)
class AuthorKey:
    """One author for comparison: "Smith, John" -> surname "smith", initial "j".

    ``surname`` keeps every word of the surname without spaces ("vanderberg"); ``last`` is its
    last word ("berg"), which survives the ways databases split compound names: "Abed Alla S."
    and "S. Abed Alla", "Le Quintrec M." and "Quintrec, M. L.", "Fremeaux-Bacchi V."
    """

    surname: str
    initial: str
    last: str

    def __str__(self) -> str:
        return f"{self.surname} {self.initial}".strip()


def _fold(text: str) -> str:
    return compact(normalise_text(text))


def _key(surname: str, given: str) -> AuthorKey:
    words = normalise_text(surname).split()
    return AuthorKey("".join(words), _fold(given)[:1], words[-1] if words else "")


@lru_cache(maxsize=1 << 16)
def author_key(name: str | None) -> AuthorKey | None:
    """Key for one author name written in any of the usual styles.

    "Smith J", "Smith, John", "Smith JA", "Smith, J. A.", "John Smith" and "J. A. Smith" all
    give ``AuthorKey("smith", "j", "smith")``; particles stay with the surname ("van der Berg").
    "et al." and names without letters give ``None``.
    """
    key = _author_key(name)
    return key if key is not None and key.surname else None


def _author_key(name: str | None) -> AuthorKey | None:
    if not name:
        return None
    text = _TAG.sub(" ", name).strip().strip(";,.").strip()
    if not text or text.lower() in _NOT_NAMES:
        return None
    if "," in text:
        surname, _, given = text.partition(",")
        given = given.strip()
        if not _fold(surname) and given:
            return _author_key(given)
        return _key(surname, given)
    tokens = text.split()
    if len(tokens) == 1:
        return _key(tokens[0], "")
    # "Smith JA", "Johansson M. E.": initials come last.
    trailing = 0
    while trailing < len(tokens) - 1 and _INITIALS.match(tokens[-1 - trailing]):
        trailing += 1
    if trailing and (tokens[-trailing].isupper() or tokens[-trailing].endswith(".")):
        surname_tokens = tokens[: len(tokens) - trailing]
        return _key(" ".join(surname_tokens), tokens[-trailing])
    # "J. A. Smith", "John Smith", "Ludwig van Beethoven": given names come first.
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1].lower() in _PARTICLES:
        start -= 1
    return _key(" ".join(tokens[start:]), tokens[0])


def author_keys(
    authors: list[str] | tuple[str, ...] | None, limit: int = 50
) -> tuple[AuthorKey, ...]:
    """Keys for an author list, skipping "et al." and empty names; at most ``limit``.

    An entry holding several names joined by ";" is split, since hand entry does that.
    """
    if not authors:
        return ()
    keys: list[AuthorKey] = []
    for entry in authors:
        if not entry:
            continue
        for name in entry.split(";") if ";" in entry else (entry,):
            key = author_key(name)
            if key is not None:
                keys.append(key)
                if len(keys) >= limit:
                    return tuple(keys)
    return tuple(keys)


# --------------------------------------------------------------------------------------------
# Journals

_JOURNAL_STOP = frozenset(
    [
        "the",
        "of",
        "and",
        "for",
        "in",
        "on",
        "a",
        "an",
        "und",
        "de",
        "la",
        "le",
        "des",
        "der",
        "die",
        "du",
        "et",
    ]
)
_PARENTHESES = re.compile(r"\([^()]*\)")


@lru_cache(maxsize=1 << 14)
def journal_tokens(journal: str | None) -> tuple[str, ...]:
    """Significant words of a journal name.

    Drops "the", "of", "and"/"&" and other joining words, and parenthesised qualifiers such as
    Scopus's "Cardiology (Switzerland)".

    >>> journal_tokens("The Journal of Bone & Joint Surgery (American Volume)")
    ('journal', 'bone', 'joint', 'surgery')
    """
    if not journal:
        return ()
    text = _PARENTHESES.sub(" ", journal)
    return tuple(t for t in normalise_text(text).split() if t not in _JOURNAL_STOP)


def _abbreviation_coverage(short: tuple[str, ...], long: tuple[str, ...]) -> float:
    """Share of ``long``'s words matched, in order, by words of ``short`` that are prefixes.

    "nat rev nephrol" against "nature reviews nephrology" covers all three words. Every word
    of ``short`` must match, so "diabetes care" never covers "diabetes".
    """
    matched = 0
    position = 0
    for token in short:
        while position < len(long) and not long[position].startswith(token):
            position += 1
        if position == len(long):
            return 0.0
        matched += 1
        position += 1
    return matched / len(long)


def journal_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Similarity of two journal names given as :func:`journal_tokens`; ``None`` if unknown.

    1.0 for the same name, abbreviated or not ("Nat Rev Nephrol" and "Nature Reviews
    Nephrology", "JAMA" and "Journal of the American Medical Association"); otherwise a fuzzy
    similarity of the words, so "Diabetes" and "Diabetes Care" are only similar.
    """
    if not a or not b:
        return None
    if a == b or "".join(a) == "".join(b):
        return 1.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) == 1 and len(long) > 1 and short[0] == "".join(t[0] for t in long):
        return 1.0
    coverage = max(_abbreviation_coverage(short, long), _abbreviation_coverage(long, short))
    if coverage >= 0.75:
        return 1.0
    if coverage > 0:
        # Every word of one name abbreviates the start of the other: "Nephron" and "Nephron -
        # Clinical Practice" are a journal and its section, "Diabetes" and "Diabetes Care"
        # two journals. Undecided, not different.
        coverage = max(coverage, 0.7)
    return max(coverage, fuzz.ratio(" ".join(a), " ".join(b)) / 100.0)
