"""What changed between two versions of a protocol: section by section, field by field, word by
word (``difflib``), for a side-by-side view. Pure apart from reading the versions' content.

Each field's value is turned into plain text (``sections.field_lines``), split into words and
the whitespace between them, and compared; a change is a run of deleted words on the left and
inserted words on the right. The HTML escapes every word before marking it, so a protocol's
text can never become markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reviews.protocol import sections

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Op:
    """One run of the diff: ``equal`` (the same words both sides), ``delete`` (words only on
    the left), ``insert`` (only on the right) or ``replace`` (the left's words became the
    right's)."""

    op: str
    left: str
    right: str


@dataclass
class FieldDiff:
    key: str
    label: str
    left: str
    right: str
    ops: list[Op] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.left != self.right

    def _html(self, side: str) -> SafeString:
        parts = []
        for op in self.ops:
            text = op.left if side == "left" else op.right
            if not text:
                continue
            if op.op == "equal":
                parts.append(escape(text))
            else:
                tag = "del" if side == "left" else "ins"
                parts.append(f"<{tag}>{escape(text)}</{tag}>")
        return mark_safe("".join(parts))  # noqa: S308 - every piece escaped above

    @property
    def left_html(self) -> SafeString:
        return self._html("left")

    @property
    def right_html(self) -> SafeString:
        return self._html("right")


@dataclass
class SectionDiff:
    key: str
    title: str
    fields: list[FieldDiff]

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.fields)


def word_ops(left: str, right: str) -> list[Op]:
    """The word-level runs that turn ``left`` into ``right``."""
    a, b = _TOKENS.findall(left), _TOKENS.findall(right)
    ops = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        ops.append(Op(tag, "".join(a[i1:i2]), "".join(b[j1:j2])))
    return ops


def diff_contents(old: Any, new: Any) -> list[SectionDiff]:
    """Every section of the two contents, each field compared."""
    a = sections.clean_content(old, strict=False)
    b = sections.clean_content(new, strict=False)
    out = []
    for sec in sections.SECTIONS:
        fields = []
        for f in sec.fields:
            left = "\n".join(sections.field_lines(f, a[sec.key][f.key]))
            right = "\n".join(sections.field_lines(f, b[sec.key][f.key]))
            ops = word_ops(left, right) if left != right else [Op("equal", left, right)]
            fields.append(FieldDiff(f.key, f.label, left, right, ops))
        out.append(SectionDiff(sec.key, sec.title, fields))
    return out


def diff_data(diffs: list[SectionDiff]) -> list[dict[str, Any]]:
    """The diff as plain data (the API's answer)."""
    return [
        {
            "section": d.key,
            "title": d.title,
            "changed": d.changed,
            "fields": [
                {
                    "field": f.key,
                    "label": f.label,
                    "changed": f.changed,
                    "left": f.left,
                    "right": f.right,
                    "ops": [{"op": o.op, "left": o.left, "right": o.right} for o in f.ops]
                    if f.changed
                    else [],
                }
                for f in d.fields
            ],
        }
        for d in diffs
    ]
