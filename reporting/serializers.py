"""API shapes for reporting: the PRISMA 2020 numbers and the numbers a lead types in."""

from __future__ import annotations

import dataclasses
from typing import Any

from rest_framework import serializers

from reporting import prisma

#: As ``ENUM_NAME_OVERRIDES`` reads an enum (value, name), so the schema names them once.
BOXES = [(box.value, box.name) for box in prisma.Box]
TEMPLATES = [(t.value, t.name) for t in prisma.Template]


class NamedCountSerializer(serializers.Serializer):
    """One line of a box that lists its sources or reasons."""

    name = serializers.CharField()
    count = serializers.IntegerField(min_value=0)


class ReviewUpdateSerializer(serializers.Serializer):
    previous_studies = serializers.IntegerField()
    previous_reports = serializers.IntegerField()
    total_studies = serializers.IntegerField()
    total_reports = serializers.IntegerField()


class OtherMethodsSerializer(serializers.Serializer):
    websites = serializers.IntegerField(allow_null=True)
    organisations = serializers.IntegerField(allow_null=True)
    citation_searching = serializers.IntegerField(allow_null=True)
    identified = serializers.IntegerField()
    reports_sought = serializers.IntegerField()
    reports_not_retrieved = serializers.IntegerField()
    reports_assessed = serializers.IntegerField()
    reports_excluded = NamedCountSerializer(many=True)


class PrismaCountsSerializer(serializers.Serializer):
    """Every box of the diagram, counted from the review's data at the moment of asking, but
    for the boxes in ``hand_entered`` (the other-methods column and an update's previous
    studies), which a lead typed in."""

    template = serializers.ChoiceField(
        choices=TEMPLATES,
        help_text="The PRISMA 2020 template: A new review, B with other methods, C an update, "
        "D an update with other methods.",
    )
    databases = NamedCountSerializer(many=True)
    registers = NamedCountSerializer(many=True)
    identified = serializers.IntegerField(help_text="Databases and registers together.")
    duplicates_removed = serializers.IntegerField()
    automation_removed = serializers.IntegerField()
    other_removed = serializers.IntegerField()
    records_screened = serializers.IntegerField()
    records_excluded = serializers.IntegerField()
    records_excluded_reasons = NamedCountSerializer(many=True)
    reports_sought = serializers.IntegerField()
    reports_not_retrieved = serializers.IntegerField()
    reports_assessed = serializers.IntegerField()
    reports_excluded = NamedCountSerializer(many=True)
    reports_excluded_total = serializers.IntegerField()
    new_studies = serializers.IntegerField()
    new_reports = serializers.IntegerField()
    meta_analysis_studies = serializers.IntegerField(allow_null=True)
    meta_analysis_reports = serializers.IntegerField(allow_null=True)
    update = ReviewUpdateSerializer(allow_null=True)
    other_methods = OtherMethodsSerializer(allow_null=True)
    hand_entered = serializers.ListField(child=serializers.ChoiceField(choices=BOXES))


class IssueSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=[("error", "Error"), ("warning", "Warning")])
    code = serializers.CharField(help_text="The rule broken (H…, S…), or `caller`.")
    message = serializers.CharField()
    boxes = serializers.ListField(child=serializers.ChoiceField(choices=BOXES))


class PrismaReportSerializer(serializers.Serializer):
    """The numbers of the PRISMA page, its consistency check and what is still unfinished (as
    the reader may see it: blinding hides a conflict from a voter who may not resolve it)."""

    counts = PrismaCountsSerializer()
    issues = IssueSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


def _named(pairs) -> list[dict[str, Any]]:
    return [{"name": name, "count": n} for name, n in pairs]


def report_data(report) -> dict[str, Any]:
    """A ``reporting.selectors.PrismaReport`` as the API shows it."""
    c = report.counts
    other = c.other_methods
    return {
        "counts": {
            "template": c.template.value,
            "databases": _named(c.databases),
            "registers": _named(c.registers),
            "identified": c.identified,
            "duplicates_removed": c.duplicates_removed,
            "automation_removed": c.automation_removed,
            "other_removed": c.other_removed,
            "records_screened": c.records_screened,
            "records_excluded": c.records_excluded,
            "records_excluded_reasons": _named(c.records_excluded_reasons),
            "reports_sought": c.reports_sought,
            "reports_not_retrieved": c.reports_not_retrieved,
            "reports_assessed": c.reports_assessed,
            "reports_excluded": _named(c.reports_excluded),
            "reports_excluded_total": c.reports_excluded_total,
            "new_studies": c.new_studies,
            "new_reports": c.new_reports,
            "meta_analysis_studies": c.meta_analysis_studies,
            "meta_analysis_reports": c.meta_analysis_reports,
            "update": None
            if c.update is None
            else {
                "previous_studies": c.update.previous_studies,
                "previous_reports": c.update.previous_reports,
                "total_studies": c.update.total_studies,
                "total_reports": c.update.total_reports,
            },
            "other_methods": None
            if other is None
            else {
                "websites": other.websites,
                "organisations": other.organisations,
                "citation_searching": other.citation_searching,
                "identified": other.identified,
                "reports_sought": other.reports_sought,
                "reports_not_retrieved": other.reports_not_retrieved,
                "reports_assessed": other.reports_assessed,
                "reports_excluded": _named(other.reports_excluded),
            },
            "hand_entered": sorted(box.value for box in c.hand_entered),
        },
        "issues": [
            {
                "severity": i.severity,
                "code": i.code,
                "message": i.message,
                "boxes": [box.value for box in i.boxes],
            }
            for i in report.issues
        ],
        "warnings": list(report.warnings),
    }


_COUNT = {"min_value": 0, "max_value": 10**9}


class ExcludedReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    count = serializers.IntegerField(**_COUNT)


class PrismaEntrySerializer(serializers.Serializer):
    """The numbers no query can count, typed in by a lead: the other-methods column (counted
    when at least one of websites, organisations, citation searching is given) and, for an
    update, the previous version's studies and reports."""

    is_update = serializers.BooleanField(required=False)
    previous_studies = serializers.IntegerField(required=False, **_COUNT)
    previous_reports = serializers.IntegerField(required=False, **_COUNT)
    websites = serializers.IntegerField(required=False, allow_null=True, **_COUNT)
    organisations = serializers.IntegerField(required=False, allow_null=True, **_COUNT)
    citation_searching = serializers.IntegerField(required=False, allow_null=True, **_COUNT)
    other_sought = serializers.IntegerField(required=False, **_COUNT)
    other_not_retrieved = serializers.IntegerField(required=False, **_COUNT)
    other_assessed = serializers.IntegerField(required=False, **_COUNT)
    other_excluded = ExcludedReasonSerializer(many=True, required=False, max_length=200)
    other_included = serializers.IntegerField(required=False, **_COUNT)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


def entry_data(entry) -> dict[str, Any]:
    fields = [f for f in PrismaEntrySerializer().fields if f not in ("other_excluded",)]
    data = {name: getattr(entry, name) for name in fields}
    data["other_excluded"] = [{"reason": r, "count": n} for r, n in entry.other_excluded]
    return data


class RoundAnalysisPointSerializer(serializers.Serializer):
    """An analysis's main model at one moment (``synthesis.selectors.round_analyses``)."""

    estimate = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    tau2 = serializers.FloatField(allow_null=True)
    k = serializers.IntegerField(allow_null=True)
    snapshot = serializers.IntegerField(allow_null=True)


class RoundAnalysisSerializer(serializers.Serializer):
    """How an analysis changed with the round: before it opened and during it (None: no result
    then; the estimates on the analysis scale, log for OR and RR)."""

    name = serializers.CharField()
    before = RoundAnalysisPointSerializer(allow_null=True)
    after = RoundAnalysisPointSerializer(allow_null=True)


class RoundChangeSerializer(serializers.Serializer):
    """What one update round did (``reporting.changelog.RoundChange``)."""

    number = serializers.IntegerField()
    date = serializers.DateField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    identified = NamedCountSerializer(many=True)
    identified_total = serializers.IntegerField()
    duplicates_earlier = serializers.IntegerField()
    duplicates_within = serializers.IntegerField()
    new_records = serializers.IntegerField()
    records_screened = serializers.IntegerField()
    new_studies = serializers.IntegerField()
    new_reports = serializers.IntegerField()
    total_studies = serializers.IntegerField()
    total_reports = serializers.IntegerField()
    analyses = RoundAnalysisSerializer(many=True)


def round_change_data(change) -> dict:
    data = dataclasses.asdict(change)
    data["identified"] = [{"name": name, "count": n} for name, n in change.identified]
    return data
