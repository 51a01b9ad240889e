"""The BCG demo review has a narrative synthesis of its 13 real trials grouped by allocation
method, with the effect-direction plot and the SWiM checklist (issue 22)."""

from __future__ import annotations

from demo.bcg import demo_bcg_build
from demo.build import DEMO_USERS, _user
from synthesis.narrative import exports, selectors
from synthesis.narrative.models import NarrativeSynthesis
from synthesis.stats import narrative as stats
from tests.conftest import client_for


def test_the_bcg_demo_has_a_narrative_synthesis_by_allocation(
    db, django_capture_on_commit_callbacks
):
    people = {u[0]: _user(u[0], u[1], u[2]) for u in DEMO_USERS}
    with django_capture_on_commit_callbacks(execute=True):
        review = demo_bcg_build(people)
    synthesis = NarrativeSynthesis.objects.get(review=review)
    assert "also pooled" in synthesis.description
    assert "one outcome domain" in synthesis.description and synthesis.domains == {}
    data = selectors.compute(synthesis)
    assert len(data["studies"]) == 13
    assert data["domains"] == [{"domain": "Tuberculosis", "outcomes": ["Tuberculosis"]}]
    groups = {g["value"]: g for g in data["groups"]}
    assert set(groups) == {
        "Allocation: alternate (dat.bcg)",
        "Allocation: random (dat.bcg)",
        "Allocation: systematic (dat.bcg)",
    }
    random = groups["Allocation: random (dat.bcg)"]["outcomes"][0]
    assert len(random["rows"]) == 7
    # The count is what the signs of the log risk ratios say; the sign test is binom.test's.
    n_ben = sum(r["yi"] < 0 for r in random["rows"])
    assert random["n_beneficial"] == n_ben
    assert random["vote"]["p_value"] == stats.sign_test(n_ben, 7 - n_ben).p_value
    assert random["combined"]["method"] == "fisher"
    # The RoB judgements shade the plot.
    assert any(r["rob"] for r in random["rows"])
    svg = exports.figure_bytes(synthesis, data, "effect_direction", "svg")
    assert b"Aronson 1948" in svg
    lead = people["lead"]
    page = client_for(lead).get(f"/reviews/{review.slug}/synthesis/narrative/{synthesis.pk}/")
    assert page.status_code == 200 and b"also pooled" in page.content
    md = selectors.swim_markdown(synthesis, data)
    assert "Vote counting ignores" in md
