"""Reads of the synthesis step: analyses, their results, the rows an analysis runs on, the
protocol's plan as analysis defaults and the departures from it.

Every member reads every analysis and result; the rows come from a finalised extraction
snapshot (``extraction.selectors``) and, for risk of bias, from the RoB module's consensus
judgements (``extraction.rob.selectors``).
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet

from extraction import selectors as extraction
from extraction.models import ExtractionSnapshot
from reviews.models import Review
from reviews.protocol.selectors import synthesis_plan
from synthesis.constants import JOB_KIND, LOG_MEASURES, ROB_VARIABLE
from synthesis.models import Analysis, AnalysisResult


class RowsError(ValueError):
    """The snapshot does not give usable rows for this analysis; the message says why."""


def analyses_of(review: Review) -> QuerySet[Analysis]:
    return Analysis.objects.filter(review=review).select_related("snapshot", "created_by")


def latest_result(analysis: Analysis) -> AnalysisResult | None:
    return analysis.results.order_by("-pk").first()


def latest_snapshot_number(review: Review) -> int | None:
    snap = extraction.latest_snapshot(review)
    return snap.number if snap else None


def result_is_stale(result: AnalysisResult, latest_number: int | None) -> bool:
    """A newer snapshot than the one the result read exists."""
    return latest_number is not None and latest_number > result.snapshot_number


def analyses_with_latest(review: Review) -> list[Analysis]:
    """The review's analyses, each with ``latest`` (its newest result or None) and ``stale``."""
    found = list(analyses_of(review))
    latest_number = latest_snapshot_number(review)
    newest: dict[int, AnalysisResult] = {}
    for result in (
        AnalysisResult.objects.filter(review=review)
        .defer("inputs", "results")
        .order_by("analysis_id", "-pk")
    ):
        newest.setdefault(result.analysis_id, result)
    for a in found:
        a.latest = newest.get(a.pk)
        a.stale = bool(a.latest) and result_is_stale(a.latest, latest_number)
    return found


def last_job(analysis: Analysis):
    """The latest run job of ``analysis`` (queued, running or finished), or None."""
    from core.models import Job

    return (
        Job.objects.filter(review=analysis.review, kind=JOB_KIND, params__analysis=analysis.pk)
        .order_by("-pk")
        .first()
    )


def snapshot_for(analysis: Analysis) -> ExtractionSnapshot | None:
    """The snapshot an analysis runs on: its own, else the review's latest."""
    return analysis.snapshot or extraction.latest_snapshot(analysis.review)


# --- What an analysis may choose --------------------------------------------------------------


def study_value(values: dict, key: str) -> Any:
    """A study-level value as an analysis sees it: lists joined, numbers as numbers."""
    value = values.get(key)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    return value


def study_fields(snapshot: ExtractionSnapshot | None) -> list[str]:
    """The study-level fields extracted in ``snapshot`` (not arms, outcomes or results)."""
    if snapshot is None:
        return []
    keys: set[str] = set()
    for study in snapshot.content.get("studies", []):
        keys.update(k for k, v in study.get("values", {}).items() if "." not in k and v != "")
    return sorted(keys)


def outcome_choices(snapshot: ExtractionSnapshot | None) -> list[dict]:
    """Each outcome of the snapshot with its time points, comparisons and measures."""
    if snapshot is None:
        return []
    found: dict[str, dict] = {}
    for study in snapshot.content.get("studies", []):
        for e in study.get("effects", []):
            name = e.get("outcome") or ""
            if not name:
                continue
            o = found.setdefault(
                name,
                {"outcome": name, "timepoints": set(), "comparisons": set(), "measures": set()},
            )
            o["timepoints"].add(e.get("timepoint") or "")
            o["comparisons"].add((e.get("arm1") or "", e.get("arm2") or ""))
            o["measures"].add(e.get("measure") or "")
    return [
        {
            "outcome": o["outcome"],
            "timepoints": sorted(t for t in o["timepoints"] if t),
            "comparisons": sorted(o["comparisons"]),
            "measures": sorted(m for m in o["measures"] if m),
        }
        for o in sorted(found.values(), key=lambda o: o["outcome"].lower())
    ]


# --- Rows ------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def filter_matches(flt: dict, value: Any) -> bool:
    """Whether a study's ``value`` matches one filter ``{"field","op","value"}``."""
    op, wanted = flt.get("op"), flt.get("value")
    if op in ("lt", "gt"):
        a, b = _number(value), _number(wanted)
        if a is None or b is None:
            return False
        return a < b if op == "lt" else a > b
    if op == "in":
        options = wanted if isinstance(wanted, list) else str(wanted).split(",")
        return any(_same(value, o) for o in options)
    same = _same(value, wanted)
    return same if op == "eq" else not same


def _same(a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return x == y
    return (
        str("" if a is None else a).strip().casefold()
        == str("" if b is None else b).strip().casefold()
    )


def rob_of(review: Review, outcome: str) -> tuple[dict[str, str], list[str]]:
    """The consensus overall RoB judgement by study label, and the judgements that count high."""
    try:
        from extraction.rob.selectors import high_judgements, overall_by_study
    except ImportError:  # the RoB module is optional for synthesis
        return {}, []
    return overall_by_study(review, outcome=outcome), sorted(high_judgements(review))


def build_inputs(analysis: Analysis, snapshot: ExtractionSnapshot) -> dict[str, Any]:
    """The exact inputs of a run, ``{"spec": ..., "rows": [...], "notes": [...]}``, from
    ``snapshot`` (and RoB); a ``RowsError`` says clearly why the snapshot cannot give them."""
    judgements, high = rob_of(analysis.review, analysis.outcome)
    fields = {f["field"] for f in analysis.study_filters} | {
        f["field"] for f in analysis.sensitivity_filters
    }
    fields |= set(analysis.moderators)
    if analysis.subgroup:
        fields.add(analysis.subgroup)
    fields.discard(ROB_VARIABLE)
    rows, notes, measures = [], [], set()
    filtered = 0
    for study in snapshot.content.get("studies", []):
        label = study.get("label", "")
        values = study.get("values", {})
        attrs = {key: study_value(values, key) for key in fields}
        attrs[ROB_VARIABLE] = judgements.get(label)
        if not all(filter_matches(f, attrs.get(f["field"])) for f in analysis.study_filters):
            notes.append(f"{label}: left out by the analysis's study filter.")
            filtered += 1
            continue
        matching = [
            e
            for e in study.get("effects", [])
            if (e.get("outcome") or "").casefold() == analysis.outcome.casefold()
            and (not analysis.timepoint or e.get("timepoint") == analysis.timepoint)
            and (not analysis.arm1 or e.get("arm1") == analysis.arm1)
            and (not analysis.arm2 or e.get("arm2") == analysis.arm2)
        ]
        if not matching:
            notes.append(f"{label}: no result for this outcome and comparison.")
            continue
        if len(matching) > 1 and analysis.dependent:
            rows_of_study = _dependent_rows(label, matching, fields, attrs, analysis, notes)
            for row in rows_of_study:
                measures.add(row.pop("_measure"))
            rows.extend(rows_of_study)
            continue
        if len(matching) > 1:
            listed = "; ".join(
                f"{e.get('arm1') or '?'} vs {e.get('arm2') or '?'}"
                + (f" at {e['timepoint']}" if e.get("timepoint") else "")
                for e in matching
            )
            raise RowsError(
                f"Study {label} has {len(matching)} results for the outcome "
                f"“{analysis.outcome}” ({listed}): choose the comparison (arm names) or the "
                "time point, or tick “several effect sizes per study” (three-level model)."
            )
        e = matching[0]
        if e.get("yi") is None or e.get("vi") is None:
            notes.append(f"{label}: no effect size ({e.get('problem') or 'not computed'}).")
            continue
        measures.add(e.get("measure") or "")
        row = {"study": label, "yi": float(e["yi"]), "vi": float(e["vi"])}
        for key in sorted(fields):
            value = attrs.get(key)
            row[key] = value if value not in ("",) else None
        for var in analysis.moderators:
            if var == ROB_VARIABLE:
                continue
            if _number(row.get(var)) is None:
                has = "no value" if row.get(var) is None else f"“{row.get(var)}”"
                raise RowsError(
                    f"Study {label} has {has} for the moderator “{var}”: meta-regression needs "
                    "a number for every study."
                )
            row[var] = _number(row[var])
        row[ROB_VARIABLE] = attrs[ROB_VARIABLE]
        rows.append(row)
    if not rows and filtered and filtered == len(snapshot.content.get("studies", [])):
        raise RowsError(
            f"No study of snapshot {snapshot.number} matches the analysis's study filter: "
            "nothing to pool."
        )
    if len(measures) > 1:
        raise RowsError(
            f"The studies' results for “{analysis.outcome}” use different effect measures "
            f"({', '.join(sorted(measures))}): they cannot be pooled together."
        )
    measure = next(iter(measures), analysis.measure or "")
    if analysis.measure and measures and analysis.measure != measure:
        raise RowsError(
            f"The analysis asks for the measure {analysis.measure}, but the extracted results "
            f"of “{analysis.outcome}” are {measure}."
        )
    if analysis.dependent:
        for row in rows:
            row.setdefault("es_id", "1")
    spec = spec_of(analysis, measure=measure, high=high)
    return {"spec": spec, "rows": rows, "notes": notes}


def effect_label(e: dict) -> str:
    """How one result row is named: its comparison and time point."""
    return f"{e.get('arm1') or '?'} vs {e.get('arm2') or '?'}" + (
        f" at {e['timepoint']}" if e.get("timepoint") else ""
    )


def _dependent_rows(label, matching, fields, attrs, analysis, notes) -> list[dict]:
    """Every result row of a study with several for the outcome, each an effect size
    (``es_id`` 1, 2, ... in the snapshot's order; ``es_label`` names its comparison)."""
    out = []
    for n, e in enumerate(matching, start=1):
        if e.get("yi") is None or e.get("vi") is None:
            notes.append(
                f"{label}, {effect_label(e)}: no effect size "
                f"({e.get('problem') or 'not computed'})."
            )
            continue
        row = {"study": label, "es_id": str(n), "es_label": effect_label(e)}
        row.update(yi=float(e["yi"]), vi=float(e["vi"]), _measure=e.get("measure") or "")
        for key in sorted(fields):
            value = attrs.get(key)
            row[key] = value if value not in ("",) else None
        row[ROB_VARIABLE] = attrs[ROB_VARIABLE]
        out.append(row)
    return out


def several_per_study(snapshot: ExtractionSnapshot | None, outcome: str, **narrow) -> list:
    """[(study label, number of result rows)] for the studies with more than one result row
    for ``outcome`` (narrowed by ``timepoint``, ``arm1``, ``arm2`` when given)."""
    if snapshot is None or not outcome:
        return []
    out = []
    for study in snapshot.content.get("studies", []):
        n = sum(
            (e.get("outcome") or "").casefold() == outcome.casefold()
            and all(not v or e.get(k) == v for k, v in narrow.items())
            for e in study.get("effects", [])
        )
        if n > 1:
            out.append((study.get("label", ""), n))
    return out


def sensitivity_names(analysis: Analysis) -> list[str]:
    names = []
    if analysis.leave_one_out:
        names.append("leave-one-out")
    if analysis.without_high_rob:
        names.append("without high risk of bias")
    names.extend(f["name"] for f in analysis.sensitivity_filters)
    return names


def spec_of(analysis: Analysis, *, measure: str, high: list[str]) -> dict[str, Any]:
    """The spec of ``synthesis.bundle.run`` for ``analysis``."""
    return {
        "name": analysis.name,
        "measure": measure,
        "method": analysis.method,
        "test": analysis.test,
        "level": float(analysis.level),
        "subgroup": analysis.subgroup or None,
        "moderators": list(analysis.moderators),
        "sensitivity": {
            "leave_one_out": bool(analysis.leave_one_out),
            "without_high_rob": bool(analysis.without_high_rob),
            "filters": [dict(f) for f in analysis.sensitivity_filters],
        },
        "publication_bias": bool(analysis.publication_bias),
        "high_rob": list(high),
        "dependent": dict(analysis.dependent) if analysis.dependent else None,
    }


# --- The protocol's plan ---------------------------------------------------------------------


def plan_defaults(review: Review) -> dict[str, Any] | None:
    """The registered plan as an analysis's initial values (None without a protocol)."""
    plan = synthesis_plan(review)
    if plan is None:
        return None
    subgroups = plan.get("subgroups") or []
    sensitivity = " ".join(
        f"{s.get('name', '')} {s.get('description', '')}" for s in plan.get("sensitivity") or []
    ).lower()
    return {
        "name": "Main analysis (protocol plan)",
        "measure": plan.get("effect_measure") or "",
        "method": plan.get("method") or "REML",
        "test": plan.get("test") or "z",
        "subgroup": (subgroups[0].get("variable") or "") if subgroups else "",
        "leave_one_out": "leave" in sensitivity,
        "without_high_rob": "risk of bias" in sensitivity or "rob" in sensitivity.split(),
        "publication_bias": bool(plan.get("publication_bias")),
        "plan_version": plan.get("version"),
    }


def departures(analysis: Analysis, plan: dict[str, Any] | None = None) -> list[str]:
    """How ``analysis`` departs from the protocol's synthesis plan, one sentence each ([]
    without a plan)."""
    if plan is None:
        plan = synthesis_plan(analysis.review)
    if not plan:
        return []
    out = []
    planned_measure = plan.get("effect_measure")
    if analysis.measure and planned_measure and analysis.measure != planned_measure:
        out.append(f"Effect measure {analysis.measure}; the protocol planned {planned_measure}.")
    if plan.get("method") and analysis.method != plan["method"]:
        out.append(f"Method {analysis.method}; the protocol planned {plan['method']}.")
    if plan.get("test") and analysis.test != plan["test"]:
        out.append(f"Test {analysis.test}; the protocol planned {plan['test']}.")
    planned_subgroups = {
        str(x).casefold()
        for s in plan.get("subgroups") or []
        for x in (s.get("name"), s.get("variable"))
        if x
    }
    if analysis.subgroup and analysis.subgroup.casefold() not in planned_subgroups:
        out.append(f"Subgroups by “{analysis.subgroup}”, which the protocol did not plan.")
    planned_sens = " ".join(
        f"{s.get('name', '')} {s.get('description', '')}" for s in plan.get("sensitivity") or []
    ).casefold()
    planned_sens = planned_sens.replace("-", " ")
    for name in sensitivity_names(analysis):
        key = name.casefold().replace("-", " ")
        if key == "leave one out":
            planned = "leave" in planned_sens
        elif key == "without high risk of bias":
            planned = "risk of bias" in planned_sens or "rob" in planned_sens.split()
        else:
            planned = key in planned_sens
        if not planned:
            out.append(f"Sensitivity analysis “{name}”, which the protocol did not plan.")
    planned_bias = bool(plan.get("publication_bias"))
    if analysis.publication_bias != planned_bias:
        out.append(
            "Publication bias assessed, which the protocol did not plan."
            if analysis.publication_bias
            else "Publication bias not assessed, although the protocol planned it."
        )
    return out


def analyses_run(review: Review, **_: Any) -> list[dict[str, Any]]:
    """``reviews.protocol.hooks.analyses_run``: each analysis with a stored result, in the
    deviation report's terms."""
    found = []
    for result in (
        AnalysisResult.objects.filter(review=review)
        .select_related("analysis")
        .defer("results")
        .order_by("analysis_id", "-pk")
    ):
        if found and found[-1]["_id"] == result.analysis_id:
            continue
        spec = result.inputs.get("spec", {})
        analysis = result.analysis
        found.append(
            {
                "_id": result.analysis_id,
                "name": analysis.name,
                "effect_measure": spec.get("measure") or analysis.measure or None,
                "estimator": spec.get("method", analysis.method),
                "knapp_hartung": spec.get("test", analysis.test) == "knha",
                "subgroups": [spec["subgroup"]] if spec.get("subgroup") else [],
                "sensitivity": _spec_sensitivity(spec),
                "publication_bias": (
                    ["funnel", "egger", "rank", "trimfill"] if spec.get("publication_bias") else []
                ),
            }
        )
    for item in found:
        item.pop("_id")
    return found


def _spec_sensitivity(spec: dict) -> list[str]:
    """The sensitivity analyses a run's spec asked for, by name."""
    sens = spec.get("sensitivity") or {}
    names = ["leave-one-out"] if sens.get("leave_one_out") else []
    if sens.get("without_high_rob"):
        names.append("without high risk of bias")
    return names + [str(f.get("name") or f.get("field")) for f in sens.get("filters") or []]


def round_analyses(review: Review, round_number: int, **_: Any) -> list[dict[str, Any]]:
    """``identification.hooks.round_analyses``: how each analysis changed with round ``N``.

    A result belongs to the round during which it was computed (between the round's opening and
    the next round's). *Before* is the analysis's newest result computed before round N opened,
    *after* its newest result computed during round N; either is None when there is none (round
    1 has no before; an update whose analyses were not rerun yet has no after). Estimates are on
    the analysis scale (log for OR and RR), as the results' tables give them.
    """
    from identification.models import Round

    opened = dict(Round.objects.filter(review=review).values_list("number", "created_at"))
    start = opened.get(round_number) if round_number > 1 else None
    if round_number > 1 and start is None:
        return []
    end = opened.get(round_number + 1)

    def point(result: AnalysisResult | None) -> dict[str, Any] | None:
        if result is None:
            return None
        main = (result.results or {}).get("main") or {}
        return {
            "estimate": main.get("estimate"),
            "ci_low": main.get("ci_lb"),
            "ci_high": main.get("ci_ub"),
            "tau2": main.get("tau2"),
            "k": main.get("k"),
            "snapshot": result.snapshot_number,
        }

    out = []
    for analysis in Analysis.objects.filter(review=review).order_by("name"):
        results = AnalysisResult.objects.filter(analysis=analysis).order_by("-created_at", "-pk")
        before = results.filter(created_at__lt=start).first() if start else None
        during = results.filter(created_at__gte=start) if start else results
        if end is not None:
            during = during.filter(created_at__lt=end)
        after = during.first()
        if before is None and after is None:
            continue
        out.append({"name": analysis.name, "before": point(before), "after": point(after)})
    return out


# --- Results for people ----------------------------------------------------------------------


def back_transformed(result: dict, model: dict | None) -> dict | None:
    """The pooled estimate, CI and PI back-transformed (exp) for log-scale measures."""
    measure = result.get("spec", {}).get("measure")
    if not model or (result.get("transform") != "exp" and measure not in LOG_MEASURES):
        return None
    out = {}
    for key in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
        value = model.get(key)
        out[key] = math.exp(value) if isinstance(value, int | float) else None
    return out


def studies_in_meta_analysis(review: Review) -> int:
    """The dashboard's count: studies pooled in the newest result of any analysis."""
    labels: set[str] = set()
    seen: set[int] = set()
    for analysis_id, inputs in (
        AnalysisResult.objects.filter(review=review)
        .order_by("analysis_id", "-pk")
        .values_list("analysis_id", "inputs")
    ):
        if analysis_id in seen:
            continue
        seen.add(analysis_id)
        labels.update(str(r.get("study")) for r in (inputs or {}).get("rows", []))
    return len(labels)
