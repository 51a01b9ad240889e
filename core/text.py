"""Text a person typed, checked the same way everywhere."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def clean_input_text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    """Text a person typed, trimmed and checked; ``ValidationError`` names the field."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: "Must be text."})
    # Control characters (other than newlines and tabs) have no place in a title, a question,
    # a note or a label.
    cleaned = "".join(ch for ch in value if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    cleaned = cleaned.strip()
    if required and not cleaned:
        raise ValidationError({field: "This field is required."})
    if len(cleaned) > max_length:
        raise ValidationError({field: f"At most {max_length} characters (got {len(cleaned)})."})
    return cleaned


def is_digits(value: str) -> bool:
    """``value`` is one or more ASCII digits, so ``int(value)`` works. ``str.isdigit`` is true
    for superscripts and other Unicode digits (``"³".isdigit()``) that ``int`` refuses."""
    return value.isascii() and value.isdigit()
