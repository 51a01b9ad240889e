"""Browser forms of full texts. They shape input; the services check it and decide."""

from __future__ import annotations

from django import forms

from screening.constants import MAX_NOT_RETRIEVED_REASON, MAX_URL


class ReportLinkForm(forms.Form):
    url = forms.CharField(max_length=MAX_URL * 2, required=False, label="Link to the full text")


class ReportUploadForm(forms.Form):
    file = forms.FileField(label="PDF of the full text")


class NotRetrievedForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_NOT_RETRIEVED_REASON * 2, label="Why it could not be obtained"
    )
