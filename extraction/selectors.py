"""Reads of data extraction: the included reports, their studies and the suggested links.

The reports are the primary records included at full-text assessment (screening's decision,
read at the moment of asking). A link whose record is no longer included (a decision changed)
stays but is not counted: the study counts only its included reports.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from extraction.constants import TITLE_SIMILARITY
from extraction.models import Study, StudyReport
from identification.models import Record
from reviews.models import Review
from screening.constants import ItemStatus, Stage


def included_reports(review: Review) -> QuerySet[Record]:
    """The records (reports) included at full text, oldest publication first."""
    return (
        Record.objects.filter(
            review=review,
            duplicate_of__isnull=True,
            screening_items__stage=Stage.FULL_TEXT,
            screening_items__status=ItemStatus.INCLUDED,
        )
        .select_related("fulltext_report")
        .order_by("year", "pk")
    )


def studies_of(review: Review) -> QuerySet[Study]:
    """The review's studies with their links (and each link's record)."""
    return Study.objects.filter(review=review).prefetch_related(
        Prefetch("links", queryset=StudyReport.objects.select_related("record", "linked_by"))
    )


def unlinked_reports(review: Review) -> QuerySet[Record]:
    """Included reports no person has linked to a study yet (each one study, for now)."""
    return included_reports(review).filter(study_link__isnull=True)


def studies_included(review: Review) -> int:
    """PRISMA's "Studies included in review": the studies with an included report, and every
    included report not linked yet (a study of its own until someone links it)."""
    included = included_reports(review)
    linked = (
        StudyReport.objects.filter(review=review, record__in=included)
        .values("study")
        .distinct()
        .count()
    )
    return linked + included.filter(study_link__isnull=True).count()


def reports_of_included_studies(review: Review) -> int:
    return included_reports(review).count()


# --- Suggestions ------------------------------------------------------------------------------

#: Trial registry identifiers: ClinicalTrials.gov, ISRCTN, ANZCTR, EU CTR, DRKS, ChiCTR, CTRI,
#: the WHO's UTN, JPRN and the Netherlands' NTR.
REGISTRY_ID = re.compile(
    r"\b(NCT\d{8}|ISRCTN\d{8}|ACTRN\d{14}|\d{4}-\d{6}-\d{2}|DRKS\d{8}|ChiCTR[-\w]{6,20}"
    r"|CTRI/\d{4}/\d{2,3}/\d{6}|U\d{4}-\d{4}-\d{4}|UMIN\d{9}|NTR\d{3,5})\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


def registry_ids(record: Record) -> set[str]:
    """The trial registry ids a record mentions (title, abstract, keywords, accession)."""
    text = " ".join(
        [record.title, record.abstract, record.accession_number, " ".join(record.keywords or [])]
    )
    return {m.upper() for m in REGISTRY_ID.findall(text)}


def first_author_key(record: Record) -> str:
    name = record.first_author.split(",")[0].strip() if record.first_author else ""
    return name.casefold()


def _title_words(record: Record) -> str:
    return " ".join(_WORD.findall(record.title.casefold()))


@dataclass
class Suggestion:
    """A report not linked yet, and what it may belong to: a study, or other unlinked reports
    (to make a study of together), each with the reason."""

    record: Record
    studies: list[tuple[Study, str]] = field(default_factory=list)
    reports: list[tuple[Record, str]] = field(default_factory=list)


def _reason(a: Record, b: Record, a_ids: set[str], b_ids: set[str]) -> str | None:
    shared = sorted(a_ids & b_ids)
    if shared:
        return f"same trial registry id {shared[0]}"
    if (
        a.year
        and a.year == b.year
        and first_author_key(a)
        and first_author_key(a) == (first_author_key(b))
    ):
        return "same first author and year"
    ta, tb = _title_words(a), _title_words(b)
    if ta and tb and difflib.SequenceMatcher(None, ta, tb).ratio() >= TITLE_SIMILARITY:
        return "similar title"
    return None


def suggestions(review: Review) -> list[Suggestion]:
    """For every unlinked included report, the studies and unlinked reports it may be one with.

    Suggested when reports share a trial registry id, the first author and the year, or a title
    (nearly); a person confirms each link. Comparisons are pairwise over the review's included
    reports, which number in the tens or hundreds.
    """
    included = list(included_reports(review).select_related("study_link__study"))
    ids = {r.pk: registry_ids(r) for r in included}
    unlinked = [r for r in included if not hasattr(r, "study_link")]
    linked = [r for r in included if hasattr(r, "study_link")]
    out = []
    for record in unlinked:
        suggestion = Suggestion(record)
        by_study: dict[int, tuple[Study, str]] = {}
        for other in linked:
            reason = _reason(record, other, ids[record.pk], ids[other.pk])
            study = other.study_link.study
            if reason and study.pk not in by_study:
                by_study[study.pk] = (study, reason)
        suggestion.studies = list(by_study.values())
        for other in unlinked:
            if other.pk == record.pk:
                continue
            reason = _reason(record, other, ids[record.pk], ids[other.pk])
            if reason:
                suggestion.reports.append((other, reason))
        if suggestion.studies or suggestion.reports:
            out.append(suggestion)
    return out


def study_label_for(record: Record) -> str:
    """A study's default label from a report: "Smith 2019"."""
    author = record.first_author.split(",")[0].strip() if record.first_author else "Anon."
    return f"{author} {record.year or 'n.d.'}"


def study_of_record(review: Review) -> dict[int, Study]:
    """Each linked record's study, for the exports."""
    links = StudyReport.objects.filter(review=review).select_related("study")
    return {link.record_id: link.study for link in links}


def counts(review: Review) -> dict[str, int]:
    """The studies page's and the API's numbers."""
    reports = included_reports(review).count()
    unlinked = unlinked_reports(review).count()
    return {
        "studies": studies_included(review),
        "reports": reports,
        "unlinked_reports": unlinked,
    }


def group_links(study: Study) -> dict[str, list[StudyReport]]:
    """A study's links parted into included reports and reports no longer included."""
    included = set(
        included_reports(study.review).filter(study_link__study=study).values_list("pk", flat=True)
    )
    parts: dict[str, list[StudyReport]] = defaultdict(list)
    for link in study.links.all():
        parts["included" if link.record_id in included else "not_included"].append(link)
    return parts


# --- Forms and extractions (issue 16, parts 2-5) ----------------------------------------------


def form_of(review: Review):
    from extraction.models import ExtractionForm

    return ExtractionForm.objects.filter(review=review).first()


def latest_version(review: Review):
    from extraction.models import FormVersion

    return FormVersion.objects.filter(review=review).order_by("-number").first()


def extractions_of(study: Study):
    from extraction.models import Extraction

    return Extraction.objects.filter(study=study).select_related("extractor", "form_version")


def own_extraction(user, study: Study):
    from extraction.models import Extraction

    return extractions_of(study).filter(kind=Extraction.Kind.EXTRACTOR, extractor=user).first()


def consensus_of(study: Study):
    from extraction.models import Extraction

    return extractions_of(study).filter(kind=Extraction.Kind.CONSENSUS).first()


def both_done(study: Study) -> bool:
    """Two extractors marked their extraction done: the blinding between them ends."""
    from extraction.models import Extraction

    return (
        Extraction.objects.filter(study=study, kind=Extraction.Kind.EXTRACTOR, done=True).count()
        >= 2
    )


def sees_all_extractions(user, review: Review, study: Study) -> bool:
    """Leads always; every other member once both extractions are done (as screening's votes
    are hidden until both voted)."""
    from reviews.access import roles_of
    from reviews.constants import Role

    return Role.LEAD in roles_of(user=user, review=review) or both_done(study)


def visible_extractions(user, review: Review, study: Study) -> list:
    """The extractor extractions ``user`` may read: their own, and the others' only when
    ``sees_all_extractions``; the consensus is shown separately (``consensus_of``)."""
    from extraction.models import Extraction

    found = list(extractions_of(study).filter(kind=Extraction.Kind.EXTRACTOR))
    if sees_all_extractions(user, review, study):
        return found
    return [e for e in found if e.extractor_id == user.pk]


def study_status(study: Study) -> str:
    from extraction.constants import StudyStatus
    from extraction.models import Extraction

    rows = list(extractions_of(study))
    if any(e.kind == Extraction.Kind.CONSENSUS and e.done for e in rows):
        return StudyStatus.CONSENSUS
    mine = [e for e in rows if e.kind == Extraction.Kind.EXTRACTOR]
    if not mine:
        return StudyStatus.NOT_STARTED
    if sum(e.done for e in mine) >= 2:
        return StudyStatus.DONE
    return StudyStatus.IN_PROGRESS


def with_status(studies) -> list[Study]:
    """The studies, each with ``extraction_status`` (not started ... consensus)."""
    out = list(studies)
    for s in out:
        s.extraction_status = study_status(s)
    return out


def value_text(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def label_of(schema: dict, key: str) -> str:
    from extraction import schema as forms

    f = forms.field_of(schema, key)
    if f is None:
        return key
    parts = key.split(".")
    if len(parts) == 3:
        return f"{parts[0].rstrip('s').capitalize()} {int(parts[1]) + 1}: {f['label']}"
    return f["label"]


def comparison(study: Study, schema: dict) -> list[dict]:
    """Every key either extractor filled: both values, whether they differ, and the
    consensus value when there is one. Only for readers who ``sees_all_extractions``."""
    from extraction.models import Extraction

    pair = list(extractions_of(study).filter(kind=Extraction.Kind.EXTRACTOR).order_by("pk")[:2])
    consensus = consensus_of(study)
    a = pair[0].values if pair else {}
    b = pair[1].values if len(pair) > 1 else {}
    keys = sorted(set(a) | set(b), key=_key_order(schema))
    out = []
    for key in keys:
        va, vb = a.get(key, ""), b.get(key, "")
        if va in ("", []) and vb in ("", []):
            continue
        out.append(
            {
                "key": key,
                "label": label_of(schema, key),
                "a": value_text(va),
                "b": value_text(vb),
                "differs": va != vb,
                "consensus": value_text(consensus.values.get(key, "")) if consensus else "",
                "resolved": bool(consensus and key in consensus.resolved),
            }
        )
    return out


def _key_order(schema: dict):
    from extraction import schema as forms

    order = {k: i for i, k in enumerate(forms.fields_by_key(schema))}

    def sort_key(key: str):
        parts = key.split(".")
        if len(parts) == 3:
            return (order.get(forms.pattern_of(key), 10**6), int(parts[1]), key)
        return (order.get(key, 10**6), 0, key)

    return sort_key


def sections_for(schema: dict, values: dict, problems: dict | None = None) -> dict:
    """What the extraction page shows: the sections' fields with their values, the groups'
    rows (filled ones and one empty row), and the values of fields the form no longer has."""
    from extraction import schema as forms

    problems = problems or {}

    def cell(f: dict, key: str) -> dict:
        value = values.get(key, [] if f["type"] == forms.MULTIPLE else "")
        return {**f, "name": key, "value": value, "problem": problems.get(key, "")}

    sections = [
        {"title": s["title"], "fields": [cell(f, f["key"]) for f in s["fields"]]}
        for s in schema.get("sections", [])
    ]
    groups = {}
    for group in (*forms.GROUPS, "results"):
        fields = forms.RESULT_FIELDS if group == "results" else schema.get(group, [])
        used = forms.rows(values, group)
        numbers = [*used, max(used, default=-1) + 1]
        groups[group] = [
            {"number": i + 1, "cells": [cell(f, f"{group}.{i}.{f['key']}") for f in fields]}
            for i in numbers
        ]
    known = forms.fields_by_key(schema)
    earlier = [
        {"key": k, "value": value_text(v)}
        for k, v in sorted(values.items())
        if forms.pattern_of(k) not in known and v not in ("", [])
    ]
    return {"sections": sections, "groups": groups, "earlier": earlier}


def effect_sizes(study: Study) -> list[dict]:
    """The effect size of every consensus result row, with the measure its outcome chose,
    computed by synthesis.stats (metafor's escalc conventions); a row that cannot be computed
    says why."""
    from extraction.effects import row_effects

    consensus = consensus_of(study)
    if consensus is None or not consensus.done:
        return []
    return row_effects(consensus.values)


# --- Snapshots (part 6) -----------------------------------------------------------------------


def snapshot_content(review: Review) -> dict:
    """What finalising freezes now: every study whose consensus is done, with its values, the
    form version they were saved with and their effect sizes; and the studies left out.

    No database ids: a review copied through its archive keeps its snapshots current."""
    from extraction.effects import row_effects
    from extraction.models import Extraction

    done = {
        e.study_id: e
        for e in Extraction.objects.filter(
            review=review, kind=Extraction.Kind.CONSENSUS, done=True
        ).select_related("form_version")
    }
    studies, left_out = [], []
    for study in studies_of(review):
        consensus = done.get(study.pk)
        if consensus is None:
            left_out.append({"label": study.label})
            continue
        studies.append(
            {
                "label": study.label,
                "reports": [_report_citation(link.record) for link in study.links.all()],
                "form_version": consensus.form_version.number,
                "values": consensus.values,
                "effects": row_effects(consensus.values),
            }
        )
    return {"studies": studies, "left_out": left_out}


def _report_citation(record: Record) -> str:
    return f"{record.first_author or 'Anon.'} ({record.year or 'n.d.'}). {record.title}".strip()


def content_fingerprint(content: dict) -> str:
    from reviews.protocol.sections import fingerprint

    return fingerprint(content)


def snapshots_of(review: Review):
    from extraction.models import ExtractionSnapshot

    return ExtractionSnapshot.objects.filter(review=review).select_related("created_by")


def latest_snapshot(review: Review):
    return snapshots_of(review).order_by("-number").first()


def snapshot_is_stale(snapshot, current_sha: str | None = None) -> bool:
    """A newer snapshot exists, or the consensus (as finalising would freeze it) changed since."""
    if snapshots_of(snapshot.review).filter(number__gt=snapshot.number).exists():
        return True
    if current_sha is None:
        current_sha = content_fingerprint(snapshot_content(snapshot.review))
    return current_sha != snapshot.sha256


def snapshots_with_stale(review: Review) -> list:
    """The review's snapshots, newest first, each with ``is_stale`` worked out once."""
    found = list(snapshots_of(review).order_by("-number"))
    if not found:
        return found
    current = content_fingerprint(snapshot_content(review))
    for i, snap in enumerate(found):
        snap.is_stale = i > 0 or current != snap.sha256
    return found


def export_source(review: Review, snapshot=None) -> tuple[list[dict], dict, str]:
    """What an export writes: the studies (of ``snapshot``, else of the current finished
    consensus), the form schema naming the columns, and the file's base name."""
    version = latest_version(review)
    schema = version.schema if version else {}
    if snapshot is not None:
        return (
            snapshot.content.get("studies", []),
            schema,
            f"{review.slug}-extraction-snapshot-{snapshot.number}",
        )
    return snapshot_content(review)["studies"], schema, f"{review.slug}-extraction-current"
