"""Reading the protocol: its versions, the plan the later steps follow, and the fingerprints.

The later steps read the *current* protocol: the latest frozen version (registered, or its
latest published amendment), or, before registration, the draft. An amendment still in draft
changes nothing until it is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from reviews.models import Review
from reviews.protocol import sections
from reviews.protocol.constants import VersionKind
from reviews.protocol.models import ProtocolVersion


def versions_of(review: Review) -> QuerySet[ProtocolVersion]:
    return ProtocolVersion.objects.filter(review=review).select_related("created_by", "frozen_by")


def draft_of(review: Review) -> ProtocolVersion | None:
    return versions_of(review).filter(frozen_at__isnull=True).first()


def registered_version(review: Review) -> ProtocolVersion | None:
    return (
        versions_of(review)
        .filter(kind=VersionKind.ORIGINAL, frozen_at__isnull=False)
        .order_by("number")
        .first()
    )


def amendments_of(review: Review) -> list[ProtocolVersion]:
    return list(
        versions_of(review)
        .filter(kind=VersionKind.AMENDMENT, frozen_at__isnull=False)
        .order_by("number")
    )


def current_version(review: Review) -> ProtocolVersion | None:
    """The protocol the review follows: the latest frozen version, else the unregistered draft."""
    frozen = versions_of(review).filter(frozen_at__isnull=False).order_by("-number").first()
    if frozen is not None:
        return frozen
    return versions_of(review).filter(kind=VersionKind.ORIGINAL).first()


def version_before(version: ProtocolVersion) -> ProtocolVersion | None:
    return (
        versions_of(version.review)
        .filter(number__lt=version.number, frozen_at__isnull=False)
        .order_by("-number")
        .first()
    )


def content_of(version: ProtocolVersion | None) -> dict[str, dict[str, Any]]:
    """The version's content for reading (every section and field; a bad stored value, which
    only a hand-made archive or a change in the database could bring, reads as empty)."""
    if version is None:
        return sections.empty_content()
    return sections.clean_content(version.content, strict=False)


def eligibility_criteria(review: Review) -> dict[str, Any] | None:
    """The current protocol's eligibility criteria, or None without a protocol."""
    version = current_version(review)
    if version is None:
        return None
    eligibility = content_of(version)["eligibility"]
    return {
        "version": version.number,
        "draft": version.is_draft,
        "inclusion": eligibility["inclusion"],
        "exclusion": eligibility["exclusion"],
        "languages": eligibility["languages"],
        "years": eligibility["years"],
        "notes": eligibility["notes"],
    }


def planned_databases(review: Review) -> list[str]:
    """The databases the current protocol plans to search, as written there."""
    version = current_version(review)
    if version is None:
        return []
    return list(content_of(version)["information_sources"]["databases"])


def synthesis_plan(review: Review) -> dict[str, Any] | None:
    """The current protocol's synthesis plan as plain data, or None without a protocol.

    For the synthesis step to pre-fill its analyses; the names are those of
    ``synthesis.stats``: ``effect_measure`` is a measure of ``escalc`` (SMD, MD, OR, RR, RD,
    ZCOR, COR, PLO, PR), ``method`` the ``method`` argument of ``meta_fit`` (FE for a common
    effect, else the tau-squared estimator: REML, DL, PM, ML, HE, SJ, EB) and ``test`` its
    ``test`` (``knha`` with the Knapp-Hartung adjustment, else ``z``). A value the protocol
    leaves open is None. Subgroups are ``{name, variable, description}``, sensitivity analyses
    ``{name, description}``, publication-bias methods among funnel, egger, rank, trimfill.
    """
    version = current_version(review)
    if version is None:
        return None
    plan = content_of(version)["synthesis"]
    model = plan["model"] or None
    estimator = plan["tau2_estimator"] or None
    method = "FE" if model == "common" else estimator
    return {
        "version": version.number,
        "draft": version.is_draft,
        "fingerprint": version.fingerprint or None,
        "effect_measure": plan["effect_measure"] or None,
        "model": model,
        "tau2_estimator": estimator if model != "common" else None,
        "method": method,
        "knapp_hartung": plan["knapp_hartung"],
        "test": "knha" if plan["knapp_hartung"] else "z",
        "heterogeneity": plan["heterogeneity"],
        "subgroups": [dict(item) for item in plan["subgroups"]],
        "sensitivity": [dict(item) for item in plan["sensitivity"]],
        "publication_bias": list(plan["publication_bias"]),
        "narrative": plan["narrative"],
    }


# --- fingerprints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FingerprintCheck:
    version: ProtocolVersion
    stored: str
    computed: str

    @property
    def ok(self) -> bool:
        return bool(self.stored) and self.stored == self.computed


def fingerprint_check(version: ProtocolVersion) -> FingerprintCheck | None:
    """The stored fingerprint against one recomputed from the content as stored now (None for
    a draft, which has none)."""
    if version.is_draft:
        return None
    return FingerprintCheck(version, version.fingerprint, sections.fingerprint(version.content))


def fingerprint_checks(review: Review) -> list[FingerprintCheck]:
    """Every frozen version of the review, read afresh from the database, checked."""
    return [
        fingerprint_check(v)
        for v in versions_of(review).filter(frozen_at__isnull=False).order_by("number")
    ]


def version_count(review: Review) -> int:
    """The dashboard's count: the protocol's versions, the draft included."""
    return ProtocolVersion.objects.filter(review=review).count()
