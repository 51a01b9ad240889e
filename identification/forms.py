"""Browser forms of identification. They shape input; the services decide and write."""

from __future__ import annotations

from django import forms

from identification import hooks as record_hooks
from identification import query as record_query
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


class SearchDetailsForm(forms.Form):
    """What is recorded of a search; a lead corrects it later with this form alone."""

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

    @classmethod
    def initial_of(cls, search) -> dict:
        return {name: getattr(search, name) for name in cls.base_fields}


class SearchForm(SearchDetailsForm):
    """A new search, with the export files it returned."""

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


#: The record list's choice of records by duplicate status; primary records unless asked.
DUPLICATE_CHOICES = [
    ("primary", "Primary records (duplicates removed)"),
    ("with_duplicates", "Primary records that have duplicates"),
    ("duplicates", "Duplicates merged into another record"),
    ("all", "All records, duplicates included"),
]
YES_NO_DOI = [("", "any"), ("yes", "with DOI"), ("no", "without DOI")]
YES_NO_ABSTRACT = [("", "any"), ("yes", "with abstract"), ("no", "without abstract")]


class RecordFilterForm(forms.Form):
    """The record list's filters, shared by the page, its export and the records API.

    The filters later steps provide (screening's stage and decision) are added from the
    ``identification.hooks.record_filters`` hook; ``extra`` keeps them for the page.
    """

    q = forms.CharField(
        required=False,
        max_length=record_query.MAX_LENGTH,
        label="Search",
        help_text='Words, "quoted phrases", prefix*, AND, OR, NOT, (parentheses), and '
        "title:, abstract:, author:, journal:, keyword:, doi:, year:2015-2020.",
        error_messages={
            "max_length": "The search is too long: at most %(limit_value)d characters "
            "(it has %(show_value)d)."
        },
    )
    search = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    year_from = forms.IntegerField(required=False, min_value=0, max_value=9999)
    year_to = forms.IntegerField(required=False, min_value=0, max_value=9999)
    has_doi = forms.ChoiceField(required=False, label="DOI", choices=YES_NO_DOI)
    has_abstract = forms.ChoiceField(required=False, label="Abstract", choices=YES_NO_ABSTRACT)
    duplicates = forms.ChoiceField(
        required=False, label="Duplicates", choices=DUPLICATE_CHOICES, initial="primary"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.query: record_query.Query | None = None
        self.extra = [answer for answer in record_hooks.record_filters.send().values() if answer]
        for provider in self.extra:
            for spec in provider.fields:
                self.fields[spec.name] = forms.ChoiceField(
                    required=False,
                    label=spec.label,
                    choices=[("", "any"), *spec.choices],
                    help_text=spec.description,
                )

    def clean_q(self) -> str:
        text = self.cleaned_data.get("q") or ""
        try:
            self.query = record_query.parse(text)
        except record_query.QueryError as exc:
            raise forms.ValidationError(str(exc), code="query") from None
        return text

    def clean_duplicates(self) -> str:
        return self.cleaned_data.get("duplicates") or "primary"

    def clean(self):
        data = super().clean()
        low, high = data.get("year_from"), data.get("year_to")
        if low is not None and high is not None and low > high:
            self.add_error("year_to", "“to” is before “from”.")
        return data


def record_filters(data) -> tuple[RecordFilterForm, dict]:
    """The record-list filters in ``data`` (a query string), and the valid ones as a dict:
    empty when any filter is invalid (the form says which and why). No filters at all is valid
    and means primary records only."""
    form = RecordFilterForm(data if data is not None else {})
    if not form.is_valid():
        return form, {}
    return form, dict(form.cleaned_data)


class RoundForm(forms.Form):
    """Open an update round (``identification.rounds.round_open``)."""

    date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Date of the round",
        help_text="When the searches are rerun.",
    )
    reason = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. yearly update of a living review.",
    )
    copy_searches = forms.BooleanField(
        required=False,
        initial=True,
        label="Copy the searches of the round before",
        help_text=(
            "Database, platform and query are copied; upload each new export and set its date."
        ),
    )
