"""Summary of findings (issue 19): rows drafted from an analysis's latest result, each GRADE
domain's suggestion shown with its evidence, judgements with reasons (kept, attributed,
audited, footnoted), the certainty from the accepted judgements, the absolute effects per
1,000 equal to ``synthesis.grade``'s, staleness, permissions, hostile input."""

from __future__ import annotations

import math
import statistics

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from demo.bcg import trials
from synthesis import grade
from synthesis import services as synthesis
from synthesis.sof import selectors, services
from synthesis.sof.models import SofJudgement
from tests.conftest import client_for
from tests.synthesis.app_world import MAIN, bcg_studies, snapshot_of, statistician_of, viewer_of

PAGE = "/reviews/exercise/synthesis/sof/"


@pytest.fixture
def stats(review, lead):
    return statistician_of(review, lead)


@pytest.fixture
def snapshot(review, lead):
    return snapshot_of(review, bcg_studies(), user=lead)


@pytest.fixture
def result(review, stats, snapshot):
    analysis = synthesis.analysis_create(
        actor=stats, review=review, data=MAIN | {"publication_bias": True}
    )
    return synthesis.analysis_run_now(actor=stats, review=review, analysis=analysis)


@pytest.fixture
def row(review, stats, result):
    services.table_save(
        actor=stats, review=review, data={"intervention": "BCG vaccine", "comparison": "no vaccine"}
    )
    return services.row_add(
        actor=stats, review=review, data={"analysis": result.analysis_id, "mid": "1.25"}
    )


def _domain(row, name):
    row.refresh_from_db()
    view = selectors.row_view(row)
    return next(d for d in view.domains if d.domain == name), view


def test_a_row_takes_k_participants_effect_and_absolute_effects_from_the_snapshot(row, result):
    view = selectors.row_view(row)
    data = trials()
    assert view.k == 13
    assert view.participants == sum(
        int(t["tpos"]) + int(t["tneg"]) + int(t["cpos"]) + int(t["cneg"]) for t in data
    )
    assert view.participants_source == "snapshot"
    main = result.results["main"]
    assert view.effect["estimate"] == pytest.approx(math.exp(main["estimate"]))
    acr = statistics.median(int(t["cpos"]) / (int(t["cpos"]) + int(t["cneg"])) for t in data)
    assert view.acr == pytest.approx(acr)
    expected = grade.absolute_effect("RR", main["estimate"], main["ci_lb"], main["ci_ub"], acr)
    assert view.absolute == expected
    # By hand: the corresponding risk is ACR x RR.
    assert view.absolute.risk_per_1000 == pytest.approx(1000 * acr * math.exp(main["estimate"]))


def test_each_domain_shows_the_pure_suggestion_and_its_evidence(row, result):
    view = selectors.row_view(row)
    pure = {
        s.domain: s
        for s in grade.suggestions(result.results, mid=1.25, participants=view.participants)
    }
    for d in view.domains:
        assert d.suggested == pure[d.domain].suggestion
        assert d.evidence == pure[d.domain].evidence
        assert d.rule == pure[d.domain].rule
    inc, _ = _domain(row, "inconsistency")
    assert inc.suggested == "very serious"  # BCG: I² 92 %
    pb, _ = _domain(row, "publication_bias")
    assert pb.suggested in ("no concern", "serious") and "Egger" in pb.evidence
    ind, _ = _domain(row, "indirectness")
    assert ind.suggested is None


def test_fewer_than_ten_studies_gives_no_publication_bias_suggestion(review, stats, snapshot):
    analysis = synthesis.analysis_create(
        actor=stats,
        review=review,
        data=MAIN
        | {
            "name": "Random only",
            "study_filters": [{"field": "alloc", "op": "eq", "value": "random"}],
        },
    )
    result = synthesis.analysis_run_now(actor=stats, review=review, analysis=analysis)
    services.table_save(actor=stats, review=review, data={"intervention": "BCG"})
    row = services.row_add(actor=stats, review=review, data={"analysis": result.analysis_id})
    pb, view = _domain(row, "publication_bias")
    assert view.k < 10 and pb.suggested is None and "too few" in pb.evidence


def test_an_analysis_whose_ci_crosses_the_mid_is_flagged_for_imprecision(review, stats, row):
    imp, _ = _domain(row, "imprecision")
    # BCG pooled RR 0.49 (0.34 to 0.70): MID 1.25 -> threshold 0.8, not crossed.
    assert imp.suggested == "no concern"
    services.row_update(
        actor=stats,
        review=review,
        row=row,
        data={"outcome_label": "TB", "mid": "2", "randomised": True},
    )
    imp, _ = _domain(row, "imprecision")
    assert imp.suggested == "serious" and "crosses" in imp.evidence


def test_a_high_rob_weighted_analysis_is_flagged(review, stats, row, result):
    # Mark most studies at high risk in the stored result (a constructed analysis).
    data = result.results
    for s in data["studies"][:10]:
        s["rob"] = "High"
    data["spec"]["high_rob"] = ["High"]
    result.results = data
    result.save()
    rob, _ = _domain(row, "risk_of_bias")
    assert rob.suggested in ("serious", "very serious")
    assert "high risk of bias" in rob.evidence


def test_judgements_need_reasons_when_changing_and_are_kept_attributed_and_audited(
    review, stats, row
):
    with pytest.raises(ValidationError):
        services.judge(
            actor=stats, review=review, row=row, domain="inconsistency", judgement="serious"
        )
    with pytest.raises(ValidationError):  # no suggestion: a reason is required
        services.judge(
            actor=stats, review=review, row=row, domain="indirectness", judgement="no concern"
        )
    services.judge(
        actor=stats,
        review=review,
        row=row,
        domain="inconsistency",
        judgement="serious",
        reason="Latitude explains much of it.",
    )
    j = SofJudgement.objects.get(row=row, domain="inconsistency")
    assert j.suggested == "very serious" and j.judgement == "serious" and j.changed
    assert j.decided_by == stats and j.decided_by_name == stats.username
    assert AuditEvent.objects.filter(verb="changed GRADE judgement", actor=stats).exists()
    view = selectors.table_view(review)
    assert view["footnotes"][0]["n"] == 1
    assert "Latitude explains" in view["footnotes"][0]["text"]


def _judge_all(review, who, row):
    view = selectors.row_view(row)
    for d in view.domains:
        services.judge(
            actor=who,
            review=review,
            row=row,
            domain=d.domain,
            judgement=d.suggested or "no concern",
            reason="Team judgement.",
        )


def test_certainty_comes_from_the_accepted_judgements_and_the_statement_is_editable(
    review, stats, row
):
    assert selectors.row_view(row).certainty is None
    _judge_all(review, stats, row)
    view = selectors.row_view(row)
    down = sum(d.judgement.levels for d in view.domains)
    assert view.certainty == grade.certainty("high", down)
    assert view.statement == view.draft_statement and "BCG vaccine" in view.statement
    services.statement_edit(actor=stats, review=review, row=row, text="BCG may reduce TB.")
    row.refresh_from_db()
    assert selectors.row_view(row).statement == "BCG may reduce TB."
    assert AuditEvent.objects.filter(verb="edited plain-language statement").exists()


def test_a_row_is_stale_after_a_new_result_or_a_new_snapshot(review, lead, stats, row, result):
    assert not selectors.row_view(row).stale
    snapshot_of(review, bcg_studies(), user=lead)
    view = selectors.table_view(review)["rows"][0]
    assert view.stale and "newer extraction snapshot" in " ".join(view.stale_reasons)
    newer = synthesis.analysis_run_now(actor=stats, review=review, analysis=result.analysis)
    view = selectors.row_view(row)
    assert view.stale and "newer result" in view.stale_reasons[0]
    services.row_redraft(actor=stats, review=review, row=row)
    row.refresh_from_db()
    assert row.result == newer and not selectors.row_view(row).stale


def test_viewers_read_but_may_not_write_and_forged_ids_get_404(review, lead, row):
    viewer = viewer_of(review, lead)
    with pytest.raises(PermissionDenied):
        services.judge(
            actor=viewer, review=review, row=row, domain="inconsistency", judgement="very serious"
        )
    client = client_for(viewer)
    assert client.get(PAGE).status_code == 200
    assert client.get(f"{PAGE}rows/{row.pk}/").status_code == 200
    r = client.post(
        f"{PAGE}rows/{row.pk}/",
        {"action": "judge", "domain": "inconsistency", "judgement": "serious", "reason": "x"},
    )
    assert r.status_code == 403
    assert client.get(f"{PAGE}rows/999999/").status_code == 404


def test_hostile_input_is_refused_clearly_and_changes_nothing(review, stats, row):
    client = client_for(stats)
    url = f"{PAGE}rows/{row.pk}/"
    for body in (
        {"action": "judge", "domain": "nonsense", "judgement": "serious", "reason": "x"},
        {"action": "judge", "domain": "inconsistency", "judgement": "awful", "reason": "x"},
        {
            "action": "judge",
            "domain": "large_effect",
            "judgement": "upgrade two levels",
            "reason": "x",
        },
        {"action": "settings", "outcome_label": "TB", "mid": "abc"},
        {"action": "settings", "outcome_label": "TB", "acr_entered": "7"},
        {"action": "settings", "outcome_label": "TB", "mid": "1"},
        {"action": "bogus"},
    ):
        r = client.post(url, body)
        assert r.status_code == 400, body
        assert b"data-error" in r.content
    assert not SofJudgement.objects.filter(row=row).exists()
    r = client.post(PAGE, {"action": "add_row", "analysis": "999999"})
    assert r.status_code == 400
    r = client.post(PAGE, {"action": "table", "intervention": "<script>x</script>"})
    assert r.status_code == 302
    page = client.get(PAGE).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_pages_show_the_table_domains_and_sources(review, stats, row, result):
    client = client_for(stats)
    page = client.get(PAGE).content.decode()
    assert "data-sof-row" in page and f"result #{result.pk}" in page and "GRADE handbook" in page
    page = client.get(f"{PAGE}rows/{row.pk}/").content.decode()
    for d in ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"):
        assert f'data-domain="{d}"' in page
    assert "5.2.4" in page


def test_the_page_marks_a_stale_row_and_redrafting_keeps_the_judgements(review, stats, row, result):
    services.judge(
        actor=stats,
        review=review,
        row=row,
        domain="indirectness",
        judgement="no concern",
        reason="Same question.",
    )
    client = client_for(stats)
    url = f"{PAGE}rows/{row.pk}/"
    assert b"data-stale" not in client.get(url).content
    newer = synthesis.analysis_run_now(actor=stats, review=review, analysis=result.analysis)
    page = client.get(url).content.decode()
    assert "data-stale" in page and "data-redraft" in page and f"#{newer.pk}" in page
    assert "data-stale" in client.get(PAGE).content.decode()
    assert client.post(url, {"action": "redraft"}).status_code == 302
    page = client.get(url).content.decode()
    assert "data-stale" not in page and "data-judged-earlier" in page and "Same question." in page
    assert AuditEvent.objects.filter(verb="redrafted summary-of-findings row").exists()


@pytest.mark.parametrize("measure", ["OR", "RD"])
def test_absolute_effects_per_1000_for_or_and_rd_match_a_hand_calculation(
    review, lead, stats, measure
):
    from extraction.effects import row_effects

    studies = bcg_studies()
    for s in studies:
        s["values"]["outcomes.0.effect"] = measure
        s["effects"] = row_effects(s["values"])
    snapshot_of(review, studies, user=lead)
    analysis = synthesis.analysis_create(
        actor=stats, review=review, data=MAIN | {"name": measure, "measure": measure}
    )
    result = synthesis.analysis_run_now(actor=stats, review=review, analysis=analysis)
    services.table_save(actor=stats, review=review, data={"intervention": "BCG"})
    row = services.row_add(
        actor=stats, review=review, data={"analysis": analysis.pk, "acr_entered": "0.05"}
    )
    view = selectors.row_view(row)
    main = result.results["main"]
    assert view.acr == 0.05 and view.acr_source == "entered"
    if measure == "OR":
        odds = math.exp(main["estimate"])
        by_hand = odds * 0.05 / (1 - 0.05 + odds * 0.05)
        assert view.effect["estimate"] == pytest.approx(odds)
    else:
        by_hand = 0.05 + main["estimate"]
        assert view.effect["estimate"] == pytest.approx(main["estimate"])
    assert view.absolute.risk_per_1000 == pytest.approx(1000 * by_hand)
    assert view.absolute.difference_per_1000 == pytest.approx(1000 * by_hand - 50)
    page = client_for(stats).get(f"{PAGE}rows/{row.pk}/").content.decode()
    assert f"{math.floor(1000 * by_hand + 0.5)} per 1,000" in page
