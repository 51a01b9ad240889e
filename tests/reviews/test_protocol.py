"""The protocol: drafts, registration that freezes, amendments, the diff, permissions, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from core.models import AuditEvent
from reviews import services as review_services
from reviews.constants import Role
from reviews.protocol import sections, selectors, services
from reviews.protocol.diff import diff_contents
from reviews.protocol.models import ProtocolFrozenError, ProtocolVersion
from tests.conftest import make_user
from tests.reviews.protocol_factories import CONTENT, amend, content, register


def test_registration_freezes_the_content_and_edits_become_amendments(review, lead):
    draft = services.draft_save(actor=lead, review=review, content=CONTENT)
    assert (draft.number, draft.state) == (1, "draft")
    # Before registration, edits change the draft itself.
    services.draft_save(actor=lead, review=review, content=content(background={"text": "Why."}))
    assert ProtocolVersion.objects.filter(review=review).count() == 1

    registered = services.protocol_register(
        actor=lead,
        review=review,
        registry="prospero",
        registration_id="CRD42099000001",
        registered_on="2024-03-01",
    )
    assert registered.state == "registered"
    assert registered.fingerprint == sections.fingerprint(registered.content)
    frozen = sections.canonical_json(registered.content)

    # An edit after registration starts version 2 and leaves version 1 as it was.
    edited = content(
        background={"text": "Why."},
        eligibility={"inclusion": ["Adults with depression"], "exclusion": ["Children only"]},
    )
    amendment = services.draft_save(actor=lead, review=review, content=edited)
    assert (amendment.number, amendment.kind, amendment.state) == (2, "amendment", "draft")
    registered.refresh_from_db()
    assert sections.canonical_json(registered.content) == frozen
    assert registered.fingerprint == sections.fingerprint(registered.content)

    published = services.amendment_publish(
        actor=lead, review=review, rationale="Trials only was too narrow."
    )
    assert published.state == "amendment"
    assert published.sections_changed == ["eligibility"]  # computed, not typed
    assert published.rationale == "Trials only was too narrow."
    assert published.frozen_by == lead and published.frozen_at is not None
    assert published.fingerprint == sections.fingerprint(published.content)
    # The next edit is a third version; the first two stay.
    services.draft_save(actor=lead, review=review, content=content(), partial=True)
    versions = ProtocolVersion.objects.filter(review=review).order_by("number")
    assert [(v.number, v.state) for v in versions] == [
        (1, "registered"), (2, "amendment"), (3, "draft"),
    ]  # fmt: skip


def test_a_frozen_version_refuses_to_be_saved_or_deleted(review, lead):
    version = register(review, lead)
    version.content = {"administrative": {"title": "Changed"}}
    with pytest.raises(ProtocolFrozenError, match="frozen"):
        version.save()
    with pytest.raises(ProtocolFrozenError):
        ProtocolVersion.objects.get(pk=version.pk).delete()
    version.refresh_from_db()
    assert version.content["administrative"]["title"] == "Exercise for depression"


def test_registering_twice_or_without_a_draft_is_refused(review, lead):
    with pytest.raises(ValidationError, match="Write the protocol"):
        services.protocol_register(
            actor=lead, review=review, registry="osf", registration_id="X",
            registered_on="2024-01-01",
        )  # fmt: skip
    register(review, lead)
    services.draft_save(actor=lead, review=review, content=content(), partial=True)
    with pytest.raises(ValidationError, match="registered already"):
        services.protocol_register(
            actor=lead, review=review, registry="osf", registration_id="X",
            registered_on="2024-01-01",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"registry": "nowhere"}, "registry"),
        ({"registry": "other"}, "registry_name"),
        ({"registration_id": "   "}, "registration_id"),
        ({"registered_on": "31/02/2024"}, "registered_on"),
        ({"registered_on": "2999-01-01"}, "registered_on"),
        ({"registration_url": "javascript:alert(1)"}, "registration_url"),
    ],
)
def test_bad_registration_details_are_refused_and_change_nothing(review, lead, kwargs, field):
    services.draft_save(actor=lead, review=review, content=CONTENT)
    good = {"registry": "prospero", "registration_id": "CRD1", "registered_on": "2024-01-01"}
    with pytest.raises(ValidationError) as exc:
        services.protocol_register(actor=lead, review=review, **(good | kwargs))
    assert field in exc.value.message_dict
    assert selectors.draft_of(review) is not None
    assert selectors.registered_version(review) is None


def test_an_amendment_needs_a_rationale_and_a_change(review, lead):
    register(review, lead)
    services.draft_save(actor=lead, review=review, content=content(), partial=True)
    with pytest.raises(ValidationError, match="same as version 1"):
        services.amendment_publish(actor=lead, review=review, rationale="Nothing, really.")
    services.draft_save(
        actor=lead, review=review, content={"objectives": {"text": "New aim."}}, partial=True
    )
    with pytest.raises(ValidationError) as exc:
        services.amendment_publish(actor=lead, review=review, rationale="  ")
    assert "rationale" in exc.value.message_dict
    # Dated on or after the version it amends (registered 2024-03-01), never in the future.
    for bad in ("2024-02-29", "2999-01-01", "soon"):
        with pytest.raises(ValidationError) as exc:
            services.amendment_publish(
                actor=lead, review=review, rationale="Clearer.", amended_on=bad
            )
        assert "amended_on" in exc.value.message_dict
    assert selectors.draft_of(review).number == 2
    published = services.amendment_publish(
        actor=lead, review=review, rationale="Clearer.", amended_on="2024-03-01"
    )
    assert str(published.date) == "2024-03-01"


def test_only_leads_write_register_and_amend_and_every_member_reads(review, lead, reviewer_a):
    viewer = make_user("viewer")
    review_services.membership_add(
        actor=lead, review=review, identifier="viewer", roles=[Role.VIEWER]
    )
    outsider = make_user("stranger")
    for user in (reviewer_a, viewer):
        with pytest.raises(PermissionDenied):
            services.draft_save(actor=user, review=review, content=CONTENT)
    with pytest.raises(Http404):
        services.draft_save(actor=outsider, review=review, content=CONTENT)
    services.draft_save(actor=lead, review=review, content=CONTENT)
    with pytest.raises(PermissionDenied):
        services.protocol_register(
            actor=reviewer_a, review=review, registry="osf", registration_id="X",
            registered_on="2024-01-01",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.draft_discard(actor=viewer, review=review)
    register_version = services.protocol_register(
        actor=lead, review=review, registry="osf", registration_id="X", registered_on="2024-01-01"
    )
    services.draft_save(
        actor=lead, review=review, content={"objectives": {"text": "New."}}, partial=True
    )
    with pytest.raises(PermissionDenied):
        services.amendment_publish(actor=reviewer_a, review=review, rationale="Because.")
    assert register_version.state == "registered"
    assert selectors.draft_of(review).state == "draft"


def test_every_write_is_audited_and_attributed(review, lead):
    register(review, lead)
    amend(review, lead, {"objectives": {"text": "New."}}, rationale="Sharper.")
    services.draft_save(
        actor=lead, review=review, content={"objectives": {"text": "Newer."}}, partial=True
    )
    services.draft_save(
        actor=lead, review=review, content={"objectives": {"text": "Newest."}}, partial=True
    )
    services.draft_discard(actor=lead, review=review)
    events = list(
        AuditEvent.objects.filter(review=review, object_type="reviews.protocolversion")
        .order_by("pk")
        .values_list("actor__username", "verb")
    )
    assert events == [
        ("lead", "started protocol"),
        ("lead", "registered protocol"),
        ("lead", "started protocol amendment"),
        ("lead", "amended protocol"),
        ("lead", "started protocol amendment"),
        ("lead", "edited protocol draft"),
        ("lead", "discarded protocol draft"),
    ]
    amended = AuditEvent.objects.get(review=review, verb="amended protocol")
    assert amended.changes["rationale"] == "Sharper."
    assert amended.changes["sections"] == ["objectives"]


def test_the_diff_marks_the_words_that_changed_and_nothing_else(review, lead):
    old = content(
        objectives={"text": "To estimate the effect of exercise on depressive symptoms."},
        eligibility={"inclusion": ["Adults with depression"], "exclusion": ["Children only"]},
    )
    new = content(
        objectives={
            "text": "To estimate the effect of aerobic exercise on <b>depressive</b> symptoms."
        },
        eligibility={"inclusion": ["Adults with depression"], "exclusion": ["Children only"]},
        synthesis={**CONTENT["synthesis"], "tau2_estimator": "PM"},
    )
    diffs = {d.key: d for d in diff_contents(old, new)}
    assert [k for k, d in diffs.items() if d.changed] == ["objectives", "synthesis"]
    objectives = diffs["objectives"].fields[0]
    assert str(objectives.left_html) == (
        "To estimate the effect of exercise on <del>depressive</del> symptoms."
    )
    assert str(objectives.right_html) == (
        "To estimate the effect of <ins>aerobic </ins>exercise on "
        "<ins>&lt;b&gt;depressive&lt;/b&gt;</ins> symptoms."
    )
    estimator = next(f for f in diffs["synthesis"].fields if f.changed)
    assert estimator.key == "tau2_estimator"
    assert "<del>" in estimator.left_html and "Restricted" in estimator.left_html
    assert "<ins>" in estimator.right_html and "Paule-Mandel" in estimator.right_html
    assert not any(f.changed for f in diffs["eligibility"].fields)


def test_a_list_diff_shows_the_criterion_added(review, lead):
    old = content(eligibility={"inclusion": ["Adults"], "exclusion": ["Children only"]})
    new = content(
        eligibility={"inclusion": ["Adults"], "exclusion": ["Children only", "No control group"]}
    )
    (eligibility,) = [d for d in diff_contents(old, new) if d.changed]
    exclusion = next(f for f in eligibility.fields if f.changed)
    assert exclusion.key == "exclusion"
    assert str(exclusion.left_html) == "Children only"
    assert str(exclusion.right_html) == "Children only<ins>\nNo control group</ins>"


def test_content_is_cleaned_and_bad_content_refused_with_the_field_named(review, lead):
    cleaned = sections.clean_content(
        {
            "eligibility": {"inclusion": ["  Adults ", "", "adults", "Trials"]},
            "administrative": {"title": "Caf\u0065\u0301 \n study"},
        }
    )
    assert cleaned["eligibility"]["inclusion"] == ["Adults", "Trials"]
    assert cleaned["administrative"]["title"] == "Caf\u00e9 study"  # NFC, one line
    assert cleaned["synthesis"]["knapp_hartung"] is False  # every field present
    for bad, key in [
        ({"nope": {}}, "content"),
        ({"synthesis": {"tau2_estimator": "XYZ"}}, "synthesis.tau2_estimator"),
        ({"synthesis": {"knapp_hartung": "yes"}}, "synthesis.knapp_hartung"),
        ({"synthesis": {"subgroups": [{"variable": "x"}]}}, "synthesis.subgroups"),
        ({"synthesis": {"publication_bias": ["tea leaves"]}}, "synthesis.publication_bias"),
        ({"background": {"text": "\ud800"}}, "background.text"),
        ({"eligibility": {"inclusion": "x" * 600}}, "eligibility.inclusion"),
        ({"eligibility": []}, "eligibility"),
    ]:
        with pytest.raises(ValidationError) as exc:
            services.draft_save(actor=lead, review=review, content=bad)
        assert key in exc.value.message_dict, (bad, exc.value.message_dict)
    assert not ProtocolVersion.objects.filter(review=review).exists()


def test_the_fingerprint_is_sha256_of_canonical_json():
    import hashlib
    import json

    a = {"b": {"y": "é", "x": [1, 2]}, "a": True}
    b = {"a": True, "b": {"x": [1, 2], "y": "é"}}
    assert sections.canonical_json(a) == sections.canonical_json(b)
    assert sections.canonical_json(a) == '{"a":true,"b":{"x":[1,2],"y":"é"}}'.encode()
    assert (
        sections.fingerprint(a)
        == hashlib.sha256(
            json.dumps(b, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        ).hexdigest()
    )


def test_the_synthesis_plan_is_data_in_the_engines_terms(review, lead):
    assert selectors.synthesis_plan(review) is None
    register(review, lead)
    plan = selectors.synthesis_plan(review)
    assert plan["effect_measure"] == "SMD"
    assert (plan["model"], plan["method"], plan["test"]) == ("random", "REML", "knha")
    assert plan["subgroups"] == [{"name": "Exercise type", "variable": "type", "description": ""}]
    assert plan["publication_bias"] == ["funnel", "egger"]
    assert (plan["version"], plan["draft"]) == (1, False)
    # An amendment in draft changes nothing; published, it is the plan.
    services.draft_save(
        actor=lead, review=review, content={"synthesis": {"model": "common"}}, partial=True
    )
    assert selectors.synthesis_plan(review)["method"] == "REML"
    services.amendment_publish(actor=lead, review=review, rationale="Few trials.")
    plan = selectors.synthesis_plan(review)
    assert (plan["method"], plan["tau2_estimator"], plan["version"]) == ("FE", None, 2)


def test_the_protocols_choices_are_the_statistics_engines():
    from reviews.protocol.constants import EFFECT_MEASURES, TAU2_ESTIMATORS
    from synthesis.stats import METHODS
    from synthesis.stats.escalc import MEASURES

    assert {m for m, _ in EFFECT_MEASURES} <= set(MEASURES)
    assert {m for m, _ in TAU2_ESTIMATORS} == set(METHODS) - {"FE"}


def test_the_criteria_and_databases_follow_the_current_version(review, lead):
    assert selectors.eligibility_criteria(review) is None
    services.draft_save(actor=lead, review=review, content=CONTENT)
    assert selectors.eligibility_criteria(review)["draft"] is True
    services.protocol_register(
        actor=lead, review=review, registry="osf", registration_id="X", registered_on="2024-01-01"
    )
    amend(
        review,
        lead,
        {"information_sources": {"databases": ["MEDLINE", "Embase", "Scopus", "CINAHL"]}},
    )
    services.draft_save(
        actor=lead, review=review, content={"eligibility": {"exclusion": ["Nothing"]}},
        partial=True,
    )  # fmt: skip
    assert selectors.planned_databases(review) == ["MEDLINE", "Embase", "Scopus", "CINAHL"]
    criteria = selectors.eligibility_criteria(review)
    assert (criteria["version"], criteria["draft"]) == (2, False)
    assert criteria["exclusion"] == ["Children only", "No control group"]
