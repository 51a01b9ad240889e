"""Writes of the narrative synthesis: define, edit and delete one, set a study's effect direction
(or enter its p-value) by hand with a reason, write the SWiM checklist's text, and draw figures.

Statisticians and leads write (``synthesis.constants.ANALYSIS_ROLES``); every member reads.
Every write is checked here (a ``ValidationError`` names each bad field and changes nothing),
runs in one transaction and is audited.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.audit import audit_record
from core.text import clean_input_text
from extraction.models import ExtractionSnapshot
from reviews.access import require_role
from reviews.models import Review
from synthesis.constants import ANALYSIS_ROLES
from synthesis.narrative import selectors
from synthesis.narrative.models import (
    DIRECTION_CHOICES,
    SELECTION_CHOICES,
    NarrativeDirection,
    NarrativeSynthesis,
)
from synthesis.services import text_field

MAX_OUTCOMES = 30
MAX_STUDIES = 2000
FAVOURABLE = ("lower", "higher")
COMBINE = ("", "fisher", "stouffer")
_VAR_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def clean_definition(*, review: Review, data: Any) -> dict[str, Any]:
    """A narrative synthesis's fields from ``data`` (a form's or the API's), checked."""
    if not isinstance(data, dict):
        raise ValidationError("Give the narrative synthesis as an object.")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "name": text_field(data, "name", errors, max_length=200, required=True),
        "description": text_field(data, "description", errors, max_length=20000),
    }
    group_by = data.get("group_by") or ""
    if not isinstance(group_by, str) or len(group_by) > 100 or not set(group_by) <= _VAR_OK:
        errors["group_by"] = "Give a study-level field's key (a-z, 0-9, _), or none."
        group_by = ""
    out["group_by"] = group_by
    selection = data.get("selection") or "not_pooled"
    if selection not in dict(SELECTION_CHOICES):
        errors["selection"] = f"Choose one of {', '.join(dict(SELECTION_CHOICES))}."
        selection = "not_pooled"
    out["selection"] = selection
    studies = data.get("studies") or []
    if not isinstance(studies, list) or len(studies) > MAX_STUDIES:
        errors["studies"] = f"Give a list of at most {MAX_STUDIES} study labels."
        studies = []
    elif not all(isinstance(s, str) and 0 < len(s) <= 500 for s in studies):
        errors["studies"] = "Each study must be a study's label (text)."
        studies = []
    out["studies"] = list(dict.fromkeys(studies))
    if selection == "chosen" and not out["studies"] and "studies" not in errors:
        errors["studies"] = "Choose at least one study, or another selection."
    outcomes = data.get("outcomes") or []
    clean_outcomes = []
    if not isinstance(outcomes, list) or len(outcomes) > MAX_OUTCOMES:
        errors["outcomes"] = f"Give a list of at most {MAX_OUTCOMES} outcomes."
    else:
        for n, o in enumerate(outcomes, start=1):
            if not isinstance(o, dict) or not isinstance(o.get("outcome"), str):
                errors["outcomes"] = f"Outcome {n}: give its name as “outcome”."
                break
            name = o["outcome"].strip()
            favourable = o.get("favourable") or "lower"
            combine = o.get("combine") or ""
            if not name or len(name) > 500:
                errors["outcomes"] = f"Outcome {n}: give its name (at most 500 characters)."
                break
            if favourable not in FAVOURABLE:
                errors["outcomes"] = f"Outcome {n}: favourable must be “lower” or “higher”."
                break
            if combine not in COMBINE:
                errors["outcomes"] = f"Outcome {n}: combine must be none, “fisher” or “stouffer”."
                break
            if any(c["outcome"].casefold() == name.casefold() for c in clean_outcomes):
                errors["outcomes"] = f"Outcome {n}: “{name}” is given twice."
                break
            clean_outcomes.append({"outcome": name, "favourable": favourable, "combine": combine})
    out["outcomes"] = clean_outcomes
    if not clean_outcomes and "outcomes" not in errors:
        errors["outcomes"] = "Choose at least one outcome."
    snapshot = data.get("snapshot")
    out["snapshot"] = None
    if snapshot not in (None, ""):
        try:
            out["snapshot"] = ExtractionSnapshot.objects.get(review=review, pk=int(snapshot))
        except (TypeError, ValueError, ExtractionSnapshot.DoesNotExist):
            errors["snapshot"] = "No such snapshot in this review."
    if errors:
        raise ValidationError(errors)
    return out


def _plain(value):
    return value.number if isinstance(value, ExtractionSnapshot) else value


def _name_taken() -> ValidationError:
    return ValidationError({"name": "A narrative synthesis of this review already has this name."})


def synthesis_create(*, actor, review: Review, data: Any) -> NarrativeSynthesis:
    """Define a narrative synthesis; audited "defined narrative synthesis"."""
    require_role(
        user=actor, review=review, roles=ANALYSIS_ROLES, action="define narrative syntheses"
    )
    fields = clean_definition(review=review, data=data)
    try:
        with transaction.atomic():
            synthesis = NarrativeSynthesis.objects.create(
                review=review, created_by=actor, created_by_name=actor.get_username(), **fields
            )
            audit_record(
                actor=actor,
                review=review,
                verb="defined narrative synthesis",
                obj=synthesis,
                changes={k: _plain(v) for k, v in fields.items()},
            )
    except IntegrityError:
        raise _name_taken() from None
    return synthesis


def synthesis_update(
    *, actor, review: Review, synthesis: NarrativeSynthesis, data: Any
) -> NarrativeSynthesis:
    """Edit its grouping, studies, outcomes or text; audited with what changed."""
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action="edit narrative syntheses")
    fields = clean_definition(review=review, data=data)
    try:
        with transaction.atomic():
            locked = NarrativeSynthesis.objects.select_for_update().get(
                pk=synthesis.pk, review=review
            )
            changes = {
                k: [_plain(getattr(locked, k)), _plain(v)]
                for k, v in fields.items()
                if _plain(getattr(locked, k)) != _plain(v)
            }
            for k, v in fields.items():
                setattr(locked, k, v)
            # An outcome taken out leaves its domain with it (re-added, it is its own again).
            names = {o["outcome"] for o in fields["outcomes"]}
            kept = {k: v for k, v in (locked.domains or {}).items() if k in names}
            if kept != (locked.domains or {}):
                changes["domains"] = [locked.domains, kept]
                locked.domains = kept
            locked.save()
            if changes:
                audit_record(
                    actor=actor,
                    review=review,
                    verb="edited narrative synthesis",
                    obj=locked,
                    changes=changes,
                )
    except IntegrityError:
        raise _name_taken() from None
    return locked


def synthesis_delete(*, actor, review: Review, synthesis: NarrativeSynthesis) -> None:
    require_role(
        user=actor, review=review, roles=ANALYSIS_ROLES, action="delete narrative syntheses"
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            review=review,
            verb="deleted narrative synthesis",
            obj=synthesis,
            changes={"name": synthesis.name, "directions set": synthesis.directions.count()},
        )
        synthesis.delete()


def direction_set(
    *, actor, review: Review, synthesis: NarrativeSynthesis, data: Any
) -> NarrativeDirection | None:
    """Set a study's effect direction for an outcome by hand and/or enter its two-sided p-value,
    with a reason (required); ``clear`` true removes the entry (the derived values return).
    Audited "set effect direction" / "cleared effect direction"."""
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action="set effect directions")
    if not isinstance(data, dict):
        raise ValidationError("Give the direction as an object.")
    errors: dict[str, str] = {}
    study = data.get("study")
    outcome = data.get("outcome")
    snapshot = selectors.snapshot_for(synthesis)
    covered = {s.get("label") for s in selectors.chosen_studies(synthesis, snapshot)}
    if not isinstance(study, str) or study not in covered:
        errors["study"] = "Choose a study of this narrative synthesis."
    names = {o["outcome"] for o in synthesis.outcomes}
    if not isinstance(outcome, str) or outcome not in names:
        errors["outcome"] = "Choose an outcome of this narrative synthesis."
    clear = data.get("clear") in (True, "1", "true", "on", "yes")
    if errors:
        raise ValidationError(errors)
    if clear:
        with transaction.atomic():
            found = NarrativeDirection.objects.filter(
                synthesis=synthesis, study=study, outcome=outcome
            ).first()
            if found is not None:
                audit_record(
                    actor=actor,
                    review=review,
                    verb="cleared effect direction",
                    obj=found,
                    changes={"synthesis": synthesis.name, "study": study, "outcome": outcome},
                )
                found.delete()
        return None
    direction = data.get("direction") or ""
    if direction not in dict(DIRECTION_CHOICES) and direction != "":
        errors["direction"] = "Choose beneficial, harmful or no clear difference (or none)."
    raw_p = data.get("p_value")
    p_value = None
    if raw_p not in (None, ""):
        try:
            p_value = float(raw_p) if not isinstance(raw_p, bool) else math.nan
        except (TypeError, ValueError):
            p_value = math.nan
        if not (math.isfinite(p_value) and 0 < p_value <= 1):
            errors["p_value"] = "Give a two-sided p-value above 0 and at most 1."
    reason = text_field(data, "reason", errors, max_length=5000, required=True)
    if not direction and p_value is None and "direction" not in errors and "p_value" not in errors:
        errors["direction"] = "Set a direction or enter a p-value (or clear the entry)."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        entry, created = NarrativeDirection.objects.select_for_update().get_or_create(
            synthesis=synthesis,
            study=study,
            outcome=outcome,
            defaults={"review": review, "reason": reason},
        )
        old = {"direction": entry.direction, "p_value": entry.p_value, "reason": entry.reason}
        entry.review = review
        entry.direction = direction
        entry.p_value = p_value
        entry.reason = reason
        entry.set_by = actor
        entry.set_by_name = actor.get_username()
        entry.save()
        new = {"direction": direction, "p_value": p_value, "reason": reason}
        audit_record(
            actor=actor,
            review=review,
            verb="set effect direction",
            obj=entry,
            changes={"synthesis": synthesis.name, "study": study, "outcome": outcome}
            | {
                k: [None if created else old[k], new[k]] for k in new if created or old[k] != new[k]
            },
        )
    return entry


def swim_save(*, actor, review: Review, synthesis: NarrativeSynthesis, data: Any) -> dict:
    """The team's text for SWiM items ``"1"``..``"9"`` (keys absent stay as they were)."""
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action="write the SWiM checklist")
    if not isinstance(data, dict):
        raise ValidationError("Give the checklist's text as an object of item number to text.")
    keys = {k for k, _, _ in selectors.SWIM_ITEMS}
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key in data:
        if key not in keys:
            errors[str(key)[:20]] = "SWiM has items 1 to 9 only."
            continue
        clean[key] = text_field(data, key, errors, max_length=20000)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = NarrativeSynthesis.objects.select_for_update().get(pk=synthesis.pk, review=review)
        swim = dict(locked.swim or {})
        changed = {k: v for k, v in clean.items() if swim.get(k, "") != v}
        for k, v in clean.items():
            if v:
                swim[k] = v
            else:
                swim.pop(k, None)
        locked.swim = swim
        locked.save(update_fields=["swim", "updated_at"])
        if changed:
            audit_record(
                actor=actor,
                review=review,
                verb="wrote SWiM checklist",
                obj=locked,
                changes={"items": sorted(changed)},
            )
    synthesis.swim = swim
    return swim


MAX_DOMAIN = 200


def domains_set(*, actor, review: Review, synthesis: NarrativeSynthesis, data: Any) -> dict:
    """Map the synthesis's outcomes to outcome domains: ``data`` is ``{outcome: domain}``; an
    outcome left out or given "" (or its own name) is its own domain. Replaces the mapping;
    audited "mapped outcome domains" with each outcome whose domain changed."""
    require_role(user=actor, review=review, roles=ANALYSIS_ROLES, action="map outcome domains")
    if not isinstance(data, dict):
        raise ValidationError("Give the mapping as an object of outcome to domain.")
    names = [o["outcome"] for o in synthesis.outcomes]
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key in data:
        if not isinstance(key, str) or key not in names:
            errors[str(key)[:100]] = "Not an outcome of this narrative synthesis."
            continue
        value = data[key]
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[key[:100]] = "Give the domain's name as text."
            continue
        try:
            value = clean_input_text(value, field="domain", max_length=MAX_DOMAIN)
        except ValidationError as exc:
            errors[key[:100]] = exc.message_dict["domain"][0]
            continue
        value = " ".join(value.split())
        if value and value != key:
            clean[key] = value
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = NarrativeSynthesis.objects.select_for_update().get(pk=synthesis.pk, review=review)
        old = {n: (locked.domains or {}).get(n) or n for n in names}
        new = {n: clean.get(n) or n for n in names}
        changed = {n: [old[n], new[n]] for n in names if old[n] != new[n]}
        locked.domains = clean
        locked.save(update_fields=["domains", "updated_at"])
        if changed:
            audit_record(
                actor=actor,
                review=review,
                verb="mapped outcome domains",
                obj=locked,
                changes={"synthesis": locked.name, "domains": changed},
            )
    synthesis.domains = clean
    return clean
