"""Every route of the site, for every persona, with the status each must get; and every page,
fragment, API answer and CSV that reviewer A can read, checked for what blinding hides.

The world (``persona_world.py``): in the review ``exercise`` blinded dual screening is under way
(one record where A voted include and B exclude, a conflict; records only A voted on; a record
only B voted on; a conflict at full text), and ``elsewhere`` is a second review, led by the
outsider. The personas: ``lead``, ``reviewer`` (A), ``viewer``, ``outsider`` (a member of
``elsewhere`` only) and ``anonymous``.

``EXPECTED`` names every route: a route without an entry fails the walk ("every route has an
expected status"), so a new page or API route must say who may use it. Writes are sent with a
valid body where the view validates before it checks the role (``PAYLOADS``), so that a refusal
shows as 403 and not as a form error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from tests.reviews.persona_world import B_MARKERS, JOB_SECRET, World, build_world
from tests.reviews.routes import all_routes, build_path, has_pk, is_review_scoped

PERSONAS = ["lead", "reviewer", "viewer", "outsider", "anonymous"]
METHODS = ["get", "post", "put", "patch", "delete"]

SIGNED_IN = frozenset({"lead", "reviewer", "viewer", "outsider"})
PUBLIC = SIGNED_IN | {"anonymous"}
MEMBER = frozenset({"lead", "reviewer", "viewer"})
SCREENER = frozenset({"lead", "reviewer"})
LEAD = frozenset({"lead"})
#: Conflicts may be resolved by leads and reviewers who did not vote on the record; A voted on
#: every conflict of the world, so only the lead may resolve them.
RESOLVER = LEAD
#: A vote is its voter's own: the route's sample is A's vote; anyone else gets 404 for it.
VOTER = frozenset({"reviewer"})

READ = frozenset({200})
WRITE = frozenset({200, 201, 202, 204, 302})


@dataclass(frozen=True)
class Allow:
    """Who may use a route with one method, what they get, and what the others get."""

    who: frozenset[str]
    ok: frozenset[int] = READ
    refused: int = 403  # a member without the role


def rule(*, any_method: Allow | None = None, **methods: Allow) -> dict[str, Allow]:
    """``any_method``: the view answers every method alike (a read-only page that does not
    refuse POST: harmless, there is nothing to write, but noted in docs/reliability.md)."""
    if any_method is not None:
        return dict.fromkeys(METHODS, any_method)
    return methods


def read(who=MEMBER, ok=READ) -> Allow:
    return Allow(frozenset(who), frozenset(ok))


def write(who, ok=WRITE, refused: int = 403) -> Allow:
    return Allow(frozenset(who), frozenset(ok), refused)


EXPECTED: dict[str, dict[str, Allow]] = {
    # The site
    "home": rule(get=read(SIGNED_IN, {302})),
    "health": rule(get=read(PUBLIC)),
    "signup": rule(get=read(PUBLIC, {200, 302}), post=write(PUBLIC, {200, 302})),
    "login": rule(get=read(PUBLIC), post=write(PUBLIC, {200}), put=write(PUBLIC, {200})),
    "logout": rule(post=write(PUBLIC, {302})),
    "password_change": rule(
        get=read(SIGNED_IN), post=write(SIGNED_IN, {200}), put=write(SIGNED_IN, {200})
    ),
    "password_change_done": rule(get=read(SIGNED_IN)),
    "api-token": rule(post=write(PUBLIC, {400})),
    "api-schema": rule(get=read(PUBLIC)),
    "api-docs": rule(get=read(PUBLIC)),
    "reviews:list": rule(get=read(SIGNED_IN)),
    "reviews:create": rule(get=read(SIGNED_IN), post=write(SIGNED_IN, {200})),
    "reporting:import": rule(get=read(SIGNED_IN), post=write(SIGNED_IN, {200, 400})),
    "api-review-list": rule(get=read(SIGNED_IN), post=write(SIGNED_IN, {400})),
    # The review and its team
    "reviews:dashboard": rule(get=read()),
    "reviews:settings": rule(get=read(LEAD), post=write(LEAD)),
    "reviews:team": rule(get=read(), post=write(LEAD, {400})),
    "reviews:team_bulk": rule(post=write(LEAD, {400})),
    "reviews:team_remove": rule(post=write(LEAD)),
    "reviews:team_invite": rule(get=read(LEAD), post=write(LEAD, {400})),
    # No invitation named (as a forged id): 404 for the lead too.
    "reviews:team_invite_revoke": rule(post=write(LEAD, {404})),
    # An invitation's link; the walk's token is no invitation's: 404 for everyone.
    "invitation": rule(get=read(PUBLIC, {404}), post=write(PUBLIC, {404})),
    "reviews:audit": rule(get=read(LEAD)),
    "reviews:jobs": rule(get=read()),
    "reviews:job": rule(get=read()),
    "api-review-detail": rule(get=read(), put=write(LEAD, {200, 400}), patch=write(LEAD)),
    "api-membership-list": rule(get=read(), post=write(LEAD, {400})),
    "api-membership-detail": rule(get=read(), delete=write(LEAD, {400})),
    "api-job-list": rule(get=read(), post=write(LEAD, {202})),
    "api-job-detail": rule(get=read()),
    "api-audit-list": rule(get=read(LEAD)),
    # Identification
    "identification:searches": rule(get=read(), post=write(LEAD)),
    "identification:search": rule(get=read(), post=write(LEAD)),
    "identification:search_edit": rule(get=read(LEAD), post=write(LEAD)),
    # The sample search has screened records: deleting it is refused (a 400 saying why).
    "identification:search_delete": rule(get=read(LEAD), post=write(LEAD, {400})),
    "identification:batch_mapping": rule(get=read(LEAD), post=write(LEAD, {400})),
    "identification:records": rule(get=read()),
    "identification:record": rule(get=read()),
    "identification:rounds": rule(get=read(), post=write(LEAD)),
    "api-round-list": rule(get=read(), post=write(LEAD, {201})),
    "api-search-list": rule(get=read(), post=write(LEAD, {201})),
    "api-search-detail": rule(
        get=read(),
        put=write(LEAD, {200}),
        patch=write(LEAD, {200}),
        delete=write(LEAD, {400}),
    ),
    "api-search-files": rule(get=read(), post=write(LEAD, {202})),
    "api-record-list": rule(get=read()),
    "api-record-detail": rule(get=read()),
    # Deduplication
    "deduplication:dedup": rule(get=read()),
    "deduplication:dedup_rerun": rule(post=write(LEAD)),
    "deduplication:dedup_queue": rule(get=read(SCREENER)),
    "deduplication:dedup_decide": rule(post=write(SCREENER)),
    "deduplication:dedup_unmerge": rule(post=write(SCREENER)),
    "deduplication:dedup_primary": rule(post=write(SCREENER)),
    "api-dedup": rule(get=read()),
    "api-dedup-run": rule(post=write(LEAD, {202})),
    "api-dedup-clusters": rule(get=read()),
    "api-dedup-pairs": rule(get=read(SCREENER)),
    "api-dedup-pair": rule(get=read(SCREENER)),
    "api-dedup-decide": rule(post=write(SCREENER, {200})),
    # The sample record is merged with no other: undoing or choosing a primary is a 400.
    "api-dedup-unmerge": rule(post=write(SCREENER, {400})),
    "api-dedup-primary": rule(post=write(SCREENER, {400})),
    # Screening pages
    "screening:home": rule(get=read(ok={302})),
    "screening:settings": rule(get=read(LEAD), post=write(LEAD, {200, 302, 400})),
    "screening:agreement": rule(get=read()),
    "screening:prioritisation": rule(get=read()),
    "screening:ranking": rule(post=write(LEAD, {400})),
    "screening:stop": rule(post=write(LEAD, {400})),
    "screening:stop_csv": rule(get=read()),
    "screening:stop_md": rule(get=read()),
    "screening:reason_edit": rule(post=write(LEAD)),
    "screening:reason_move": rule(post=write(LEAD)),
    "screening:reason_delete": rule(post=write(LEAD)),
    "screening:ta_reason_add": rule(post=write(LEAD)),
    "screening:ft_reason_add": rule(post=write(LEAD)),
    "screening:ft_report": rule(post=write(SCREENER)),
    "screening:ft_report_file": rule(get=read()),
    "screening:ft_not_retrieved": rule(post=write(SCREENER)),
    "screening:ta": rule(get=read()),
    "screening:ft": rule(get=read()),
    "screening:ta_screen": rule(get=read(SCREENER)),
    "screening:ft_screen": rule(get=read(SCREENER)),
    "screening:ta_next": rule(get=read(SCREENER)),
    "screening:ft_next": rule(get=read(SCREENER)),
    "screening:ta_vote": rule(post=write(SCREENER)),
    "screening:ft_vote": rule(post=write(SCREENER)),
    "screening:ta_undo": rule(post=write(SCREENER)),
    "screening:ft_undo": rule(post=write(SCREENER)),
    "screening:ta_conflicts": rule(get=read(SCREENER)),
    "screening:ft_conflicts": rule(get=read(SCREENER)),
    "screening:ta_resolve": rule(post=write(RESOLVER)),
    "screening:ft_resolve": rule(post=write(RESOLVER)),
    # Reporting
    "reporting:audit_csv": rule(get=read(LEAD)),
    "reporting:archive": rule(get=read(LEAD)),
    "reporting:prisma": rule(get=read(), post=write(LEAD, {200, 302, 400})),
    "reporting:prisma_download": rule(get=read()),
    "reporting:records_export": rule(get=read()),
    "reporting:report_export": rule(get=read()),
    "reporting:agreement_csv": rule(get=read()),
    "reporting:ta_votes_csv": rule(get=read()),
    "reporting:ft_votes_csv": rule(get=read()),
    "api-prisma": rule(get=read()),
    "api-prisma-entries": rule(get=read(), patch=write(LEAD, {200})),
    "api-prisma-file": rule(get=read()),
    "reporting:changelog": rule(get=read()),
    "reporting:changelog_md": rule(get=read()),
    "api-changelog": rule(get=read()),
    "api-changelog-md": rule(get=read()),
    "api-report-export": rule(get=read()),
    "api-records-csv": rule(get=read()),
    "api-records-ris": rule(get=read()),
    "api-audit-csv": rule(get=read(LEAD)),
    "api-agreement-csv": rule(get=read()),
    "api-screening-ta-votes-csv": rule(get=read()),
    "api-screening-ft-votes-csv": rule(get=read()),
    # Screening's settings, keywords and exclusion reasons: members read, leads change.
    "api-screening-settings": rule(get=read(), patch=write(LEAD, {200})),
    "api-screening-ranking": rule(get=read(LEAD), patch=write(LEAD, {400})),
    "api-screening-stopping": rule(get=read()),
    "api-screening-stop-decisions": rule(get=read(), post=write(LEAD, {400})),
    "api-screening-keywords": rule(get=read(), patch=write(LEAD, {200})),
    "api-screening-reasons": rule(get=read(), post=write(LEAD, {201})),
    # The sample reason is used by votes: it can be retired, not deleted (a 400).
    "api-screening-reason": rule(
        get=read(), patch=write(LEAD, {200}), delete=write(LEAD, {204, 400})
    ),
    "api-screening-reason-move": rule(post=write(LEAD, {200})),
    # The protocol: members read every version, leads write, register and amend. The world's
    # protocol is registered (version 1) with an amendment in draft (version 2).
    "protocol:home": rule(get=read()),
    "protocol:edit": rule(get=read(LEAD), post=write(LEAD, {302})),
    "protocol:register": rule(get=read(LEAD), post=write(LEAD, {400})),
    "protocol:amend": rule(get=read(LEAD), post=write(LEAD, {302})),
    "protocol:discard": rule(post=write(LEAD, {302})),
    "protocol:diff": rule(get=read()),
    "protocol:version": rule(get=read()),
    "protocol:version_download": rule(get=read()),
    "api-protocol-versions": rule(get=read()),
    "api-protocol-version": rule(get=read()),
    "api-protocol-version-download": rule(get=read()),
    "api-protocol-draft": rule(
        put=write(LEAD, {200}), patch=write(LEAD, {200}), delete=write(LEAD, {204})
    ),
    "api-protocol-register": rule(post=write(LEAD, {400})),  # registered already
    "api-protocol-amend": rule(post=write(LEAD, {201})),
    "api-protocol-diff": rule(get=read()),
    "api-protocol-synthesis-plan": rule(get=read()),
    "api-protocol-deviations": rule(get=read()),
    "reporting:deviations": rule(get=read()),
    "reporting:deviations_download": rule(get=read()),
    "screening:reasons_from_protocol": rule(post=write(LEAD, {302})),
    # Data extraction: members read; extractors (and leads) link reports to studies. The
    # sample study has no report: linking nothing or unlinking nothing is a 400 past the role.
    "extraction:studies": rule(get=read()),
    "extraction:study_create": rule(post=write(LEAD, {302})),
    "extraction:study": rule(get=read(), post=write(LEAD, {302})),
    "extraction:study_link": rule(post=write(LEAD, {302})),
    "extraction:study_unlink": rule(post=write(LEAD, {302})),
    "extraction:study_delete": rule(post=write(LEAD, {302})),
    "api-studies": rule(get=read(), post=write(LEAD, {400})),
    "api-study-counts": rule(get=read()),
    "api-study-suggestions": rule(get=read()),
    "api-study": rule(get=read(), patch=write(LEAD, {200}), delete=write(LEAD, {204})),
    "api-study-link": rule(post=write(LEAD, {400})),
    "api-study-unlink": rule(post=write(LEAD, {400})),
    # Extraction forms, dual extraction and consensus: leads manage the form and the consensus,
    # extractors (and leads) extract, members read. The world's study has A's and B's
    # extractions, neither done; the lead has none, so its empty writes are 400s (302 on pages).
    "extraction:form": rule(get=read(), post=write(LEAD, {302})),
    "extraction:extract": rule(get=read(), post=write(LEAD, {302})),
    "extraction:extract_done": rule(post=write(LEAD, {302})),
    "extraction:compare": rule(get=read(), post=write(LEAD, {302})),
    "extraction:fulltext": rule(get=read(ok={404})),  # the sample study has no PDF
    "api-extraction-form": rule(get=read(), put=write(LEAD, {400})),
    "api-extraction-form-publish": rule(post=write(LEAD, {200})),
    "api-extraction-form-versions": rule(get=read()),
    "api-extractions": rule(get=read(), post=write(LEAD, {400})),
    "api-extraction-done": rule(post=write(LEAD, {400})),
    "api-study-comparison": rule(get=read()),
    "api-study-consensus": rule(get=read(ok={404}), post=write(LEAD, {400})),
    "api-study-effects": rule(get=read()),
    # Finalised extraction snapshots: members read, leads finalise (the world has no finished
    # consensus, so the lead's finalising is refused: a message on the page, 400 on the API).
    "extraction:snapshots": rule(get=read(), post=write(LEAD, {302})),
    "extraction:snapshot": rule(get=read()),
    "api-extraction-snapshots": rule(get=read(), post=write(LEAD, {400})),
    "api-extraction-snapshot": rule(get=read()),
    # Exports of the extracted data (the current consensus: no row yet, only the header).
    "extraction:export": rule(get=read()),
    "api-extraction-export": rule(get=read()),
    # Import of extracted data into the consensus: leads only (sent no file: refused with a
    # message on the page, 400 on the API).
    "extraction:import": rule(get=read(), post=write(LEAD, {302})),
    "api-extraction-import": rule(post=write(LEAD, {400})),
    # Risk of bias (issue 17): members read (those who do not assess: the finished consensus
    # only); extractors and leads assess (the world's reviewer A is no extractor: 403); the
    # settings are a lead's. The world has no assessment: the lead's empty writes save an empty
    # assessment (200/302) or are refused with a message (302 on pages, 400 on the API); no
    # finished consensus, so no consensus to read and no figure (404).
    "extraction:rob": rule(get=read()),
    "extraction:rob_settings": rule(get=read(LEAD), post=write(LEAD, {302})),
    "extraction:rob_assess": rule(get=read(), post=write(LEAD, {302})),
    "extraction:rob_done": rule(post=write(LEAD, {302})),
    "extraction:rob_compare": rule(get=read(), post=write(LEAD, {302})),
    "extraction:rob_export": rule(get=read()),
    "extraction:rob_figures": rule(get=read()),
    "extraction:rob_figure": rule(get=read(ok={404})),
    "api-rob-settings": rule(get=read(), put=write(LEAD, {400})),
    "api-rob-overview": rule(get=read()),
    "api-rob-assessments": rule(get=read(), put=write(LEAD, {200})),
    "api-rob-done": rule(post=write(LEAD, {400})),
    "api-rob-comparison": rule(get=read()),
    "api-rob-consensus": rule(get=read(ok={404}), post=write(LEAD, {400})),
    "api-rob-export": rule(get=read()),
    "api-rob-figure": rule(get=read(ok={404})),
    # Synthesis: members read analyses, runs, results, figures and exports; statisticians and
    # leads define, edit, delete and run (an empty definition: the form again, 400 on the API;
    # the sample analysis's run fails on the world's empty snapshot, visibly, after the 302).
    "synthesis:analyses": rule(get=read()),
    "synthesis:analysis_new": rule(get=read(LEAD), post=write(LEAD, {200})),
    "synthesis:analysis": rule(get=read()),
    "synthesis:analysis_edit": rule(get=read(LEAD), post=write(LEAD, {200})),
    "synthesis:analysis_delete": rule(post=write(LEAD, {302})),
    "synthesis:analysis_run": rule(post=write(LEAD, {302})),
    "synthesis:run": rule(get=read()),
    "synthesis:result": rule(get=read()),
    "synthesis:result_export": rule(get=read()),
    "synthesis:figure": rule(get=read()),
    "api-synthesis-analyses": rule(get=read(), post=write(LEAD, {400})),
    "api-synthesis-analysis": rule(get=read(), put=write(LEAD, {400}), delete=write(LEAD, {204})),
    "api-synthesis-run-start": rule(post=write(LEAD, {202})),
    "api-synthesis-results": rule(get=read()),
    "api-synthesis-run": rule(get=read()),
    "api-synthesis-result": rule(get=read()),
    "api-synthesis-result-export": rule(get=read()),
    "api-synthesis-result-figure": rule(get=read()),
    "synthesis:sof": rule(get=read(), post=write(LEAD, {400})),
    "synthesis:sof_row": rule(get=read(), post=write(LEAD, {400})),
    "synthesis:sof_export": rule(get=read()),
    "api-synthesis-sof": rule(get=read(), put=write(LEAD, {400})),
    "api-synthesis-sof-rows": rule(post=write(LEAD, {400})),
    "api-synthesis-sof-row": rule(get=read(), put=write(LEAD, {200}), delete=write(LEAD, {204})),
    "api-synthesis-sof-judge": rule(post=write(LEAD, {400})),
    "api-synthesis-sof-statement": rule(put=write(LEAD, {400})),
    "api-synthesis-sof-redraft": rule(post=write(LEAD, {200})),
    "api-synthesis-sof-export": rule(get=read()),
    # Narrative synthesis (issue 22): members read; statisticians and leads write (an empty
    # definition: the form again, 400 on the API; an empty direction: a message after the 302).
    "synthesis:narrative_list": rule(get=read()),
    "synthesis:narrative_new": rule(get=read(LEAD), post=write(LEAD, {200})),
    "synthesis:narrative": rule(get=read()),
    "synthesis:narrative_edit": rule(get=read(LEAD), post=write(LEAD, {200})),
    "synthesis:narrative_delete": rule(post=write(LEAD, {302})),
    "synthesis:narrative_direction": rule(post=write(LEAD, {302})),
    "synthesis:narrative_export": rule(get=read()),
    "synthesis:narrative_domains": rule(get=read(), post=write(LEAD, {302})),
    "synthesis:narrative_swim": rule(get=read(), post=write(LEAD, {302})),
    "synthesis:narrative_swim_md": rule(get=read()),
    "synthesis:narrative_figure": rule(get=read()),
    "api-narrative-list": rule(get=read(), post=write(LEAD, {400})),
    "api-narrative": rule(get=read(), put=write(LEAD, {400}), delete=write(LEAD, {204})),
    "api-narrative-results": rule(get=read()),
    "api-narrative-directions": rule(get=read(), post=write(LEAD, {400})),
    "api-narrative-domains": rule(get=read(), put=write(LEAD, {400})),
    "api-narrative-swim": rule(get=read(), put=write(LEAD, {400})),
    "api-narrative-export": rule(get=read()),
    "api-narrative-figure": rule(get=read()),
}

for _stage in ("ta", "ft"):
    EXPECTED |= {
        f"api-screening-{_stage}-next": rule(get=read(SCREENER)),
        # The lead may not vote on a record in conflict (a 400 past the role check).
        f"api-screening-{_stage}-votes": rule(get=read(), post=write(SCREENER, {200, 201, 400})),
        f"api-screening-{_stage}-vote-detail": rule(
            get=Allow(VOTER, READ, refused=404),
            put=write(VOTER, {200}, refused=404),
            patch=write(VOTER, {200}, refused=404),
            delete=write(VOTER, {200, 204}, refused=404),
        ),
        f"api-screening-{_stage}-undo": rule(post=write(SCREENER, {200, 400})),
        f"api-screening-{_stage}-item": rule(get=read()),
        f"api-screening-{_stage}-conflicts": rule(get=read(SCREENER)),
        f"api-screening-{_stage}-resolve": rule(post=write(RESOLVER)),
        f"api-screening-{_stage}-progress": rule(get=read()),
        f"api-screening-{_stage}-agreement": rule(get=read()),
    }

# Which object of the world a route's ``pk`` is.
OBJECT_OF = {
    "synthesis:narrative": "narrative",
    "synthesis:narrative_edit": "narrative",
    "synthesis:narrative_delete": "narrative",
    "synthesis:narrative_direction": "narrative",
    "synthesis:narrative_export": "narrative",
    "synthesis:narrative_domains": "narrative",
    "synthesis:narrative_swim": "narrative",
    "synthesis:narrative_swim_md": "narrative",
    "synthesis:narrative_figure": "narrative",
    "api-narrative": "narrative",
    "api-narrative-results": "narrative",
    "api-narrative-directions": "narrative",
    "api-narrative-domains": "narrative",
    "api-narrative-swim": "narrative",
    "api-narrative-export": "narrative",
    "api-narrative-figure": "narrative",
    "reviews:team_remove": "membership",
    "api-membership-detail": "membership",
    "reviews:job": "job",
    "api-job-detail": "job",
    "identification:search": "search",
    "identification:search_edit": "search",
    "identification:search_delete": "search",
    "api-search-detail": "search",
    "api-search-files": "search",
    "identification:batch_mapping": "batch",
    "identification:record": "record",
    "api-record-detail": "record",
    "deduplication:dedup_unmerge": "record",
    "deduplication:dedup_primary": "record",
    "deduplication:dedup_decide": "pair",
    "screening:reason_edit": "reason",
    "screening:reason_move": "reason",
    "screening:reason_delete": "reason",
    "screening:ft_report": "ft_item",
    "screening:ft_report_file": "ft_item",
    "screening:ft_not_retrieved": "ft_item",
    "screening:ta_resolve": "ta_item",
    "screening:ft_resolve": "ft_item",
    "api-screening-ta-vote-detail": "vote",
    "api-screening-ta-item": "ta_item",
    "api-screening-ta-resolve": "ta_item",
    "api-screening-ft-vote-detail": "ft_vote",
    "api-screening-ft-item": "ft_item",
    "api-screening-ft-resolve": "ft_item",
    "api-dedup-pair": "pair",
    "api-dedup-decide": "pair",
    "api-dedup-unmerge": "record",
    "api-dedup-primary": "record",
    "api-screening-reason": "reason",
    "api-screening-reason-move": "reason",
    "protocol:version": "protocol_version",
    "protocol:version_download": "protocol_version",
    "api-protocol-version": "protocol_version",
    "api-protocol-version-download": "protocol_version",
    "extraction:study": "study",
    "extraction:study_link": "study",
    "extraction:study_unlink": "study",
    "extraction:study_delete": "study",
    "api-study": "study",
    "api-study-link": "study",
    "api-study-unlink": "study",
    "extraction:extract": "study",
    "extraction:extract_done": "study",
    "extraction:compare": "study",
    "extraction:fulltext": "study",
    "api-extractions": "study",
    "api-extraction-done": "study",
    "extraction:rob_assess": "study",
    "extraction:rob_done": "study",
    "extraction:rob_compare": "study",
    "api-rob-assessments": "study",
    "api-rob-done": "study",
    "api-rob-comparison": "study",
    "api-rob-consensus": "study",
    "api-study-comparison": "study",
    "api-study-consensus": "study",
    "api-study-effects": "study",
    "extraction:snapshot": "extraction_snapshot",
    "api-extraction-snapshot": "extraction_snapshot",
    "synthesis:analysis": "analysis",
    "synthesis:analysis_edit": "analysis",
    "synthesis:analysis_delete": "analysis",
    "synthesis:analysis_run": "analysis",
    "synthesis:run": "analysis_run",
    "synthesis:result": "analysis_result",
    "synthesis:result_export": "analysis_result",
    "synthesis:figure": "analysis_result",
    "api-synthesis-analysis": "analysis",
    "api-synthesis-run-start": "analysis",
    "api-synthesis-results": "analysis",
    "api-synthesis-run": "analysis_run",
    "api-synthesis-result": "analysis_result",
    "api-synthesis-result-export": "analysis_result",
    "api-synthesis-result-figure": "analysis_result",
    "synthesis:sof_row": "sof_row",
    "api-synthesis-sof-row": "sof_row",
    "api-synthesis-sof-judge": "sof_row",
    "api-synthesis-sof-statement": "sof_row",
    "api-synthesis-sof-redraft": "sof_row",
}


def _payload(name: str, world: World, slug: str):
    """A valid body for the writes whose views check the form before the role."""
    objects = world.objects[slug]
    bodies = {
        "deduplication:dedup_decide": {"decision": "different"},
        "screening:ft_not_retrieved": {"reason": "Not in any library we can reach"},
        "screening:ta_vote": {"item": objects["free_ta_item"], "decision": "include"},
        "screening:ft_vote": {"item": objects["ft_item"], "decision": "include"},
        "screening:ta_resolve": {"decision": "include"},
        "screening:ft_resolve": {"decision": "include"},
        "screening:ta_reason_add": {"label": "A new reason"},
        "screening:ft_reason_add": {"label": "A new reason"},
        "screening:reason_edit": {"label": "Renamed"},
        "screening:reason_move": {"direction": "down"},
        "screening:ft_report": {"url": "https://example.org/other.pdf"},
        "api-screening-ta-votes": {"item": objects["free_ta_item"], "decision": "include"},
        "api-screening-ft-votes": {"item": objects["ft_item"], "decision": "include"},
        "api-screening-ta-vote-detail": {"decision": "include"},
        "api-screening-ft-vote-detail": {"decision": "include"},
        "api-screening-ta-resolve": {"decision": "include"},
        "api-screening-ft-resolve": {"decision": "include"},
        "api-search-list": {"database": "Embase"},
        "api-job-list": {"kind": "dedup", "params": {}},
        "api-review-detail": {"title": "Renamed"},
        "identification:searches": {"database": "Embase"},
        "identification:search": {"action": "delete"},
        "identification:search_edit": {"database": "Embase"},
        "api-search-detail": {"database": "Embase"},
        "api-search-files": {
            "file": SimpleUploadedFile("x.ris", b"TY  - JOUR\nTI  - Hi\nER  - \n"),
        },
        "api-dedup-decide": {"decision": "different"},
        "api-screening-reasons": {"stage": "title_abstract", "label": "A new reason"},
        "api-screening-reason": {"label": "Renamed"},
        "api-screening-reason-move": {"direction": "down"},
        "api-screening-keywords": {"include": ["gambl*"]},
        "api-prisma-entries": {"websites": 3},
        "identification:rounds": {"date": dt.date.today().isoformat(), "reason": "Walked."},
        "api-round-list": {"date": dt.date.today().isoformat()},
        "protocol:edit": {"objectives__text": "Walked."},
        "protocol:amend": {"rationale": "Walked."},
        "protocol:register": {
            "registry": "osf",
            "registration_id": "X",
            "registered_on": "2024-01-01",
        },
        "api-protocol-draft": {"content": {"objectives": {"text": "Walked."}}},
        "api-protocol-register": {
            "registry": "osf",
            "registration_id": "X",
            "registered_on": "2024-01-01",
        },
        "api-protocol-amend": {"rationale": "Walked."},
        "screening:reasons_from_protocol": {"stage": "title_abstract"},
    }
    return bodies.get(name, {})


def _request(client: Client, method: str, path: str, name: str, world: World, slug: str):
    data = _payload(name, world, slug)
    if method == "get":
        return client.get(path)
    if path.startswith("/api/") and not any(hasattr(v, "read") for v in data.values()):
        return getattr(client, method)(path, data=json.dumps(data), content_type="application/json")
    if method == "post":
        return client.post(path, data)
    return getattr(client, method)(path, data)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end; each
    test runs in a savepoint of it (pytest-django's ``db``), so a write by one test is gone
    before the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def _client(world: World, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(world.users[persona])
    return client


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")


CONFLICT_COUNTS = [
    re.compile(r'data-count="conflicts"[^>]*>\s*[1-9]'),
    re.compile(r"Conflicts \(\s*[1-9]"),
    re.compile(r"[1-9]\d*</strong> in conflict"),
]


def _json_leaks(data, world: World, path: str = "$") -> list[str]:
    found = []
    b = world.users["reviewer_b"]
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}"
            if key == "status" and value == "conflict":
                found.append(f"{here} says conflict")
            if "conflict" in str(key) and (
                (isinstance(value, int) and not isinstance(value, bool) and value > 0)
                or (isinstance(value, list) and value)
            ):
                found.append(f"{here} = {str(value)[:80]}")
            if key in ("reviewer", "reviewer_id", "user") and value in (b.pk, b.username):
                found.append(f"{here}: reviewer B's vote or row")
            found += _json_leaks(value, world, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _json_leaks(value, world, f"{path}[{i}]")
    return found


def blinded_leaks(name: str, response, world: World) -> list[str]:
    """What reviewer A must not read while screening is blinded, found in ``response``."""
    body = _body(response)
    leaks = [f"B's note ({m})" for m in B_MARKERS if m in body]
    leaks += [
        f"{username}'s e-mail"
        for username, email in world.emails.items()
        if username != "reviewer_a" and email in body
    ]
    if JOB_SECRET in body:
        leaks.append("a lead's job parameters")
    leaks += [f"a conflict count ({p.pattern})" for p in CONFLICT_COUNTS if p.search(body)]
    if "conflict" in name:
        leaks += [f"the conflict {t!r}" for t in world.conflict_titles if t in body]
    if response.get("Content-Type", "").startswith("application/json"):
        with contextlib.suppress(ValueError):
            leaks += _json_leaks(json.loads(body), world)
    # B's votes on settled records are for everyone to see; those on the others are not.
    for line in body.splitlines():
        if "reviewer_b" in line:
            leaks += [
                f"B's {stage} vote on {title!r}"
                for stage, title in world.hidden_b_votes
                if stage in line and title in line
            ]
    return leaks


def _expected(name: str, method: str, persona: str, api: bool, scoped: bool) -> set[int]:
    allow = EXPECTED[name].get(method)
    login = {401, 403} if api else {302}
    if persona == "anonymous" and (allow is None or persona not in allow.who):
        return login | ({405} if allow is None else set())
    if persona == "outsider" and scoped:
        return {404, 405} if allow is None else {404}
    if allow is None:
        return {405}
    if persona in allow.who:
        return set(allow.ok)
    return {allow.refused}


ROUTES = [(route, name) for route, name in all_routes() if not route.startswith("admin/")]


def test_every_route_has_an_expected_status():
    names = {name for _, name in ROUTES}
    assert None not in names, "every route needs a name to be walked"
    missing = sorted(names - set(EXPECTED))
    assert not missing, f"add these routes to EXPECTED: {missing}"
    assert not set(EXPECTED) - names, (
        f"EXPECTED names routes that are gone: {set(EXPECTED) - names}"
    )
    missing_objects = sorted(
        name for route, name in ROUTES if has_pk(route) and name not in OBJECT_OF
    )
    assert not missing_objects, (
        f"say which object these routes take in OBJECT_OF: {missing_objects}"
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[n for _, n in ROUTES])
def test_persona_walk(world, db, route, name, persona):
    """Every method of the route gives the persona the expected status; and every 200 that
    reviewer A gets is free of what blinding hides."""
    if name not in EXPECTED:
        pytest.fail(f"every route has an expected status: add {name} ({route}) to EXPECTED")
    scoped = is_review_scoped(route)
    pk = world.objects["exercise"][OBJECT_OF[name]] if has_pk(route) else None
    path = build_path(route, name, world.review if scoped else None, pk=pk)
    api = path.startswith("/api/")
    failures = []
    client = _client(world, persona)
    for method in METHODS:
        if name == "logout":  # it ends the session
            client = _client(world, persona)
        with transaction.atomic():
            response = _request(client, method, path, name, world, "exercise")
            transaction.set_rollback(True)
        status = response.status_code
        wanted = _expected(name, method, persona, api, scoped)
        if status not in wanted:
            failures.append(
                f"{method.upper()} {path} as {persona}: {status}, want {sorted(wanted)}"
            )
        allow = EXPECTED[name].get(method)
        if status == 302 and persona == "anonymous" and (allow is None or persona not in allow.who):
            location = response["Location"]
            if not location.startswith("/accounts/login/"):
                failures.append(f"{method.upper()} {path}: redirects to {location}, not login")
        if persona == "reviewer" and status == 200:
            failures += [
                f"{method.upper()} {path} shows reviewer A {leak}"
                for leak in blinded_leaks(name, response, world)
            ]
    assert not failures, "\n".join(failures)


PK_ROUTES = [(route, name) for route, name in ROUTES if has_pk(route)]


@pytest.mark.parametrize("persona", ["lead", "reviewer", "viewer", "outsider"])
@pytest.mark.parametrize(("route", "name"), PK_ROUTES, ids=[n for _, n in PK_ROUTES])
def test_foreign_ids_are_404(world, db, route, name, persona):
    """An id from the other review is 404 in every method: the second review's ids in the first
    review's URLs, and (for the outsider, who leads the second review) the first review's ids in
    the second review's URLs."""
    tries = [(world.review, world.objects["elsewhere"][OBJECT_OF[name]], "elsewhere")]
    if persona == "outsider":
        tries.append((world.other, world.objects["exercise"][OBJECT_OF[name]], "exercise"))
    failures = []
    client = _client(world, persona)
    for review, pk, ids_from in tries:
        path = build_path(route, name, review, pk=pk)
        for method in METHODS:
            with transaction.atomic():
                response = _request(client, method, path, name, world, ids_from)
                transaction.set_rollback(True)
            allowed = method in EXPECTED[name]
            if response.status_code != 404 and not (response.status_code == 405 and not allowed):
                failures.append(f"{method.upper()} {path} as {persona}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_reviewer_a_cannot_reach_b_s_vote(world, db):
    client = _client(world, "reviewer")
    b_vote = world.objects["exercise"]["b_vote"]
    path = f"/api/reviews/exercise/screening/title-abstract/votes/{b_vote}/"
    assert client.get(path).status_code == 404
    with transaction.atomic():
        assert (
            client.patch(path, {"decision": "include"}, content_type="application/json").status_code
            == 404
        )
        transaction.set_rollback(True)
    listing = client.get("/api/reviews/exercise/screening/title-abstract/votes/").json()
    reviewers = {v.get("reviewer") for v in listing["results"]}
    assert world.users["reviewer_b"].pk not in reviewers
    assert "reviewer_b" not in reviewers


def test_the_leak_detector_finds_what_the_lead_may_see(world, db):
    """The body checks are real: the lead, who may see both votes, gets pages and answers in
    which the detector finds B's note, the conflict and the members' e-mails."""
    client = _client(world, "lead")
    item = world.objects["exercise"]["ta_item"]
    found = {}
    for name, path in [
        ("api-screening-ta-item", f"/api/reviews/exercise/screening/title-abstract/items/{item}/"),
        ("screening:ta_conflicts", "/reviews/exercise/screening/title-abstract/conflicts/"),
        ("api-screening-ta-progress", "/api/reviews/exercise/screening/title-abstract/progress/"),
        ("reviews:team", "/reviews/exercise/team/"),
        ("reporting:ta_votes_csv", "/reviews/exercise/screening/title-abstract/votes.csv"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        found[name] = " | ".join(blinded_leaks(name, response, world))
    assert "B's note" in found["api-screening-ta-item"]
    assert "says conflict" in found["api-screening-ta-item"]
    assert "the conflict" in found["screening:ta_conflicts"]
    assert "conflicts" in found["api-screening-ta-progress"]
    assert "reviewer_b's e-mail" in found["reviews:team"]
    assert "B's title_abstract vote" in found["reporting:ta_votes_csv"]
