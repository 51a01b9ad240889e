"""Differences from the protocol: what the protocol planned against what was done, drawn from the
data at the moment of asking, for the paper's "differences from protocol" section.

- Databases: the current protocol's planned databases against the searches and their imports
  (``identification.protocol_plan``), and the databases amendments added or removed since the
  registered version.
- Amendments: every published amendment, dated, with its author, rationale and the sections it
  changed; those that changed the eligibility criteria with the criteria added and removed.
- Analyses: the analyses run (the ``reviews.protocol.hooks.analyses_run`` hook, which the
  synthesis step answers) against the synthesis plan: estimator, effect measure, Knapp-Hartung,
  subgroups, sensitivity analyses and publication-bias methods, run but not planned or planned
  but not run. Without an answer: "No analyses run yet".

Exported as JSON (the API), Markdown and standalone HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape

from identification.protocol_plan import (
    DatabasesAgainstPlan,
    database_key,
    databases_against_plan,
)
from reviews.models import Review
from reviews.protocol import sections, selectors
from reviews.protocol.constants import PUBLICATION_BIAS
from reviews.protocol.documents import html_document
from reviews.protocol.hooks import analyses_run
from reviews.protocol.models import ProtocolVersion

NO_ANALYSES = "No analyses run yet."


@dataclass
class Amendment:
    version: int
    date: str
    author: str
    rationale: str
    sections_changed: list[str]

    @property
    def section_titles(self) -> list[str]:
        return [sections.SECTION_TITLES.get(k, k) for k in self.sections_changed]


@dataclass
class CriteriaChange:
    version: int
    date: str
    rationale: str
    added_inclusion: list[str] = field(default_factory=list)
    removed_inclusion: list[str] = field(default_factory=list)
    added_exclusion: list[str] = field(default_factory=list)
    removed_exclusion: list[str] = field(default_factory=list)
    #: Other eligibility fields changed (languages, years, notes), by label.
    other_changes: list[str] = field(default_factory=list)


@dataclass
class SourceChange:
    database: str
    change: str  # "added" or "removed"
    version: int


@dataclass
class AnalysisDeviation:
    area: str  # estimator, effect_measure, knapp_hartung, subgroups, sensitivity, publication_bias
    kind: str  # not_planned (run but not planned), not_run (planned but not run), differs
    analysis: str
    text: str


@dataclass
class DeviationReport:
    review: Review
    current: ProtocolVersion | None
    registered: ProtocolVersion | None
    databases: DatabasesAgainstPlan
    source_changes: list[SourceChange]
    amendments: list[Amendment]
    eligibility_changes: list[CriteriaChange]
    analyses: list[dict[str, Any]]
    analysis_deviations: list[AnalysisDeviation]

    @property
    def differences(self) -> list[str]:
        """Every difference as a sentence, in the order of the report."""
        out = []
        for name in self.databases.not_searched:
            out.append(f"{name} was planned as a source but not searched.")
        for name in self.databases.not_imported:
            out.append(f"{name} was planned; its search is recorded but no results were imported.")
        for name in self.databases.unplanned:
            out.append(f"{name} was searched but is not a source the protocol plans.")
        for a in self.amendments:
            out.append(_amendment_sentence(a, self))
        if self.analyses:
            out += [d.text for d in self.analysis_deviations]
        return out


def _amendment_sentence(a: Amendment, report: DeviationReport) -> str:
    """An amendment in one sentence, with the criteria and sources it changed."""
    details = []
    for c in report.source_changes:
        if c.version == a.version:
            verb = "added" if c.change == "added" else "removed"
            details.append(f"{verb} the source {c.database}")
    for c in report.eligibility_changes:
        if c.version == a.version:
            details += _criteria_parts(c)
    said = f": {'; '.join(details)}" if details else ""
    return (
        f"Amendment {a.version} ({', '.join(x for x in (a.date, a.author) if x)}) changed "
        f"{', '.join(a.section_titles)}{said}. "
        f"Rationale: {a.rationale}"
    )


def _date(version: ProtocolVersion) -> str:
    return f"{version.date:%Y-%m-%d}" if version.date else ""


def _criteria_parts(c: CriteriaChange) -> list[str]:
    parts = []
    for label, items in (
        ("added the inclusion criterion", c.added_inclusion),
        ("removed the inclusion criterion", c.removed_inclusion),
        ("added the exclusion criterion", c.added_exclusion),
        ("removed the exclusion criterion", c.removed_exclusion),
    ):
        parts += [f"{label} “{item}”" for item in items]
    if c.other_changes:
        parts.append(f"changed {', '.join(label.lower() for label in c.other_changes)}")
    return parts


def _criteria_sentence(c: CriteriaChange) -> str:
    what = "; ".join(_criteria_parts(c)) or "changed the eligibility criteria"
    return f"Amendment {c.version} ({c.date}) {what}. Rationale: {c.rationale}"


def _difference(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    old = {database_key(x) for x in before}
    new = {database_key(x) for x in after}
    return (
        [x for x in after if database_key(x) not in old],
        [x for x in before if database_key(x) not in new],
    )


def _amendments(
    review: Review,
) -> tuple[list[Amendment], list[CriteriaChange], list[SourceChange]]:
    amendments, criteria, sources = [], [], []
    previous = selectors.registered_version(review)
    for version in selectors.amendments_of(review):
        changed = [k for k in version.sections_changed or [] if isinstance(k, str)]
        amendments.append(
            Amendment(version.number, _date(version), version.author, version.rationale, changed)
        )
        if previous is None:
            previous = version
            continue
        before, after = selectors.content_of(previous), selectors.content_of(version)
        if before["eligibility"] != after["eligibility"]:
            change = CriteriaChange(version.number, _date(version), version.rationale)
            change.added_inclusion, change.removed_inclusion = _difference(
                before["eligibility"]["inclusion"], after["eligibility"]["inclusion"]
            )
            change.added_exclusion, change.removed_exclusion = _difference(
                before["eligibility"]["exclusion"], after["eligibility"]["exclusion"]
            )
            eligibility = sections.section("eligibility")
            change.other_changes = [
                f.label
                for f in eligibility.fields
                if f.key not in ("inclusion", "exclusion")
                and before["eligibility"][f.key] != after["eligibility"][f.key]
            ]
            criteria.append(change)
        added, removed = _difference(
            before["information_sources"]["databases"], after["information_sources"]["databases"]
        )
        sources += [SourceChange(name, "added", version.number) for name in added]
        sources += [SourceChange(name, "removed", version.number) for name in removed]
        previous = version
    return amendments, criteria, sources


def _analyses(review: Review) -> list[dict[str, Any]]:
    """The analyses the later steps say were run (``analyses_run``), as dicts."""
    found: list[dict[str, Any]] = []
    for answer in analyses_run.send(review=review).values():
        for analysis in answer or ():
            if isinstance(analysis, dict):
                found.append(analysis)
    return found


def _names(items: Any) -> list[str]:
    out = []
    for item in items or ():
        if isinstance(item, dict):
            item = item.get("name") or item.get("variable") or ""
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


_PUBBIAS_LABELS = dict(PUBLICATION_BIAS)


def compare_analyses(
    plan: dict[str, Any] | None, analyses: list[dict[str, Any]]
) -> list[AnalysisDeviation]:
    """The analyses run against the synthesis plan (``selectors.synthesis_plan``)."""
    plan = plan or {}
    out: list[AnalysisDeviation] = []

    def add(area: str, kind: str, analysis: str, text: str) -> None:
        out.append(AnalysisDeviation(area, kind, analysis, text))

    planned_subgroups = {
        database_key(x)
        for s in plan.get("subgroups", [])
        for x in (s.get("name", ""), s.get("variable", ""))
        if x
    }
    planned_sensitivity = {database_key(s.get("name", "")) for s in plan.get("sensitivity", [])}
    planned_bias = set(plan.get("publication_bias", []))
    run_subgroups: set[str] = set()
    run_sensitivity: set[str] = set()
    run_bias: set[str] = set()
    for n, analysis in enumerate(analyses, start=1):
        name = str(analysis.get("name") or f"Analysis {n}")
        for area, planned in (
            ("estimator", plan.get("method")),
            ("effect_measure", plan.get("effect_measure")),
        ):
            value = analysis.get(area)
            if not isinstance(value, str) or not value:
                continue
            value = value.upper()
            what = "estimator" if area == "estimator" else "effect measure"
            used = f"{name} used the {what} {value}"
            if not planned:
                add(area, "not_planned", name, f"{used}; the protocol did not specify one.")
            elif value != planned:
                add(area, "differs", name, f"{used}; the protocol planned {planned}.")
        kh = analysis.get("knapp_hartung")
        if isinstance(kh, bool) and plan and kh != plan.get("knapp_hartung", False):
            said = "with" if kh else "without"
            planned_said = "with" if plan.get("knapp_hartung") else "without"
            add(
                "knapp_hartung",
                "differs",
                name,
                f"{name} was run {said} the Knapp-Hartung adjustment; the protocol planned it "
                f"{planned_said}.",
            )
        for subgroup in _names(analysis.get("subgroups")):
            run_subgroups.add(database_key(subgroup))
            if database_key(subgroup) not in planned_subgroups:
                add(
                    "subgroups",
                    "not_planned",
                    name,
                    f"The subgroup analysis by “{subgroup}” ({name}) was run but not planned.",
                )
        for sensitivity in _names(analysis.get("sensitivity")):
            run_sensitivity.add(database_key(sensitivity))
            if database_key(sensitivity) not in planned_sensitivity:
                add(
                    "sensitivity",
                    "not_planned",
                    name,
                    f"The sensitivity analysis “{sensitivity}” ({name}) was run but not planned.",
                )
        for method in analysis.get("publication_bias") or ():
            if not isinstance(method, str):
                continue
            run_bias.add(method)
            if method not in planned_bias:
                label = _PUBBIAS_LABELS.get(method, method)
                add(
                    "publication_bias",
                    "not_planned",
                    name,
                    f"{label} ({name}) was run but not planned.",
                )
    for s in plan.get("subgroups", []):
        keys = {database_key(s.get("name", "")), database_key(s.get("variable", "") or "-")}
        if not keys & run_subgroups:
            text = f"The planned subgroup analysis by “{s.get('name')}” was not run."
            add("subgroups", "not_run", "", text)
    for s in plan.get("sensitivity", []):
        if database_key(s.get("name", "")) not in run_sensitivity:
            text = f"The planned sensitivity analysis “{s.get('name')}” was not run."
            add("sensitivity", "not_run", "", text)
    for method in plan.get("publication_bias", []):
        if method not in run_bias:
            text = f"{_PUBBIAS_LABELS.get(method, method)} was planned but not run."
            add("publication_bias", "not_run", "", text)
    return out


def deviation_report(review: Review) -> DeviationReport:
    amendments, criteria, sources = _amendments(review)
    analyses = _analyses(review)
    return DeviationReport(
        review=review,
        current=selectors.current_version(review),
        registered=selectors.registered_version(review),
        databases=databases_against_plan(review),
        source_changes=sources,
        amendments=amendments,
        eligibility_changes=criteria,
        analyses=analyses,
        analysis_deviations=compare_analyses(selectors.synthesis_plan(review), analyses)
        if analyses
        else [],
    )


# --- exports --------------------------------------------------------------------------------


def report_data(report: DeviationReport) -> dict[str, Any]:
    current, registered = report.current, report.registered
    db = report.databases
    return {
        "protocol": {
            "current_version": current.number if current else None,
            "current_is_draft": current.is_draft if current else None,
            "registered_version": registered.number if registered else None,
            "registry": registered.registry_label if registered else "",
            "registration_id": registered.registration_id if registered else "",
            "registered_on": registered.registered_on if registered else None,
            "fingerprint": (current.fingerprint or None) if current else None,
        },
        "databases": {
            "planned": db.planned,
            "searched": db.searched,
            "not_imported": db.not_imported,
            "not_searched": db.not_searched,
            "unplanned": db.unplanned,
            "changed_by_amendments": [
                {"database": c.database, "change": c.change, "version": c.version}
                for c in report.source_changes
            ],
        },
        "amendments": [
            {
                "version": a.version,
                "date": a.date,
                "author": a.author,
                "rationale": a.rationale,
                "sections_changed": a.sections_changed,
            }
            for a in report.amendments
        ],
        "eligibility_changes": [
            {
                "version": c.version,
                "date": c.date,
                "rationale": c.rationale,
                "added_inclusion": c.added_inclusion,
                "removed_inclusion": c.removed_inclusion,
                "added_exclusion": c.added_exclusion,
                "removed_exclusion": c.removed_exclusion,
                "other_changes": c.other_changes,
            }
            for c in report.eligibility_changes
        ],
        "analyses_run": len(report.analyses),
        "analysis_deviations": [
            {"area": d.area, "kind": d.kind, "analysis": d.analysis, "text": d.text}
            for d in report.analysis_deviations
        ],
        "differences": report.differences,
    }


def _protocol_line(report: DeviationReport) -> str:
    registered, current = report.registered, report.current
    if current is None:
        return "The review has no protocol."
    if registered is None:
        return f"The protocol (version {current.number}) is not registered."
    when = f" on {registered.registered_on:%Y-%m-%d}" if registered.registered_on else ""
    line = (
        f"Protocol registered with {registered.registry_label} ({registered.registration_id}){when}"
    )
    if report.amendments:
        n = len(report.amendments)
        line += f", amended {n} time{'s' if n != 1 else ''}; current version {current.number}"
    return line + "."


def _sections(report: DeviationReport) -> list[tuple[str, list[str]]]:
    """The report's parts: (heading, lines) in words for people."""
    db = report.databases
    databases = []
    if not db.planned:
        databases.append("The protocol plans no databases.")
    databases += [f"Searched as planned: {name}." for name in db.searched]
    databases += [f"Planned but not searched: {name}." for name in db.not_searched]
    databases += [
        f"Planned, search recorded, nothing imported: {name}." for name in db.not_imported
    ]
    databases += [f"Searched but not planned: {name}." for name in db.unplanned]
    databases += [
        f"{'Added' if c.change == 'added' else 'Removed'} by amendment {c.version}: {c.database}."
        for c in report.source_changes
    ]
    amendments = [_amendment_sentence(a, report) for a in report.amendments] or ["No amendments."]
    eligibility = [_criteria_sentence(c) for c in report.eligibility_changes] or [
        "The eligibility criteria were not amended."
    ]
    if not report.analyses:
        analyses = [NO_ANALYSES]
    else:
        n = len(report.analyses)
        analyses = [f"{n} analys{'es' if n != 1 else 'is'} run."]
        analyses += [d.text for d in report.analysis_deviations] or [
            "Every analysis run follows the synthesis plan."
        ]
    return [
        ("Information sources", databases),
        ("Amendments", amendments),
        ("Eligibility criteria", eligibility),
        ("Analyses", analyses),
    ]


def report_markdown(report: DeviationReport) -> str:
    lines = [
        f"# Differences from the protocol: {report.review.title}",
        "",
        _protocol_line(report),
        "",
    ]
    for heading, items in _sections(report):
        lines += [f"## {heading}", ""]
        lines += [f"- {item}" for item in items]
        lines.append("")
    return "\n".join(lines)


def report_html(report: DeviationReport) -> str:
    body = [
        f"<h1>Differences from the protocol: {escape(report.review.title)}</h1>",
        f"<p>{escape(_protocol_line(report))}</p>",
    ]
    for heading, items in _sections(report):
        body.append(f"<h2>{escape(heading)}</h2>")
        body.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
    return html_document(f"Differences from the protocol: {report.review.title}", "\n".join(body))


def report_sections(report: DeviationReport) -> list[tuple[str, list[str]]]:
    """For the page: the same parts as the files."""
    return _sections(report)


def protocol_line(report: DeviationReport) -> str:
    return _protocol_line(report)
