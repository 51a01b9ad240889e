"""Writes of risk of bias: the review's tool, an assessor's answers and judgements, marking
done, and the consensus (issue 17).

Every write checks the actor's role, owns its transaction, locks the review row and records an
audit event naming what changed (answers, judgements, overrides and their justifications), so
the history of every decision is in the audit log. The signalling answers are judged by the
pure engine (``extraction.rob.engine``, Sterne et al. 2019 for RoB 2, Sterne et al. 2016 for
ROBINS-I); a judgement other than the one the algorithm proposes is an override and needs a
written justification. Bad input raises ``ValidationError`` with a clear message and changes
nothing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.audit import audit_record
from core.text import clean_input_text
from extraction.rob import selectors
from extraction.rob.models import RobAssessment, RobSettings, RobTool
from reviews.access import require_role, roles_of
from reviews.constants import Role
from reviews.models import Review
from reviews.services import review_lock

#: Who assesses risk of bias (a lead may do everything); the settings are a lead's.
ASSESS_ROLES = (Role.EXTRACTOR,)
SETTINGS_ROLES = (Role.LEAD,)
MAX_TEXT = 5000
MAX_NAME = 200
MAX_DOMAINS = 20
MAX_JUDGEMENTS = 8
ANSWERS = ("Y", "PY", "PN", "N", "NI", "NA")
DOMAIN_SUPPORT = "_"  # the key of a domain's own support text in ``support``


# --- Settings ---------------------------------------------------------------------------------


def _text_list(value, *, field: str, most: int) -> list[str]:
    if isinstance(value, str):
        value = [line for line in value.splitlines()]
    if not isinstance(value, list | tuple):
        raise ValidationError({field: "Send a list of names (or one a line)."})
    out = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("name", "")
        text = clean_input_text(item, field=field, max_length=MAX_NAME)
        if text and text not in out:
            out.append(text)
    if len(out) > most:
        raise ValidationError({field: f"At most {most}."})
    return out


def settings_save(
    *,
    actor,
    review: Review,
    tool: str,
    per_outcome: bool = False,
    custom_name: str = "",
    custom_domains=(),
    custom_judgements=(),
    custom_high=(),
) -> RobSettings:
    """Choose the tool (RoB 2, ROBINS-I, or a custom one: its domains, allowed judgements best
    first and those that count as high risk) and per study or per outcome. Once an assessment
    exists the tool and the unit are fixed (answers of one tool mean nothing in another)."""
    require_role(user=actor, review=review, roles=SETTINGS_ROLES, action="set up risk of bias")
    if tool not in RobTool.values:
        raise ValidationError({"tool": f"Choose one of: {', '.join(RobTool.values)}."})
    if not isinstance(per_outcome, bool):
        raise ValidationError({"per_outcome": "Must be true or false."})
    name, domains, judgements, high = "", [], [], []
    if tool == RobTool.CUSTOM:
        name = clean_input_text(custom_name, field="custom_name", max_length=MAX_NAME)
        domain_names = _text_list(custom_domains, field="custom_domains", most=MAX_DOMAINS)
        judgements = _text_list(custom_judgements, field="custom_judgements", most=MAX_JUDGEMENTS)
        high = _text_list(custom_high, field="custom_high", most=MAX_JUDGEMENTS)
        if not domain_names:
            raise ValidationError({"custom_domains": "A custom tool needs at least one domain."})
        if len(judgements) < 2:
            raise ValidationError(
                {"custom_judgements": "A custom tool needs at least two judgements."}
            )
        unknown = [h for h in high if h not in judgements]
        if unknown:
            raise ValidationError(
                {"custom_high": f"Not among the judgements: {', '.join(unknown)}."}
            )
        domains = [{"id": f"D{i}", "name": n} for i, n in enumerate(domain_names, start=1)]
    with transaction.atomic():
        review_lock(review)
        current = RobSettings.objects.filter(review=review).first() or RobSettings(review=review)
        before = {
            "tool": current.tool,
            "per_outcome": current.per_outcome,
            "custom_domains": current.custom_domains,
            "custom_judgements": current.custom_judgements,
            "custom_high": current.custom_high,
        }
        after = {
            "tool": tool,
            "per_outcome": per_outcome,
            "custom_domains": domains,
            "custom_judgements": judgements,
            "custom_high": high,
        }
        started = RobAssessment.objects.filter(review=review).exists()
        fixed = ("tool", "per_outcome", "custom_domains", "custom_judgements")
        if started and any(before[k] != after[k] for k in fixed):
            raise ValidationError(
                {
                    "tool": "Assessments have begun: the tool, its domains and judgements and "
                    "per study or per outcome can no longer change."
                }
            )
        current.tool, current.per_outcome, current.custom_name = tool, per_outcome, name
        current.custom_domains, current.custom_judgements = domains, judgements
        current.custom_high = high
        current.updated_by, current.updated_by_name = actor, ""
        current.save()
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit_record(
            actor=actor,
            review=review,
            verb="risk-of-bias settings saved",
            obj=current,
            changes=changes,
        )
    return current


# --- Judging answers --------------------------------------------------------------------------


def _engine():
    from extraction.rob import engine

    return engine


def _engine_domain_obj(tool_key: str, domain_id: str):
    for d in _engine().TOOLS[tool_key].domains:
        if d.id == domain_id:
            return d
    return None


def clean_outcome(review: Review, settings: RobSettings, outcome) -> str:
    """The outcome an assessment is for: "" per study; per outcome, one of the extraction's
    outcome names."""
    if outcome in (None, ""):
        return ""
    if not isinstance(outcome, str):
        raise ValidationError({"outcome": "Must be text."})
    if not settings.per_outcome:
        raise ValidationError(
            {"outcome": "This review assesses risk of bias per study, not per outcome."}
        )
    names = selectors.outcome_names(review)
    if outcome not in names:
        raise ValidationError(
            {"outcome": f"{outcome[:100]!r} is not an outcome of the review's extraction."}
        )
    return outcome


def evaluate(
    tool: dict, *, variant: str, answers: dict, support: dict, chosen: dict, overall: dict
) -> tuple[dict, dict, dict, str, str, str, dict]:
    """Check and judge one assessment. Returns ``(answers, support, domains, overall_proposed,
    overall, overall_justification, asked)`` with ``asked`` the question ids to answer per
    domain. ``chosen`` maps a domain key to ``{"judgement", "justification"}`` (judgement "":
    the algorithm's); ``overall`` likewise. Raises ``ValidationError`` naming the domain and
    question for anything out of place."""
    engine = _engine()
    errors: dict[str, str] = {}
    keys = [d["id"] for d in tool["domains"]]
    for given, field in ((answers, "answers"), (support, "support"), (chosen, "judgements")):
        if not isinstance(given, dict):
            raise ValidationError({field: "Send an object by domain (D1, D2, ...)."})
        unknown = [str(k)[:20] for k in given if k not in keys]
        if unknown:
            raise ValidationError({field: f"Not a domain of {tool['name']}: {', '.join(unknown)}."})
    if not isinstance(overall, dict):
        raise ValidationError({"overall": "Send the overall judgement as an object."})
    out_answers, out_support, out_domains, asked_by = {}, {}, {}, {}
    for d in tool["domains"]:
        key = d["id"]
        engine_id = selectors.engine_domain(tool, key, variant)
        given = answers.get(key) or {}
        if not isinstance(given, dict):
            raise ValidationError({"answers": f"{key}: send the answers by question id."})
        texts = support.get(key) or {}
        if not isinstance(texts, dict):
            raise ValidationError({"support": f"{key}: send the support by question id."})
        wanted = chosen.get(key) or {}
        if not isinstance(wanted, dict):
            raise ValidationError({"judgements": f"{key}: send judgement and justification."})
        dom = _engine_domain_obj(tool["key"], engine_id) if engine_id else None
        clean: dict[str, str] = {}
        asked: list[str] = []
        if dom is not None:
            questions = {q.id: q for q in dom.questions}
            for qid, value in given.items():
                q = questions.get(qid)
                if q is None:
                    errors[f"{key}.{str(qid)[:10]}"] = f"{key}: there is no question {qid!r}."
                    continue
                if value in (None, ""):
                    continue
                if value not in q.answers:
                    errors[f"{key}.{qid}"] = (
                        f"{key} question {qid}: {str(value)[:10]!r} is not an allowed answer "
                        f"({', '.join(q.answers)})."
                    )
                    continue
                clean[qid] = value
            if errors:
                continue
            for _ in range(len(questions) + 1):  # answers settle as later questions drop out
                asked = engine.questions_asked(tool["key"], engine_id, clean)
                dropped = [q for q in clean if q not in asked and clean[q] != "NA"]
                for q in dropped:
                    clean[q] = "NA"
                if not dropped:
                    break
            for q in questions:
                if q not in asked and q not in clean:
                    clean[q] = "NA"
        out_texts = {}
        for qid, text in texts.items():
            if (
                dom is not None
                and qid != DOMAIN_SUPPORT
                and qid not in {q.id for q in dom.questions}
            ):
                errors[f"{key}.support"] = f"{key}: there is no question {str(qid)[:10]!r}."
                continue
            value = clean_input_text(text, field=f"{key}.{qid}", max_length=MAX_TEXT)
            if value:
                out_texts[qid] = value
        proposed = None
        complete = dom is not None and all(
            clean.get(q) not in (None, "")
            for q, state in engine.question_status(tool["key"], engine_id, clean).items()
            if state == engine.REQUIRED
        )
        if complete:
            try:
                proposed = engine.domain_judgement(tool["key"], engine_id, clean)
            except engine.RobAnswerError as exc:
                errors[key] = f"{key} ({d['name']}): {exc}"
                continue
        judgement = wanted.get("judgement") or ""
        justification = clean_input_text(
            wanted.get("justification", ""), field=f"{key}.justification", max_length=MAX_TEXT
        )
        if judgement and judgement not in tool["judgements"]:
            errors[key] = (
                f"{key}: {str(judgement)[:40]!r} is not a judgement of {tool['name']} "
                f"({', '.join(tool['judgements'])})."
            )
            continue
        algorithmic = dom is not None and dom.has_algorithm
        if algorithmic and judgement and judgement != proposed and not justification:
            errors[key] = (
                f"{key} ({d['name']}): the algorithm proposes "
                f"{proposed or 'no judgement yet (answer every question)'}; judging it "
                f"{judgement} needs a written justification."
            )
            continue
        if algorithmic and (not judgement or judgement == proposed):
            justification = ""
        final = judgement or (proposed or "")
        out_answers[key] = clean
        out_support[key] = out_texts
        out_domains[key] = {
            "proposed": proposed,
            "judgement": final,
            "justification": justification,
            "algorithm": algorithmic,
        }
        asked_by[key] = asked
    if errors:
        raise ValidationError(errors)
    finals = {k: v["judgement"] for k, v in out_domains.items()}
    overall_proposed = ""
    if all(finals.get(k) for k in keys):
        if tool["key"] == RobTool.CUSTOM:
            rank = {j: i for i, j in enumerate(tool["judgements"])}
            overall_proposed = max(finals.values(), key=lambda j: rank.get(j, -1))
        else:
            try:
                overall_proposed = engine.overall_judgement(tool["key"], finals)
            except engine.RobAnswerError as exc:
                raise ValidationError({"overall": f"Overall: {exc}"}) from None
    wanted_overall = overall.get("judgement") or ""
    overall_just = clean_input_text(
        overall.get("justification", ""), field="overall.justification", max_length=MAX_TEXT
    )
    if wanted_overall and wanted_overall not in tool["judgements"]:
        raise ValidationError(
            {"overall": f"{str(wanted_overall)[:40]!r} is not a judgement of {tool['name']}."}
        )
    if wanted_overall and wanted_overall != overall_proposed and not overall_just:
        raise ValidationError(
            {
                "overall": "The overall rule proposes "
                f"{overall_proposed or 'no judgement yet (judge every domain)'}; judging it "
                f"{wanted_overall} needs a written justification."
            }
        )
    if not wanted_overall or wanted_overall == overall_proposed:
        overall_just = ""
    final_overall = wanted_overall or overall_proposed
    return (
        out_answers,
        out_support,
        out_domains,
        overall_proposed,
        final_overall,
        overall_just,
        asked_by,
    )


def _clean_variant(tool: dict, variant) -> str:
    has_variants = any(len(d["variants"]) > 1 for d in tool["domains"])
    if not has_variants:
        return ""
    if variant in (None, ""):
        return "assignment"
    if variant not in selectors.D2_VARIANTS:
        raise ValidationError(
            {"d2_variant": f"Domain 2 is assessed for: {', '.join(selectors.D2_VARIANTS)}."}
        )
    return variant


def _changes(before: RobAssessment | None, after: RobAssessment) -> dict:
    """What a save changed: answers, judgements (with overrides' justifications), overall."""
    old_answers = before.answers if before else {}
    old_domains = before.domains if before else {}
    changes: dict = {}
    answers = {}
    for key, given in after.answers.items():
        for q, value in given.items():
            old = (old_answers.get(key) or {}).get(q, "")
            if old != value:
                answers[f"{key} {q}"] = [old, value]
    if answers:
        changes["answers"] = answers
    judgements = {}
    for key, d in after.domains.items():
        old = old_domains.get(key) or {}
        if (old.get("judgement"), old.get("justification")) != (
            d.get("judgement"),
            d.get("justification"),
        ):
            judgements[key] = {
                "from": old.get("judgement", ""),
                "to": d.get("judgement", ""),
                "proposed": d.get("proposed"),
                "justification": d.get("justification", ""),
            }
    if judgements:
        changes["judgements"] = judgements
    if (before.overall if before else "", before.overall_justification if before else "") != (
        after.overall,
        after.overall_justification,
    ):
        changes["overall"] = {
            "from": before.overall if before else "",
            "to": after.overall,
            "proposed": after.overall_proposed,
            "justification": after.overall_justification,
        }
    if (before is None or before.d2_variant != after.d2_variant) and after.d2_variant:
        changes["d2_variant"] = after.d2_variant
    return changes


def _overrides(a: RobAssessment) -> list[str]:
    out = [
        k
        for k, d in a.domains.items()
        if d.get("justification") and d.get("algorithm") and d.get("judgement") != d.get("proposed")
    ]
    if a.overall_justification:
        out.append("overall")
    return out


# --- An assessor's assessment -----------------------------------------------------------------


def assessment_save(
    *,
    actor,
    review: Review,
    study,
    outcome: str = "",
    d2_variant: str = "",
    answers: dict | None = None,
    support: dict | None = None,
    judgements: dict | None = None,
    overall: dict | None = None,
) -> RobAssessment:
    """Save the actor's own assessment of ``study`` (and ``outcome``): the domains given replace
    theirs, the others stay. Refused once marked done (reopen first) or once the consensus
    began."""
    require_role(user=actor, review=review, roles=ASSESS_ROLES, action="assess risk of bias")
    settings = selectors.settings_of(review)
    outcome = clean_outcome(review, settings, outcome)
    tool = selectors.tool_of(settings)
    variant = _clean_variant(tool, d2_variant)
    with transaction.atomic():
        review_lock(review)
        mine = selectors.own_assessment(actor, study, outcome)
        if mine is not None and mine.done:
            raise ValidationError(
                {"done": "You marked this assessment done: reopen it to change it."}
            )
        if selectors.consensus_of(study, outcome) is not None:
            raise ValidationError({"done": "The consensus of this assessment has begun."})
        if mine is not None and mine.tool != tool["key"]:
            raise ValidationError({"tool": "This assessment was made with another tool."})
        base_answers = dict(mine.answers) if mine else {}
        base_support = dict(mine.support) if mine else {}
        base_chosen = {
            k: {
                "judgement": d.get("judgement")
                if d.get("justification") or not d.get("algorithm")
                else "",
                "justification": d.get("justification", ""),
            }
            for k, d in (mine.domains if mine else {}).items()
        }
        base_overall = (
            {
                "judgement": mine.overall if mine.overall_justification else "",
                "justification": mine.overall_justification,
            }
            if mine
            else {}
        )
        for given, field in (
            (answers, "answers"),
            (support, "support"),
            (judgements, "judgements"),
        ):
            if given is not None and not isinstance(given, dict):
                raise ValidationError({field: "Send an object by domain (D1, D2, ...)."})
        base_answers |= answers or {}
        base_support |= support or {}
        base_chosen |= judgements or {}
        if overall is not None:
            base_overall = overall
        if mine is not None and mine.d2_variant and variant != mine.d2_variant:
            # Domain 2's questions after 2.2 mean other things in the other variant: a change
            # of variant starts domain 2 afresh (what was sent for it was the old variant's).
            base_answers["D2"], base_support["D2"] = {}, {}
            base_chosen.pop("D2", None)
        result = evaluate(
            tool,
            variant=variant,
            answers=base_answers,
            support=base_support,
            chosen=base_chosen,
            overall=base_overall,
        )
        before = None
        if mine is None:
            mine = RobAssessment(
                review=review,
                study=study,
                outcome=outcome,
                kind=RobAssessment.Kind.ASSESSOR,
                assessor=actor,
                assessor_name="",
                tool=tool["key"],
            )
        else:
            before = RobAssessment(
                answers=mine.answers,
                domains=mine.domains,
                overall=mine.overall,
                overall_justification=mine.overall_justification,
                d2_variant=mine.d2_variant,
            )
        (
            mine.answers,
            mine.support,
            mine.domains,
            mine.overall_proposed,
            mine.overall,
            mine.overall_justification,
            _,
        ) = result
        mine.d2_variant = variant
        mine.save()
        changes = _changes(before, mine)
        overridden = [k for k in changes.get("judgements", {}) if k in _overrides(mine)]
        if "overall" in changes and mine.overall_justification:
            overridden.append("overall")
        audit_record(
            actor=actor,
            review=review,
            verb="risk-of-bias judgement overridden" if overridden else "risk-of-bias saved",
            obj=mine,
            changes=changes,
        )
    return mine


def missing_for_done(tool: dict, a: RobAssessment) -> list[str]:
    """What an assessment still lacks before it may be marked done."""
    engine = _engine()
    missing = []
    for d in tool["domains"]:
        key = d["id"]
        engine_id = selectors.engine_domain(tool, key, a.d2_variant)
        if engine_id:
            given = a.answers.get(key) or {}
            status = engine.question_status(tool["key"], engine_id, given)
            open_ = [
                q
                for q, state in status.items()
                if state == engine.REQUIRED and given.get(q) in (None, "")
            ]
            if open_:
                missing.append(f"{key}: answer {', '.join(open_)}")
                continue
        if not (a.domains.get(key) or {}).get("judgement"):
            missing.append(f"{key}: judge the domain")
    if not a.overall:
        missing.append("the overall judgement")
    return missing


def assessment_mark(
    *, actor, review: Review, study, outcome: str = "", done: bool
) -> RobAssessment:
    """Mark the actor's assessment done (every asked question answered, every domain and the
    overall judged) or reopen it (before the consensus began)."""
    require_role(user=actor, review=review, roles=ASSESS_ROLES, action="assess risk of bias")
    if not isinstance(done, bool):
        raise ValidationError({"done": "Must be true or false."})
    settings = selectors.settings_of(review)
    outcome = clean_outcome(review, settings, outcome)
    tool = selectors.tool_of(settings)
    with transaction.atomic():
        review_lock(review)
        mine = selectors.own_assessment(actor, study, outcome)
        if mine is None:
            raise ValidationError({"done": "You have not assessed this study yet."})
        if selectors.consensus_of(study, outcome) is not None:
            raise ValidationError({"done": "The consensus of this assessment has begun."})
        if done:
            missing = missing_for_done(tool, mine)
            if missing:
                raise ValidationError({"done": "Not finished: " + "; ".join(missing) + "."})
        if mine.done == done:
            return mine
        mine.done = done
        mine.save(update_fields=["done", "updated_at"])
        audit_record(
            actor=actor,
            review=review,
            verb="risk-of-bias done" if done else "risk-of-bias reopened",
            obj=mine,
            changes={"overall": mine.overall} if done else {},
        )
    return mine


# --- Consensus --------------------------------------------------------------------------------


def may_make_consensus(*, user, review: Review, study, outcome: str = "") -> bool:
    """A lead, or an extractor who did not assess this study (and outcome)."""
    held = roles_of(user=user, review=review)
    if Role.LEAD in held:
        return True
    if Role.EXTRACTOR not in held:
        return False
    return selectors.own_assessment(user, study, outcome) is None


def consensus_save(
    *,
    actor,
    review: Review,
    study,
    outcome: str = "",
    picks: dict | None = None,
    overall: dict | None = None,
    finish: bool = False,
) -> RobAssessment:
    """Resolve the domains on which the two assessments differ: ``picks`` maps a domain key to
    ``{"pick": "a"|"b"|"own", "judgement", "justification"}`` (a or b takes that assessor's
    answers, support and judgement; own needs a judgement and a written justification).
    Agreed domains are taken over on the first call. ``overall`` is ``{"judgement",
    "justification"}`` (the rule's proposal unless overridden with a justification). With
    ``finish`` the consensus is done once every differing domain is resolved."""
    settings = selectors.settings_of(review)
    outcome = clean_outcome(review, settings, outcome)
    if not may_make_consensus(user=actor, review=review, study=study, outcome=outcome):
        require_role(user=actor, review=review, roles=ASSESS_ROLES, action="make the consensus")
        raise PermissionDenied(
            "You assessed this study: a lead or a member who did not assess it makes the consensus."
        )
    if picks is None:
        picks = {}
    if not isinstance(picks, dict):
        raise ValidationError({"picks": "Send the picks as an object by domain."})
    if overall is not None and not isinstance(overall, dict):
        raise ValidationError({"overall": "Send the overall judgement as an object."})
    if not isinstance(finish, bool):
        raise ValidationError({"finish": "Must be true or false."})
    tool = selectors.tool_of(settings)
    with transaction.atomic():
        review_lock(review)
        pair = selectors.done_pair(study, outcome)
        if len(pair) < 2:
            raise ValidationError({"consensus": "Both assessments must be done first."})
        a, b = pair
        rows = {r["id"]: r for r in selectors.comparison(a, b, tool)}
        differing = {k for k, r in rows.items() if r["differs"]}
        consensus = selectors.consensus_of(study, outcome)
        before = None
        if consensus is None:
            consensus = RobAssessment(
                review=review,
                study=study,
                outcome=outcome,
                kind=RobAssessment.Kind.CONSENSUS,
                tool=a.tool,
                d2_variant=a.d2_variant,
                answers={k: v for k, v in a.answers.items() if k not in differing},
                support={k: v for k, v in a.support.items() if k not in differing},
                domains={k: v for k, v in a.domains.items() if k not in differing},
            )
        else:
            before = RobAssessment(
                answers=consensus.answers,
                domains=consensus.domains,
                overall=consensus.overall,
                overall_justification=consensus.overall_justification,
                d2_variant=consensus.d2_variant,
            )
        answers, support = dict(consensus.answers), dict(consensus.support)
        domains, resolved = dict(consensus.domains), set(consensus.resolved)
        variant, errors = consensus.d2_variant, {}
        for key, choice in picks.items():
            if key not in differing:
                errors[str(key)[:20]] = (
                    f"{str(key)[:20]!r} is not a domain on which the two assessments differ."
                )
                continue
            pick = choice.get("pick") if isinstance(choice, dict) else None
            if pick in ("a", "b"):
                source = a if pick == "a" else b
                answers[key] = source.answers.get(key, {})
                support[key] = source.support.get(key, {})
                domains[key] = dict(source.domains.get(key, {}))
                if key == "D2" and source.d2_variant:
                    variant = source.d2_variant
            elif pick == "own":
                judgement = choice.get("judgement") or ""
                try:
                    justification = clean_input_text(
                        choice.get("justification", ""),
                        field=f"{key}.justification",
                        max_length=MAX_TEXT,
                    )
                except ValidationError as exc:
                    errors[key] = " ".join(exc.messages)
                    continue
                if judgement not in tool["judgements"]:
                    errors[key] = (
                        f"{key}: choose a judgement of {tool['name']} "
                        f"({', '.join(tool['judgements'])})."
                    )
                    continue
                if not justification:
                    errors[key] = (
                        f"{key}: a judgement neither assessor made needs a written justification."
                    )
                    continue
                answers[key] = {}
                support[key] = {}
                domains[key] = {
                    "proposed": None,
                    "judgement": judgement,
                    "justification": justification,
                    "algorithm": True,
                }
            else:
                errors[str(key)[:20]] = "Pick a, b or own."
                continue
            resolved.add(key)
        if errors:
            raise ValidationError(errors)
        finals = {k: (domains.get(k) or {}).get("judgement", "") for k in rows}
        proposed = ""
        if all(finals.values()):
            if tool["key"] == RobTool.CUSTOM:
                rank = {j: i for i, j in enumerate(tool["judgements"])}
                proposed = max(finals.values(), key=lambda j: rank.get(j, -1))
            else:
                proposed = _engine().overall_judgement(tool["key"], finals)
        if overall is None:
            wanted = consensus.overall if consensus.overall_justification else ""
            justification = consensus.overall_justification
        else:
            wanted = overall.get("judgement") or ""
            justification = clean_input_text(
                overall.get("justification", ""),
                field="overall.justification",
                max_length=MAX_TEXT,
            )
        if wanted and wanted not in tool["judgements"]:
            raise ValidationError(
                {"overall": f"{str(wanted)[:40]!r} is not a judgement of {tool['name']}."}
            )
        if wanted and wanted != proposed and not justification:
            raise ValidationError(
                {
                    "overall": f"The overall rule proposes {proposed or 'nothing yet'}; judging "
                    f"it {wanted} needs a written justification."
                }
            )
        if not wanted or wanted == proposed:
            wanted, justification = proposed, ""
        left = sorted(differing - resolved)
        if finish and left:
            raise ValidationError({"consensus": f"Still to resolve: {', '.join(left)}."})
        if finish and not wanted:
            raise ValidationError({"consensus": "The overall judgement is missing."})
        consensus.answers, consensus.support, consensus.domains = answers, support, domains
        consensus.resolved = sorted(resolved)
        consensus.d2_variant = variant
        consensus.overall_proposed, consensus.overall = proposed, wanted
        consensus.overall_justification = justification
        consensus.done = consensus.done or finish
        consensus.assessor, consensus.assessor_name = actor, ""
        consensus.save()
        changes = _changes(before, consensus)
        changes["picks"] = {
            k: (v.get("pick") if isinstance(v, dict) else v) for k, v in picks.items()
        }
        changes["assessors"] = [
            x.assessor.get_username() if x.assessor else x.assessor_name for x in (a, b)
        ]
        audit_record(
            actor=actor,
            review=review,
            verb="risk-of-bias consensus done" if finish else "risk-of-bias consensus saved",
            obj=consensus,
            changes=changes,
        )
    return consensus
