"""Writes of data extraction: studies and the reports linked to them.

Every write checks the actor's role (``STUDY_ROLES``, or a lead), owns its transaction, locks
the review row (two people linking the same report at once: the second is told it is taken)
and records an audit event.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.audit import audit_record
from core.text import clean_input_text
from extraction import selectors
from extraction.constants import MAX_LABEL, MAX_NOTES, STUDY_ROLES
from extraction.models import Study, StudyReport
from identification.models import Record
from reviews.access import require_role
from reviews.models import Review
from reviews.services import review_lock


def _actor_fields(actor, prefix: str) -> dict:
    return {prefix: actor, f"{prefix}_name": ""}


def _included(review: Review, record_ids: Iterable) -> list[Record]:
    """The records named, each an included report of ``review``; a clear message otherwise."""
    wanted = []
    for value in record_ids:
        try:
            wanted.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError({"records": f"{value!r} is not a record id."}) from None
    if not wanted:
        raise ValidationError({"records": "Choose at least one report."})
    found = {r.pk: r for r in selectors.included_reports(review).filter(pk__in=wanted)}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise ValidationError(
            {
                "records": "Only reports included at full text can be linked to a study; "
                f"not: {', '.join(missing)}."
            }
        )
    taken = StudyReport.objects.filter(record_id__in=wanted).select_related("study")
    if taken:
        names = "; ".join(f"record {t.record_id} is in {t.study.label}" for t in taken)
        raise ValidationError({"records": f"Already linked to a study: {names}."})
    return [found[pk] for pk in dict.fromkeys(wanted)]


def _link(actor, review: Review, study: Study, records: list[Record], basis: str) -> None:
    try:
        with transaction.atomic():
            StudyReport.objects.bulk_create(
                [
                    StudyReport(
                        review=review,
                        study=study,
                        record=r,
                        basis=basis[:200],
                        **_actor_fields(actor, "linked_by"),
                    )
                    for r in records
                ]
            )
    except IntegrityError:
        raise ValidationError(
            {"records": "Someone linked one of these reports meanwhile."}
        ) from None


def study_create(
    *, actor, review: Review, records: Iterable, label: str = "", basis: str = ""
) -> Study:
    """A new study made of the included reports ``records`` (ids), confirmed by ``actor``."""
    require_role(user=actor, review=review, roles=STUDY_ROLES, action="link reports to studies")
    label = clean_input_text(label, field="label", max_length=MAX_LABEL)
    basis = clean_input_text(basis, field="basis", max_length=200)
    with transaction.atomic():
        review_lock(review)
        chosen = _included(review, records)
        label = label or selectors.study_label_for(chosen[0])
        study = Study.objects.create(
            review=review, label=label, **_actor_fields(actor, "created_by")
        )
        _link(actor, review, study, chosen, basis)
        audit_record(
            actor=actor,
            review=review,
            verb="study created",
            obj=study,
            changes={"records": [r.pk for r in chosen], "basis": basis},
        )
    return study


def study_link(*, actor, review: Review, study: Study, records: Iterable, basis: str = "") -> Study:
    """Link more included reports to ``study`` (a suggestion confirmed, or a person's choice)."""
    require_role(user=actor, review=review, roles=STUDY_ROLES, action="link reports to studies")
    basis = clean_input_text(basis, field="basis", max_length=200)
    if study.review_id != review.pk:
        raise ValidationError("This study belongs to another review.")
    with transaction.atomic():
        review_lock(review)
        chosen = _included(review, records)
        _link(actor, review, study, chosen, basis)
        audit_record(
            actor=actor,
            review=review,
            verb="reports linked to study",
            obj=study,
            changes={"records": [r.pk for r in chosen], "basis": basis},
        )
    return study


def study_unlink(*, actor, review: Review, study: Study, record) -> Study | None:
    """Take a report out of ``study``; a study left without reports goes. Returns the study, or
    None when it went."""
    require_role(user=actor, review=review, roles=STUDY_ROLES, action="link reports to studies")
    try:
        record_id = int(record)
    except (TypeError, ValueError):
        raise ValidationError({"record": "Name the report to take out of the study."}) from None
    with transaction.atomic():
        review_lock(review)
        link = StudyReport.objects.filter(study=study, record_id=record_id).first()
        if link is None:
            raise ValidationError({"record": f"Record {record_id} is not a report of this study."})
        link.delete()
        gone = not study.links.exists()
        audit_record(
            actor=actor,
            review=review,
            verb="report unlinked from study",
            obj=study,
            changes={"record": record_id, "study_deleted": gone},
        )
        if gone:
            study.delete()
            return None
    return study


def study_update(*, actor, review: Review, study: Study, label=None, notes=None) -> Study:
    require_role(user=actor, review=review, roles=STUDY_ROLES, action="edit studies")
    changes = {}
    if label is not None:
        label = clean_input_text(label, field="label", max_length=MAX_LABEL, required=True)
        if label != study.label:
            changes["label"] = [study.label, label]
            study.label = label
    if notes is not None:
        notes = clean_input_text(notes, field="notes", max_length=MAX_NOTES)
        if notes != study.notes:
            changes["notes"] = [study.notes, notes]
            study.notes = notes
    if not changes:
        return study
    with transaction.atomic():
        study.save(update_fields=[k for k in ("label", "notes") if k in changes])
        audit_record(actor=actor, review=review, verb="study edited", obj=study, changes=changes)
    return study


def study_delete(*, actor, review: Review, study: Study) -> None:
    """Delete a study; its reports become unlinked (each a study of its own again)."""
    require_role(user=actor, review=review, roles=STUDY_ROLES, action="delete studies")
    with transaction.atomic():
        review_lock(review)
        records = list(study.links.values_list("record_id", flat=True))
        audit_record(
            actor=actor,
            review=review,
            verb="study deleted",
            obj=study,
            changes={"records": records},
        )
        study.delete()


# --- Forms (issue 16, part 2) -----------------------------------------------------------------


def _form(review: Review, actor=None):
    from extraction.models import ExtractionForm
    from extraction.schema import empty_schema

    form, _ = ExtractionForm.objects.get_or_create(
        review=review, defaults={"draft": empty_schema(), **_actor_fields(actor, "updated_by")}
    )
    return form


def form_save_draft(*, actor, review: Review, schema) -> object:
    """Replace the draft with ``schema`` (checked by ``extraction.schema.clean_schema``)."""
    from extraction.constants import FORM_ROLES
    from extraction.schema import clean_schema

    require_role(user=actor, review=review, roles=FORM_ROLES, action="edit the extraction form")
    try:
        cleaned = clean_schema(schema)
    except ValueError as exc:
        raise ValidationError({"schema": str(exc)}) from None
    with transaction.atomic():
        review_lock(review)
        form = _form(review, actor)
        if form.draft == cleaned:
            return form
        form.draft = cleaned
        form.updated_by, form.updated_by_name = actor, ""
        form.save()
        audit_record(actor=actor, review=review, verb="extraction form edited", obj=form)
    return form


def form_use_template(*, actor, review: Review):
    """Start the draft from the Cochrane template for randomised trials."""
    from extraction.schema import cochrane_rct

    return form_save_draft(actor=actor, review=review, schema=cochrane_rct())


def form_add_field(
    *,
    actor,
    review: Review,
    where: str,
    label: str,
    type_: str,
    help_: str = "",
    required: bool = False,
    choices: str = "",
    key: str = "",
):
    """Add one field to a section (``where`` a section title, made if new) or to a group
    (``where`` ``arms`` or ``outcomes``); the key is made from the label unless given."""
    import re

    label = clean_input_text(label, field="label", max_length=200, required=True)
    where = clean_input_text(where, field="where", max_length=200, required=True)
    key = key.strip() or re.sub(r"[^a-z0-9]+", "_", label.casefold()).strip("_")[:40] or "field"
    if not key[0].isalpha():
        key = f"f_{key}"[:40]
    form = _form(review, actor)
    schema = dict(form.draft) if form.draft else {}
    new = {
        "key": key,
        "label": label,
        "type": type_,
        "help": help_,
        "required": required,
        "choices": [c.strip() for c in choices.splitlines() if c.strip()],
    }
    if where in ("arms", "outcomes"):
        schema[where] = [*schema.get(where, []), new]
    else:
        sections = [dict(s) for s in schema.get("sections", [])]
        for s in sections:
            if s["title"] == where:
                s["fields"] = [*s["fields"], new]
                break
        else:
            sections.append({"title": where, "fields": [new]})
        schema["sections"] = sections
    return form_save_draft(actor=actor, review=review, schema=schema)


def form_remove_field(*, actor, review: Review, key: str):
    """Take a field out of the draft (values already extracted for it are kept)."""
    form = _form(review, actor)
    schema = dict(form.draft)
    found = False
    sections = []
    for s in schema.get("sections", []):
        kept = [f for f in s["fields"] if f["key"] != key]
        found |= len(kept) != len(s["fields"])
        if kept:
            sections.append({**s, "fields": kept})
    schema["sections"] = sections
    for group in ("arms", "outcomes"):
        fixed = {"name", "n"} if group == "arms" else {"name", "timepoint", "measure", "effect"}
        kept = [f for f in schema.get(group, []) if f["key"] != key or f["key"] in fixed]
        found |= len(kept) != len(schema.get(group, []))
        schema[group] = kept
    if not found:
        raise ValidationError({"key": f"The form has no field {key!r} that may be removed."})
    return form_save_draft(actor=actor, review=review, schema=schema)


def form_publish(*, actor, review: Review):
    """Publish the draft: a new numbered version when it differs from the latest one.
    Returns ``(version, created)``."""
    from extraction.constants import FORM_ROLES
    from extraction.models import FormVersion

    require_role(user=actor, review=review, roles=FORM_ROLES, action="publish the extraction form")
    with transaction.atomic():
        review_lock(review)
        form = _form(review, actor)
        latest = selectors.latest_version(review)
        if not any(s["fields"] for s in form.draft.get("sections", [])):
            raise ValidationError({"schema": "Add at least one field before publishing."})
        if latest is not None and latest.schema == form.draft:
            return latest, False
        version = FormVersion.objects.create(
            form=form,
            review=review,
            number=(latest.number + 1) if latest else 1,
            schema=form.draft,
            **_actor_fields(actor, "published_by"),
        )
        audit_record(
            actor=actor,
            review=review,
            verb="extraction form published",
            obj=version,
            changes={"number": version.number},
        )
    return version, True


# --- Extractions (parts 3 and 4) --------------------------------------------------------------


def _clean_values(schema: dict, values: dict) -> dict:
    """The typed values cleaned field by field; one ValidationError naming every bad field."""
    from extraction import schema as forms

    if not isinstance(values, dict) or not values:
        raise ValidationError({"values": "Send at least one field's value."})
    cleaned, errors = {}, {}
    for key, value in values.items():
        key = str(key)
        try:
            forms.check_key(key)
            f = forms.field_of(schema, key)
            if f is None:
                raise ValueError(f"{key!r} is not a field of this form.")
            cleaned[key] = forms.clean_value(f, value)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _study_has_form(review: Review):
    version = selectors.latest_version(review)
    if version is None:
        raise ValidationError({"form": "A lead has not published an extraction form yet."})
    return version


def extraction_save(*, actor, review: Review, study: Study, values: dict):
    """Save some of the actor's values for ``study`` (as they go: one field or many). A bad
    value saves nothing and is named; the extraction moves to the latest form version, keeping
    every value (those of removed fields show as from an earlier version)."""
    from extraction.constants import EXTRACT_ROLES
    from extraction.models import Extraction

    require_role(user=actor, review=review, roles=EXTRACT_ROLES, action="extract data")
    version = _study_has_form(review)
    cleaned = _clean_values(version.schema, values)
    with transaction.atomic():
        review_lock(review)
        extraction = selectors.own_extraction(actor, study)
        if extraction is not None and extraction.done:
            raise ValidationError(
                {"done": "Your extraction is marked done; reopen it to change it."}
            )
        if selectors.consensus_of(study) is not None:
            raise ValidationError({"done": "The consensus of this study has begun."})
        if extraction is None:
            extraction = Extraction(review=review, study=study, **_actor_fields(actor, "extractor"))
        changes = {
            k: [extraction.values.get(k, ""), v]
            for k, v in cleaned.items()
            if extraction.values.get(k, "") != v
        }
        extraction.values = {**extraction.values, **cleaned}
        moved = extraction.form_version_id != version.pk
        extraction.form_version = version
        if not changes and not moved and extraction.pk:
            return extraction
        extraction.save()
        audit_record(
            actor=actor,
            review=review,
            verb="extraction saved",
            obj=extraction,
            changes={"fields": sorted(changes), "form_version": version.number},
        )
    return extraction


def extraction_mark(*, actor, review: Review, study: Study, done: bool):
    """Mark the actor's extraction done (every required field filled, no problem left) or
    reopen it (before the consensus began)."""
    from extraction import schema as forms
    from extraction.constants import EXTRACT_ROLES

    require_role(user=actor, review=review, roles=EXTRACT_ROLES, action="extract data")
    with transaction.atomic():
        review_lock(review)
        extraction = selectors.own_extraction(actor, study)
        if extraction is None:
            raise ValidationError({"done": "You have not extracted anything for this study."})
        if selectors.consensus_of(study) is not None:
            raise ValidationError({"done": "The consensus of this study has begun."})
        if done:
            missing = forms.missing_required(extraction.form_version.schema, extraction.values)
            problems = forms.cross_checks(extraction.values)
            if missing:
                raise ValidationError(
                    {"done": "Required fields are empty: " + "; ".join(missing) + "."}
                )
            if problems:
                raise ValidationError({"done": " ".join(problems.values())})
        if extraction.done == done:
            return extraction
        extraction.done = done
        extraction.save(update_fields=["done", "updated_at"])
        audit_record(
            actor=actor,
            review=review,
            verb="extraction done" if done else "extraction reopened",
            obj=extraction,
        )
    return extraction


def may_make_consensus(*, user, review: Review, study: Study) -> bool:
    """A lead, or an extractor who is not one of the study's two extractors."""
    from extraction.constants import EXTRACT_ROLES
    from reviews.access import roles_of
    from reviews.constants import Role

    held = roles_of(user=user, review=review)
    if Role.LEAD in held:
        return True
    if not held & set(EXTRACT_ROLES):
        return False
    return not selectors.extractions_of(study).filter(kind="extractor", extractor=user).exists()


def consensus_save(*, actor, review: Review, study: Study, picks: dict, finish: bool = False):
    """Resolve differing fields: ``picks`` maps a key to ``{"pick": "a"|"b"|"value",
    "value": ...}``. Agreed values are taken over on the first call. With ``finish`` the
    consensus is done once every differing field is resolved."""
    from extraction import schema as forms
    from extraction.models import Extraction

    require_member_ = may_make_consensus(user=actor, review=review, study=study)
    if not require_member_:
        require_role(user=actor, review=review, roles=(), action="make the consensus")
        raise ValidationError(
            {"consensus": "You extracted this study: a lead or a third member makes its consensus."}
        )
    if not selectors.both_done(study):
        raise ValidationError({"consensus": "Both extractions must be done first."})
    version = _study_has_form(review)
    if not isinstance(picks, dict):
        raise ValidationError({"picks": "Send the picks as an object by field key."})
    with transaction.atomic():
        review_lock(review)
        a, b = list(
            selectors.extractions_of(study).filter(kind="extractor", done=True).order_by("pk")[:2]
        )
        differing = {
            k for k in set(a.values) | set(b.values) if a.values.get(k, "") != b.values.get(k, "")
        }
        consensus = selectors.consensus_of(study)
        if consensus is None:
            agreed = {k: v for k, v in a.values.items() if k not in differing}
            consensus = Extraction(
                review=review,
                study=study,
                kind=Extraction.Kind.CONSENSUS,
                values=agreed,
                form_version=version,
                **_actor_fields(actor, "extractor"),
            )
        values, resolved, errors = dict(consensus.values), set(consensus.resolved), {}
        for key, choice in picks.items():
            if key not in differing:
                errors[key] = f"{key!r} is not a field on which the two extractions differ."
                continue
            pick = choice.get("pick") if isinstance(choice, dict) else None
            if pick == "a":
                values[key] = a.values.get(key, "")
            elif pick == "b":
                values[key] = b.values.get(key, "")
            elif pick == "value":
                f = forms.field_of(version.schema, key) or forms.field_of(
                    a.form_version.schema, key
                )
                try:
                    values[key] = forms.clean_value(
                        f or forms.field(key, key), choice.get("value", "")
                    )
                except ValueError as exc:
                    errors[key] = str(exc)
                    continue
            else:
                errors[key] = "Pick a, b or value."
                continue
            resolved.add(key)
        if errors:
            raise ValidationError(errors)
        left = sorted(differing - resolved)
        if finish and left:
            raise ValidationError({"consensus": f"Still to resolve: {', '.join(left)}."})
        if finish:
            problems = forms.cross_checks(values)
            if problems:
                raise ValidationError({"consensus": " ".join(problems.values())})
        consensus.values, consensus.resolved = values, sorted(resolved)
        consensus.done = consensus.done or finish
        consensus.extractor, consensus.extractor_name = actor, ""
        consensus.save()
        audit_record(
            actor=actor,
            review=review,
            verb="consensus done" if finish else "consensus saved",
            obj=consensus,
            changes={"resolved": sorted(picks)},
        )
    return consensus


# --- Snapshots (part 6) -----------------------------------------------------------------------


def snapshot_finalise(*, actor, review: Review):
    """Freeze the consensus extraction as the next numbered snapshot (a lead). Refused when no
    study has a finished consensus, or nothing changed since the latest snapshot."""
    from extraction.constants import FINALISE_ROLES
    from extraction.models import ExtractionSnapshot

    require_role(user=actor, review=review, roles=FINALISE_ROLES, action="finalise the extraction")
    with transaction.atomic():
        review_lock(review)
        content = selectors.snapshot_content(review)
        if not content["studies"]:
            raise ValidationError(
                {"snapshot": "No study has a finished consensus yet: nothing to finalise."}
            )
        sha = selectors.content_fingerprint(content)
        latest = selectors.latest_snapshot(review)
        if latest is not None and latest.sha256 == sha:
            raise ValidationError(
                {
                    "snapshot": f"The consensus has not changed since snapshot {latest.number}; "
                    "it is still current."
                }
            )
        snapshot = ExtractionSnapshot.objects.create(
            review=review,
            number=(latest.number + 1) if latest else 1,
            content=content,
            sha256=sha,
            studies=len(content["studies"]),
            **_actor_fields(actor, "created_by"),
        )
        audit_record(
            actor=actor,
            review=review,
            verb="extraction finalised",
            obj=snapshot,
            changes={
                "number": snapshot.number,
                "studies": snapshot.studies,
                "sha256": sha,
                "left_out": [s["label"] for s in content["left_out"]],
            },
        )
    return snapshot


# --- Import of extracted data (part 7) --------------------------------------------------------


def _clean_import_cell(schema: dict, key: str, cell: str):
    from extraction import schema as forms

    f = forms.field_of(schema, key)
    if f is None:
        raise ValueError(f"{key!r} is not a field of this form")
    if f["type"] == forms.MULTIPLE:
        return forms.clean_value(f, [c.strip() for c in cell.split(";") if c.strip()])
    return forms.clean_value(f, cell)


def _study_values(schema: dict, mapping: dict, header: list[str], lines: list[tuple[int, list]]):
    """One study's values from its rows; ``(values, problems)``."""
    values: dict = {}
    problems: list[dict] = []
    outcomes: dict[tuple, int] = {}
    arms: dict[tuple, int] = {}
    result = 0

    def put(line: int, column: str, key: str, cell: str) -> None:
        try:
            values[key] = _clean_import_cell(schema, key, cell)
        except ValueError as exc:
            problems.append({"line": line, "column": column, "problem": str(exc).rstrip(".")})

    for line, cells in lines:
        row = {header[i]: (cells[i] if i < len(cells) else "") for i in range(len(header))}
        by_head: dict[str, list[tuple[str, str, str]]] = {}
        for column, target in mapping.items():
            head, dot, key = target.partition(".")
            cell = row.get(column, "")
            if not dot:
                if target != "study" and cell and target not in values:
                    put(line, column, target, cell)
            elif cell:
                by_head.setdefault(head, []).append((column, key, cell))
        if not by_head:
            continue
        p = f"results.{result}."
        outcome = by_head.get("outcome", [])
        if outcome:
            ident = tuple(sorted((k, c) for _col, k, c in outcome))
            j = outcomes.setdefault(ident, len(outcomes))
            for column, key, cell in outcome:
                put(line, column, f"outcomes.{j}.{key}", cell)
            values[p + "outcome"] = str(j + 1)
        for arm in ("arm1", "arm2"):
            cells_ = by_head.get(arm, [])
            if cells_:
                ident = tuple(sorted((k, c) for _col, k, c in cells_))
                j = arms.setdefault(ident, len(arms))
                for column, key, cell in cells_:
                    put(line, column, f"arms.{j}.{key}", cell)
                values[p + arm] = str(j + 1)
        for column, key, cell in by_head.get("result", []):
            put(line, column, p + key, cell)
        result += 1
    return values, problems


def consensus_import(
    *, actor, review: Review, header: list[str], rows: list[list[str]], mapping: dict
) -> dict:
    """Put a spreadsheet's extracted data into the studies' consensus extractions (a lead).

    ``mapping`` is column -> target (``extraction.imports.targets``; "" leaves a column out).
    A study with any value that does not fit is left out whole; an unknown study is reported.
    One transaction: the studies that fit are written together, each audited. Returns the
    report: ``imported`` (labels), ``problems`` (line, column, study, problem) and ``ignored``.
    """
    from extraction import imports
    from extraction.constants import FORM_ROLES
    from extraction.models import Extraction

    require_role(user=actor, review=review, roles=FORM_ROLES, action="import extracted data")
    version = _study_has_form(review)
    schema = version.schema
    allowed = set(imports.targets(schema))
    report: dict = {"imported": [], "problems": [], "ignored": []}
    chosen: dict[str, str] = {}
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": "Map each column to a field of the form."})
    for column, target in mapping.items():
        column, target = str(column), str(target or "").strip()
        if column not in header:
            raise ValidationError({"mapping": f"The file has no column {column!r}."})
        if not target or target in imports.IGNORED:
            continue
        if target not in allowed:
            report["problems"].append(
                {
                    "line": 1,
                    "column": column,
                    "study": "",
                    "problem": f"unknown field {target!r}: not a field of form version "
                    f"{version.number}; the column was left out",
                }
            )
            continue
        chosen[column] = target
    report["ignored"] = [c for c in header if c not in chosen]
    study_column = next((c for c, t in chosen.items() if t == imports.STUDY_COLUMN), None)
    if study_column is None:
        raise ValidationError({"mapping": "Map one column to study (the study's label)."})
    if list(chosen.values()).count(imports.STUDY_COLUMN) > 1 or len(set(chosen.values())) < len(
        chosen
    ):
        raise ValidationError({"mapping": "Map each field from one column only."})
    index = header.index(study_column)
    by_label: dict[str, list] = {}
    for study in Study.objects.filter(review=review):
        by_label.setdefault(study.label.strip().casefold(), []).append(study)
    grouped: dict[str, list[tuple[int, list]]] = {}
    for number, cells in enumerate(rows, start=2):
        label = cells[index].strip() if index < len(cells) else ""
        grouped.setdefault(label, []).append((number, cells))
    fitting = []
    for label, lines in grouped.items():
        found = by_label.get(label.casefold(), [])
        where = ", ".join(str(n) for n, _ in lines[:5])
        if len(found) != 1:
            problem = (
                "no study is named so"
                if not found
                else "several studies are named so; rename them first"
            )
            report["problems"].append(
                {
                    "line": lines[0][0],
                    "column": study_column,
                    "study": label,
                    "problem": f"unknown study {label!r} ({problem}; lines {where})"
                    if label
                    else f"no study named (lines {where})",
                }
            )
            continue
        values, problems = _study_values(schema, chosen, header, lines)
        if problems:
            for p in problems:
                report["problems"].append({**p, "study": label})
            continue
        fitting.append((found[0], values))
    with transaction.atomic():
        review_lock(review)
        for study, values in fitting:
            consensus = selectors.consensus_of(study)
            grouped_keys = any("." in k for k in values)
            if consensus is None:
                consensus = Extraction(
                    review=review,
                    study=study,
                    kind=Extraction.Kind.CONSENSUS,
                    form_version=version,
                )
                kept = {}
            else:
                kept = {
                    k: v for k, v in consensus.values.items() if not (grouped_keys and "." in k)
                }
            consensus.values = {**kept, **values}
            consensus.form_version = version
            consensus.done = True
            consensus.extractor, consensus.extractor_name = actor, ""
            consensus.save()
            audit_record(
                actor=actor,
                review=review,
                verb="consensus imported",
                obj=consensus,
                changes={"fields": len(values)},
            )
            report["imported"].append(study.label)
    return report
