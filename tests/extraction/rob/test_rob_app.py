"""The risk-of-bias app (issue 17): settings, assessments with override-with-justification,
blinding (pages and API), consensus, permissions and hostile input."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditEvent
from extraction.models import Study
from extraction.rob import selectors, services
from extraction.rob.models import RobAssessment, RobSettings
from reviews.models import Review
from tests.conftest import client_for
from tests.extraction.rob.rob_world import A_MARKER, B_MARKER, assess, full_answers

pytestmark = pytest.mark.django_db


def _url(name, review, study=None, **query):
    args = [review.slug] + ([study.pk] if study is not None else [])
    url = reverse(f"extraction:{name}", args=args)
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


def _api(review, tail):
    return f"/api/reviews/{review.slug}/extraction/rob/{tail}"


# --- Settings -------------------------------------------------------------------------------


def test_rob2_is_the_default_and_a_lead_sets_a_custom_tool(review, lead, rob_a):
    assert selectors.tool_of(selectors.settings_of(review))["key"] == "rob2"
    assert selectors.high_judgements(review) == {"High"}
    with pytest.raises(PermissionDenied):
        services.settings_save(actor=rob_a, review=review, tool="custom")
    with pytest.raises(ValidationError, match="at least one domain"):
        services.settings_save(
            actor=lead, review=review, tool="custom", custom_judgements=["a", "b"]
        )
    with pytest.raises(ValidationError, match="Not among the judgements"):
        services.settings_save(
            actor=lead,
            review=review,
            tool="custom",
            custom_domains=["Selection"],
            custom_judgements=["Low", "High"],
            custom_high=["Awful"],
        )
    assert not RobSettings.objects.filter(review=review).exists()
    services.settings_save(
        actor=lead,
        review=review,
        tool="custom",
        custom_name="RoB 1",
        custom_domains="Sequence generation\nAllocation concealment",
        custom_judgements=["Low", "Unclear", "High"],
        custom_high=["High"],
    )
    tool = selectors.rob_tool_of(review)
    assert tool["domains"] == [
        {"id": "D1", "name": "Sequence generation"},
        {"id": "D2", "name": "Allocation concealment"},
    ]
    assert tool["judgements"] == ["Low", "Unclear", "High"]
    assert selectors.high_judgements(review) == {"High"}
    assert AuditEvent.objects.filter(verb="risk-of-bias settings saved").count() == 1


def test_the_tool_is_fixed_once_assessments_began(review, lead, rob_a, trial):
    services.assessment_save(actor=rob_a, review=review, study=trial, answers={"D1": {"1.1": "Y"}})
    with pytest.raises(ValidationError, match="can no longer change"):
        services.settings_save(actor=lead, review=review, tool="robins_i")
    assert selectors.settings_of(review).tool == "rob2"


def test_a_custom_tool_is_judged_by_the_assessor_and_overall_is_the_worst(
    review, lead, rob_a, trial
):
    services.settings_save(
        actor=lead,
        review=review,
        tool="custom",
        custom_domains=["Selection", "Blinding"],
        custom_judgements=["Low", "Unclear", "High"],
        custom_high=["High"],
    )
    saved = services.assessment_save(
        actor=rob_a,
        review=review,
        study=trial,
        judgements={"D1": {"judgement": "Low"}, "D2": {"judgement": "Unclear"}},
        support={"D1": {"_": "Random number table."}},
    )
    assert saved.domains["D1"]["judgement"] == "Low" and saved.overall == "Unclear"
    assert saved.support["D1"]["_"] == "Random number table."


# --- Assessing: proposals, overrides, bad input -----------------------------------------------


def test_the_algorithm_proposes_and_an_override_needs_a_justification(review, rob_a, trial):
    saved = services.assessment_save(
        actor=rob_a,
        review=review,
        study=trial,
        answers={"D1": {"1.1": "N", "1.2": "N", "1.3": "NI"}},
    )
    assert saved.domains["D1"]["proposed"] == "High"
    assert saved.domains["D1"]["judgement"] == "High"
    with pytest.raises(ValidationError, match="needs a written justification"):
        services.assessment_save(
            actor=rob_a, review=review, study=trial, judgements={"D1": {"judgement": "Low"}}
        )
    saved.refresh_from_db()
    assert saved.domains["D1"]["judgement"] == "High"
    saved = services.assessment_save(
        actor=rob_a,
        review=review,
        study=trial,
        judgements={"D1": {"judgement": "Some concerns", "justification": "Sealed envelopes."}},
    )
    assert saved.domains["D1"] == {
        "proposed": "High",
        "judgement": "Some concerns",
        "justification": "Sealed envelopes.",
        "algorithm": True,
    }
    event = AuditEvent.objects.filter(verb="risk-of-bias judgement overridden").get()
    assert event.changes["judgements"]["D1"]["justification"] == "Sealed envelopes."
    assert event.changes["judgements"]["D1"]["from"] == "High"
    # The override is shown on the page with its justification.
    page = client_for(rob_a).get(_url("rob_assess", review, trial)).content.decode()
    assert "Sealed envelopes." in page and "data-override" in page


def test_overall_override_needs_a_justification(review, rob_a, trial):
    saved = assess(review, rob_a, trial, done=False)
    assert saved.overall_proposed and saved.overall == saved.overall_proposed
    other = next(j for j in ("Low", "Some concerns", "High") if j != saved.overall_proposed)
    with pytest.raises(ValidationError, match="overall rule proposes"):
        services.assessment_save(
            actor=rob_a, review=review, study=trial, overall={"judgement": other}
        )
    saved = services.assessment_save(
        actor=rob_a,
        review=review,
        study=trial,
        overall={"judgement": other, "justification": "Because."},
    )
    assert saved.overall == other and saved.overall_justification == "Because."


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"answers": {"D1": {"1.1": "MAYBE"}}}, "not an allowed answer"),
        ({"answers": {"D1": {"9.9": "Y"}}}, "no question"),
        ({"answers": {"D9": {"1.1": "Y"}}}, "Not a domain"),
        ({"answers": ["Y"]}, "Send an object"),
        (
            {"judgements": {"D1": {"judgement": "Dreadful", "justification": "x"}}},
            "not a judgement",
        ),
        ({"d2_variant": "sideways"}, "Domain 2 is assessed for"),
        ({"outcome": "Mortality"}, "per study"),
    ],
)
def test_bad_answers_are_refused_with_a_message_and_change_nothing(
    review, rob_a, trial, payload, message
):
    with pytest.raises(ValidationError, match=message):
        services.assessment_save(actor=rob_a, review=review, study=trial, **payload)
    assert not RobAssessment.objects.exists()
    api = client_for(rob_a).put(
        _api(review, f"studies/{trial.pk}/assessments/"),
        json.dumps(payload),
        content_type="application/json",
    )
    assert api.status_code == 400, api.content
    assert not RobAssessment.objects.exists()


def test_unasked_questions_are_stored_na_and_done_needs_everything(review, rob_a, trial):
    saved = services.assessment_save(
        actor=rob_a,
        review=review,
        study=trial,
        answers={"D1": {"1.1": "Y", "1.2": "Y", "1.3": "N"}},
    )
    assert saved.domains["D1"]["proposed"] == "Low"
    with pytest.raises(ValidationError, match="Not finished"):
        services.assessment_mark(actor=rob_a, review=review, study=trial, done=True)
    saved = assess(review, rob_a, trial)
    assert saved.done
    with pytest.raises(ValidationError, match="reopen it"):
        services.assessment_save(actor=rob_a, review=review, study=trial, answers={})
    from extraction.rob import engine

    for key, answers in saved.answers.items():
        engine_id = selectors.engine_domain(
            selectors.tool_of(selectors.settings_of(review)), key, saved.d2_variant
        )
        asked = engine.questions_asked("rob2", engine_id, answers)
        assert all(v == "NA" for q, v in answers.items() if q not in asked)


def test_the_page_posts_the_form_and_htmx_gets_the_rejudged_form(review, rob_a, trial):
    client = client_for(rob_a)
    url = _url("rob_assess", review, trial)
    form = {
        "answer:D1:1.1": "N",
        "answer:D1:1.2": "N",
        "answer:D1:1.3": "NI",
        "support:D1:1.1": "Alternate allocation.",
    }
    response = client.post(url, form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-proposed="D1"' in body and "High" in body and "Alternate allocation." in body
    bad = client.post(url, {**form, "judgement:D1": "Low"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "Not saved" in bad.content.decode()
    assert "needs a written justification" in bad.content.decode()
    assert RobAssessment.objects.get().domains["D1"]["judgement"] == "High"
    plain = client.post(url, {"answer:D1:1.1": "BOGUS"})
    assert plain.status_code == 302
    assert RobAssessment.objects.get().answers["D1"]["1.1"] == "N"


# --- Blinding ----------------------------------------------------------------------------------


def test_an_assessor_never_sees_the_others_work_before_both_are_done(
    review, lead, rob_a, rob_b, trial
):
    assess(review, rob_a, trial, support={"D1": {"1.1": A_MARKER}})
    assess(review, rob_b, trial, support={"D1": {"1.1": B_MARKER}}, done=False)
    a = client_for(rob_a)
    pages = [
        _url("rob", review),
        _url("rob_assess", review, trial),
        _url("rob_compare", review, trial),
    ]
    apis = [
        _api(review, f"studies/{trial.pk}/assessments/"),
        _api(review, f"studies/{trial.pk}/comparison/"),
        _api(review, f"studies/{trial.pk}/consensus/"),
        _api(review, "assessments/"),
    ]
    for url in pages + apis:
        response = a.get(url)
        assert response.status_code in (200, 404), url
        assert B_MARKER not in response.content.decode(), url
    assert A_MARKER in a.get(apis[0]).content.decode()
    assert a.get(apis[1]).json()["visible"] is False
    # A lead who did not assess sees both at once.
    assert B_MARKER in client_for(lead).get(apis[0]).content.decode()
    # Once both are done, the comparison shows both to the assessors.
    services.assessment_mark(actor=rob_b, review=review, study=trial, done=True)
    assert B_MARKER in a.get(_url("rob_compare", review, trial)).content.decode()
    assert a.get(apis[1]).json()["visible"] is True


def test_other_roles_read_the_finished_consensus_only(
    review, lead, rob_a, rob_b, rob_viewer, trial
):
    assess(review, rob_a, trial, support={"D1": {"1.1": A_MARKER}})
    assess(review, rob_b, trial, support={"D1": {"1.1": B_MARKER}})
    v = client_for(rob_viewer)
    assert v.get(_api(review, f"studies/{trial.pk}/assessments/")).json() == []
    page = v.get(_url("rob_compare", review, trial)).content.decode()
    assert A_MARKER not in page and B_MARKER not in page
    services.consensus_save(actor=lead, review=review, study=trial, finish=False)
    assert v.get(_api(review, f"studies/{trial.pk}/consensus/")).status_code == 404
    services.consensus_save(actor=lead, review=review, study=trial, finish=True)
    assert v.get(_api(review, f"studies/{trial.pk}/consensus/")).status_code == 200


# --- Consensus ---------------------------------------------------------------------------------


def test_consensus_rules(review, lead, rob_a, rob_b, rob_third, rob_viewer, trial):
    assess(review, rob_a, trial, prefer=("Y", "PY", "N", "NI"))
    assess(review, rob_b, trial, prefer=("N", "PN", "NI", "Y"))
    a, b = selectors.done_pair(trial)
    tool = selectors.tool_of(selectors.settings_of(review))
    rows = selectors.comparison(a, b, tool)
    differing = [r["id"] for r in rows if r["differs"]]
    assert differing
    with pytest.raises(PermissionDenied):
        services.consensus_save(actor=rob_a, review=review, study=trial)
    with pytest.raises(PermissionDenied):
        services.consensus_save(actor=rob_viewer, review=review, study=trial)
    assert client_for(rob_a).post(_url("rob_compare", review, trial), {}).status_code == 403
    first = differing[0]
    with pytest.raises(ValidationError, match="needs a written justification"):
        services.consensus_save(
            actor=rob_third,
            review=review,
            study=trial,
            picks={first: {"pick": "own", "judgement": "High"}},
        )
    with pytest.raises(ValidationError, match="Still to resolve"):
        services.consensus_save(actor=rob_third, review=review, study=trial, finish=True)
    assert not RobAssessment.objects.filter(kind="consensus", done=True).exists()
    picks = {key: {"pick": "b"} for key in differing}
    picks[first] = {"pick": "own", "judgement": "High", "justification": "Both missed it."}
    consensus = services.consensus_save(
        actor=rob_third, review=review, study=trial, picks=picks, finish=True
    )
    assert consensus.done and consensus.assessor == rob_third
    assert consensus.domains[first]["judgement"] == "High"
    assert consensus.domains[first]["justification"] == "Both missed it."
    for key in differing[1:]:
        assert consensus.domains[key] == b.domains[key]
        assert consensus.answers[key] == b.answers[key]
    assert selectors.overall_by_study(review) == {"Aronson 1948": consensus.overall}
    table = selectors.domain_table(review)
    assert table[0]["study"] == "Aronson 1948"
    assert table[0]["judgements"]["Overall"] == consensus.overall
    assert set(table[0]["judgements"]) == {"D1", "D2", "D3", "D4", "D5", "Overall"}
    event = AuditEvent.objects.get(verb="risk-of-bias consensus done")
    assert event.actor == rob_third and event.changes["picks"][first] == "own"
    # The lead may override the overall with a justification.
    other = next(j for j in ("Low", "Some concerns", "High") if j != consensus.overall)
    consensus = services.consensus_save(
        actor=lead,
        review=review,
        study=trial,
        overall={"judgement": other, "justification": "Sponsor."},
    )
    assert selectors.overall_by_study(review)["Aronson 1948"] == other


def test_consensus_needs_both_done(review, lead, rob_a, trial):
    assess(review, rob_a, trial)
    with pytest.raises(ValidationError, match="Both assessments"):
        services.consensus_save(actor=lead, review=review, study=trial)


def test_per_outcome_assessments_win_for_their_outcome(review, lead, rob_a, rob_b, trial):
    from extraction.rob.models import RobAssessment as A

    services.settings_save(actor=lead, review=review, tool="rob2", per_outcome=True)
    A.objects.create(
        review=review,
        study=trial,
        outcome="",
        kind="consensus",
        tool="rob2",
        overall="Low",
        done=True,
    )
    A.objects.create(
        review=review,
        study=trial,
        outcome="Mortality",
        kind="consensus",
        tool="rob2",
        overall="High",
        done=True,
    )
    assert selectors.overall_by_study(review) == {"Aronson 1948": "Low"}
    assert selectors.overall_by_study(review, outcome="Mortality") == {"Aronson 1948": "High"}
    assert selectors.overall_by_study(review, outcome="Other") == {"Aronson 1948": "Low"}


# --- Permissions and forged ids -----------------------------------------------------------------


def test_viewers_read_and_outsiders_get_404(review, rob_viewer, outsider, trial):
    v = client_for(rob_viewer)
    assert v.get(_url("rob", review)).status_code == 200
    assert v.get(_url("rob_assess", review, trial)).status_code == 200
    assert v.post(_url("rob_assess", review, trial), {"answer:D1:1.1": "Y"}).status_code == 403
    assert v.post(_url("rob_settings", review), {"tool": "robins_i"}).status_code == 403
    assert v.get(_url("rob_settings", review)).status_code == 403
    assert (
        v.put(
            _api(review, f"studies/{trial.pk}/assessments/"), "{}", content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        v.put(
            _api(review, "settings/"),
            json.dumps({"tool": "robins_i"}),
            content_type="application/json",
        ).status_code
        == 403
    )
    assert not RobAssessment.objects.exists()
    o = client_for(outsider)
    for url in (
        _url("rob", review),
        _url("rob_assess", review, trial),
        _url("rob_compare", review, trial),
        _url("rob_figures", review),
        _url("rob_export", review),
        _api(review, "settings/"),
        _api(review, f"studies/{trial.pk}/assessments/"),
    ):
        assert o.get(url).status_code == 404, url


def test_a_study_of_another_review_is_a_404(review, lead, rob_a, outsider):
    other = Review.objects.get(slug="elsewhere")
    foreign = Study.objects.create(review=other, label="Foreign 2001")
    a = client_for(rob_a)
    assert a.get(_url("rob_assess", review, foreign)).status_code == 404
    assert a.post(_url("rob_assess", review, foreign), {"answer:D1:1.1": "Y"}).status_code == 404
    assert (
        a.put(
            _api(review, f"studies/{foreign.pk}/assessments/"),
            "{}",
            content_type="application/json",
        ).status_code
        == 404
    )
    assert a.get("/reviews/exercise/extraction/rob/studies/abc/assess/").status_code == 404
    assert not RobAssessment.objects.exists()


def test_the_api_saves_and_marks_done_like_the_pages(review, rob_a, trial):
    a = client_for(rob_a)
    put = a.put(
        _api(review, f"studies/{trial.pk}/assessments/"),
        json.dumps({"answers": full_answers(review)}),
        content_type="application/json",
    )
    assert put.status_code == 200, put.content
    assert put.json()["overall"]
    done = a.post(
        _api(review, f"studies/{trial.pk}/done/"), {"done": True}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["done"] is True
    settings = a.get(_api(review, "settings/")).json()
    assert settings["described"]["key"] == "rob2" and settings["tool"] == "rob2"


def test_changing_the_domain_2_variant_starts_domain_2_afresh(review, rob_a, trial):
    saved = assess(review, rob_a, trial, done=False)
    assert saved.d2_variant == "assignment" and saved.domains["D2"]["judgement"]
    old_d2 = saved.answers["D2"]
    saved = services.assessment_save(
        actor=rob_a, review=review, study=trial, d2_variant="adhering", answers={"D2": old_d2}
    )
    assert saved.d2_variant == "adhering"
    assert saved.domains["D2"]["proposed"] is None and saved.overall == ""
    assert saved.answers["D1"]  # the other domains are kept
    answers = full_answers(review, variant="adhering")["D2"]
    saved = services.assessment_save(
        actor=rob_a, review=review, study=trial, d2_variant="adhering", answers={"D2": answers}
    )
    assert saved.domains["D2"]["proposed"] and saved.overall


def test_robins_i_domains_are_judged_by_the_assessor(review, lead, rob_a, trial):
    services.settings_save(actor=lead, review=review, tool="robins_i")
    assert selectors.high_judgements(review) == {"Serious", "Critical"}
    answers = full_answers(review, prefer=("NI", "N", "Y", "PN", "PY"))
    saved = services.assessment_save(actor=rob_a, review=review, study=trial, answers=answers)
    assert all(d["proposed"] is None and d["judgement"] == "" for d in saved.domains.values())
    with pytest.raises(ValidationError, match="judge the domain"):
        services.assessment_mark(actor=rob_a, review=review, study=trial, done=True)
    judgements = {f"D{i}": {"judgement": "Moderate"} for i in range(1, 8)}
    judgements["D3"] = {"judgement": "Serious"}
    saved = services.assessment_save(
        actor=rob_a,
        review=review,
        study=trial,
        judgements=judgements,
        support={"D3": {"_": "Classification of interventions unclear."}},
    )
    assert saved.domains["D3"]["judgement"] == "Serious" and saved.overall == "Serious"
    assert services.assessment_mark(actor=rob_a, review=review, study=trial, done=True).done


def test_per_outcome_reviews_list_and_assess_each_outcome(review, lead, rob_a, trial):
    from extraction import services as extraction_services

    extraction_services.form_use_template(actor=lead, review=review)
    extraction_services.form_publish(actor=lead, review=review)
    extraction_services.extraction_save(
        actor=rob_a,
        review=review,
        study=trial,
        values={"outcomes.0.name": "Tuberculosis", "outcomes.1.name": "Death"},
    )
    services.settings_save(actor=lead, review=review, tool="rob2", per_outcome=True)
    rows = selectors.overview(review)
    assert [(r["study"].label, r["outcome"]) for r in rows] == [
        ("Aronson 1948", "Death"),
        ("Aronson 1948", "Tuberculosis"),
    ]
    saved = services.assessment_save(
        actor=rob_a, review=review, study=trial, outcome="Death", answers={"D1": {"1.1": "Y"}}
    )
    assert saved.outcome == "Death"
    with pytest.raises(ValidationError, match="not an outcome"):
        services.assessment_save(actor=rob_a, review=review, study=trial, outcome="Height")
    page = client_for(rob_a).get(_url("rob_assess", review, trial, outcome="Death"))
    assert page.status_code == 200 and "Death" in page.content.decode()
    assert (
        client_for(rob_a).get(_url("rob_assess", review, trial, outcome="Nope")).status_code == 404
    )
