"""Reads of risk of bias: the review's tool, the assessments each member may see, the
comparison of two assessments, and the consensus judgements synthesis and the figures read.

Contract for synthesis (``overall_by_study``, ``high_judgements``, ``rob_tool_of``,
``domain_table``): only finished consensus assessments count; a judgement is the final one
(after any override).
"""

from __future__ import annotations

from django.db.models import QuerySet

from core.text import is_digits
from extraction.rob.models import RobAssessment, RobSettings, RobTool
from reviews.models import Review

OVERALL = "Overall"
#: RoB 2's domain 2 variants (the engine's domain ids) and how they are named to people.
D2_VARIANTS = {"assignment": "effect of assignment", "adhering": "effect of adhering"}


def settings_of(review: Review) -> RobSettings:
    """The review's settings; an unsaved default (RoB 2, per study) when a lead chose none."""
    found = RobSettings.objects.filter(review=review).first()
    return found or RobSettings(review=review)


def _engine():
    from extraction.rob import engine

    return engine


def _key(domain_id: str) -> str:
    """The stored key of an engine domain: ``D2_assignment`` and ``D2_adhering`` are ``D2``."""
    return domain_id.split("_", 1)[0]


def tool_of(settings: RobSettings) -> dict:
    """The tool as the pages need it: ``key``, ``name``, ``citation``, ``judgements`` (best
    first), ``high``, ``domains`` ``[{"id", "name", "variants": {variant: engine domain}}]``
    (``variants`` empty for a custom tool; ``{"": id}`` for a domain with one form)."""
    if settings.tool == RobTool.CUSTOM:
        return {
            "key": RobTool.CUSTOM.value,
            "name": settings.custom_name or "Custom tool",
            "citation": "",
            "judgements": list(settings.custom_judgements),
            "high": sorted(settings.custom_high),
            "domains": [
                {"id": d["id"], "name": d["name"], "variants": {}} for d in settings.custom_domains
            ],
        }
    tool = _engine().TOOLS[settings.tool]
    domains: dict[str, dict] = {}
    for d in tool.domains:
        key = _key(d.id)
        variant = d.id.split("_", 1)[1] if "_" in d.id else ""
        if key not in domains:
            domains[key] = {"id": key, "name": d.name.split(" (")[0], "variants": {}}
        domains[key]["variants"][variant] = d.id
    return {
        "key": tool.key,
        "name": tool.name,
        "citation": tool.citation,
        "judgements": list(tool.judgements),
        "high": sorted(tool.high),
        "domains": list(domains.values()),
    }


def engine_domain(tool: dict, key: str, variant: str = "") -> str | None:
    """The engine's domain id for a stored domain key (RoB 2's D2 in its variant)."""
    for d in tool["domains"]:
        if d["id"] == key:
            variants = d["variants"]
            if not variants:
                return None
            if "" in variants:
                return variants[""]
            return variants.get(variant or "assignment")
    return None


# --- The contract for synthesis and the figures ---------------------------------------------


def consensus_assessments(review: Review) -> QuerySet[RobAssessment]:
    """The finished consensus assessments of the review, by study label and outcome."""
    return (
        RobAssessment.objects.filter(review=review, kind=RobAssessment.Kind.CONSENSUS, done=True)
        .select_related("study")
        .order_by("study__label", "study_id", "outcome")
    )


def _chosen(review: Review, outcome: str) -> list[RobAssessment]:
    """One finished consensus per study: the one for ``outcome`` if given and present, else the
    per-study one."""
    by_study: dict[int, RobAssessment] = {}
    for a in consensus_assessments(review).filter(outcome__in={"", outcome or ""}):
        held = by_study.get(a.study_id)
        if held is None or (outcome and a.outcome == outcome):
            by_study[a.study_id] = a
    return sorted(by_study.values(), key=lambda a: (a.study.label, a.study_id))


def overall_by_study(review: Review, *, outcome: str = "") -> dict[str, str]:
    """Study label -> the final overall judgement of its finished consensus assessment (for
    ``outcome`` when one exists, else the per-study one); studies without one are absent."""
    return {a.study.label: a.overall for a in _chosen(review, outcome) if a.overall}


def high_judgements(review: Review) -> set[str]:
    """The judgements that count as high risk for the review's tool."""
    return set(tool_of(settings_of(review))["high"])


def rob_tool_of(review: Review) -> dict:
    """``{"key", "name", "domains": [{"id", "name"}], "judgements": [...]}`` for the figures."""
    tool = tool_of(settings_of(review))
    return {
        "key": tool["key"],
        "name": tool["name"],
        "domains": [{"id": d["id"], "name": d["name"]} for d in tool["domains"]],
        "judgements": list(tool["judgements"]),
    }


def domain_table(review: Review, *, outcome: str = "") -> list[dict]:
    """One row per study with a finished consensus: ``{"study": label, "judgements":
    {domain id: judgement, ..., "Overall": judgement}}`` (final judgements)."""
    out = []
    for a in _chosen(review, outcome):
        judgements = {
            key: (d or {}).get("judgement", "")
            for key, d in a.domains.items()
            if (d or {}).get("judgement")
        }
        judgements[OVERALL] = a.overall
        out.append({"study": a.study.label, "judgements": judgements})
    return out


# --- Assessments, blinding, status -----------------------------------------------------------


class RobStatus:
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    DONE = "done"
    CONSENSUS = "consensus"


def assessments_of(study, outcome: str = "") -> QuerySet[RobAssessment]:
    return RobAssessment.objects.filter(study=study, outcome=outcome).select_related("assessor")


def own_assessment(user, study, outcome: str = "") -> RobAssessment | None:
    return (
        assessments_of(study, outcome)
        .filter(kind=RobAssessment.Kind.ASSESSOR, assessor=user)
        .first()
    )


def consensus_of(study, outcome: str = "") -> RobAssessment | None:
    return assessments_of(study, outcome).filter(kind=RobAssessment.Kind.CONSENSUS).first()


def done_pair(study, outcome: str = "") -> list[RobAssessment]:
    """The first two assessments marked done (A and B), or fewer."""
    return list(
        assessments_of(study, outcome)
        .filter(kind=RobAssessment.Kind.ASSESSOR, done=True)
        .order_by("pk")[:2]
    )


def both_done(study, outcome: str = "") -> bool:
    """Two assessors marked theirs done: the blinding between them ends."""
    return len(done_pair(study, outcome)) >= 2


def _roles(user, review):
    from reviews.access import roles_of

    return roles_of(user=user, review=review)


def may_assess(user, review) -> bool:
    from reviews.constants import Role

    return bool(_roles(user, review) & {Role.LEAD, Role.EXTRACTOR})


def sees_all_assessments(user, review: Review, study, outcome: str = "") -> bool:
    """Both assessments are open to a lead who did not assess this study (and outcome), and to
    every lead and extractor once both are done; an assessor never sees the other's answers or
    judgements before. Other roles read the finished consensus only."""
    from reviews.constants import Role

    held = _roles(user, review)
    if not held & {Role.LEAD, Role.EXTRACTOR}:
        return False
    if both_done(study, outcome):
        return True
    return Role.LEAD in held and own_assessment(user, study, outcome) is None


def visible_assessments(user, review: Review, study, outcome: str = "") -> list[RobAssessment]:
    """The assessor assessments ``user`` may read: their own, the others' only when
    ``sees_all_assessments``."""
    found = list(assessments_of(study, outcome).filter(kind=RobAssessment.Kind.ASSESSOR))
    if sees_all_assessments(user, review, study, outcome):
        return found
    return [a for a in found if a.assessor_id == user.pk and a.assessor_id is not None]


def visible_consensus(user, review: Review, study, outcome: str = "") -> RobAssessment | None:
    """The consensus: finished, to every member; in progress, to leads and extractors."""
    consensus = consensus_of(study, outcome)
    if consensus is None or consensus.done or may_assess(user, review):
        return consensus
    return None


def status_of(rows: list[RobAssessment]) -> str:
    if any(a.kind == RobAssessment.Kind.CONSENSUS and a.done for a in rows):
        return RobStatus.CONSENSUS
    mine = [a for a in rows if a.kind == RobAssessment.Kind.ASSESSOR]
    if not mine:
        return RobStatus.NOT_STARTED
    if sum(a.done for a in mine) >= 2:
        return RobStatus.DONE
    return RobStatus.IN_PROGRESS


def outcome_names_by_study(review: Review) -> dict[int, set[str]]:
    """Study id -> the outcome names its extractions (consensus and extractors') name."""
    from extraction.models import Extraction

    out: dict[int, set[str]] = {}
    rows = Extraction.objects.filter(review=review).values_list("study_id", "values")
    for study_id, values in rows:
        for key, value in (values or {}).items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "outcomes" and parts[2] == "name" and value:
                name = str(value).strip()
                if name:
                    out.setdefault(study_id, set()).add(name)
    return out


def outcome_names(review: Review) -> list[str]:
    """The outcome names of the review's extractions (consensus and extractors' values), sorted;
    a per-outcome assessment names one of them."""
    return sorted({n for names in outcome_names_by_study(review).values() for n in names})


def overview(review: Review) -> list[dict]:
    """One row per study (per-outcome reviews: one per outcome its extractions name or that
    was assessed, else the per-study row): ``{"study", "outcome", "status", "overall"}``;
    ``overall`` is the finished consensus's only."""
    from extraction.models import Study

    settings = settings_of(review)
    rows: dict[tuple[int, str], list[RobAssessment]] = {}
    for a in RobAssessment.objects.filter(review=review):
        rows.setdefault((a.study_id, a.outcome), []).append(a)
    named = outcome_names_by_study(review) if settings.per_outcome else {}
    out = []
    for study in Study.objects.filter(review=review).order_by("label", "pk"):
        outcomes = sorted({o for (sid, o) in rows if sid == study.pk} | {""})
        if settings.per_outcome:
            outcomes = sorted({o for o in outcomes if o} | named.get(study.pk, set())) or [""]
        for outcome in outcomes:
            found = rows.get((study.pk, outcome), [])
            consensus = next(
                (a for a in found if a.kind == RobAssessment.Kind.CONSENSUS and a.done), None
            )
            out.append(
                {
                    "study": study,
                    "outcome": outcome,
                    "status": status_of(found),
                    "overall": consensus.overall if consensus else "",
                    "assessors": sum(a.kind == RobAssessment.Kind.ASSESSOR for a in found),
                }
            )
    return out


def comparison(a: RobAssessment, b: RobAssessment, tool: dict) -> list[dict]:
    """Per domain: both judgements (with overrides), each question's two answers, and whether
    they differ (``differs``: the judgement, the variant or any answer)."""
    out = []
    for d in tool["domains"]:
        key = d["id"]
        da, db = a.domains.get(key) or {}, b.domains.get(key) or {}
        qa, qb = a.answers.get(key) or {}, b.answers.get(key) or {}
        questions = []
        for q in sorted(set(qa) | set(qb), key=_question_order):
            questions.append(
                {
                    "id": q,
                    "a": qa.get(q, ""),
                    "b": qb.get(q, ""),
                    "differs": qa.get(q, "") != qb.get(q, ""),
                    "support_a": (a.support.get(key) or {}).get(q, ""),
                    "support_b": (b.support.get(key) or {}).get(q, ""),
                }
            )
        variant_differs = key == "D2" and a.d2_variant != b.d2_variant and bool(d["variants"])
        out.append(
            {
                "id": key,
                "name": d["name"],
                "a": da,
                "b": db,
                "variant_a": a.d2_variant if key == "D2" else "",
                "variant_b": b.d2_variant if key == "D2" else "",
                "questions": questions,
                "differs": da.get("judgement", "") != db.get("judgement", "")
                or variant_differs
                or any(q["differs"] for q in questions),
            }
        )
    return out


def _question_order(qid: str):
    return [int(p) if is_digits(p) else 0 for p in qid.split(".")]


def table_rows(review: Review) -> list[dict]:
    """Every finished consensus as a row of the export: study, outcome, tool, each domain's
    proposed and final judgement and justification, overall likewise, who and when."""
    tool = tool_of(settings_of(review))
    out = []
    for a in consensus_assessments(review):
        row = {
            "study": a.study.label,
            "outcome": a.outcome,
            "tool": tool["name"],
            "d2_variant": a.d2_variant,
        }
        for d in tool["domains"]:
            found = a.domains.get(d["id"]) or {}
            row[f"{d['id']}"] = found.get("judgement", "")
            row[f"{d['id']}.proposed"] = found.get("proposed") or ""
            row[f"{d['id']}.justification"] = found.get("justification", "")
        row["overall"] = a.overall
        row["overall.proposed"] = a.overall_proposed
        row["overall.justification"] = a.overall_justification
        row["consensus_by"] = a.assessor.get_username() if a.assessor else a.assessor_name
        row["updated_at"] = a.updated_at.isoformat(timespec="seconds")
        out.append(row)
    return out


def table_fingerprint(review: Review) -> str:
    """A SHA-256 of the tool and the consensus table: the figures' cache key."""
    import hashlib
    import json

    payload = {"tool": rob_tool_of(review), "table": domain_table(review)}
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
