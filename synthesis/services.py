"""Writes of the synthesis step: define, edit and delete analyses, run them (a job), and the
figures drawn once per result.

Statisticians and leads write; every write is audited. A run reads the analysis's snapshot
(its own, else the latest), builds the exact rows (``selectors.build_inputs``), calls
``synthesis.bundle.run`` and stores the result with the snapshot number, the engine version and
the inputs. Errors are messages for people (``JobError``), never tracebacks.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from core import jobs
from core.audit import audit_record
from core.job_display import Row, Subject, text_of
from core.models import Job
from core.text import clean_input_text
from extraction.models import ExtractionSnapshot
from reviews.access import require_role
from reviews.models import Review
from reviews.protocol.sections import fingerprint
from reviews.services import job_submit
from synthesis import selectors
from synthesis.constants import (
    ANALYSIS_ROLES,
    FIGURE_FORMATS,
    FIGURE_KINDS,
    FILTER_OPS,
    JOB_KIND,
    MAX_FILTERS,
    MAX_MODERATORS,
    MAX_NAME,
    METHOD_CHOICES,
    OP_CODES,
    ROB_VARIABLE,
    TEST_CHOICES,
)
from synthesis.models import Analysis, AnalysisFigure, AnalysisResult

log = logging.getLogger(__name__)

MEASURES = ("", "SMD", "MD", "OR", "RR", "RD", "ZCOR", "COR", "GEN")
_FIELD_KEYS = (
    "name",
    "snapshot",
    "outcome",
    "timepoint",
    "arm1",
    "arm2",
    "measure",
    "method",
    "test",
    "level",
    "study_filters",
    "subgroup",
    "moderators",
    "leave_one_out",
    "without_high_rob",
    "sensitivity_filters",
    "publication_bias",
    "dependent",
    "plan_version",
)


def text_field(
    data: dict, key: str, errors: dict, *, max_length: int = 500, required: bool = False
) -> str:
    """``data[key]`` as clean text, or "" with the reason in ``errors[key]`` (synthesis's
    definition checks: analyses, narrative syntheses)."""
    raw = data.get(key, "")
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        errors[key] = "Give text."
        return ""
    try:
        return clean_input_text(raw, field=key, max_length=max_length, required=required)
    except ValidationError as exc:
        errors[key] = exc.message_dict[key][0]
        return ""


def _clean(value: str) -> str:
    return clean_input_text(value[:200], field="value", max_length=200)


def _bool(data: dict, key: str, errors: dict) -> bool:
    value = data.get(key, False)
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off", "no"):
        return False
    if value in ("1", "true", "on", "yes"):
        return True
    errors[key] = "Give true or false."
    return False


_VAR_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _variable(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 100 and set(value.lower()) <= _VAR_OK


def _filters(data: dict, key: str, errors: dict, *, named: bool) -> list[dict]:
    raw = data.get(key) or []
    if not isinstance(raw, list) or len(raw) > MAX_FILTERS:
        errors[key] = f"Give a list of at most {MAX_FILTERS} filters."
        return []
    out = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors[key] = f"Filter {n}: give field, op and value."
            return []
        field = item.get("field")
        op = item.get("op")
        value = item.get("value", "")
        if not _variable(field):
            errors[key] = f"Filter {n}: the field must be a study-level field's key (a-z, 0-9, _)."
            return []
        if op not in OP_CODES:
            errors[key] = f"Filter {n}: op must be one of {', '.join(sorted(OP_CODES))}."
            return []
        if isinstance(value, list):
            value = [str(v)[:200] for v in value[:50]]
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = value if math.isfinite(value) else str(value)
        elif isinstance(value, str):
            value = _clean(value)
        else:
            errors[key] = f"Filter {n}: the value must be text, a number or a list."
            return []
        one = {"field": field, "op": op, "value": value}
        if named:
            name = item.get("name") or f"without {field} {dict(FILTER_OPS)[op]} {value}"
            if not isinstance(name, str):
                errors[key] = f"Filter {n}: the name must be text."
                return []
            one = {"name": _clean(name)} | one
        out.append(one)
    return out


def clean_definition(*, review: Review, data: dict) -> dict[str, Any]:
    """An analysis's fields from ``data`` (a form's or the API's), checked; a ValidationError
    names each bad field."""
    if not isinstance(data, dict):
        raise ValidationError("Give the analysis as an object.")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["name"] = text_field(data, "name", errors, max_length=MAX_NAME, required=True)
    out["outcome"] = text_field(data, "outcome", errors, required=True)
    for key in ("timepoint", "arm1", "arm2"):
        out[key] = text_field(data, key, errors)
    measure = data.get("measure") or ""
    if measure not in MEASURES:
        errors["measure"] = f"Choose one of {', '.join(m for m in MEASURES if m)}, or none."
    out["measure"] = measure if measure in MEASURES else ""
    method = data.get("method") or "REML"
    if method not in dict(METHOD_CHOICES):
        errors["method"] = f"Choose one of {', '.join(m for m, _ in METHOD_CHOICES)}."
    out["method"] = method
    test = data.get("test") or "z"
    if test not in dict(TEST_CHOICES):
        errors["test"] = "Choose z or knha."
    out["test"] = test
    try:
        level = float(data.get("level") if data.get("level") not in (None, "") else 95)
    except (TypeError, ValueError):
        level = float("nan")
    if not (math.isfinite(level) and 50 <= level < 100):
        errors["level"] = "Give a confidence level in percent, from 50 to below 100 (e.g. 95)."
        level = 95.0
    out["level"] = level
    out["study_filters"] = _filters(data, "study_filters", errors, named=False)
    out["sensitivity_filters"] = _filters(data, "sensitivity_filters", errors, named=True)
    subgroup = data.get("subgroup") or ""
    if subgroup and not _variable(subgroup):
        errors["subgroup"] = "Give a study-level field's key (a-z, 0-9, _) or “rob”."
        subgroup = ""
    out["subgroup"] = subgroup
    moderators = data.get("moderators") or []
    if isinstance(moderators, str):
        moderators = [m.strip() for m in moderators.split(",") if m.strip()]
    if (
        not isinstance(moderators, list)
        or len(moderators) > MAX_MODERATORS
        or not all(_variable(m) and m != ROB_VARIABLE for m in moderators)
    ):
        errors["moderators"] = (
            f"Give at most {MAX_MODERATORS} numeric study-level fields' keys (a-z, 0-9, _)."
        )
        moderators = []
    out["moderators"] = list(dict.fromkeys(moderators))
    for key in ("leave_one_out", "without_high_rob", "publication_bias"):
        out[key] = _bool(data, key, errors)
    out["dependent"] = _dependent(data.get("dependent"), out["method"], errors)
    snapshot = data.get("snapshot")
    out["snapshot"] = None
    if snapshot not in (None, ""):
        try:
            out["snapshot"] = ExtractionSnapshot.objects.get(review=review, pk=int(snapshot))
        except (TypeError, ValueError, ExtractionSnapshot.DoesNotExist):
            errors["snapshot"] = "No such snapshot in this review."
    plan_version = data.get("plan_version")
    try:
        out["plan_version"] = int(plan_version) if plan_version not in (None, "") else None
    except (TypeError, ValueError):
        errors["plan_version"] = "Give a protocol version number."
    if errors:
        raise ValidationError(errors)
    return out


def _dependent(value: Any, method: str, errors: dict) -> dict | None:
    """The option "several effect sizes per study" as stored (see Analysis.dependent)."""
    from synthesis.bundle.compute import _dependent as check
    from synthesis.stats import StatsInputError

    if value in (None, False, "", "false", "0"):
        return None
    try:
        return check(value, method)
    except StatsInputError as exc:
        errors["dependent"] = str(exc)
        return None


def _changes(old: dict, new: dict) -> dict[str, list]:
    return {
        k: [_plain(old.get(k)), _plain(new.get(k))]
        for k in new
        if _plain(old.get(k)) != _plain(new.get(k))
    }


def _plain(value):
    if isinstance(value, ExtractionSnapshot):
        return value.number
    return value


def analysis_create(*, actor, review: Review, data: dict) -> Analysis:
    """Define an analysis (a statistician or a lead); audited "defined analysis"."""
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action="define analyses")
    fields = clean_definition(review=review, data=data)
    try:
        with transaction.atomic():
            analysis = Analysis.objects.create(
                review=review, created_by=actor, created_by_name="", **fields
            )
            audit_record(
                actor=actor,
                review=review,
                verb="defined analysis",
                obj=analysis,
                changes={k: _plain(v) for k, v in fields.items()},
            )
    except IntegrityError:
        raise ValidationError(
            {"name": "An analysis of this review already has this name."}
        ) from None
    return analysis


def analysis_update(*, actor, review: Review, analysis: Analysis, data: dict) -> Analysis:
    """Edit an analysis's definition (its stored results stay, made from the old one)."""
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action="edit analyses")
    fields = clean_definition(review=review, data=data)
    try:
        with transaction.atomic():
            locked = Analysis.objects.select_for_update().get(pk=analysis.pk, review=review)
            old = {k: getattr(locked, k) for k in fields}
            changes = _changes(old, fields)
            for k, v in fields.items():
                setattr(locked, k, v)
            locked.save()
            if changes:
                audit_record(
                    actor=actor, review=review, verb="edited analysis", obj=locked, changes=changes
                )
    except IntegrityError:
        raise ValidationError(
            {"name": "An analysis of this review already has this name."}
        ) from None
    return locked


def analysis_delete(*, actor, review: Review, analysis: Analysis) -> None:
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action="delete analyses")
    with transaction.atomic():
        audit_record(
            actor=actor,
            review=review,
            verb="deleted analysis",
            obj=analysis,
            changes={"name": analysis.name, "results": analysis.results.count()},
        )
        analysis.delete()


def analysis_run(*, actor, review: Review, analysis: Analysis, enqueue: bool = True) -> Job:
    """Queue the run of ``analysis`` as a job; its page follows the job's progress."""
    return job_submit(
        actor=actor, review=review, kind=JOB_KIND, params={"analysis": analysis.pk}, enqueue=enqueue
    )


def analysis_run_now(*, actor, review: Review, analysis: Analysis) -> AnalysisResult:
    """Run ``analysis`` in the caller (the demo, commands): a job that runs at once; a
    ValidationError carries its error."""
    job = analysis_run(actor=actor, review=review, analysis=analysis, enqueue=False)
    job = jobs.job_run(job.pk)
    if job.error:
        raise ValidationError(job.error)
    return AnalysisResult.objects.get(pk=job.result["result"])


def run_analysis(analysis: Analysis, *, actor=None, job: Job | None = None, progress=None):
    """Compute and store a result of ``analysis`` (inside the caller's transaction)."""
    from synthesis import bundle
    from synthesis.stats import StatsError

    def say(pct: float, message: str) -> None:
        if progress is not None:
            progress(pct, message)

    say(5, "Reading the finalised extraction")
    snapshot = selectors.snapshot_for(analysis)
    if snapshot is None:
        raise jobs.JobError(
            "The extraction has not been finalised yet: a lead finalises a snapshot first."
        )
    try:
        inputs = selectors.build_inputs(analysis, snapshot)
    except selectors.RowsError as exc:
        raise jobs.JobError(str(exc)) from None
    if not inputs["rows"]:
        raise jobs.JobError(
            f"No study of snapshot {snapshot.number} has a result for the outcome "
            f"“{analysis.outcome}”: nothing to pool."
        )
    say(30, f"Pooling {len(inputs['rows'])} studies")
    started = time.monotonic()
    try:
        results = bundle.run(inputs["spec"], inputs["rows"])
    except StatsError as exc:
        raise jobs.JobError(str(exc)) from None
    seconds = time.monotonic() - started
    if inputs["notes"]:
        results = dict(results)
        results["notes"] = list(results.get("notes") or []) + inputs["notes"]
    say(90, "Storing the results")
    result = AnalysisResult.objects.create(
        review=analysis.review,
        analysis=analysis,
        job=job,
        snapshot_number=snapshot.number,
        snapshot_sha256=snapshot.sha256,
        engine=str(results.get("engine") or "synthesis.stats"),
        inputs={"spec": inputs["spec"], "rows": inputs["rows"]},
        results=results,
        sha256=fingerprint(results),
        seconds=round(seconds, 4),
        created_by=actor,
        created_by_name="",
    )
    main = results.get("main") or {}
    audit_record(
        actor=actor,
        review=analysis.review,
        verb="ran analysis",
        obj=analysis,
        changes={
            "result": result.pk,
            "snapshot": snapshot.number,
            "k": main.get("k"),
            "estimate": main.get("estimate"),
        },
    )
    return result


def _validate(*, review: Review, params: dict[str, Any]) -> None:
    pk = params.get("analysis")
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise ValidationError("Name the analysis to run by its id.")
    if not Analysis.objects.filter(review=review, pk=pk).exists():
        raise ValidationError("No such analysis in this review.")


def _present(result: dict[str, Any]) -> list:
    rows = [Row("Analysis", str(result.get("name", "")))]
    rows.append(Row("Snapshot", text_of(result.get("snapshot"))))
    rows.append(Row("Studies pooled", text_of(result.get("k"))))
    if result.get("estimate") is not None:
        rows.append(Row("Pooled estimate", f"{result['estimate']:.4f}"))
    return rows


def _describe(job: Job) -> Subject:
    analysis = Analysis.objects.filter(review=job.review, pk=job.params.get("analysis")).first()
    if analysis is None:
        return Subject("An analysis since deleted")
    url = reverse("synthesis:analysis", args=[job.review.slug, analysis.pk])
    return Subject(
        f"Analysis “{analysis.name}”",
        url=url,
        link="Open the analysis",
        failed_note="Nothing was stored; correct the analysis or the extraction and run it again.",
    )


@jobs.register(
    JOB_KIND,
    label="meta-analysis",
    roles=[*ANALYSIS_ROLES],
    validator=_validate,
    present=_present,
    describe=_describe,
)
def run_job(job: Job, progress: jobs.ProgressFn) -> dict[str, Any]:
    analysis = Analysis.objects.filter(review=job.review, pk=job.params.get("analysis")).first()
    if analysis is None:
        raise jobs.JobError("The analysis was deleted before it ran.")
    result = run_analysis(analysis, actor=job.created_by, job=job, progress=progress)
    main = result.results.get("main") or {}
    return {
        "analysis": analysis.pk,
        "name": analysis.name,
        "result": result.pk,
        "snapshot": result.snapshot_number,
        "k": main.get("k"),
        "estimate": main.get("estimate"),
    }


# --- Figures ---------------------------------------------------------------------------------


def figure_bytes(result: AnalysisResult, *, kind: str, fmt: str, rob: bool = False) -> bytes:
    """A figure of ``result`` as SVG, PNG or PDF: drawn the first time, then read as stored.
    A ValueError names an unknown kind or format, or a figure the result has no data for."""
    if kind not in FIGURE_KINDS or fmt not in FIGURE_FORMATS:
        raise ValueError("Unknown figure or format.")
    rob = bool(rob) and kind == "forest"
    stored = (
        AnalysisFigure.objects.filter(result=result, kind=kind, fmt=fmt, rob=rob)
        .values_list("body", flat=True)
        .first()
    )
    if stored is not None:
        return bytes(stored)
    body = _draw(result, kind=kind, fmt=fmt, rob=rob)
    try:
        with transaction.atomic():
            AnalysisFigure.objects.create(result=result, kind=kind, fmt=fmt, rob=rob, body=body)
    except IntegrityError:  # drawn at the same time by another request: same bytes
        pass
    return body


def _draw(result: AnalysisResult, *, kind: str, fmt: str, rob: bool) -> bytes:
    from core import figures
    from synthesis import figures as plots

    data = result.results
    if kind == "funnel" and not data.get("studies"):
        raise ValueError("This result has no studies to draw.")
    if kind == "leave_one_out" and not data.get("leave_one_out"):
        raise ValueError("This analysis has no leave-one-out results; turn it on and run again.")
    if kind == "forest":
        fig = plots.forest_plot(data, rob=rob)
    elif kind == "funnel":
        fig = plots.funnel_plot(data)
    else:
        fig = plots.leave_one_out_plot(data)
    title = f"{result.analysis.name}: {kind.replace('_', '-')} plot"
    return figures.save(fig, fmt, title=title, salt=f"evident-synthesis-{kind}")
