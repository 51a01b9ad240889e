"""Writes of the summary-of-findings table (issue 19): each checks the role first, runs in
one transaction and leaves an audit event (who, when, what changed)."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import audit_record
from core.text import clean_input_text
from reviews.access import require_role
from reviews.models import Review
from synthesis.constants import ANALYSIS_ROLES
from synthesis.models import Analysis
from synthesis.selectors import latest_result
from synthesis.sof import selectors
from synthesis.sof.models import (
    DOWN_CHOICES,
    DOWNGRADE_DOMAINS,
    JUDGEMENT_LEVELS,
    UP_CHOICES,
    UPGRADE_DOMAINS,
    SofJudgement,
    SofRow,
    SofTable,
)

MAX_REASON = 4000
MAX_STATEMENT = 2000


def _name(actor) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else ""


def _require(actor, review: Review, action: str) -> None:
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action=action)


def _optional_number(data: dict, key: str, *, integer: bool = False, lo=None, hi=None):
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        raise ValidationError({key: "Must be a number."}) from None
    if (
        not math.isfinite(number)
        or (lo is not None and number < lo)
        or (hi is not None and number > hi)
    ):
        raise ValidationError({key: f"Must be a number between {lo} and {hi}."})
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "on", "yes")


def table_save(*, actor, review: Review, data: dict) -> SofTable:
    """Create or update the review's table (intervention, comparison, population, setting)."""
    _require(actor, review, "edit the summary of findings")
    fields = {
        "title": clean_input_text(data.get("title"), field="title", max_length=500),
        "intervention": clean_input_text(
            data.get("intervention"), field="intervention", max_length=200, required=True
        ),
        "comparison": clean_input_text(data.get("comparison"), field="comparison", max_length=200),
        "population": clean_input_text(data.get("population"), field="population", max_length=500),
        "setting": clean_input_text(data.get("setting"), field="setting", max_length=500),
    }
    with transaction.atomic():
        table = SofTable.objects.select_for_update().filter(review=review).first()
        if table is None:
            table = SofTable.objects.create(
                review=review, created_by=actor, created_by_name=_name(actor), **fields
            )
            verb = "created summary of findings"
        else:
            for k, v in fields.items():
                setattr(table, k, v)
            table.save()
            verb = "edited summary of findings"
        audit_record(actor=actor, review=review, verb=verb, obj=table, changes=fields)
    return table


def _row_settings(data: dict) -> dict[str, Any]:
    return {
        "randomised": _bool(data.get("randomised", True)),
        "mid": _optional_number(data, "mid", lo=-1e9, hi=1e9),
        "ois": _optional_number(data, "ois", integer=True, lo=1, hi=10**9),
        "participants_entered": _optional_number(
            data, "participants_entered", integer=True, lo=1, hi=10**9
        ),
        "acr_entered": _optional_number(data, "acr_entered", lo=0, hi=1),
        "dose_response": _bool(data.get("dose_response", False)),
    }


def _check_mid(row_like: dict, measure_ratio: bool) -> None:
    mid = row_like.get("mid")
    if mid is None:
        return
    if measure_ratio and (mid <= 0 or mid == 1):
        raise ValidationError(
            {"mid": "For a ratio measure the MID is a ratio other than 1 (e.g. 1.25)."}
        )
    if not measure_ratio and mid == 0:
        raise ValidationError({"mid": "The minimal important difference must not be 0."})


def row_add(*, actor, review: Review, data: dict) -> SofRow:
    """Add an outcome: an analysis of this review with a result; drafted from its latest."""
    _require(actor, review, "edit the summary of findings")
    table = selectors.table_of(review)
    if table is None:
        raise ValidationError("Create the table first (its intervention and comparison).")
    try:
        pk = int(data.get("analysis"))
        if not 0 < pk < 2**31:
            raise ValueError
        analysis = Analysis.objects.get(review=review, pk=pk)
    except (TypeError, ValueError, Analysis.DoesNotExist):
        raise ValidationError({"analysis": "Choose an analysis of this review."}) from None
    result = latest_result(analysis)
    if result is None:
        raise ValidationError({"analysis": "This analysis has no result yet: run it first."})
    label = clean_input_text(
        data.get("outcome_label") or analysis.outcome,
        field="outcome_label",
        max_length=500,
        required=True,
    )
    settings = _row_settings(data)
    _check_mid(settings, (result.results or {}).get("transform") == "exp")
    with transaction.atomic():
        if SofRow.objects.filter(table=table, analysis=analysis).exists():
            raise ValidationError({"analysis": "This analysis already has a row."})
        position = SofRow.objects.filter(table=table).count() + 1
        row = SofRow.objects.create(
            review=review,
            table=table,
            analysis=analysis,
            result=result,
            snapshot_number=result.snapshot_number,
            position=position,
            outcome_label=label,
            created_by=actor,
            created_by_name=_name(actor),
            **settings,
        )
        audit_record(
            actor=actor,
            review=review,
            verb="added summary-of-findings row",
            obj=row,
            changes={"analysis": analysis.pk, "result": result.pk, "outcome_label": label}
            | settings,
        )
    return row


def row_update(*, actor, review: Review, row: SofRow, data: dict) -> SofRow:
    _require(actor, review, "edit the summary of findings")
    label = clean_input_text(
        data.get("outcome_label"), field="outcome_label", max_length=500, required=True
    )
    settings = _row_settings(data)
    _check_mid(settings, ((row.result and row.result.results) or {}).get("transform") == "exp")
    with transaction.atomic():
        row = SofRow.objects.select_for_update().get(pk=row.pk)
        for k, v in settings.items():
            setattr(row, k, v)
        row.outcome_label = label
        row.save()
        audit_record(
            actor=actor,
            review=review,
            verb="edited summary-of-findings row",
            obj=row,
            changes={"outcome_label": label} | settings,
        )
    return row


def row_redraft(*, actor, review: Review, row: SofRow) -> SofRow:
    """Draft the row from its analysis's latest result (the judgements stay, each still naming
    the result it was made against; the page shows which suggestions changed)."""
    _require(actor, review, "edit the summary of findings")
    result = latest_result(row.analysis)
    if result is None:
        raise ValidationError("The analysis has no result.")
    with transaction.atomic():
        old = row.result_id
        row.result = result
        row.snapshot_number = result.snapshot_number
        row.save(update_fields=["result", "snapshot_number", "updated_at"])
        audit_record(
            actor=actor,
            review=review,
            verb="redrafted summary-of-findings row",
            obj=row,
            changes={"result": [old, result.pk], "snapshot": result.snapshot_number},
        )
    return row


def row_remove(*, actor, review: Review, row: SofRow) -> None:
    _require(actor, review, "edit the summary of findings")
    with transaction.atomic():
        audit_record(
            actor=actor,
            review=review,
            verb="removed summary-of-findings row",
            obj=row,
            changes={"analysis": row.analysis_id},
        )
        row.delete()


def judge(*, actor, review: Review, row: SofRow, domain: str, judgement: str, reason: str = ""):
    """Accept or change a domain's suggestion; a reason is required when the judgement differs
    from the suggestion, or where there is none (indirectness, dose-response...)."""
    _require(actor, review, "judge GRADE domains")
    if domain not in DOWNGRADE_DOMAINS + UPGRADE_DOMAINS:
        raise ValidationError({"domain": "Unknown GRADE domain."})
    allowed = [c for c, _ in (DOWN_CHOICES if domain in DOWNGRADE_DOMAINS else UP_CHOICES)]
    if judgement not in allowed:
        raise ValidationError({"judgement": f"Choose one of: {', '.join(allowed)}."})
    if domain in UPGRADE_DOMAINS and row.randomised and JUDGEMENT_LEVELS[judgement]:
        raise ValidationError(
            {"judgement": "GRADE rates up only non-randomised evidence (handbook 5.3)."}
        )
    reason = clean_input_text(reason, field="reason", max_length=MAX_REASON)
    view = selectors.row_view(row)
    shown = next((d for d in view.domains if d.domain == domain), None)
    suggested = (shown.suggested if shown else None) or ""
    if judgement != suggested and not reason:
        raise ValidationError(
            {
                "reason": "A reason is required when the judgement differs from the suggestion"
                + (" (there is no suggestion: the team judges)." if not suggested else ".")
            }
        )
    with transaction.atomic():
        obj, created = SofJudgement.objects.select_for_update().get_or_create(
            row=row,
            domain=domain,
            defaults={"review": review, "judgement": judgement},
        )
        before = None if created else {"judgement": obj.judgement, "reason": obj.reason}
        obj.suggested = suggested
        obj.evidence = shown.evidence if shown else ""
        obj.result = row.result
        obj.judgement = judgement
        obj.levels = JUDGEMENT_LEVELS[judgement]
        obj.reason = reason
        obj.decided_by = actor
        obj.decided_by_name = _name(actor)
        obj.save()
        audit_record(
            actor=actor,
            review=review,
            verb="accepted GRADE suggestion"
            if judgement == suggested
            else "changed GRADE judgement",
            obj=obj,
            changes={
                "row": row.pk,
                "domain": domain,
                "suggested": suggested,
                "judgement": judgement,
                "reason": reason,
                "before": before,
            },
        )
    return obj


def statement_edit(*, actor, review: Review, row: SofRow, text: str) -> SofRow:
    """Keep an edited plain-language statement (blank: back to the generated draft)."""
    _require(actor, review, "edit the plain-language statement")
    text = clean_input_text(text, field="statement", max_length=MAX_STATEMENT)
    with transaction.atomic():
        row = SofRow.objects.select_for_update().get(pk=row.pk)
        before = row.statement
        row.statement = text
        row.statement_edited = bool(text)
        row.statement_by = actor
        row.statement_by_name = _name(actor)
        row.save()
        audit_record(
            actor=actor,
            review=review,
            verb="edited plain-language statement",
            obj=row,
            changes={"before": before, "after": text},
        )
    return row
