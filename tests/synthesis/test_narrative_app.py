"""Narrative synthesis in the app (issue 22): directions derived from the snapshot's result rows,
vote counting and combined p-values equal to the pure functions (themselves checked against R),
grouping and selection reflected in the tables, manual directions with a reason, permissions and
404s, hostile input, figures, exports, the SWiM checklist and the archive round trip."""

from __future__ import annotations

import csv
import io
import math

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook
from scipy import special

from core.models import AuditEvent
from demo.bcg import trials
from synthesis import services as analyses
from synthesis.narrative import exports, selectors, services
from synthesis.narrative.models import NarrativeDirection, NarrativeSynthesis
from synthesis.stats import escalc
from synthesis.stats import narrative as stats
from tests.conftest import client_for
from tests.synthesis.app_world import MAIN, bcg_studies, snapshot_of, statistician_of, viewer_of

PAGES = "/reviews/exercise/synthesis/narrative/"
API = "/api/reviews/exercise/synthesis/narrative/"
TB = [{"outcome": "Tuberculosis", "favourable": "lower", "combine": "fisher"}]


@pytest.fixture
def stats_user(review, lead):
    return statistician_of(review, lead)


@pytest.fixture
def snapshot(review, lead):
    return snapshot_of(review, bcg_studies(), user=lead)


def _define(review, who, **extra):
    data = {"name": "By allocation", "group_by": "alloc", "selection": "all", "outcomes": TB}
    return services.synthesis_create(actor=who, review=review, data=data | extra)


def _rr():
    data = trials()
    return data, escalc(
        "RR",
        ai=[int(t["tpos"]) for t in data],
        bi=[int(t["tneg"]) for t in data],
        ci=[int(t["cpos"]) for t in data],
        di=[int(t["cneg"]) for t in data],
    )


def test_directions_come_from_the_result_rows_and_numbers_equal_the_pure_functions(
    review, stats_user, snapshot
):
    synthesis = _define(review, stats_user)
    data = selectors.compute(synthesis)
    trial_rows, rr = _rr()
    expected = {
        f"{t['author']} {t['year']}": (t["alloc"], float(y), float(v))
        for t, y, v in zip(trial_rows, rr.yi, rr.vi, strict=True)
    }
    assert {g["value"] for g in data["groups"]} == {"alternate", "random", "systematic"}
    for g in data["groups"]:
        o = g["outcomes"][0]
        for r in o["rows"]:
            alloc, yi, vi = expected[r["study"]]
            assert alloc == g["value"]
            assert r["yi"] == pytest.approx(yi, rel=1e-12)
            assert r["direction"] == stats.effect_direction(yi, favourable="lower")
            assert r["source"] == "derived"
            assert r["p"] == pytest.approx(2 * special.ndtr(-abs(yi) / math.sqrt(vi)), rel=1e-12)
        n_ben = sum(r["direction"] == "beneficial" for r in o["rows"])
        n_harm = sum(r["direction"] == "harmful" for r in o["rows"])
        t = stats.sign_test(n_ben, n_harm)
        assert o["vote"]["p_value"] == t.p_value
        assert (o["vote"]["ci_lb"], o["vote"]["ci_ub"]) == (t.ci_lb, t.ci_ub)
        s = stats.summarise_effects([r["yi"] for r in o["rows"]])
        assert o["summary"]["median"] == s.median and o["summary"]["measure"] == "RR"
        if len(o["rows"]) >= 2:
            c = stats.combine_p(
                [r["p"] for r in o["rows"]],
                method="fisher",
                one_sided=False,
                directions=[r["direction"] for r in o["rows"]],
            )
            assert o["combined"]["p_value"] == c.p_value
            assert o["combined"]["statistic"] == c.statistic
    # "higher favours" flips every direction.
    flipped = _define(
        review, stats_user, name="Flipped", outcomes=[TB[0] | {"favourable": "higher"}]
    )
    rows = [r for g in selectors.compute(flipped)["groups"] for r in g["outcomes"][0]["rows"]]
    assert all(r["direction"] == "harmful" for r in rows if r["yi"] < 0)


def test_grouping_and_selection_changes_show_in_the_tables(review, stats_user, snapshot):
    synthesis = _define(review, stats_user)
    columns, rows = selectors.characteristics_table(synthesis, selectors.compute(synthesis))
    assert {r[0] for r in rows} == {"alternate", "random", "systematic"}
    assert "ablat" in columns and "alloc" not in columns  # the grouping field is the first column
    synthesis = services.synthesis_update(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"name": "By allocation", "group_by": "", "selection": "chosen",
              "studies": ["Aronson 1948", "Rosenthal et al 1961"], "outcomes": TB},
    )  # fmt: skip
    data = selectors.compute(synthesis)
    assert [g["value"] for g in data["groups"]] == [selectors.ALL_STUDIES]
    assert data["studies"] == ["Aronson 1948", "Rosenthal et al 1961"]
    _, rows = selectors.characteristics_table(synthesis, data)
    assert [r[1] for r in rows] == ["Aronson 1948", "Rosenthal et al 1961"]
    assert AuditEvent.objects.filter(verb="edited narrative synthesis").exists()


def test_not_pooled_leaves_out_the_studies_of_each_analysis_s_latest_result(
    review, stats_user, snapshot
):
    synthesis = _define(review, stats_user, selection="not_pooled")
    assert len(selectors.compute(synthesis)["studies"]) == 13
    analysis = analyses.analysis_create(
        actor=stats_user,
        review=review,
        data=MAIN | {"study_filters": [{"field": "alloc", "op": "eq", "value": "random"}]},
    )
    analyses.analysis_run_now(actor=stats_user, review=review, analysis=analysis)
    data = selectors.compute(synthesis)
    assert {g["value"] for g in data["groups"]} == {"alternate", "systematic"}
    assert len(data["studies"]) == 6


def test_a_manual_direction_needs_a_reason_and_is_kept_attributed_and_audited(
    review, stats_user, snapshot
):
    synthesis = _define(review, stats_user)
    with pytest.raises(ValidationError) as err:
        services.direction_set(
            actor=stats_user,
            review=review,
            synthesis=synthesis,
            data={"study": "Aronson 1948", "outcome": "Tuberculosis", "direction": "harmful"},
        )
    assert "reason" in err.value.message_dict
    assert not NarrativeDirection.objects.exists()
    services.direction_set(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"study": "Aronson 1948", "outcome": "Tuberculosis", "direction": "harmful",
              "p_value": "0.2", "reason": "The report's table 2 contradicts the counts."},
    )  # fmt: skip
    entry = NarrativeDirection.objects.get()
    assert entry.set_by == stats_user and entry.set_by_name == stats_user.username
    row = next(
        r
        for g in selectors.compute(synthesis)["groups"]
        for r in g["outcomes"][0]["rows"]
        if r["study"] == "Aronson 1948"
    )
    assert row["direction"] == "harmful" and row["derived"] == "beneficial"
    assert row["source"] == "manual" and row["p"] == 0.2 and row["p_source"] == "entered"
    assert AuditEvent.objects.filter(verb="set effect direction").count() == 1
    services.direction_set(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"study": "Aronson 1948", "outcome": "Tuberculosis", "clear": True},
    )
    assert not NarrativeDirection.objects.exists()
    assert AuditEvent.objects.filter(verb="cleared effect direction").count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"study": "Nobody 1900", "outcome": "Tuberculosis", "direction": "harmful", "reason": "x"},
        {"study": "Aronson 1948", "outcome": "Nope", "direction": "harmful", "reason": "x"},
        {"study": "Aronson 1948", "outcome": "Tuberculosis", "direction": "up", "reason": "x"},
        {"study": "Aronson 1948", "outcome": "Tuberculosis", "p_value": "nan", "reason": "x"},
        {"study": "Aronson 1948", "outcome": "Tuberculosis", "p_value": "0", "reason": "x"},
        {"study": "Aronson 1948", "outcome": "Tuberculosis", "reason": "nothing set"},
        {"study": ["x"], "outcome": {"a": 1}},
    ],
)
def test_hostile_direction_input_changes_nothing(review, stats_user, snapshot, data):
    synthesis = _define(review, stats_user)
    with pytest.raises(ValidationError):
        services.direction_set(actor=stats_user, review=review, synthesis=synthesis, data=data)
    assert not NarrativeDirection.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"name": ""},
        {"group_by": "../etc"},
        {"selection": "some"},
        {"selection": "chosen", "studies": []},
        {"studies": "Aronson"},
        {"outcomes": []},
        {"outcomes": [{"outcome": "TB", "favourable": "sideways"}]},
        {"outcomes": [{"outcome": "TB", "combine": "tippett"}]},
        {"outcomes": [{"outcome": "TB"}, {"outcome": "tb"}]},
        {"outcomes": "Tuberculosis"},
        {"snapshot": 999999},
        {"snapshot": "x"},
    ],
)
def test_hostile_definitions_are_refused_with_a_message(review, stats_user, snapshot, extra):
    with pytest.raises(ValidationError):
        _define(review, stats_user, **extra)
    assert not NarrativeSynthesis.objects.exists()


def test_permissions_pages_and_api(review, lead, stats_user, snapshot, outsider, reviewer_a):
    synthesis = _define(review, stats_user)
    viewer = viewer_of(review, lead)
    with pytest.raises(PermissionDenied):
        _define(review, viewer, name="Viewer's")
    for user in (viewer, reviewer_a):
        c = client_for(user)
        assert c.get(f"{PAGES}{synthesis.pk}/").status_code == 200
        assert c.get(f"{API}{synthesis.pk}/results/").status_code == 200
        assert c.post(f"{PAGES}{synthesis.pk}/delete/").status_code == 403
        assert c.delete(f"{API}{synthesis.pk}/").status_code == 403
        assert (
            c.post(
                f"{API}{synthesis.pk}/directions/",
                {"study": "Aronson 1948", "outcome": "Tuberculosis", "direction": "harmful",
                 "reason": "x"},
                content_type="application/json",
            ).status_code
            == 403
        )  # fmt: skip
    out = client_for(outsider)
    for url in (f"{PAGES}", f"{PAGES}{synthesis.pk}/", f"{API}{synthesis.pk}/",
                f"{PAGES}{synthesis.pk}/swim.md",
                f"{PAGES}{synthesis.pk}/figures/effect_direction.svg"):  # fmt: skip
        assert out.get(url).status_code == 404
    c = client_for(stats_user)
    assert c.get(f"{PAGES}999999/").status_code == 404
    assert c.get(f"{PAGES}{synthesis.pk}/figures/pie.svg").status_code == 404
    assert c.get(f"{PAGES}{synthesis.pk}/figures/harvest.gif").status_code == 404
    assert c.get(f"{API}{synthesis.pk}/export/?format=doc").status_code == 400
    # A synthesis of another review is a 404 through this review's address.
    other = NarrativeSynthesis.objects.create(review=outsider.memberships.first().review,
                                              name="Theirs", outcomes=TB)  # fmt: skip
    assert c.get(f"{PAGES}{other.pk}/").status_code == 404
    assert c.get(f"{API}{other.pk}/results/").status_code == 404


def test_pages_and_api_round_trip(review, stats_user, snapshot):
    c = client_for(stats_user)
    r = c.post(
        API,
        {"name": "API one", "group_by": "alloc", "selection": "all", "outcomes": TB},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    body = c.get(f"{API}{pk}/results/").json()
    assert {g["value"] for g in body["groups"]} == {"alternate", "random", "systematic"}
    r = c.post(
        f"{API}{pk}/directions/",
        {"study": "Aronson 1948", "outcome": "Tuberculosis", "direction": "no clear difference",
         "reason": "Reported as no difference."},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["set_by"] == stats_user.username
    r = c.post(
        f"{API}{pk}/directions/",
        {"study": "Aronson 1948", "outcome": "Tuberculosis", "direction": "harmful"},
        content_type="application/json",
    )
    assert r.status_code == 400
    page = c.get(f"{PAGES}{pk}/").content.decode()
    assert "set by hand" in page and "Reported as no difference." in page
    assert "Hilton Boon" in page
    r = c.post(
        f"{PAGES}new/",
        {"name": "Page one", "selection": "all", "outcomes": ["Tuberculosis"], "group_by": "alloc",
         "combine": "stouffer"},
    )  # fmt: skip
    assert r.status_code == 302
    made = NarrativeSynthesis.objects.get(name="Page one")
    assert made.outcomes == [
        {"outcome": "Tuberculosis", "favourable": "lower", "combine": "stouffer"}
    ]
    r = c.post(f"{PAGES}new/", {"name": "", "selection": "all", "outcomes": ["Tuberculosis"]})
    assert r.status_code == 200 and b'role="alert"' in r.content
    r = c.post(f"{PAGES}{pk}/direction/", {"study": "Aronson 1948", "outcome": "Tuberculosis",
                                          "direction": "harmful"})  # fmt: skip
    assert r.status_code == 302
    assert NarrativeDirection.objects.get(synthesis_id=pk).direction == "no clear difference"


def test_figures_and_table_exports(review, stats_user, snapshot):
    synthesis = _define(review, stats_user)
    data = selectors.compute(synthesis)
    c = client_for(stats_user)
    for kind in exports.FIGURE_KINDS:
        svg = c.get(f"{PAGES}{synthesis.pk}/figures/{kind}.svg")
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        assert b"<svg" in svg.content
        assert exports.figure_bytes(synthesis, data, kind, "png").startswith(b"\x89PNG")
        assert exports.figure_bytes(synthesis, data, kind, "pdf").startswith(b"%PDF")
    svg = exports.figure_bytes(synthesis, data, "effect_direction", "svg").decode()
    assert "Aronson 1948" in svg and "Hilton Boon" in svg
    # Same input, same bytes.
    assert exports.figure_bytes(synthesis, data, "harvest", "svg") == exports.figure_bytes(
        synthesis, data, "harvest", "svg"
    )
    r = c.get(f"{PAGES}{synthesis.pk}/export/?format=csv")
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0][:4] == ["group", "study", "n", "rob"] and len(rows) == 14
    r = c.get(f"{API}{synthesis.pk}/export/?format=xlsx")
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["studies", "vote counting", "domains", "vote counting by domain"]
    assert book["vote counting"].max_row == 4


def test_formula_like_values_are_made_safe_in_exports(review, stats_user, lead):
    studies = bcg_studies()
    studies[0]["values"]["alloc"] = '=HYPERLINK("x")'
    snapshot_of(review, studies, user=lead)
    synthesis = _define(review, stats_user)
    body, _, _ = exports.table_bytes(synthesis, selectors.compute(synthesis), "csv")
    assert "'=HYPERLINK" in body.decode() and "\n=HYPERLINK" not in body.decode()


def test_swim_checklist_fills_itself_keeps_the_team_s_text_and_exports_markdown(
    review, stats_user, snapshot, lead
):
    synthesis = _define(review, stats_user)
    items = selectors.swim_checklist(synthesis, selectors.compute(synthesis))
    assert [i["key"] for i in items] == [str(n) for n in range(1, 10)]
    by = {i["key"]: i for i in items}
    assert "alloc" in by["1"]["filled"] and "3 group(s)" in by["1"]["filled"]
    assert "RR" in by["2"]["filled"]
    assert "sign test" in by["3"]["filled"] and "Fisher" in by["3"]["filled"]
    assert by["6"]["gap"] and by["9"]["gap"]
    c = client_for(stats_user)
    r = c.post(f"{PAGES}{synthesis.pk}/swim/", {"item_6": "GRADE adapted for SWiM (Murad 2017)."})
    assert r.status_code == 302
    synthesis.refresh_from_db()
    assert synthesis.swim == {"6": "GRADE adapted for SWiM (Murad 2017)."}
    assert AuditEvent.objects.filter(verb="wrote SWiM checklist").count() == 1
    md = c.get(f"{PAGES}{synthesis.pk}/swim.md").content.decode()
    assert md.startswith("# SWiM reporting checklist: By allocation")
    assert "## 6. Certainty of evidence" in md and "Murad 2017" in md
    assert "BMJ 2020;368:l6890" in md and "_Not yet reported._" in md
    api = c.get(f"{API}{synthesis.pk}/swim/").json()
    assert api[5]["text"].startswith("GRADE")
    r = c.put(f"{API}{synthesis.pk}/swim/", {"items": {"10": "x"}}, content_type="application/json")
    assert r.status_code == 400
    viewer = viewer_of(review, lead)
    assert (
        client_for(viewer).post(f"{PAGES}{synthesis.pk}/swim/", {"item_6": "x"}).status_code == 403
    )


def test_archive_round_trip_keeps_syntheses_and_directions(review, stats_user, snapshot, lead):
    from django.contrib.auth import get_user_model

    from reporting import archive
    from reviews.models import Review

    synthesis = _define(review, stats_user, snapshot=snapshot.pk)
    services.direction_set(
        actor=stats_user,
        review=review,
        synthesis=synthesis,
        data={"study": "Aronson 1948", "outcome": "Tuberculosis", "direction": "harmful",
              "reason": "Because."},
    )  # fmt: skip
    services.swim_save(actor=stats_user, review=review, synthesis=synthesis, data={"9": "Small."})
    before = selectors.compute(synthesis)
    data = archive.archive_bytes(review=review)
    Review.objects.all().delete()
    get_user_model().objects.all().delete()
    AuditEvent.objects.all().delete()
    imported = archive.review_import(stream=io.BytesIO(data))
    found = NarrativeSynthesis.objects.get(review=imported)
    assert found.swim == {"9": "Small."} and found.group_by == "alloc"
    assert found.created_by is None and found.created_by_name == "stats"
    assert found.snapshot.review == imported
    entry = found.directions.get()
    assert entry.set_by is None and entry.set_by_name == "stats" and entry.review == imported
    after = selectors.compute(found)
    assert after == before
