"""Browser forms of identification. They shape input; the services decide and write."""

from __future__ import annotations

from django import forms

from identification.constants import SourceKind


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class SearchForm(forms.Form):
    database = forms.CharField(
        max_length=200,
        help_text="e.g. Scopus, APA PsycInfo, MEDLINE, Embase, Web of Science Core Collection",
        widget=forms.TextInput(attrs={"list": "database-suggestions", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        choices=SourceKind.choices,
        initial=SourceKind.DATABASE,
        required=False,
        label="Kind of source",
        help_text="PRISMA 2020 counts databases and registers separately.",
    )
    platform = forms.CharField(
        max_length=200,
        required=False,
        help_text="e.g. EBSCOhost, Ovid, ProQuest",
        widget=forms.TextInput(attrs={"list": "platform-suggestions", "autocomplete": "off"}),
    )
    date_searched = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Date searched"
    )
    query = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label="Search string",
        max_length=100_000,
    )
    reported_hits = forms.IntegerField(
        required=False, min_value=0, label="Records reported by the database"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    files = MultipleFileField(
        required=False,
        label="Export files",
        help_text="RIS, MEDLINE/PubMed text, Web of Science text, Scopus or Embase CSV, BibTeX, "
        "EndNote XML, or any CSV/TSV/XLSX table (you map its columns next).",
    )
    confirm_duplicate = forms.BooleanField(
        required=False, label="Import anyway if a file was imported before"
    )


class UploadForm(forms.Form):
    files = MultipleFileField(label="Export files")
    confirm_duplicate = forms.BooleanField(
        required=False, label="Import anyway if a file was imported before"
    )


class RecordFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=500, label="Search titles, abstracts, authors")
    search = forms.IntegerField(required=False, min_value=1)
    year_from = forms.IntegerField(required=False, min_value=0, max_value=9999)
    year_to = forms.IntegerField(required=False, min_value=0, max_value=9999)
    has_doi = forms.ChoiceField(
        required=False, choices=[("", "any"), ("yes", "with DOI"), ("no", "without DOI")]
    )
    has_abstract = forms.ChoiceField(
        required=False,
        choices=[("", "any"), ("yes", "with abstract"), ("no", "without abstract")],
    )


def record_filters(data) -> tuple[RecordFilterForm, dict]:
    """The record-list filters in ``data`` (a query string), and the valid ones as a dict."""
    form = RecordFilterForm(data or None)
    return form, (form.cleaned_data if form.is_valid() else {})
