"""The analysis definition form: its text boxes of filters become the service's lists."""

from __future__ import annotations

import re

from django import forms

from synthesis.constants import METHOD_CHOICES, ROB_VARIABLE, TEST_CHOICES

MEASURE_CHOICES = [("", "As extracted")] + [
    (m, m) for m in ("SMD", "MD", "OR", "RR", "RD", "ZCOR", "COR", "GEN")
]
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(=|!=|<|>|\bin\b)\s*(.*?)\s*$")
_OPS = {"=": "eq", "!=": "ne", "<": "lt", ">": "gt", "in": "in"}
_SYMBOLS = {v: k for k, v in _OPS.items()}


def parse_filters(text: str, *, named: bool) -> list[dict]:
    """Lines ``field = value`` (``!=``, ``<``, ``>``, ``in a, b``), each optionally named
    ``name: ...`` when ``named``; a ValueError names a line that does not read."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name = ""
        if named and ":" in line:
            name, line = line.split(":", 1)
        m = _LINE.match(line)
        if not m:
            raise ValueError(f"Line {n}: write a filter as “field = value” (or !=, <, >, in a, b).")
        field, op, value = m.group(1).lower(), _OPS[m.group(2)], m.group(3)
        one: dict = {"field": field, "op": op, "value": value}
        if op == "in":
            one["value"] = [v.strip() for v in value.split(",") if v.strip()]
        if named:
            one = {"name": name.strip() or f"without {field} {m.group(2)} {value}"} | one
        out.append(one)
    return out


def filters_text(filters: list[dict], *, named: bool) -> str:
    lines = []
    for f in filters or []:
        value = f.get("value")
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        line = f"{f.get('field')} {_SYMBOLS.get(f.get('op'), '=')} {value}"
        if named and f.get("name"):
            line = f"{f['name']}: {line}"
        lines.append(line)
    return "\n".join(lines)


class AnalysisForm(forms.Form):
    name = forms.CharField(max_length=200)
    snapshot = forms.ChoiceField(
        required=False, help_text="The finalised extraction it reads; by default the latest."
    )
    outcome = forms.CharField(max_length=500, help_text="As extracted (the outcome's name).")
    timepoint = forms.CharField(
        max_length=500, required=False, help_text="Only when a study has several time points."
    )
    arm1 = forms.CharField(
        max_length=500,
        required=False,
        label="Intervention arm",
        help_text="Only when a study has several comparisons: the arm's name as extracted.",
    )
    arm2 = forms.CharField(max_length=500, required=False, label="Comparator arm")
    measure = forms.ChoiceField(choices=MEASURE_CHOICES, required=False, label="Effect measure")
    method = forms.ChoiceField(choices=METHOD_CHOICES, initial="REML", label="Method")
    test = forms.ChoiceField(choices=TEST_CHOICES, initial="z")
    level = forms.FloatField(initial=95, label="Confidence level (%)")
    study_filters = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Which studies",
        help_text="Empty for all; else one condition a line on a study-level field or rob: "
        "“design = parallel”, “n_randomised > 100”, “rob in Low, Some concerns”.",
    )
    subgroup = forms.ChoiceField(required=False, label="Subgroup variable")
    moderators = forms.CharField(
        required=False,
        max_length=500,
        label="Moderators (meta-regression)",
        help_text="Numeric study-level fields, comma-separated.",
    )
    leave_one_out = forms.BooleanField(required=False, label="Leave-one-out")
    without_high_rob = forms.BooleanField(
        required=False, label="Without studies at high risk of bias"
    )
    sensitivity_filters = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Sensitivity: without studies matching",
        help_text="One a line, optionally named: “Without cluster trials: design = cluster”.",
    )
    publication_bias = forms.BooleanField(
        required=False,
        label="Publication bias (funnel plot, Egger, Begg, trim-and-fill)",
    )
    dependent = forms.BooleanField(
        required=False,
        label="Several effect sizes per study (three-level model)",
        help_text="Every result row of the outcome is an effect size, nested in its study: "
        "metafor's rma.mv(yi, V, random = ~ 1 | study/es_id).",
    )
    dependent_rho = forms.FloatField(
        required=False,
        label="Within-study correlation rho (CHE)",
        help_text="Empty: sampling errors independent (V = vi). A value in [0, 1): the "
        "correlated-and-hierarchical-effects working matrix (metafor's vcalc).",
    )
    dependent_robust = forms.ChoiceField(
        required=False,
        choices=[("", "None"), ("cr1", "CR1"), ("cr2", "CR2 (clubSandwich, Satterthwaite df)")],
        label="Cluster-robust inference (by study)",
    )
    plan_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, snapshots=(), fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["snapshot"].choices = [("", "The latest snapshot")] + [
            (str(s.pk), f"Snapshot {s.number}") for s in snapshots
        ]
        self.fields["subgroup"].choices = [
            ("", "None"),
            (ROB_VARIABLE, "Risk of bias (overall judgement)"),
        ] + [(f, f) for f in fields if f != ROB_VARIABLE]

    def data_for_service(self) -> dict:
        """The cleaned form as the service's input; a ValueError for unreadable filters."""
        d = dict(self.cleaned_data)
        errors = {}
        for key, named in (("study_filters", False), ("sensitivity_filters", True)):
            try:
                d[key] = parse_filters(d.get(key) or "", named=named)
            except ValueError as exc:
                errors[key] = str(exc)
        if errors:
            raise forms.ValidationError(errors)
        d["moderators"] = [m.strip() for m in (d.get("moderators") or "").split(",") if m.strip()]
        rho, robust = d.pop("dependent_rho", None), d.pop("dependent_robust", "") or None
        d["dependent"] = (
            {"model": "three-level", "rho": rho, "robust": robust} if d.get("dependent") else None
        )
        return d


def initial_of(analysis) -> dict:
    return {
        "name": analysis.name,
        "snapshot": str(analysis.snapshot_id or ""),
        "outcome": analysis.outcome,
        "timepoint": analysis.timepoint,
        "arm1": analysis.arm1,
        "arm2": analysis.arm2,
        "measure": analysis.measure,
        "method": analysis.method,
        "test": analysis.test,
        "level": analysis.level,
        "study_filters": filters_text(analysis.study_filters, named=False),
        "subgroup": analysis.subgroup,
        "moderators": ", ".join(analysis.moderators),
        "leave_one_out": analysis.leave_one_out,
        "without_high_rob": analysis.without_high_rob,
        "sensitivity_filters": filters_text(analysis.sensitivity_filters, named=True),
        "publication_bias": analysis.publication_bias,
        "dependent": bool(analysis.dependent),
        "dependent_rho": (analysis.dependent or {}).get("rho"),
        "dependent_robust": (analysis.dependent or {}).get("robust") or "",
        "plan_version": analysis.plan_version,
    }
