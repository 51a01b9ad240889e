"""Browser forms of reporting: PRISMA entries typed in, review archives uploaded."""

from __future__ import annotations

from django import forms

from core.text import is_digits


class PrismaEntryForm(forms.Form):
    is_update = forms.BooleanField(
        required=False, label="This is an update of an earlier review (PRISMA 2020 update template)"
    )
    previous_studies = forms.IntegerField(
        min_value=0, initial=0, label="Studies in the previous version"
    )
    previous_reports = forms.IntegerField(min_value=0, initial=0, label="Reports of those studies")
    websites = forms.IntegerField(min_value=0, required=False, label="Records from websites")
    organisations = forms.IntegerField(
        min_value=0, required=False, label="Records from organisations"
    )
    citation_searching = forms.IntegerField(
        min_value=0, required=False, label="Records from citation searching"
    )
    other_sought = forms.IntegerField(min_value=0, initial=0, label="Other methods: reports sought")
    other_not_retrieved = forms.IntegerField(
        min_value=0, initial=0, label="Other methods: reports not retrieved"
    )
    other_assessed = forms.IntegerField(
        min_value=0, initial=0, label="Other methods: reports assessed"
    )
    other_excluded = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Other methods: reports excluded",
        help_text="One reason per line, then a comma and the number, e.g. “Wrong population, 2”.",
        max_length=10_000,
    )
    other_included = forms.IntegerField(
        min_value=0, initial=0, label="Other methods: reports of included studies"
    )

    def clean_other_excluded(self) -> list[list]:
        rows = []
        for n, line in enumerate(self.cleaned_data["other_excluded"].splitlines(), start=1):
            if not line.strip():
                continue
            reason, _, count = line.rpartition(",")
            if not reason.strip() or not is_digits(count.strip()):
                raise forms.ValidationError(f"Line {n}: write “reason, number”.")
            rows.append([reason.strip()[:200], int(count)])
        return rows


class ArchiveImportForm(forms.Form):
    archive = forms.FileField(label="Review archive (.zip made by Evident)")
    slug = forms.SlugField(
        required=False,
        max_length=80,
        label="Address of the new review",
        help_text=(
            "Lower-case letters, digits and hyphens. Left empty, the archive's own address is "
            "used if it is free."
        ),
    )


class ArchivePeopleForm(forms.Form):
    """Who is who in a checked archive: for each person it names, an account of this site
    (username or e-mail), or nothing to keep them as a name. Fields ``person-<n>`` follow the
    order of ``people`` (the check's list)."""

    pending = forms.CharField(widget=forms.HiddenInput, max_length=64)
    slug = forms.CharField(
        required=False,
        max_length=200,
        label="Address of the new review",
        help_text="Left empty, the archive's own address is used if it is free.",
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = list(people)
        for n, person in enumerate(self.people, start=1):
            self.fields[f"person-{n}"] = forms.CharField(
                required=False,
                max_length=254,
                label=f"Account for {person.username}",
                widget=forms.TextInput(attrs={"placeholder": "keep as a name"}),
            )

    def rows(self):
        """(person, its field) pairs, for the page's table."""
        return [(p, self[f"person-{n}"]) for n, p in enumerate(self.people, start=1)]

    def clean(self):
        cleaned = super().clean()
        forged = sorted(k for k in self.data if k.startswith("person-") and k not in self.fields)
        if forged:
            shown = ", ".join(k[:40] for k in forged[:5])
            raise forms.ValidationError(
                f"This archive names {len(self.people)} people; there is no {shown}. "
                "Nothing was imported."
            )
        return cleaned

    def mapping(self) -> dict[str, str]:
        """The archive's usernames mapped to the accounts typed (blank ones left out)."""
        return {
            person.username: self.cleaned_data[f"person-{n}"].strip()
            for n, person in enumerate(self.people, start=1)
            if self.cleaned_data.get(f"person-{n}", "").strip()
        }
