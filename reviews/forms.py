"""Browser forms. They shape input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from reviews.constants import ReviewStatus, Role

User = get_user_model()


ROLE_CHOICES = [(r.value, f"{r.label}") for r in Role]


class ReviewCreateForm(forms.Form):
    title = forms.CharField(max_length=300)
    slug = forms.CharField(
        max_length=80,
        required=False,
        label="Address",
        help_text="Lower-case letters, digits and hyphens; left empty, made from the title.",
    )
    research_question = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)


class ReviewSettingsForm(forms.Form):
    title = forms.CharField(max_length=300)
    research_question = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    status = forms.ChoiceField(choices=ReviewStatus.choices)


class MemberAddForm(forms.Form):
    identifier = forms.CharField(max_length=254, label="Username or e-mail")
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, initial=[Role.REVIEWER]
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="E-mail address",
        help_text="They get a link to sign up (or log in) and join with the roles chosen.",
    )
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, initial=[Role.REVIEWER]
    )


class MemberBulkAddForm(forms.Form):
    identifiers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Usernames or e-mails, one per line",
        max_length=100_000,
    )
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, initial=[Role.REVIEWER]
    )

    def identifier_list(self) -> list[str]:
        return [x.strip() for x in self.cleaned_data["identifiers"].splitlines() if x.strip()]
