"""Browser forms. They shape input; the services check it and decide. (The full-text forms are
in ``screening/fulltext/forms.py``.)"""

from __future__ import annotations

from django import forms

from core.text import is_digits
from screening.constants import (
    MAX_KEYWORDS,
    MAX_NOTE,
    MAX_REASON_LABEL,
    MaybePolicy,
    ReasonPolicy,
    ResolverPolicy,
)

# Generous field limits: the services give the precise messages; these only stop floods.
_NOTE_LIMIT = MAX_NOTE * 4


class VoteForm(forms.Form):
    item = forms.IntegerField(min_value=1, max_value=2**62)
    decision = forms.CharField(max_length=20)
    reason = forms.CharField(max_length=30, required=False)
    note = forms.CharField(max_length=_NOTE_LIMIT, required=False, strip=False)
    # Items already on the reviewer's screen (the preloaded next record), comma-separated.
    upcoming = forms.CharField(max_length=200, required=False)

    def upcoming_ids(self) -> list[int]:
        ids = []
        for part in (self.cleaned_data.get("upcoming") or "").split(","):
            part = part.strip()
            if is_digits(part) and len(part) < 19:
                ids.append(int(part))
        return ids[:10]


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("include", "Include"), ("exclude", "Exclude")], widget=forms.RadioSelect
    )
    reason = forms.CharField(max_length=30, required=False)
    note = forms.CharField(
        max_length=_NOTE_LIMIT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SettingsForm(forms.Form):
    reviewers_per_record = forms.TypedChoiceField(
        choices=[(1, "1"), (2, "2"), (3, "3")],
        coerce=int,
        label="Reviewers per record",
        help_text="How many people screen each record independently.",
    )
    blinded = forms.BooleanField(
        required=False,
        label="Blind reviewers to each other's votes until a record is settled",
    )
    maybe_policy = forms.ChoiceField(choices=MaybePolicy.choices, label="A Maybe vote")
    reasons_title_abstract = forms.ChoiceField(
        choices=ReasonPolicy.choices, label="Exclusion reasons at title and abstract"
    )
    reasons_full_text = forms.ChoiceField(
        choices=ReasonPolicy.choices, label="Exclusion reasons at full text"
    )
    resolvers = forms.ChoiceField(choices=ResolverPolicy.choices, label="Who resolves conflicts")
    include_keywords = forms.CharField(
        required=False,
        max_length=MAX_KEYWORDS * 110,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Include keywords (highlighted green)",
        help_text="One per line; <code>*</code> stands for any letters (gambl*), "
        "<code>?</code> for one.",
    )
    exclude_keywords = forms.CharField(
        required=False,
        max_length=MAX_KEYWORDS * 110,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Exclude keywords (highlighted red)",
        help_text="One per line, wildcards as above.",
    )


class ReasonForm(forms.Form):
    label = forms.CharField(max_length=MAX_REASON_LABEL * 2, label="New reason")


class ReasonEditForm(forms.Form):
    label = forms.CharField(max_length=MAX_REASON_LABEL * 2, required=False)
    active = forms.ChoiceField(choices=[("", ""), ("1", "1"), ("0", "0")], required=False)
