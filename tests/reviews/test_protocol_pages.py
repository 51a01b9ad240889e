"""The protocol's pages and API: leads write, register and amend; every member reads."""

from __future__ import annotations

import json

import pytest

from core.models import AuditEvent
from reviews import services as review_services
from reviews.constants import Role
from reviews.protocol import selectors
from reviews.protocol.forms import ProtocolForm
from reviews.protocol.models import ProtocolVersion
from tests.conftest import client_for, make_user
from tests.reviews.protocol_factories import CONTENT, amend, amend_draft, register


def _form_body(content: dict) -> dict:
    """What the edit page's form posts for ``content`` (every field, as a browser sends it)."""
    form = ProtocolForm(content=content)
    body = {}
    for name in form.fields:
        value = form.initial.get(name)
        if isinstance(value, bool):
            if value:
                body[name] = "on"
        elif isinstance(value, list):
            body[name] = value
        else:
            body[name] = value or ""
    return body


def test_a_lead_writes_registers_and_amends_through_the_pages(review, lead):
    client = client_for(lead)
    assert client.get("/reviews/exercise/protocol/").status_code == 200
    page = client.get("/reviews/exercise/protocol/edit/")
    assert page.status_code == 200
    # The editor starts from the review's own title and question.
    assert "Exercise for depression" in page.content.decode()

    response = client.post("/reviews/exercise/protocol/edit/", _form_body(CONTENT))
    assert response.status_code == 302
    draft = selectors.draft_of(review)
    assert draft.content["eligibility"]["exclusion"] == ["Children only", "No control group"]
    assert draft.content["synthesis"]["knapp_hartung"] is True
    assert draft.content["synthesis"]["subgroups"] == [
        {"name": "Exercise type", "variable": "type", "description": ""}
    ]

    response = client.post(
        "/reviews/exercise/protocol/register/",
        {"registry": "prospero", "registration_id": "CRD42099000001",
         "registered_on": "2024-03-01"},
    )  # fmt: skip
    assert response.status_code == 302
    v1 = ProtocolVersion.objects.get(review=review, number=1)
    assert v1.state == "registered"

    # An edit now is an amendment; version 1 stays as registered.
    body = _form_body(CONTENT)
    body["eligibility__exclusion"] = "Children only\nNo control group\nCluster trials"
    assert client.post("/reviews/exercise/protocol/edit/", body).status_code == 302
    page = client.get("/reviews/exercise/protocol/amend/").content.decode()
    assert "Eligibility criteria changed" in page
    response = client.post("/reviews/exercise/protocol/amend/", {"rationale": ""})
    assert response.status_code == 400
    response = client.post(
        "/reviews/exercise/protocol/amend/", {"rationale": "Cluster trials need other methods."}
    )
    assert response.status_code == 302
    v2 = ProtocolVersion.objects.get(review=review, number=2)
    assert (v2.state, v2.sections_changed) == ("amendment", ["eligibility"])
    v1.refresh_from_db()
    assert "Cluster trials" not in v1.content["eligibility"]["exclusion"]

    home = client.get("/reviews/exercise/protocol/").content.decode()
    assert home.count('data-fingerprint="ok"') == 2
    assert "CRD42099000001" in home


def test_a_bad_form_is_refused_with_the_field_named_and_changes_nothing(review, lead):
    client = client_for(lead)
    body = _form_body(CONTENT)
    body["synthesis__subgroups"] = "| a variable without a name"
    response = client.post("/reviews/exercise/protocol/edit/", body)
    assert response.status_code == 400
    assert "needs a name" in response.content.decode()
    assert not ProtocolVersion.objects.filter(review=review).exists()
    # An empty body would empty the protocol: refused.
    register(review, lead)
    response = client.post("/reviews/exercise/protocol/edit/", {})
    assert response.status_code == 400
    assert selectors.draft_of(review) is None


def test_members_read_every_version_and_only_leads_write(review, lead, reviewer_a):
    viewer = make_user("viewer")
    review_services.membership_add(
        actor=lead, review=review, identifier="viewer", roles=[Role.VIEWER]
    )
    v1 = register(review, lead)
    amend_draft(review, lead, {"objectives": {"text": "Draft aim."}})
    for user in (reviewer_a, viewer):
        client = client_for(user)
        assert client.get("/reviews/exercise/protocol/").status_code == 200
        assert client.get(f"/reviews/exercise/protocol/versions/{v1.pk}/").status_code == 200
        assert client.get("/reviews/exercise/protocol/diff/").status_code == 200
        assert client.get("/api/reviews/exercise/protocol/versions/").status_code == 200
        assert client.get("/reviews/exercise/protocol/edit/").status_code == 403
        assert (
            client.post("/reviews/exercise/protocol/edit/", _form_body(CONTENT)).status_code == 403
        )
        assert client.post("/reviews/exercise/protocol/discard/").status_code == 403
        assert (
            client.post("/reviews/exercise/protocol/amend/", {"rationale": "Mine."}).status_code
            == 403
        )
        assert (
            client.patch(
                "/api/reviews/exercise/protocol/draft/",
                {"content": {"objectives": {"text": "Mine."}}},
                content_type="application/json",
            ).status_code
            == 403
        )
        assert client.post(
            "/api/reviews/exercise/protocol/amend/", {"rationale": "Mine."},
            content_type="application/json",
        ).status_code == 403  # fmt: skip
    assert selectors.draft_of(review).content["objectives"]["text"] == "Draft aim."
    outsider = make_user("stranger")
    client = client_for(outsider)
    for path in (
        "/reviews/exercise/protocol/",
        f"/reviews/exercise/protocol/versions/{v1.pk}/",
        f"/reviews/exercise/protocol/versions/{v1.pk}/download/?as=pdf",
        "/api/reviews/exercise/protocol/synthesis-plan/",
    ):
        assert client.get(path).status_code == 404, path


def test_the_api_saves_registers_amends_and_diffs(review, lead):
    client = client_for(lead)

    def call(method, path, body=None):
        return getattr(client, method)(
            f"/api/reviews/exercise/protocol/{path}",
            json.dumps(body) if body is not None else None,
            content_type="application/json",
        )

    response = call("put", "draft/", {"content": CONTENT})
    assert response.status_code == 201, response.json()
    assert response.json()["state"] == "draft"
    response = call("put", "draft/", {"content": {"synthesis": {"tau2_estimator": "XX"}}})
    assert response.status_code == 400
    assert "tau2_estimator" in response.json()["content"]["synthesis"]
    # Whatever the serializer lets through, the service refuses with the field named.
    twice = [{"name": "Age"}, {"name": "age"}]
    response = call("put", "draft/", {"content": {"synthesis": {"subgroups": twice}}})
    assert response.status_code == 400
    assert response.json() == {"synthesis.subgroups": ["“age” is listed twice."]}
    response = call(
        "post",
        "register/",
        {"registry": "osf", "registration_id": "10.17605/OSF.IO/DEMO1",
         "registered_on": "2024-02-02"},
    )  # fmt: skip
    assert response.status_code == 201
    registered = response.json()
    assert registered["fingerprint_ok"] is True and len(registered["fingerprint"]) == 64
    response = call("patch", "draft/", {"content": {"synthesis": {"tau2_estimator": "DL"}}})
    assert response.status_code == 201
    assert response.json()["number"] == 2
    assert response.json()["content"]["eligibility"] == registered["content"]["eligibility"]
    response = call("post", "amend/", {"rationale": "DL, as the earlier review did."})
    assert response.status_code == 201
    assert response.json()["sections_changed"] == ["synthesis"]

    diff = client.get("/api/reviews/exercise/protocol/diff/?from=1&to=2").json()
    assert diff["sections_changed"] == ["synthesis"]
    changed = [f for s in diff["sections"] if s["changed"] for f in s["fields"] if f["changed"]]
    assert [f["field"] for f in changed] == ["tau2_estimator"]
    assert {"op": "replace", "left": "Restricted", "right": "DerSimonian-Laird"} in changed[0][
        "ops"
    ]
    assert client.get("/api/reviews/exercise/protocol/diff/?from=9").status_code == 400
    plan = client.get("/api/reviews/exercise/protocol/synthesis-plan/").json()
    assert (plan["planned"], plan["method"], plan["test"]) == (True, "DL", "knha")
    listing = client.get("/api/reviews/exercise/protocol/versions/").json()["results"]
    assert [(v["number"], v["state"]) for v in listing] == [(1, "registered"), (2, "amendment")]
    assert call("delete", "draft/").status_code == 400  # no draft
    verbs = set(AuditEvent.objects.filter(review=review).values_list("verb", flat=True))
    assert {"started protocol", "registered protocol", "amended protocol"} <= verbs


def test_the_diff_page_shows_two_versions_side_by_side_escaped(review, lead, reviewer_a):
    register(review, lead)
    amend(review, lead, {"objectives": {"text": "To <script>alert(1)</script> estimate it."}})
    page = client_for(reviewer_a).get("/reviews/exercise/protocol/diff/?from=1&to=2")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-section="objectives" data-changed="yes"' in html
    assert 'data-section="eligibility" data-changed="no"' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        client_for(reviewer_a).get("/reviews/exercise/protocol/diff/?from=1&to=7").status_code
        == 400
    )


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_every_member_downloads_any_version(review, lead, reviewer_a, fmt):
    v1 = register(review, lead)
    response = client_for(reviewer_a).get(
        f"/reviews/exercise/protocol/versions/{v1.pk}/download/?as={fmt}"
    )
    assert response.status_code == 200
    assert f'filename="exercise-protocol-v1.{fmt}"' in response["Content-Disposition"]
    assert (
        client_for(reviewer_a)
        .get(f"/reviews/exercise/protocol/versions/{v1.pk}/download/?as=exe")
        .status_code
        == 400
    )


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_the_api_gives_the_pages_download_of_a_version(review, lead, reviewer_a, outsider, fmt):
    v1 = register(review, lead)
    page = client_for(reviewer_a).get(
        f"/reviews/exercise/protocol/versions/{v1.pk}/download/?as={fmt}"
    )
    api_path = f"/api/reviews/exercise/protocol/versions/{v1.pk}/download/"
    answer = client_for(reviewer_a).get(f"{api_path}?as={fmt}")
    assert answer.status_code == 200
    assert answer["Content-Type"] == page["Content-Type"]
    assert answer["Content-Disposition"] == page["Content-Disposition"]
    if fmt != "pdf":  # a PDF carries its creation time
        assert answer.content == page.content
    else:
        assert answer.content.startswith(b"%PDF")
    refused = client_for(reviewer_a).get(f"{api_path}?as=exe")
    assert refused.status_code == 400 and "as" in refused.json()
    assert client_for(outsider).get(f"{api_path}?as={fmt}").status_code == 404
