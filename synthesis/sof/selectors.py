"""The summary-of-findings table as shown: reads only (issue 19).

Every number of a row comes from its stored ``AnalysisResult`` (the results dict, the inputs'
rows) and the extraction snapshot that result read (arm sizes and control-arm events). The
suggestions come from ``synthesis.grade`` (each rule cites the GRADE handbook section it
follows); the certainty from the accepted judgements only (GRADE handbook 5.1: randomised
evidence starts high, non-randomised low).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from reviews.models import Review
from synthesis import grade
from synthesis.grade.domains import CERTAINTIES
from synthesis.models import AnalysisResult
from synthesis.selectors import latest_result, latest_snapshot_number
from synthesis.sof.models import (
    DOMAINS,
    DOWNGRADE_DOMAINS,
    UPGRADE_DOMAINS,
    SofJudgement,
    SofRow,
    SofTable,
)

DOMAIN_LABELS = dict(DOMAINS)
HANDBOOK = {
    "risk_of_bias": "GRADE handbook 5.2.1",
    "inconsistency": "GRADE handbook 5.2.2",
    "indirectness": "GRADE handbook 5.2.3",
    "imprecision": "GRADE handbook 5.2.4",
    "publication_bias": "GRADE handbook 5.2.5",
    "large_effect": "GRADE handbook 5.3",
    "dose_response": "GRADE handbook 5.3",
}


def table_of(review: Review) -> SofTable | None:
    return SofTable.objects.filter(review=review).first()


def rows_of(review: Review):
    return SofRow.objects.filter(review=review).select_related("analysis", "result", "table")


def _snapshot(review: Review, number: int | None):
    from extraction.selectors import snapshots_of

    if number is None:
        return None
    return snapshots_of(review).filter(number=number).first()


def _num(values: dict, key: str) -> float | None:
    try:
        v = float(values.get(key, ""))
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def arm_data(row: SofRow) -> dict[str, Any]:
    """Participants (sum of both arms' N) and control-arm events/totals of the pooled studies,
    read from the snapshot the row's result used; ``complete`` when every study had them."""
    out: dict[str, Any] = {"participants": None, "control": [], "complete": False}
    result = row.result
    if result is None:
        return out
    snapshot = _snapshot(row.review, result.snapshot_number)
    pooled = [str(r.get("study")) for r in (result.inputs or {}).get("rows", [])]
    if snapshot is None or not pooled:
        return out
    a = row.analysis
    by_label = {s.get("label"): s for s in snapshot.content.get("studies", [])}
    total, control, complete = 0, [], True
    for label in pooled:
        study = by_label.get(label) or {}
        values = study.get("values", {})
        match = [
            e
            for e in study.get("effects", [])
            if (e.get("outcome") or "").casefold() == a.outcome.casefold()
            and (not a.timepoint or e.get("timepoint") == a.timepoint)
            and (not a.arm1 or e.get("arm1") == a.arm1)
            and (not a.arm2 or e.get("arm2") == a.arm2)
            and e.get("yi") is not None
        ]
        if len(match) != 1:
            complete = False
            continue
        p = f"results.{int(match[0]['row']) - 1}."
        n1, n2 = _num(values, p + "n1i"), _num(values, p + "n2i")
        if n1 is None or n2 is None:
            complete = False
            continue
        total += int(n1) + int(n2)
        events = _num(values, p + "ci")
        if events is not None and n2 > 0:
            control.append((events, n2))
    if complete:
        out["participants"] = total
    out["control"] = control
    out["complete"] = complete
    return out


@dataclass
class DomainView:
    domain: str
    label: str
    handbook: str
    suggested: str | None
    evidence: str
    rule: str
    judgement: SofJudgement | None = None
    footnote: int | None = None

    @property
    def shown(self) -> str:
        if self.judgement:
            return self.judgement.judgement
        return self.suggested or "to judge"

    @property
    def pending(self) -> bool:
        return self.judgement is None


@dataclass
class RowView:
    row: SofRow
    result: AnalysisResult | None
    latest: AnalysisResult | None
    stale: bool
    stale_reasons: list[str]
    k: int | None = None
    participants: int | None = None
    participants_source: str = ""
    measure: str = ""
    effect: dict | None = None  # estimate, ci_lb, ci_ub on the measure's scale
    acr: float | None = None
    acr_source: str = ""
    absolute: Any = None
    domains: list[DomainView] = field(default_factory=list)
    certainty: str | None = None
    pending: list[str] = field(default_factory=list)
    draft_statement: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def statement(self) -> str:
        return self.row.statement or self.draft_statement

    @property
    def effect_text(self) -> str:
        if not self.effect:
            return "n/a"
        e = self.effect
        return f"{self.measure} {e['estimate']:.2f} ({e['ci_lb']:.2f} to {e['ci_ub']:.2f})"


def _suggestions(row: SofRow, result: dict, participants: int | None) -> dict[str, Any]:
    return {
        s.domain: s
        for s in grade.suggestions(
            result,
            randomised=row.randomised,
            mid=row.mid,
            ois=row.ois,
            participants=participants,
            dose_response=row.dose_response,
        )
    }


def row_view(row: SofRow, *, latest_number: int | None = None) -> RowView:
    latest = latest_result(row.analysis)
    result = row.result
    reasons = []
    if result is None:
        reasons.append("The result this row was drafted from no longer exists.")
    else:
        if latest is not None and latest.pk != result.pk:
            reasons.append(
                f"The analysis has a newer result (#{latest.pk}, snapshot "
                f"{latest.snapshot_number}) than this row's (#{result.pk})."
            )
        if latest_number is not None and latest_number > result.snapshot_number:
            reasons.append(
                f"A newer extraction snapshot ({latest_number}) exists than the one the result "
                f"read ({result.snapshot_number})."
            )
    view = RowView(row, result, latest, bool(reasons), reasons)
    judgements = {j.domain: j for j in row.judgements.all()}
    if result is None:
        return view
    data = result.results or {}
    main = data.get("main") or {}
    view.k = main.get("k")
    view.measure = (data.get("spec") or {}).get("measure") or ""
    ratio = data.get("transform") == "exp"
    if all(isinstance(main.get(k), int | float) for k in ("estimate", "ci_lb", "ci_ub")):
        f = math.exp if ratio else float
        view.effect = {k: f(main[k]) for k in ("estimate", "ci_lb", "ci_ub")}
    arms = arm_data(row)
    if arms["participants"] is not None:
        view.participants, view.participants_source = arms["participants"], "snapshot"
    elif row.participants_entered is not None:
        view.participants, view.participants_source = row.participants_entered, "entered"
    if view.measure in grade.absolute.BINARY_MEASURES:
        if row.acr_entered is not None:
            view.acr, view.acr_source = row.acr_entered, "entered"
        elif arms["control"]:
            view.acr = float(statistics.median(e / n for e, n in arms["control"]))
            view.acr_source = f"median of {len(arms['control'])} control arms"
        if view.acr is not None and view.effect:
            try:
                view.absolute = grade.absolute_effect_of(data, view.acr)
            except grade.GradeInputError as exc:
                view.errors.append(str(exc))
    try:
        suggestions = _suggestions(row, data, view.participants)
    except grade.GradeInputError as exc:
        view.errors.append(str(exc))
        suggestions = {}
    for domain in DOWNGRADE_DOMAINS + UPGRADE_DOMAINS:
        s = suggestions.get(domain)
        view.domains.append(
            DomainView(
                domain,
                DOMAIN_LABELS[domain],
                HANDBOOK[domain],
                s.suggestion if s else None,
                s.evidence if s else "",
                s.rule if s else "",
                judgements.get(domain),
            )
        )
    view.pending = [d.label for d in view.domains if d.pending]
    if not view.pending:
        down = sum(d.judgement.levels for d in view.domains if d.domain in DOWNGRADE_DOMAINS)
        up = sum(d.judgement.levels for d in view.domains if d.domain in UPGRADE_DOMAINS)
        start = "high" if row.randomised else "low"
        index = CERTAINTIES.index(start) - down + (0 if row.randomised else up)
        view.certainty = CERTAINTIES[min(max(index, 0), len(CERTAINTIES) - 1)]
        intervention = row.table.intervention
        try:
            view.draft_statement = grade.statement_of(
                data, view.certainty, intervention, row.outcome_label, mid=row.mid
            )
        except grade.GradeInputError as exc:
            view.errors.append(str(exc))
    return view


def table_view(review: Review) -> dict[str, Any]:
    """The table, its rows (``RowView``) and the numbered footnotes (one per judgement that
    rates down or up or that changed the suggestion, with its reason and who gave it)."""
    table = table_of(review)
    latest_number = latest_snapshot_number(review)
    rows = (
        [
            row_view(r, latest_number=latest_number)
            for r in rows_of(review).prefetch_related("judgements")
        ]
        if table
        else []
    )
    footnotes: list[dict[str, Any]] = []
    for rv in rows:
        for d in rv.domains:
            j = d.judgement
            if j and (j.levels or j.reason):
                text = f"{d.label}: {j.judgement}."
                if j.reason:
                    text += f" {j.reason}"
                if j.changed:
                    text += f" (suggested: {j.suggested or 'none'})"
                who = j.decided_by_name or (j.decided_by and j.decided_by.get_username())
                text += f" — {who or 'unknown'}"
                footnotes.append({"n": len(footnotes) + 1, "row": rv.row.pk, "text": text})
                d.footnote = len(footnotes)
    return {"table": table, "rows": rows, "footnotes": footnotes, "latest_snapshot": latest_number}
