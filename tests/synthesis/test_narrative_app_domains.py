"""Outcome domains in the narrative synthesis (issue 22): the within-study 70 % rule of the effect
direction plot (Thomson & Thomas 2013; Hilton Boon & Thomson 2021), manual directions counting as
set, a mapping change reflected in the tables, the plot, the exports and the SWiM checklist,
audit, hostile input, permissions and the archive round trip."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from core.models import AuditEvent
from synthesis.narrative import exports, selectors, services
from synthesis.narrative.models import NarrativeSynthesis
from synthesis.stats import StatsInputError
from synthesis.stats import narrative as stats
from tests.conftest import client_for
from tests.synthesis.app_world import snapshot_of, statistician_of, viewer_of

PAGES = "/reviews/exercise/synthesis/narrative/"
API = "/api/reviews/exercise/synthesis/narrative/"
B, H, U = stats.BENEFICIAL, stats.HARMFUL, stats.NO_CLEAR_DIFFERENCE
OUTCOMES = ["Wheeze", "Cough", "Asthma attacks", "Chest infections", "Mental health"]


# --- The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directions", "expected"),
    [
        ([B, B, B, H], B),  # 3 of 4 (75 %) agree: that direction
        ([H, H, H, B], H),
        ([B, B, H, H], U),  # 2 of 4: conflicting
        ([B, B, U, U], U),
        ([B] * 7 + [H] * 3, B),  # exactly 70 %
        ([B] * 6 + [H] * 4, U),  # 60 %
        ([B, B, B, U], B),  # "no clear difference" outcomes count in the denominator
        ([B, B, U], U),  # 2 of 3 = 67 % < 70 %
        ([B, None, ""], B),  # outcomes without a direction are left out
        ([H], H),
        ([U], U),
        ([None, None], None),
        ([], None),
    ],
)
def test_domain_direction_follows_the_70_percent_rule(directions, expected):
    found = stats.domain_direction(directions)
    assert found.direction == expected
    assert found.k == sum(bool(d) for d in directions)
    assert found.n_beneficial + found.n_harmful + found.n_unclear == found.k


@pytest.mark.parametrize("threshold", [0.5, 0, 1.2, "0.7", float("nan")])
def test_domain_direction_refuses_a_bad_threshold_or_direction(threshold):
    with pytest.raises(StatsInputError):
        stats.domain_direction([B], threshold=threshold)
    with pytest.raises(StatsInputError):
        stats.domain_direction(["better"])


# --- In the app -------------------------------------------------------------------------------


def _effect(outcome: str, yi: float) -> dict:
    return {"outcome": outcome, "measure": "SMD", "yi": yi, "vi": 0.04}


# With "lower favours": a negative estimate is beneficial. Study A: 3 of 4 respiratory outcomes
# beneficial; study B: 2 of 4; study C reports no respiratory outcome at all.
STUDIES = [
    {
        "label": "A 2001",
        "values": {"arms.0.n": "40", "arms.1.n": "40", "setting": "urban"},
        "effects": [_effect("Wheeze", -0.3), _effect("Cough", -0.2),
                    _effect("Asthma attacks", -0.1), _effect("Chest infections", 0.2),
                    _effect("Mental health", -0.4)],
    },
    {
        "label": "B 2005",
        "values": {"arms.0.n": "200", "arms.1.n": "210", "setting": "rural"},
        "effects": [_effect("Wheeze", -0.3), _effect("Cough", -0.2),
                    _effect("Asthma attacks", 0.1), _effect("Chest infections", 0.2),
                    _effect("Mental health", 0.3)],
    },
    {
        "label": "C 2010",
        "values": {"arms.0.n": "20", "arms.1.n": "25", "setting": "urban"},
        "effects": [_effect("Mental health", -0.1)],
    },
]  # fmt: skip
RESPIRATORY = {o: "Respiratory health" for o in OUTCOMES[:4]}


@pytest.fixture
def stats_user(review, lead):
    return statistician_of(review, lead)


@pytest.fixture
def synthesis(review, lead, stats_user):
    snapshot_of(review, STUDIES, user=lead)
    return services.synthesis_create(
        actor=stats_user,
        review=review,
        data={
            "name": "Housing",
            "selection": "all",
            "outcomes": [{"outcome": o, "favourable": "lower"} for o in OUTCOMES],
        },
    )


def _cell(data, domain, study):
    (g,) = data["groups"]
    d = next(d for d in g["domains"] if d["domain"] == domain)
    return d, next(r for r in d["rows"] if r["study"] == study)


def test_by_default_each_outcome_is_its_own_domain(synthesis):
    data = selectors.compute(synthesis)
    assert [d["domain"] for d in data["domains"]] == OUTCOMES
    assert [d["outcomes"] for d in data["domains"]] == [[o] for o in OUTCOMES]
    (g,) = data["groups"]
    for d, o in zip(g["domains"], g["outcomes"], strict=True):
        # One outcome per domain: the domain's numbers are the outcome's.
        assert [r["direction"] for r in d["rows"]] == [r["direction"] for r in o["rows"]]
        assert (d["n_beneficial"], d["n_harmful"]) == (o["n_beneficial"], o["n_harmful"])
        assert d["vote"] == o["vote"]
    assert selectors.plot_rows(data)[0]["directions"] == {
        "Wheeze": B, "Cough": B, "Asthma attacks": B, "Chest infections": H, "Mental health": B
    }  # fmt: skip


def test_mapping_combines_directions_by_the_rule_and_counts_manual_ones(
    review, stats_user, synthesis
):
    services.domains_set(actor=stats_user, review=review, synthesis=synthesis, data=RESPIRATORY)
    data = selectors.compute(synthesis)
    assert [d["domain"] for d in data["domains"]] == ["Respiratory health", "Mental health"]
    d, a = _cell(data, "Respiratory health", "A 2001")
    assert (a["direction"], a["k"], a["n_beneficial"], a["n_harmful"]) == (B, 4, 3, 1)
    _, b = _cell(data, "Respiratory health", "B 2005")
    assert (b["direction"], b["k"]) == (U, 4)
    _, c = _cell(data, "Respiratory health", "C 2010")
    assert (c["direction"], c["k"]) == (None, 0)
    # Vote counting per domain across studies: A beneficial, B conflicting (left out), C none.
    assert (d["n_beneficial"], d["n_harmful"], d["n_unclear"], d["n_missing"]) == (1, 0, 1, 1)
    assert d["vote"]["p_value"] == stats.sign_test(1, 0).p_value
    # A direction set by hand counts as set: B's asthma attacks → beneficial makes 3 of 4.
    services.direction_set(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"study": "B 2005", "outcome": "Asthma attacks", "direction": B,
              "reason": "The report's scale: higher is better."},
    )  # fmt: skip
    d, b = _cell(selectors.compute(synthesis), "Respiratory health", "B 2005")
    assert (b["direction"], b["n_beneficial"]) == (B, 3)
    assert d["vote"]["k"] == 2 and d["vote"]["p_value"] == stats.sign_test(2, 0).p_value
    # ... and to harmful: 2 of 4 again, conflicting.
    services.direction_set(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"study": "B 2005", "outcome": "Wheeze", "direction": H, "reason": "Re-read."},
    )
    _, b = _cell(selectors.compute(synthesis), "Respiratory health", "B 2005")
    assert b["direction"] == U


def test_a_mapping_change_shows_in_tables_plot_exports_and_swim(review, stats_user, synthesis):
    c = client_for(stats_user)
    page = c.get(f"{PAGES}{synthesis.pk}/").content.decode()
    assert 'data-domain-cell="Wheeze"' in page and "Respiratory health" not in page
    svg = c.get(f"{PAGES}{synthesis.pk}/figures/effect_direction.svg").content.decode()
    assert "Wheeze" in svg and "Respiratory health" not in svg
    r = c.post(
        f"{PAGES}{synthesis.pk}/domains/",
        {"domain_0": "Respiratory health", "domain_1": "Respiratory health",
         "domain_2": " Respiratory  health ", "domain_3": "Respiratory health", "domain_4": ""},
    )  # fmt: skip
    assert r.status_code == 302
    synthesis.refresh_from_db()
    assert synthesis.domains == RESPIRATORY
    page = c.get(f"{PAGES}{synthesis.pk}/").content.decode()
    assert (
        'data-domain-cell="Respiratory health"' in page and 'data-domain-cell="Wheeze"' not in page
    )
    assert "(4 outcomes)" in page and "3 beneficial, 1 harmful" in page
    svg = c.get(f"{PAGES}{synthesis.pk}/figures/effect_direction.svg").content.decode()
    assert "Respiratory health" in svg
    data = selectors.compute(synthesis)
    # The per-outcome table keeps every outcome, now with its domain.
    columns, rows = selectors.characteristics_table(synthesis, data)
    at = columns.index("domain")
    assert {(r[columns.index("outcome")], r[at]) for r in rows} >= {
        ("Wheeze", "Respiratory health"), ("Mental health", "Mental health")
    }  # fmt: skip
    body = c.get(f"{API}{synthesis.pk}/export/?format=csv&table=domains").content.decode()
    table = list(csv.reader(io.StringIO(body)))
    assert table[0] == ["group", "study", "n", "rob", "Respiratory health",
                        "Respiratory health (outcomes)", "Mental health",
                        "Mental health (outcomes)"]  # fmt: skip
    assert table[1][1:] == ["A 2001", "80", "", B, "4", B, "1"]
    assert table[2][4:6] == [U, "4"] and table[3][4:6] == ["", "0"]
    book = load_workbook(io.BytesIO(c.get(f"{PAGES}{synthesis.pk}/export/?format=xlsx").content))
    votes = list(book["vote counting by domain"].values)
    assert votes[1][1] == "Respiratory health" and votes[1][3:6] == (1, 0, 1)
    assert next(iter(book["domains"].values))[4] == "Respiratory health"
    swim = selectors.swim_checklist(synthesis, data)[0]["filled"]
    assert "2 outcome domain(s)" in swim and "Respiratory health (Wheeze, Cough" in swim
    assert "70 %" in swim
    assert c.get(f"{PAGES}{synthesis.pk}/export/?format=csv&table=pie").status_code == 302
    assert c.get(f"{API}{synthesis.pk}/export/?format=csv&table=pie").status_code == 400
    assert exports.TABLES == ("studies", "domains")


def test_mapping_is_audited_with_what_changed_and_api_round_trip(review, stats_user, synthesis):
    c = client_for(stats_user)
    r = c.get(f"{API}{synthesis.pk}/domains/")
    assert r.status_code == 200 and r.json()["mapping"]["Cough"] == "Cough"
    r = c.put(f"{API}{synthesis.pk}/domains/", {"mapping": {"Cough": "Respiratory", "Wheeze":
              "Respiratory"}}, content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["domains"][0] == {"domain": "Respiratory", "outcomes": ["Wheeze", "Cough"]}
    event = AuditEvent.objects.filter(verb="mapped outcome domains").latest("pk")
    assert event.actor == stats_user
    assert event.changes["domains"] == {
        "Wheeze": ["Wheeze", "Respiratory"], "Cough": ["Cough", "Respiratory"]
    }  # fmt: skip
    # Saving the same mapping again records nothing new.
    services.domains_set(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"Cough": "Respiratory", "Wheeze": "Respiratory"},
    )
    assert AuditEvent.objects.filter(verb="mapped outcome domains").count() == 1
    assert c.get(f"{API}{synthesis.pk}/").json()["domains"] == {
        "Cough": "Respiratory", "Wheeze": "Respiratory"
    }  # fmt: skip
    # The page lists the domains.
    page = c.get(f"{PAGES}{synthesis.pk}/domains/").content.decode()
    assert 'data-domain="Respiratory"' in page and "data-domains-form" in page


@pytest.mark.parametrize(
    "data",
    [
        {"Dizziness": "Other"},  # not an outcome of the synthesis
        {"Cough": 3},
        {"Cough": ["x"]},
        {"Cough": "x" * 201},
        ["Cough"],
        "Cough",
    ],
)
def test_hostile_mappings_change_nothing(review, stats_user, synthesis, data):
    services.domains_set(actor=stats_user, review=review, synthesis=synthesis, data=RESPIRATORY)
    with pytest.raises(ValidationError):
        services.domains_set(actor=stats_user, review=review, synthesis=synthesis, data=data)
    synthesis.refresh_from_db()
    assert synthesis.domains == RESPIRATORY
    if data == {"Cough": 3}:
        return  # the API's text fields take a number as its text (DRF's CharField), as elsewhere
    r = client_for(stats_user).put(
        f"{API}{synthesis.pk}/domains/",
        {"mapping": data} if isinstance(data, dict) else data,
        content_type="application/json",
    )
    assert r.status_code == 400
    synthesis.refresh_from_db()
    assert synthesis.domains == RESPIRATORY


def test_a_bad_page_post_shows_a_message_and_changes_nothing(review, stats_user, synthesis):
    c = client_for(stats_user)
    r = c.post(f"{PAGES}{synthesis.pk}/domains/", {"domain_0": "x" * 300}, follow=True)
    assert r.status_code == 200 and b'class="message error"' in r.content
    assert b"at most 200" in r.content or b"200 characters" in r.content
    synthesis.refresh_from_db()
    assert synthesis.domains == {}


def test_permissions(review, lead, stats_user, synthesis, outsider, reviewer_a):
    viewer = viewer_of(review, lead)
    with pytest.raises(PermissionDenied):
        services.domains_set(actor=viewer, review=review, synthesis=synthesis, data=RESPIRATORY)
    for user in (viewer, reviewer_a):
        c = client_for(user)
        assert c.get(f"{PAGES}{synthesis.pk}/domains/").status_code == 200
        assert b"data-domains-form" not in c.get(f"{PAGES}{synthesis.pk}/domains/").content
        assert c.get(f"{API}{synthesis.pk}/domains/").status_code == 200
        assert c.post(f"{PAGES}{synthesis.pk}/domains/", {"domain_0": "R"}).status_code == 403
        r = c.put(f"{API}{synthesis.pk}/domains/", {"mapping": {}}, content_type="application/json")
        assert r.status_code == 403
    synthesis.refresh_from_db()
    assert synthesis.domains == {}
    out = client_for(outsider)
    assert out.get(f"{PAGES}{synthesis.pk}/domains/").status_code == 404
    assert out.get(f"{API}{synthesis.pk}/domains/").status_code == 404
    c = client_for(stats_user)
    assert c.get(f"{PAGES}999999/domains/").status_code == 404
    assert c.put(f"{API}999999/domains/", {"mapping": {}},
                 content_type="application/json").status_code == 404  # fmt: skip
    other = NarrativeSynthesis.objects.create(
        review=outsider.memberships.first().review, name="Theirs", outcomes=[]
    )
    assert c.post(f"{PAGES}{other.pk}/domains/", {"domain_0": "R"}).status_code == 404


def test_archive_round_trip_keeps_the_mapping(review, stats_user, synthesis):
    from django.contrib.auth import get_user_model

    from reporting import archive
    from reviews.models import Review

    services.domains_set(actor=stats_user, review=review, synthesis=synthesis, data=RESPIRATORY)
    before = selectors.compute(synthesis)
    data = archive.archive_bytes(review=review)
    Review.objects.all().delete()
    get_user_model().objects.all().delete()
    AuditEvent.objects.all().delete()
    imported = archive.review_import(stream=io.BytesIO(data))
    found = NarrativeSynthesis.objects.get(review=imported)
    assert found.domains == RESPIRATORY
    assert selectors.compute(found) == before


def test_an_outcome_taken_out_of_the_synthesis_leaves_its_domain(review, stats_user, synthesis):
    services.domains_set(actor=stats_user, review=review, synthesis=synthesis, data=RESPIRATORY)
    services.synthesis_update(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"name": "Housing", "selection": "all",
              "outcomes": [{"outcome": o} for o in ["Wheeze", "Cough", "Mental health"]]},
    )  # fmt: skip
    synthesis.refresh_from_db()
    assert synthesis.domains == {"Wheeze": "Respiratory health", "Cough": "Respiratory health"}
    event = AuditEvent.objects.filter(verb="edited narrative synthesis").latest("pk")
    assert event.changes["domains"][1] == synthesis.domains
    data = selectors.compute(synthesis)
    assert data["domains"] == [
        {"domain": "Respiratory health", "outcomes": ["Wheeze", "Cough"]},
        {"domain": "Mental health", "outcomes": ["Mental health"]},
    ]
    _, a = _cell(data, "Respiratory health", "A 2001")
    assert (a["direction"], a["k"]) == (B, 2)
