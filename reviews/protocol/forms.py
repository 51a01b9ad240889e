"""The protocol's forms: one field per protocol field (named ``<section>__<field>``), the
registration and the amendment. The services clean and check; these forms only shape input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from reviews.protocol import sections
from reviews.protocol.constants import Registry

SEP = "__"


def form_name(section: str, field: str) -> str:
    return f"{section}{SEP}{field}"


def _form_field(f: sections.Field) -> forms.Field:
    common: dict[str, Any] = {"label": f.label, "required": False, "help_text": f.help}
    if f.kind == "text":
        return forms.CharField(max_length=sections.TEXT_MAX, **common)
    if f.kind == "markdown":
        common["help_text"] = " ".join(x for x in (f.help, "Markdown.") if x)
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 4}), max_length=sections.MARKDOWN_MAX, **common
        )
    if f.kind in ("list", "items"):
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **common)
    if f.kind == "choice":
        return forms.ChoiceField(choices=[("", "Not stated"), *f.choices], **common)
    if f.kind == "choices":
        return forms.MultipleChoiceField(
            choices=f.choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if f.kind == "bool":
        return forms.BooleanField(**common)
    raise AssertionError(f.kind)


class ProtocolForm(forms.Form):
    """Every field of the protocol; ``groups`` lists them by section for the template."""

    def __init__(self, *args, content: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        content = sections.clean_content(content or {}, strict=False)
        for sec in sections.SECTIONS:
            for f in sec.fields:
                name = form_name(sec.key, f.key)
                self.fields[name] = _form_field(f)
                self.initial[name] = _initial(f, content[sec.key][f.key])

    @property
    def groups(self) -> list[dict[str, Any]]:
        return [
            {
                "key": sec.key,
                "title": sec.title,
                "help": sec.help,
                "fields": [self[form_name(sec.key, f.key)] for f in sec.fields],
            }
            for sec in sections.SECTIONS
        ]

    def to_content(self) -> dict[str, dict[str, Any]]:
        """The cleaned form as protocol content (for ``services.draft_save``)."""
        content: dict[str, dict[str, Any]] = {}
        for sec in sections.SECTIONS:
            content[sec.key] = {}
            for f in sec.fields:
                value = self.cleaned_data.get(form_name(sec.key, f.key))
                if f.kind == "items":
                    value = _parse_items(f, value or "")
                elif f.kind == "choices":
                    value = list(value or [])
                elif f.kind == "bool":
                    value = bool(value)
                else:
                    value = value or ""
                content[sec.key][f.key] = value
        return content

    def apply_errors(self, exc: ValidationError) -> None:
        """A service's errors (keyed ``section.field``) on the fields they name."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            name = key.replace(".", SEP)
            self.add_error(name if name in self.fields else None, messages)


def _initial(f: sections.Field, value: Any) -> Any:
    if f.kind == "list":
        return "\n".join(value)
    if f.kind == "items":
        return "\n".join(
            " | ".join(item.get(part, "") for part in f.parts).rstrip(" |") for item in value
        )
    return value


def _parse_items(f: sections.Field, text: str) -> list[dict[str, str]]:
    items = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|", len(f.parts) - 1)]
        parts += [""] * (len(f.parts) - len(parts))
        items.append(dict(zip(f.parts, parts, strict=True)))
    return items


class RegisterForm(forms.Form):
    registry = forms.ChoiceField(choices=Registry.choices)
    registry_name = forms.CharField(
        label="Registry name", max_length=100, required=False, help_text="If “Other”."
    )
    registration_id = forms.CharField(
        label="Registration number", max_length=100, help_text="E.g. CRD42024123456."
    )
    registration_url = forms.CharField(
        label="Registry record (URL)", max_length=500, required=False
    )
    registered_on = forms.DateField(
        label="Date of registration", widget=forms.DateInput(attrs={"type": "date"})
    )


class AmendForm(forms.Form):
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Why the protocol changes; the amendment keeps it with its date and author.",
    )
    amended_on = forms.DateField(
        label="Date of the amendment",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today if left empty.",
    )


class DiffForm(forms.Form):
    """Which two versions to compare (by number)."""

    def __init__(self, *args, numbers: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, f"Version {n}") for n in numbers]
        self.fields["from"] = forms.TypedChoiceField(choices=choices, coerce=int, label="From")
        self.fields["to"] = forms.TypedChoiceField(choices=choices, coerce=int, label="To")
