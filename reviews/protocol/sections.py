"""The protocol's sections and their fields (PRISMA-P 2015), how content is cleaned, and its
fingerprint. Pure: no database.

A version's content is a JSON object: ``{section: {field: value}}``, every section and field
always present (a missing one is its empty value), so two versions compare section by section.
Values by kind:

- ``text``: one line; ``markdown``: free text, written in Markdown;
- ``list``: a list of lines (eligibility criteria, planned databases);
- ``choice``: one of the field's choices or ""; ``choices``: a list of them;
- ``bool``: true or false;
- ``items``: a list of objects with the field's parts (a subgroup's name, variable and
  description), the first part required.

The fingerprint is the SHA-256 of the content's canonical JSON: keys sorted, UTF-8, no
insignificant whitespace, text in Unicode NFC (cleaning normalises it before it is stored).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from core.text import clean_input_text
from reviews.protocol.constants import (
    EFFECT_MEASURES,
    MODELS,
    PUBLICATION_BIAS,
    ROB_TOOLS,
    TAU2_ESTIMATORS,
)

TEXT_MAX = 500
MARKDOWN_MAX = 20_000
LIST_MAX = 200  # lines of a list (criteria, databases)
ITEMS_MAX = 50  # planned subgroups or sensitivity analyses
KINDS = ("text", "markdown", "list", "choice", "choices", "bool", "items")


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    #: ``items``: the keys of each item (the first is required).
    parts: tuple[str, ...] = ()

    def empty(self) -> Any:
        return {"text": "", "markdown": "", "choice": "", "bool": False}.get(self.kind, [])

    def label_of(self, value: str) -> str:
        return dict(self.choices).get(value, value)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    help: str
    fields: tuple[Field, ...]

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


def _md(key: str, label: str, help: str = "") -> Field:
    return Field(key, label, "markdown", help)


def _text_section(key: str, title: str, help: str) -> Section:
    return Section(key, title, help, (_md("text", title),))


SECTIONS: tuple[Section, ...] = (
    Section(
        "administrative",
        "Administrative information",
        "PRISMA-P items 1-5: title, team, contact, support and timeline.",
        (
            Field("title", "Review title", "text"),
            _md("authors", "Review team", "Names, affiliations and roles of the team."),
            Field("contact", "Named contact", "text"),
            _md("funding", "Funding sources and sponsors"),
            _md("conflicts", "Conflicts of interest"),
            Field("start_date", "Anticipated or actual start date", "text"),
            Field("completion_date", "Anticipated completion date", "text"),
        ),
    ),
    _text_section("background", "Background", "PRISMA-P item 6: the rationale of the review."),
    _text_section("objectives", "Objectives", "PRISMA-P item 7: what the review will answer."),
    Section(
        "question",
        "Review question (PICOS)",
        "PRISMA-P item 7: participants, interventions, comparators, outcomes, study designs.",
        (
            _md("review_question", "Review question"),
            _md("condition", "Condition or domain studied"),
            _md("population", "Participants or population"),
            _md("intervention", "Interventions or exposures"),
            _md("comparator", "Comparators or controls"),
            _md("outcomes_main", "Main outcomes"),
            _md("outcomes_additional", "Additional outcomes"),
            _md("study_designs", "Study designs"),
            _md("context", "Context"),
        ),
    ),
    Section(
        "eligibility",
        "Eligibility criteria",
        "PRISMA-P item 8. Screening shows these beside each record, and each exclusion "
        "criterion can become an exclusion reason.",
        (
            Field("inclusion", "Inclusion criteria", "list", "One criterion per line."),
            Field("exclusion", "Exclusion criteria", "list", "One criterion per line."),
            Field("languages", "Languages", "text"),
            Field("years", "Publication years", "text"),
            _md("notes", "Notes on eligibility"),
        ),
    ),
    Section(
        "information_sources",
        "Information sources",
        "PRISMA-P item 9. The searches page lists planned databases not yet imported.",
        (
            Field(
                "databases",
                "Planned databases",
                "list",
                "One per line, named as the searches will be (e.g. MEDLINE, Scopus).",
            ),
            Field("registers", "Study registers", "list", "One per line."),
            _md("other", "Other sources", "Reference lists, experts, grey literature."),
            Field("coverage", "Dates of coverage", "text"),
        ),
    ),
    Section(
        "search_strategy",
        "Search strategy",
        "PRISMA-P item 10: a draft search of at least one database.",
        (_md("text", "Search strategy"), Field("url", "URL to the search strategy", "text")),
    ),
    _text_section(
        "selection", "Selection process", "PRISMA-P item 11b: who screens, how many, blinded."
    ),
    _text_section(
        "data_collection",
        "Data collection process",
        "PRISMA-P items 11a, 11c: data management and extraction.",
    ),
    _text_section(
        "data_items", "Data items", "PRISMA-P items 12-13: variables, outcomes and priorities."
    ),
    Section(
        "risk_of_bias",
        "Risk of bias",
        "PRISMA-P item 14: the tool and how it will be used.",
        (Field("tool", "Tool", "choice", choices=ROB_TOOLS), _md("method", "Method")),
    ),
    Section(
        "synthesis",
        "Synthesis plan",
        "PRISMA-P items 15-16. Stored as data: the synthesis step reads it.",
        (
            Field("effect_measure", "Effect measure", "choice", choices=EFFECT_MEASURES),
            Field("model", "Model", "choice", choices=MODELS),
            Field(
                "tau2_estimator",
                "Tau-squared estimator",
                "choice",
                "For random effects.",
                choices=TAU2_ESTIMATORS,
            ),
            Field(
                "knapp_hartung",
                "Knapp-Hartung adjustment",
                "bool",
                "Test and confidence interval of the pooled effect with the Knapp-Hartung "
                "(Hartung-Knapp-Sidik-Jonkman) method.",
            ),
            _md("heterogeneity", "Heterogeneity", "How it will be assessed and reported."),
            Field(
                "subgroups",
                "Planned subgroup analyses",
                "items",
                "One per line: name | variable | description.",
                parts=("name", "variable", "description"),
            ),
            Field(
                "sensitivity",
                "Planned sensitivity analyses",
                "items",
                "One per line: name | description.",
                parts=("name", "description"),
            ),
            Field(
                "publication_bias",
                "Publication-bias assessment",
                "choices",
                choices=PUBLICATION_BIAS,
            ),
            _md("narrative", "Other synthesis", "Synthesis without meta-analysis, if any."),
        ),
    ),
    _text_section(
        "certainty",
        "Confidence in cumulative evidence",
        "PRISMA-P item 17: e.g. GRADE.",
    ),
    _text_section("additional", "Additional information", "Anything else, in Markdown."),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)
SECTION_TITLES = {s.key: s.title for s in SECTIONS}
BY_KEY = {s.key: s for s in SECTIONS}


def section(key: str) -> Section:
    return BY_KEY[key]


def empty_content() -> dict[str, dict[str, Any]]:
    return {s.key: {f.key: f.empty() for f in s.fields} for s in SECTIONS}


# --- cleaning -------------------------------------------------------------------------------


def _unicode(text: str, where: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError({where: "Not valid Unicode text."}) from None
    return unicodedata.normalize("NFC", text)


def _text(value: Any, where: str, max_length: int, *, one_line: bool) -> str:
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    text = clean_input_text(value, field=where, max_length=max_length)
    if one_line:
        text = " ".join(text.split())
    return _unicode(text, where)


def _lines(value: Any, where: str, limit: int) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        raise ValidationError({where: "Must be a list of lines."})
    out: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(value, start=1):
        if not isinstance(line, str):
            raise ValidationError({where: f"Line {n} must be text."})
        text = _text(line, where, TEXT_MAX, one_line=True)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    if len(out) > limit:
        raise ValidationError({where: f"At most {limit} lines (got {len(out)})."})
    return out


def _value(field: Field, value: Any, where: str) -> Any:
    if field.kind == "text":
        return _text(value, where, TEXT_MAX, one_line=True)
    if field.kind == "markdown":
        return _text(value, where, MARKDOWN_MAX, one_line=False)
    if field.kind == "list":
        return _lines(value, where, LIST_MAX)
    if field.kind == "choice":
        if value is None or value == "":
            return ""
        if not isinstance(value, str) or value not in dict(field.choices):
            allowed = ", ".join(c for c, _ in field.choices)
            raise ValidationError({where: f"Choose one of {allowed} (or leave it empty)."})
        return value
    if field.kind == "choices":
        if not isinstance(value, list | tuple):
            raise ValidationError({where: "Must be a list of choices."})
        allowed = dict(field.choices)
        for choice in value:
            if not isinstance(choice, str) or choice not in allowed:
                raise ValidationError(
                    {where: f"{str(choice)[:40]!r} is not one of {', '.join(allowed)}."}
                )
        return [c for c, _ in field.choices if c in value]
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise ValidationError({where: "Must be true or false."})
        return value
    if field.kind == "items":
        return _items(field, value, where)
    raise AssertionError(field.kind)


def _items(field: Field, value: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(value, list | tuple):
        raise ValidationError({where: "Must be a list."})
    out = []
    names: set[str] = set()
    for n, item in enumerate(value, start=1):
        if not isinstance(item, Mapping):
            parts = ", ".join(field.parts)
            raise ValidationError({where: f"Item {n} must be an object of {parts}."})
        unknown = set(item) - set(field.parts)
        if unknown:
            raise ValidationError(
                {where: f"Item {n}: unknown key {sorted(map(str, unknown))[0][:40]!r}; "
                 f"use {', '.join(field.parts)}."}
            )  # fmt: skip
        cleaned = {
            part: _text(item.get(part, ""), where, TEXT_MAX, one_line=True) for part in field.parts
        }
        name = cleaned[field.parts[0]]
        if not name:
            raise ValidationError({where: f"Item {n} needs a {field.parts[0]}."})
        if name.casefold() in names:
            raise ValidationError({where: f"“{name}” is listed twice."})
        names.add(name.casefold())
        out.append(cleaned)
    if len(out) > ITEMS_MAX:
        raise ValidationError({where: f"At most {ITEMS_MAX} (got {len(out)})."})
    return out


def clean_content(
    raw: Any, *, base: Mapping[str, Any] | None = None, strict: bool = True
) -> dict[str, dict[str, Any]]:
    """Content as it is stored: every section and field, each value cleaned.

    ``base``: the content ``raw`` changes (the fields ``raw`` leaves out keep their value there),
    else every field left out is empty. ``strict``: refuse unknown sections and fields and bad
    values with a ``ValidationError`` naming them (``"synthesis.tau2_estimator"``); otherwise
    (content read back from the database or an archive) leave them out or empty.
    """
    content = empty_content() if base is None else clean_content(base, strict=False)
    if not isinstance(raw, Mapping):
        if strict:
            raise ValidationError({"content": "Must be an object of sections."})
        return content
    for key, value in raw.items():
        if key not in BY_KEY:
            if strict:
                raise ValidationError(
                    {"content": f"Unknown section {str(key)[:40]!r}; the sections are "
                     f"{', '.join(SECTION_KEYS)}."}
                )  # fmt: skip
            continue
        sec = BY_KEY[key]
        if not isinstance(value, Mapping):
            if strict:
                raise ValidationError({key: "Must be an object of fields."})
            continue
        fields = {f.key: f for f in sec.fields}
        for name, field_value in value.items():
            where = f"{key}.{name}"
            if name not in fields:
                if strict:
                    raise ValidationError(
                        {key: f"Unknown field {str(name)[:40]!r}; the fields are "
                         f"{', '.join(fields)}."}
                    )  # fmt: skip
                continue
            try:
                content[key][name] = _value(fields[name], field_value, where)
            except ValidationError:
                if strict:
                    raise
    return content


def canonical_json(content: Any) -> bytes:
    """The one byte string a content has: sorted keys, UTF-8, no insignificant whitespace."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def fingerprint(content: Any) -> str:
    """SHA-256 (hex) of the content's canonical JSON."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def sections_changed(old: Any, new: Any) -> list[str]:
    """The keys of the sections whose content differs, in the order of :data:`SECTIONS`."""
    a, b = clean_content(old, strict=False), clean_content(new, strict=False)
    return [key for key in SECTION_KEYS if a[key] != b[key]]


# --- as text --------------------------------------------------------------------------------


def field_lines(field: Field, value: Any) -> list[str]:
    """A field's value as lines of plain text (for the diff and the exports)."""
    if field.kind in ("text", "markdown"):
        return value.split("\n") if value else []
    if field.kind == "list":
        return list(value)
    if field.kind == "choice":
        return [field.label_of(value)] if value else []
    if field.kind == "choices":
        return [field.label_of(v) for v in value]
    if field.kind == "bool":
        return ["Yes" if value else "No"]
    if field.kind == "items":
        lines = []
        for item in value:
            name, *rest = (item.get(part, "") for part in field.parts)
            details = [r for r in rest if r]
            lines.append(f"{name}: {'; '.join(details)}" if details else name)
        return lines
    raise AssertionError(field.kind)


def is_empty(field: Field, value: Any) -> bool:
    return value == field.empty() and field.kind != "bool"
