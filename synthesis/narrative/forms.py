"""The form that defines a narrative synthesis (drawn by ``templates/_form.html``); the service
checks everything again."""

from __future__ import annotations

from django import forms

from synthesis.narrative.models import SELECTION_CHOICES, NarrativeSynthesis

COMBINE_CHOICES = [
    ("", "Do not combine p-values"),
    ("fisher", "Fisher's method (metap sumlog)"),
    ("stouffer", "Stouffer's method (metap sumz)"),
]


class NarrativeForm(forms.Form):
    name = forms.CharField(max_length=200)
    snapshot = forms.ChoiceField(required=False, label="Snapshot")
    group_by = forms.ChoiceField(
        required=False,
        label="Group studies by",
        help_text="Any study-level field of the extraction (intervention type, population, ...).",
    )
    selection = forms.ChoiceField(choices=SELECTION_CHOICES, label="Studies")
    studies = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Chosen studies",
        help_text="Used when “The studies I choose” is selected.",
    )
    outcomes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Outcomes")
    higher = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Outcomes where higher values favour the intervention",
        help_text="Unticked: lower values favour it (e.g. a log risk ratio of a disease).",
    )
    combine = forms.ChoiceField(choices=COMBINE_CHOICES, required=False, label="Combine p-values")
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Text shown above the tables",
    )

    def __init__(self, *args, snapshots=(), fields=(), studies=(), outcomes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["snapshot"].choices = [("", "The latest snapshot")] + [
            (str(s.pk), f"Snapshot {s.number}") for s in snapshots
        ]
        self.fields["group_by"].choices = [("", "No grouping (one group)")] + [
            (f, f) for f in fields
        ]
        self.fields["studies"].choices = [(s, s) for s in studies]
        self.fields["outcomes"].choices = [(o, o) for o in outcomes]
        self.fields["higher"].choices = [(o, o) for o in outcomes]

    def data_for_service(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "snapshot": d.get("snapshot") or None,
            "group_by": d.get("group_by") or "",
            "selection": d["selection"],
            "studies": list(d.get("studies") or []),
            "outcomes": [
                {
                    "outcome": o,
                    "favourable": "higher" if o in (d.get("higher") or []) else "lower",
                    "combine": d.get("combine") or "",
                }
                for o in d["outcomes"]
            ],
            "description": d.get("description") or "",
        }


def initial_of(synthesis: NarrativeSynthesis) -> dict:
    outcomes = synthesis.outcomes
    return {
        "name": synthesis.name,
        "snapshot": str(synthesis.snapshot_id or ""),
        "group_by": synthesis.group_by,
        "selection": synthesis.selection,
        "studies": synthesis.studies,
        "outcomes": [o["outcome"] for o in outcomes],
        "higher": [o["outcome"] for o in outcomes if o.get("favourable") == "higher"],
        "combine": next((o.get("combine") for o in outcomes if o.get("combine")), ""),
        "description": synthesis.description,
    }
