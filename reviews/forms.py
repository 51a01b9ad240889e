"""Browser forms. They shape input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError

from .constants import ReviewStatus, Role, SourceKind

User = get_user_model()


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where it names one it has."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


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


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail exists; log in instead.")
        return email


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
        help_text="Left empty, the archive's own address is used.",
    )
