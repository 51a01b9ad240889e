"""Browser forms of reporting: PRISMA entries typed in, review archives uploaded."""

from __future__ import annotations

from django import forms


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
            if not reason.strip() or not count.strip().isdigit():
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
