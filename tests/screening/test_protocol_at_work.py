"""The protocol at work in screening: its eligibility criteria beside the record, and its
exclusion criteria as exclusion reasons."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from reviews.protocol import services as protocol
from screening import services
from screening.constants import Stage
from screening.models import ExclusionReason
from screening.services.reasons import reasons_from_protocol
from tests.conftest import client_for
from tests.reviews.protocol_factories import amend, content, register
from tests.screening.factories import make_records


def _labels(review, stage):
    return list(
        ExclusionReason.objects.filter(review=review, stage=stage)
        .order_by("position", "pk")
        .values_list("label", flat=True)
    )


def test_the_exclusion_criteria_become_reasons_once_each(review, lead):
    register(
        review,
        lead,
        content(
            eligibility={
                "exclusion": [
                    "Children only",
                    "No control group",
                    "Wrong outcome",
                    "Cluster trials",
                ]
            }
        ),
    )
    before = _labels(review, Stage.FULL_TEXT)
    # A reason of the same words (another case) is there already: not added twice ("Wrong
    # outcome" is one of the default reasons).
    services.reason_add(actor=lead, review=review, stage=Stage.FULL_TEXT, label="children ONLY")
    added = reasons_from_protocol(actor=lead, review=review, stage=Stage.FULL_TEXT)
    assert "Wrong outcome" in before
    assert [r.label for r in added] == ["No control group", "Cluster trials"]
    assert _labels(review, Stage.FULL_TEXT) == [
        *before,
        "children ONLY",
        "No control group",
        "Cluster trials",
    ]
    event = AuditEvent.objects.get(review=review, verb="added exclusion reasons from the protocol")
    assert event.actor == lead
    assert event.changes == {
        "stage": "full_text",
        "labels": ["No control group", "Cluster trials"],
        "protocol_version": 1,
    }
    assert reasons_from_protocol(actor=lead, review=review, stage=Stage.FULL_TEXT) == []
    # An amendment's new criterion is added next time.
    amend(review, lead, {"eligibility": {"exclusion": ["Children only", "Not in English"]}})
    added = reasons_from_protocol(actor=lead, review=review, stage=Stage.FULL_TEXT)
    assert [r.label for r in added] == ["Not in English"]


def test_only_a_lead_adds_them_and_a_protocol_without_criteria_says_so(review, lead, reviewer_a):
    with pytest.raises(ValidationError, match="no exclusion criteria"):
        reasons_from_protocol(actor=lead, review=review, stage=Stage.TITLE_ABSTRACT)
    register(review, lead)
    with pytest.raises(PermissionDenied):
        reasons_from_protocol(actor=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    with pytest.raises(ValidationError):
        reasons_from_protocol(actor=lead, review=review, stage="everything")
    response = client_for(reviewer_a).post(
        "/reviews/exercise/screening/reasons/from-protocol/", {"stage": "title_abstract"}
    )
    assert response.status_code == 403
    assert "No control group" not in _labels(review, Stage.TITLE_ABSTRACT)


def test_the_settings_page_offers_the_button_and_it_adds_the_reasons(review, lead):
    client = client_for(lead)
    assert (
        "data-protocol-reasons"
        not in client.get("/reviews/exercise/screening/settings/").content.decode()
    )
    register(review, lead)
    page = client.get("/reviews/exercise/screening/settings/").content.decode()
    assert page.count("Add reasons from the protocol's criteria") == 2  # one per stage
    response = client.post(
        "/reviews/exercise/screening/reasons/from-protocol/", {"stage": "title_abstract"},
        follow=True,
    )  # fmt: skip
    assert "Added to the title and abstract reasons" in response.content.decode()
    assert {"Children only", "No control group"} <= set(_labels(review, Stage.TITLE_ABSTRACT))
    response = client.post(
        "/reviews/exercise/screening/reasons/from-protocol/", {"stage": "nope"}, follow=True
    )
    assert "Unknown stage" in response.content.decode()


def test_the_criteria_are_beside_the_record_on_the_screening_page(review, lead, reviewer_a):
    make_records(review, 2)
    services.screening_prepare(review=review)
    client = client_for(reviewer_a)
    page = client.get("/reviews/exercise/screening/title-abstract/screen/").content.decode()
    assert "data-protocol-criteria" not in page
    protocol.draft_save(
        actor=lead, review=review,
        content=content(eligibility={"inclusion": ["Adults <18? no: adults"],
                                     "exclusion": ["Children only"],
                                     "notes": "Ask the lead when in doubt."}),
    )  # fmt: skip
    page = client.get("/reviews/exercise/screening/title-abstract/screen/").content.decode()
    panel = page.split("data-protocol-criteria")[1].split("</details>")[0]
    assert "protocol version 1, draft" in panel
    assert "Adults &lt;18? no: adults" in panel and "Children only" in panel
    assert "Ask the lead when in doubt." in panel
    register_version = protocol.protocol_register(
        actor=lead, review=review, registry="osf", registration_id="X", registered_on="2024-01-01"
    )
    assert register_version.state == "registered"
    page = client.get("/reviews/exercise/screening/full-text/screen/").content.decode()
    assert "protocol version 1)" in page
