"""Reads of the narrative synthesis: the studies it covers, their groups, the effect direction of
each study and outcome, vote counting with the sign test, the summary of estimates, combined
p-values, the characteristics and results table and the SWiM checklist.

Every number comes from the pure ``synthesis.stats.narrative`` (checked against R): directions
with ``basis="sign"`` (the Handbook's vote counting on the direction of effect, never on
significance), ``sign_test`` (``binom.test``), ``summarise_effects`` and ``combine_p``
(``metap``'s ``sumlog``/``sumz`` with two-sided p-values made one-sided by direction). A row's
p-value is the two-sided z-test of its yi/vi unless a person entered one.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet
from scipy import special

from extraction import selectors as extraction
from extraction.models import ExtractionSnapshot
from reviews.models import Review
from synthesis.models import AnalysisResult
from synthesis.narrative.models import NarrativeDirection, NarrativeSynthesis
from synthesis.selectors import rob_of, study_fields, study_value
from synthesis.stats import StatsInputError
from synthesis.stats import narrative as stats

NO_GROUP = "(no value)"
ALL_STUDIES = "All studies"


def syntheses_of(review: Review) -> QuerySet[NarrativeSynthesis]:
    return NarrativeSynthesis.objects.filter(review=review).select_related("snapshot", "created_by")


def snapshot_for(synthesis: NarrativeSynthesis) -> ExtractionSnapshot | None:
    return synthesis.snapshot or extraction.latest_snapshot(synthesis.review)


def pooled_studies(review: Review) -> set[str]:
    """Study labels in the latest result of any analysis of ``review`` (meta-analysed)."""
    newest: dict[int, AnalysisResult] = {}
    for result in AnalysisResult.objects.filter(review=review).order_by("analysis_id", "-pk"):
        newest.setdefault(result.analysis_id, result)
    labels: set[str] = set()
    for result in newest.values():
        labels.update(r.get("study", "") for r in (result.inputs or {}).get("rows", []))
    return labels


def outcome_names(snapshot: ExtractionSnapshot | None) -> list[str]:
    if snapshot is None:
        return []
    names = {
        e.get("outcome")
        for s in snapshot.content.get("studies", [])
        for e in s.get("effects", [])
        if e.get("outcome")
    }
    return sorted(names, key=str.casefold)


def study_labels(snapshot: ExtractionSnapshot | None) -> list[str]:
    if snapshot is None:
        return []
    return [s.get("label", "") for s in snapshot.content.get("studies", [])]


def sample_size(values: dict) -> int | None:
    """The study's randomised N: the sum of its arms' ``n`` (None when none is given)."""
    total, found = 0, False
    for key, value in values.items():
        if key.startswith("arms.") and key.endswith(".n"):
            try:
                n = int(float(str(value).strip()))
            except (TypeError, ValueError):
                continue
            if n > 0:
                total += n
                found = True
    return total if found else None


def _p_from(yi: float | None, vi: float | None) -> float | None:
    """The two-sided p of the z-test yi / sqrt(vi)."""
    if yi is None or vi is None or not vi > 0:
        return None
    z = abs(yi) / math.sqrt(vi)
    return float(2.0 * special.ndtr(-z))


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def chosen_studies(synthesis: NarrativeSynthesis, snapshot: ExtractionSnapshot | None) -> list:
    """The snapshot's studies the synthesis covers, in snapshot order."""
    if snapshot is None:
        return []
    studies = snapshot.content.get("studies", [])
    if synthesis.selection == "all":
        return list(studies)
    if synthesis.selection == "chosen":
        wanted = set(synthesis.studies)
        return [s for s in studies if s.get("label") in wanted]
    pooled = pooled_studies(synthesis.review)
    return [s for s in studies if s.get("label") not in pooled]


def _group_of(synthesis: NarrativeSynthesis, study: dict) -> str:
    if not synthesis.group_by:
        return ALL_STUDIES
    value = study_value(study.get("values", {}), synthesis.group_by)
    if value is None or value == "":
        return NO_GROUP
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _row(study: dict, outcome: dict, entry: NarrativeDirection | None, rob: dict) -> dict:
    label = study.get("label", "")
    name = outcome["outcome"]
    matching = [
        e
        for e in study.get("effects", [])
        if (e.get("outcome") or "").casefold() == name.casefold()
    ]
    row: dict[str, Any] = {
        "study": label,
        "outcome": name,
        "n": sample_size(study.get("values", {})),
        "rob": rob.get(label),
        "measure": "",
        "yi": None,
        "vi": None,
        "ci_lb": None,
        "ci_ub": None,
        "derived": None,
        "direction": None,
        "source": "none",
        "p": None,
        "p_source": "",
        "reason": "",
        "set_by": "",
        "note": "",
    }
    usable = [e for e in matching if e.get("yi") is not None and e.get("vi") is not None]
    if matching and not usable:
        row["note"] = matching[0].get("problem") or "No effect size computed."
    elif not matching:
        row["note"] = "No result row for this outcome."
    if usable:
        e = usable[0]
        if len(usable) > 1:
            row["note"] = f"{len(usable)} result rows for this outcome: the first is used."
        row |= {
            "measure": e.get("measure") or "",
            "yi": float(e["yi"]),
            "vi": float(e["vi"]),
            "ci_lb": _float(e.get("ci_lb")),
            "ci_ub": _float(e.get("ci_ub")),
        }
        try:
            row["derived"] = stats.effect_direction(
                row["yi"], favourable=outcome.get("favourable", "lower"), basis="sign"
            )
        except StatsInputError as exc:
            row["note"] = str(exc)
        row["direction"] = row["derived"]
        row["source"] = "derived"
        row["p"] = _p_from(row["yi"], row["vi"])
        row["p_source"] = "z-test of yi/vi" if row["p"] is not None else ""
    if entry is not None:
        if entry.direction:
            row["direction"] = entry.direction
            row["source"] = "manual"
        if entry.p_value is not None:
            row["p"] = entry.p_value
            row["p_source"] = "entered"
        row["reason"] = entry.reason
        row["set_by"] = entry.set_by.username if entry.set_by else entry.set_by_name
    return row


def _vote(n_ben: int, n_harm: int, level: float = 95) -> tuple[dict | None, str]:
    """The sign test of ``n_ben`` beneficial against ``n_harm`` harmful, or its note."""
    try:
        t = stats.sign_test(n_ben, n_harm, level=level)
    except StatsInputError as exc:
        return None, str(exc)
    return {
        "n": t.n,
        "k": t.k,
        "proportion": t.proportion,
        "p_value": t.p_value,
        "ci_lb": t.ci_lb,
        "ci_ub": t.ci_ub,
        "level": t.level,
        "interval": t.interval,
    }, ""


def domain_of(synthesis: NarrativeSynthesis, outcome: str) -> str:
    """The outcome domain of ``outcome``: the team's mapping, else the outcome itself."""
    return (synthesis.domains or {}).get(outcome) or outcome


def domains_of(synthesis: NarrativeSynthesis) -> list[dict]:
    """``[{"domain", "outcomes": [names]}]`` in the order of their first outcome."""
    found: dict[str, list[str]] = {}
    for o in synthesis.outcomes:
        found.setdefault(domain_of(synthesis, o["outcome"]), []).append(o["outcome"])
    return [{"domain": d, "outcomes": names} for d, names in found.items()]


def _domain_numbers(synthesis: NarrativeSynthesis, members: list, outcomes: list) -> list[dict]:
    """Per outcome domain: each study's direction over its outcomes in the domain (the 70 %
    rule, ``stats.domain_direction``) and vote counting with the sign test across studies."""
    by_name = {o["outcome"]: o for o in outcomes}
    out = []
    for d in domains_of(synthesis):
        rows = []
        for s in members:
            label = s.get("label", "")
            per = {}
            for name in d["outcomes"]:
                for r in by_name[name]["rows"]:
                    if r["study"] == label:
                        per[name] = r
            combined = stats.domain_direction([r["direction"] for r in per.values()])
            first = next(iter(per.values()), {})
            rows.append(
                {
                    "study": label,
                    "n": first.get("n"),
                    "rob": first.get("rob"),
                    "direction": combined.direction,
                    "k": combined.k,
                    "n_beneficial": combined.n_beneficial,
                    "n_harmful": combined.n_harmful,
                    "n_unclear": combined.n_unclear,
                    "outcomes": {name: r["direction"] for name, r in per.items()},
                }
            )
        n_ben = sum(r["direction"] == stats.BENEFICIAL for r in rows)
        n_harm = sum(r["direction"] == stats.HARMFUL for r in rows)
        vote, note = _vote(n_ben, n_harm)
        out.append(
            {
                "domain": d["domain"],
                "outcomes": d["outcomes"],
                "rows": rows,
                "n_beneficial": n_ben,
                "n_harmful": n_harm,
                "n_unclear": sum(r["direction"] == stats.NO_CLEAR_DIFFERENCE for r in rows),
                "n_missing": sum(r["direction"] is None for r in rows),
                "vote": vote,
                "vote_note": note,
            }
        )
    return out


def _numbers(outcome: dict, rows: list[dict], level: float = 95) -> dict:
    directed = [r for r in rows if r["direction"]]
    n_ben = sum(r["direction"] == stats.BENEFICIAL for r in directed)
    n_harm = sum(r["direction"] == stats.HARMFUL for r in directed)
    out: dict[str, Any] = {
        "n_beneficial": n_ben,
        "n_harmful": n_harm,
        "n_unclear": sum(r["direction"] == stats.NO_CLEAR_DIFFERENCE for r in directed),
        "n_missing": len(rows) - len(directed),
        "vote": None,
        "vote_note": "",
        "summary": None,
        "summary_note": "",
        "combined": None,
        "combined_note": "",
    }
    out["vote"], out["vote_note"] = _vote(n_ben, n_harm, level)
    with_yi = [r for r in rows if r["yi"] is not None]
    measures = {r["measure"] for r in with_yi}
    if len(measures) > 1:
        out["summary_note"] = (
            f"The estimates use different metrics ({', '.join(sorted(measures))}): no range or "
            "median across them."
        )
    elif with_yi:
        s = stats.summarise_effects([r["yi"] for r in with_yi])
        out["summary"] = {
            "measure": next(iter(measures)),
            "k": s.k,
            "median": s.median,
            "q1": s.q1,
            "q3": s.q3,
            "min": s.min,
            "max": s.max,
        }
    method = outcome.get("combine") or ""
    if method:
        usable = [
            r
            for r in rows
            if r["p"] is not None and r["direction"] in (stats.BENEFICIAL, stats.HARMFUL)
        ]
        try:
            c = stats.combine_p(
                [r["p"] for r in usable],
                method=method,
                one_sided=False,
                directions=[r["direction"] for r in usable],
            )
        except StatsInputError as exc:
            out["combined_note"] = str(exc)
        else:
            out["combined"] = {
                "method": c.method,
                "k": c.k,
                "statistic": c.statistic,
                "df": c.df,
                "p_value": c.p_value,
                "studies": [r["study"] for r in usable],
            }
    return out


def compute(synthesis: NarrativeSynthesis) -> dict[str, Any]:
    """Everything the pages, the API, the figures and the exports show, as plain data."""
    snapshot = snapshot_for(synthesis)
    studies = chosen_studies(synthesis, snapshot)
    entries = {(d.study, d.outcome): d for d in synthesis.directions.select_related("set_by")}
    rob: dict[str, str] = {}
    if studies:
        rob, _ = rob_of(synthesis.review, "")
    groups: dict[str, list[dict]] = {}
    for s in studies:
        groups.setdefault(_group_of(synthesis, s), []).append(s)
    out_groups = []
    for value in sorted(groups, key=lambda v: (v == NO_GROUP, v.casefold())):
        members = groups[value]
        outcomes = []
        for o in synthesis.outcomes:
            rows = [
                _row(s, o, entries.get((s.get("label", ""), o["outcome"])), rob) for s in members
            ]
            outcomes.append(
                {
                    "outcome": o["outcome"],
                    "favourable": o.get("favourable", "lower"),
                    "combine": o.get("combine") or "",
                    "rows": rows,
                }
                | _numbers(o, rows)
            )
        out_groups.append(
            {
                "value": value,
                "studies": [s.get("label", "") for s in members],
                "outcomes": outcomes,
                "domains": _domain_numbers(synthesis, members, outcomes),
            }
        )
    return {
        "snapshot": {"number": snapshot.number, "sha256": snapshot.sha256} if snapshot else None,
        "group_by": synthesis.group_by,
        "selection": synthesis.selection,
        "studies": [s.get("label", "") for s in studies],
        "domains": domains_of(synthesis),
        "groups": out_groups,
    }


def plot_rows(data: dict) -> list[dict]:
    """The effect-direction plot's rows: one per study, its group, n, RoB, a direction per
    outcome domain (None when the study has none) and the number of outcomes behind it."""
    rows = []
    for g in data["groups"]:
        for label in g["studies"]:
            row = {
                "study": label,
                "group": g["value"],
                "n": None,
                "rob": None,
                "directions": {},
                "counts": {},
            }
            for d in g["domains"]:
                for r in d["rows"]:
                    if r["study"] == label:
                        row["directions"][d["domain"]] = r["direction"]
                        row["counts"][d["domain"]] = r["k"]
                        row["n"] = row["n"] or r["n"]
                        row["rob"] = row["rob"] or r["rob"]
            rows.append(row)
    return rows


DOMAIN_TABLE = ["group", "study", "n", "rob"]


def domain_table(data: dict) -> tuple[list[str], list]:
    """``(columns, rows)``: one row per study, one column per outcome domain (its combined
    direction) and one with the number of outcomes behind it."""
    names = [d["domain"] for d in data["domains"]]
    columns = [*DOMAIN_TABLE]
    for name in names:
        columns += [name, f"{name} (outcomes)"]
    rows = []
    for g in data["groups"]:
        for label in g["studies"]:
            cells: dict[str, Any] = {}
            n = rob = None
            for d in g["domains"]:
                for r in d["rows"]:
                    if r["study"] == label:
                        cells[d["domain"]] = (r["direction"] or "", r["k"])
                        n, rob = n or r["n"], rob or r["rob"]
            row = [g["value"], label, n, rob or ""]
            for name in names:
                direction, k = cells.get(name, ("", 0))
                row += [direction, k]
            rows.append(row)
    return columns, rows


# --- The characteristics and results of included studies ------------------------------------

TABLE_FIXED = [
    "group",
    "study",
    "n",
    "rob",
    "outcome",
    "domain",
    "measure",
    "yi",
    "ci_lb",
    "ci_ub",
    "p",
    "p_source",
    "direction",
    "direction_source",
    "reason",
]


def characteristics_table(synthesis: NarrativeSynthesis, data: dict) -> tuple[list[str], list]:
    """``(columns, rows)``: per study and outcome, the study-level fields extracted, then the
    result and its direction (the structured table of SWiM item 8)."""
    snapshot = snapshot_for(synthesis)
    fields = [f for f in study_fields(snapshot) if f != synthesis.group_by]
    values = {s.get("label"): s.get("values", {}) for s in chosen_studies(synthesis, snapshot)}
    columns = [*TABLE_FIXED[:4], *fields, *TABLE_FIXED[4:]]
    rows = []
    for g in data["groups"]:
        for o in g["outcomes"]:
            for r in o["rows"]:
                v = values.get(r["study"], {})
                rows.append(
                    [g["value"], r["study"], r["n"], r["rob"] or ""]
                    + [study_value(v, f) if study_value(v, f) is not None else "" for f in fields]
                    + [
                        r["outcome"],
                        domain_of(synthesis, r["outcome"]),
                        r["measure"],
                        r["yi"],
                        r["ci_lb"],
                        r["ci_ub"],
                        r["p"],
                        r["p_source"],
                        r["direction"] or "",
                        r["source"],
                        r["reason"],
                    ]
                )
    return columns, rows


# --- SWiM ------------------------------------------------------------------------------------

#: The nine items of the SWiM reporting guideline (Campbell et al. 2020, BMJ 368:l6890, table 1).
SWIM_ITEMS = [
    (
        "1",
        "Grouping studies for synthesis",
        "Provide a description of, and rationale for, the "
        "groups used in the synthesis (e.g., groupings of populations, interventions, outcomes, "
        "study design).",
    ),
    (
        "2",
        "Describe the standardised metric and transformation methods used",
        "Describe the "
        "standardised metric for each outcome. Explain why the metric(s) was chosen, and describe "
        "any methods used to transform the intervention effects, as reported in the study, to the "
        "standardised metric, citing any methodological guidance consulted.",
    ),
    (
        "3",
        "Describe the synthesis methods",
        "Describe and justify the methods used to synthesise "
        "the effects for each outcome when it was not possible to undertake a meta-analysis of "
        "effect estimates.",
    ),
    (
        "4",
        "Criteria used to prioritise results for summary and synthesis",
        "Where applicable, "
        "provide the criteria used, with supporting justification, to select the particular "
        "studies, or a particular study, for the main synthesis or to draw conclusions from the "
        "synthesis (e.g., based on study design, risk of bias assessments, directness in relation "
        "to the review question).",
    ),
    (
        "5",
        "Investigation of heterogeneity in reported effects",
        "State the method(s) used to "
        "examine heterogeneity in reported effects when it was not possible to undertake a "
        "meta-analysis of effect estimates and its extensions to investigate heterogeneity.",
    ),
    (
        "6",
        "Certainty of evidence",
        "Describe the methods used to assess certainty of the synthesis findings.",
    ),
    (
        "7",
        "Data presentation methods",
        "Describe the graphical and tabular methods used to "
        "present the effects (e.g., tables, forest plots, harvest plots). Specify key study "
        "characteristics (e.g., study design, risk of bias) used to order the studies, in the text "
        "and any tables or graphs, clearly referencing the studies included.",
    ),
    (
        "8",
        "Reporting results",
        "For each comparison and outcome, provide a description of the "
        "synthesised findings, and the certainty of the findings. Describe the result in language "
        "that is consistent with the question the synthesis addresses, and indicate which studies "
        "contribute to the synthesis.",
    ),
    (
        "9",
        "Limitations of the synthesis",
        "Report the limitations of the synthesis methods used "
        "and/or the groupings used in the synthesis, and how these affect the conclusions that can "
        "be drawn in relation to the original review question.",
    ),
]
SWIM_CITATION = (
    "Campbell M, McKenzie JE, Sowden A, et al. Synthesis without meta-analysis (SWiM) in "
    "systematic reviews: reporting guideline. BMJ 2020;368:l6890."
)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}g}"


def _domains_sentence(data: dict) -> str:
    domains = data.get("domains") or []
    if not domains:
        return ""
    parts = [f"{d['domain']} ({', '.join(d['outcomes'])})" for d in domains]
    text = f" Outcomes were grouped into {len(domains)} outcome domain(s): {'; '.join(parts)}."
    if any(len(d["outcomes"]) > 1 for d in domains):
        text += (
            " Within a study, a domain takes the direction shared by at least 70 % of its "
            "outcomes with a direction, otherwise no clear difference / conflicting (Thomson & "
            "Thomas 2013; Hilton Boon & Thomson 2021); vote counting is per domain."
        )
    else:
        text += " Each domain holds one outcome."
    return text


def swim_checklist(synthesis: NarrativeSynthesis, data: dict) -> list[dict]:
    """The nine SWiM items, each with what the app knows of it (``filled``, from what the team
    did) and the team's own text (``text``); ``gap`` when neither says anything."""
    fav = {"lower": "lower values favour the intervention", "higher": "higher values favour it"}
    outcomes = synthesis.outcomes
    metrics: dict[str, set[str]] = {}
    for g in data["groups"]:
        for o in g["outcomes"]:
            metrics.setdefault(o["outcome"], set()).update(
                r["measure"] for r in o["rows"] if r["measure"]
            )
    combine = sorted({o.get("combine") for o in outcomes if o.get("combine")})
    favourable = {o["outcome"]: o.get("favourable", "") for o in outcomes}
    manual = synthesis.directions.exclude(direction="").count()
    entered_p = synthesis.directions.exclude(p_value=None).count()
    rob_used = any(r["rob"] for g in data["groups"] for o in g["outcomes"] for r in o["rows"])
    selection = dict(
        (k, v)
        for k, v in [
            ("not_pooled", "the studies not pooled in any meta-analysis"),
            ("all", "all studies of the finalised extraction"),
            ("chosen", "a set of studies the team chose"),
        ]
    )[synthesis.selection]
    auto = {
        "1": (
            f"Studies were grouped by the extracted field “{synthesis.group_by}” into "
            f"{len(data['groups'])} group(s): {', '.join(g['value'] for g in data['groups'])}."
            if synthesis.group_by
            else "Studies were synthesised as one group."
        )
        + f" The synthesis covers {selection} ({len(data['studies'])} studies)."
        + _domains_sentence(data),
        "2": "; ".join(
            f"{name}: {', '.join(sorted(m)) or 'no computed effect size'} "
            f"({fav.get(favourable.get(name, ''), '')})"
            for name, m in metrics.items()
        )
        + (
            ". Effect sizes were computed from the extracted data with metafor's escalc formulas."
            if metrics
            else ""
        ),
        "3": (
            "Vote counting based on the direction of effect (Cochrane Handbook chapter 12): the "
            "sign of each study's point estimate, whatever its statistical significance, with "
            "the sign test (exact binomial test) and a Clopper-Pearson 95 % CI of the proportion "
            "of studies showing benefit; the median, interquartile range and range of estimates "
            "sharing a metric"
            + (
                f"; p-values combined with {' and '.join(m.title() for m in combine)}'s method "
                "(two-sided p-values made one-sided by each study's direction)"
                if combine
                else ""
            )
            + f". {manual} direction(s) were set by hand with a written reason"
            + (f"; {entered_p} p-value(s) were entered from the reports" if entered_p else "")
            + "."
        )
        if outcomes
        else "",
        "4": (
            "The studies' risk of bias (consensus overall judgements) is shown beside each "
            "direction."
            if rob_used
            else ""
        ),
        "5": (
            f"Heterogeneity was explored by comparing the directions of effect across the groups "
            f"of “{synthesis.group_by}”."
            if synthesis.group_by and len(data["groups"]) > 1
            else ""
        ),
        "6": "",
        "7": (
            "An effect-direction plot (Hilton Boon & Thomson 2021: arrows for the direction of "
            "effect, sized by sample size, shaded by risk of bias), a harvest plot and a table of "
            "the characteristics and results of the included studies, ordered by group and study."
        ),
        "8": "; ".join(
            f"{g['value']} · {o['outcome']}: {o['n_beneficial']} of "
            f"{o['n_beneficial'] + o['n_harmful']} studies with a direction showed benefit"
            + (
                f" (proportion {_fmt(o['vote']['proportion'])}, "
                f"95 % CI {_fmt(o['vote']['ci_lb'])} to "
                f"{_fmt(o['vote']['ci_ub'])}, sign test p = {_fmt(o['vote']['p_value'])})"
                if o["vote"]
                else ""
            )
            for g in data["groups"]
            for o in g["outcomes"]
        ),
        "9": "",
    }
    items = []
    for key, title, guidance in SWIM_ITEMS:
        text = (synthesis.swim or {}).get(key, "")
        items.append(
            {
                "key": key,
                "title": title,
                "guidance": guidance,
                "filled": auto.get(key, ""),
                "text": text,
                "gap": not auto.get(key) and not text,
            }
        )
    return items


def swim_markdown(synthesis: NarrativeSynthesis, data: dict) -> str:
    lines = [
        f"# SWiM reporting checklist: {synthesis.name}",
        "",
        f"Review: {synthesis.review.title}",
        "",
        f"Guideline: {SWIM_CITATION}",
        "",
    ]
    for item in swim_checklist(synthesis, data):
        lines += [f"## {item['key']}. {item['title']}", "", f"*{item['guidance']}*", ""]
        if item["filled"]:
            lines += [f"From the review's data: {item['filled']}", ""]
        if item["text"]:
            lines += [item["text"].replace("\r\n", "\n"), ""]
        if item["gap"]:
            lines += ["_Not yet reported._", ""]
    return "\n".join(lines).rstrip() + "\n"
