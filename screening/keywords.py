"""Keyword highlighting for the screening page: pure, no Django.

A keyword list is one term per line. ``*`` stands for any run of letters or digits and ``?`` for
exactly one, so ``gambl*`` finds gamble, gambler and gambling; a term of several words matches
them with any spacing. Matching ignores case and respects word edges. Text is split into
segments ``(text, kind)`` where ``kind`` is ``""``, ``"include"`` or ``"exclude"``; the template
escapes every segment, so nothing in a record or a keyword reaches the page as markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_WILDCARDS = 3
# A wildcard covers at most this many characters: bounded, so a hostile term cannot make the
# regex backtrack for long over a hostile record (catastrophic backtracking).
MAX_WILDCARD_SPAN = 30
_ALLOWED = re.compile(r"^[\w\s\-'’.*?/+&]+$")


class KeywordError(ValueError):
    """A keyword the highlighter cannot use, with a message for the person who typed it."""


@dataclass(frozen=True)
class Highlighter:
    pattern: re.Pattern[str] | None
    kinds: dict[str, str]

    def segments(self, text: str) -> list[tuple[str, str]]:
        if not text:
            return []
        if self.pattern is None:
            return [(text, "")]
        out: list[tuple[str, str]] = []
        pos = 0
        for match in self.pattern.finditer(text):
            if match.start() == match.end():
                continue
            if match.start() > pos:
                out.append((text[pos : match.start()], ""))
            kind = self.kinds.get(match.lastgroup or "", "")
            out.append((match.group(0), kind))
            pos = match.end()
        if pos < len(text):
            out.append((text[pos:], ""))
        return out


def check_keyword(term: str) -> str:
    """The cleaned term, or ``KeywordError`` saying what is wrong with it."""
    cleaned = " ".join(term.split())
    if not cleaned:
        raise KeywordError("A keyword is empty")
    if len(cleaned) > 100:
        raise KeywordError(f"{cleaned[:30]!r}… is longer than 100 characters")
    if not _ALLOWED.match(cleaned):
        raise KeywordError(
            f"{cleaned[:40]!r} has characters other than letters, digits, spaces, "
            "hyphens, apostrophes and the wildcards * and ?"
        )
    if cleaned.count("*") + cleaned.count("?") > MAX_WILDCARDS:
        raise KeywordError(f"{cleaned[:40]!r} has more than {MAX_WILDCARDS} wildcards")
    if not re.search(r"\w", cleaned.replace("*", "").replace("?", "")):
        raise KeywordError(f"{cleaned[:40]!r} needs at least one letter or digit")
    return cleaned


def _term_regex(term: str) -> str:
    parts = []
    for ch in term:
        if ch == "*":
            parts.append(rf"\w{{0,{MAX_WILDCARD_SPAN}}}")
        elif ch == "?":
            parts.append(r"\w")
        elif ch == " ":
            parts.append(r"\s+")
        else:
            parts.append(re.escape(ch))
    body = "".join(parts)
    # Word edges only where the term itself starts or ends with a word character or wildcard.
    start = r"(?<!\w)" if term[0].isalnum() or term[0] in "*?_" else ""
    end = r"(?!\w)" if term[-1].isalnum() or term[-1] in "*?_" else ""
    return f"{start}{body}{end}"


def build_highlighter(include: Sequence[str], exclude: Sequence[str]) -> Highlighter:
    """Compile both keyword lists into one pattern; longer terms win where terms overlap.

    Terms that fail :func:`check_keyword` are skipped here (settings refuse them on save).
    """
    alternatives: list[tuple[int, str, str]] = []
    for kind, terms in (("include", include), ("exclude", exclude)):
        for term in terms:
            try:
                cleaned = check_keyword(term)
            except KeywordError:
                continue
            alternatives.append((len(cleaned), kind, _term_regex(cleaned)))
    if not alternatives:
        return Highlighter(None, {})
    alternatives.sort(key=lambda a: -a[0])
    kinds: dict[str, str] = {}
    groups = []
    for i, (_, kind, regex) in enumerate(alternatives):
        name = f"k{i}"
        kinds[name] = kind
        groups.append(f"(?P<{name}>{regex})")
    return Highlighter(re.compile("|".join(groups), re.IGNORECASE), kinds)
