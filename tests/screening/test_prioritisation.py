"""Prioritised screening: the model ranks known relevant records first, the stopping test
matches hand-computed hypergeometric values, retraining is a background job that never blocks
a vote, the ranking switch and the stop decision (lead only, audited, exported), and the
``simulate_screening`` command."""

from __future__ import annotations

import json
import math
from io import StringIO

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from scipy.stats import hypergeom

from core.constants import JobStatus
from core.models import AuditEvent, Job
from screening import services
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem
from screening.prioritisation import services as prio
from screening.prioritisation.engine import features, model, simulate, stopping
from screening.prioritisation.models import RankingMode, StopDecision
from tests.conftest import client_for
from tests.paths import DATA

from .factories import make_records

FIXTURE = DATA / "screening" / "kitchenham_150.csv"


# --- the pure engine ----------------------------------------------------------------------------


def _fixture():
    return simulate.load_csv(FIXTURE.read_bytes(), name="kitchenham_150.csv")


def test_ranking_puts_known_relevant_records_first():
    data = _fixture()
    matrix, terms = features.featurize(data.texts())
    rel, irr = np.flatnonzero(data.labels == 1), np.flatnonzero(data.labels == 0)
    labelled = np.concatenate([rel[:4], irr[:40]])  # 4 of 12 relevant, 40 of 138 irrelevant
    trained = model.train(matrix, labelled, data.labels[labelled], terms=terms)
    rest = np.setdiff1d(np.arange(len(data.labels)), labelled)
    order = model.rank(trained.scores(matrix), rest, rng=np.random.default_rng(0), exploration=0)
    top = data.labels[order[:10]].sum()
    # 8 relevant among 106 unscreened: random order would put under one in the first ten.
    assert top >= 5
    assert trained.top_terms(5) and trained.why(matrix[order[0]])


def test_replay_is_deterministic_and_beats_random_order():
    data = _fixture()
    matrix, _ = features.featurize(data.texts())
    a = simulate.replay(matrix, data.labels, seed=3)
    b = simulate.replay(matrix, data.labels, seed=3)
    assert list(a) == list(b)
    assert sorted(a) == list(range(len(data.labels)))
    result = simulate.metrics(data.labels[a])
    assert result["wss95"] > 20  # screening in random order gives about 0


def test_replay_stops_retraining_after_the_last_relevant_record_without_changing_a_metric():
    """The full replay, retraining after every record to the end, against ``replay``, which
    stops at the last relevant record: the same order up to there, the same metrics."""
    data = _fixture()
    matrix, _ = features.featurize(data.texts())
    labels, n = data.labels, len(data.labels)
    rng = np.random.default_rng(3 + 1_000_003)
    order = list(simulate.prior_rows(labels, 3))
    unseen = np.ones(n, dtype=bool)
    unseen[order] = False
    while unseen.any():
        rows = np.asarray(order)
        trained = model.train(matrix, rows, labels[rows])
        nxt = model.rank(
            trained.scores(matrix), np.flatnonzero(unseen), rng=rng, offset=len(order),
            dry=model.exploring(labels[rows], n),
        )[0]  # fmt: skip
        order.append(int(nxt))
        unseen[nxt] = False
    short = simulate.replay(matrix, labels, seed=3)
    last = int(np.flatnonzero(labels[short])[-1])
    assert list(short[: last + 1]) == order[: last + 1]
    assert simulate.metrics(labels[short]) == simulate.metrics(labels[np.asarray(order)])


def test_exploration_takes_every_fiftieth_place_at_random():
    scores = np.arange(200, 0, -1, dtype=float)  # row 0 scores highest
    order = model.rank(scores, np.arange(200), rng=np.random.default_rng(1), exploration=0.02)
    assert sorted(order) == list(range(200))
    by_score = [r for i, r in enumerate(order) if (i + 1) % 50 != 0]
    assert by_score == sorted(by_score)  # all other places keep the model's order
    # While the ranking still yields relevant records (not dry), nothing is explored.
    kept = model.rank(scores, np.arange(200), rng=np.random.default_rng(1), dry=False)
    assert list(kept) == list(range(200))


def test_p_value_matches_hand_computed_hypergeometric_values():
    seen = np.array([1, 1, 0, 0, 0])
    # r_seen = 2, K_tar = floor(2 / 0.95) + 1 = 3; the windows are the last 1..5 records.
    expected = min(
        hypergeom.cdf(0, 16, 1, 1),
        hypergeom.cdf(0, 17, 1, 2),
        hypergeom.cdf(0, 18, 1, 3),
        hypergeom.cdf(1, 19, 2, 4),
        hypergeom.cdf(2, 20, 3, 5),
    )
    assert stopping.p_value(seen, 20, 0.95) == pytest.approx(expected)
    assert stopping.p_value(seen, 20, 0.95) == pytest.approx(15 / 18)  # drawing 3, missing 1 of 18


def _p_value_every_n(seen, n_total, recall_target=0.95):
    """The test as published: the minimum over every sample of the last n records."""
    r_seen = int(seen.sum())
    if r_seen == 0:
        return 1.0
    k_tar = math.floor(r_seen / recall_target) + 1
    best = 1.0
    for n in range(1, len(seen) + 1):
        k = int(seen[len(seen) - n :].sum())
        urn, in_urn = n_total - len(seen) + n, k_tar - (r_seen - k)
        if in_urn <= urn:
            best = min(best, float(hypergeom.cdf(k, urn, in_urn, n)))
    return best


def test_p_value_tests_only_the_samples_that_can_give_the_minimum():
    """``p_value`` evaluates only the longest sample of each run of equal k; the minimum is
    the one over every n (a screening's worth of random orders, prioritised and not)."""
    rng = np.random.default_rng(7)
    for _ in range(150):
        n_total = int(rng.integers(20, 400))
        n_seen = int(rng.integers(1, n_total + 1))
        decay = np.exp(-np.arange(n_seen) / rng.uniform(3, n_seen + 3))
        seen = (rng.random(n_seen) < rng.uniform(0.01, 0.4) * decay).astype(int)
        target = float(rng.choice([0.8, 0.9, 0.95, 0.99]))
        assert stopping.p_value(seen, n_total, target) == pytest.approx(
            _p_value_every_n(seen, n_total, target), rel=1e-12, abs=1e-15
        )


def test_stopping_test_fires_when_the_hand_computed_p_is_below_alpha():
    seen = np.array([1] * 10 + [0] * 200)
    # K_tar = floor(10 / 0.9) + 1 = 12: 2 relevant would remain among the 240 records that
    # were unscreened before the last 200, and 200 draws missed both: (40 * 39) / (240 * 239).
    p = stopping.p_value(seen, 250, 0.9)
    assert p == pytest.approx(40 * 39 / (240 * 239))
    assert p == pytest.approx(hypergeom.cdf(0, 240, 2, 200))
    assert stopping.estimate(seen, 250, recall_target=0.9, confidence=0.95).stop is True
    assert stopping.estimate(seen, 250, recall_target=0.9, confidence=0.99).stop is False
    # With 300 records the same run is not enough: (90 * 89) / (290 * 289) > 0.05.
    assert stopping.p_value(seen, 300, 0.9) == pytest.approx(90 * 89 / (290 * 289))
    assert stopping.estimate(seen, 300, recall_target=0.9).stop is False


def test_estimate_interval_and_heuristic():
    seen = np.array([1] * 5 + [0] * 95)
    e = stopping.estimate(seen, 1000, consecutive_threshold=50)
    assert (e.screened, e.relevant, e.unscreened) == (100, 5, 900)
    assert e.consecutive_irrelevant == 95 and e.consecutive_stop is True
    assert e.window == 50 and e.remaining_estimate == 0
    assert e.remaining_low == 0 and 0 < e.remaining_high < 900
    # The upper bound is the largest R whose lower tail is at least 2.5 %.
    high = e.remaining_high
    assert hypergeom.cdf(0, 950, high, 50) >= 0.025 > hypergeom.cdf(0, 950, high + 1, 50)


# --- the command --------------------------------------------------------------------------------


def test_simulate_screening_json_keys(tmp_path):
    out = StringIO()
    call_command("simulate_screening", str(FIXTURE), "--seed", "1", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert set(result) == {
        "wss95", "wss100", "recall_at_10", "recall_at_25", "recall_at_50", "rrf10",
        "stop_at", "recall_at_stop", "seconds",
    }  # fmt: skip
    assert 0 <= result["wss95"] <= 100 and 0 <= result["recall_at_50"] <= 100
    assert result["stop_at"] is None or 1 <= result["stop_at"] <= 150
    text = StringIO()
    call_command("simulate_screening", str(FIXTURE), stdout=text)
    assert "WSS@95" in text.getvalue() and "RRF@10" in text.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title,abstract\nA,B\n", "lacks the column(s) label_included"),
        ("title,abstract,label_included\nA,B,yes\nC,D,0\n", "line 2: label_included must be 0"),
        ("title,abstract,label_included\nA,B,0\nC,D,0\n", "at least one relevant"),
    ],
)
def test_simulate_screening_bad_csv(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("simulate_screening", str(path))


def test_simulate_screening_missing_file(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        call_command("simulate_screening", str(tmp_path / "nope.csv"))


# --- the app ------------------------------------------------------------------------------------


def _settle(review, item, decision, a, b):
    services.vote_cast(user=a, review=review, item=item, decision=decision)
    services.vote_cast(user=b, review=review, item=item, decision=decision)


def _review_with_topics(review):
    """Records on two topics: gambling (relevant) and gardening (irrelevant)."""
    recs = make_records(review, 12)
    for i, r in enumerate(recs):
        if i % 2:
            r.title, r.abstract = f"Tomato gardening {i}", "Soil, compost and greenhouse tomatoes."
            r.keywords = ["gardening"]
            r.save()
    services.screening_prepare(review=review, full=True)
    return list(ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT))


@pytest.mark.django_db
def test_retrain_ranks_relevant_records_first(review, reviewer_a, reviewer_b):
    items = _review_with_topics(review)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)
    _settle(review, items[1], "exclude", reviewer_a, reviewer_b)
    result = prio.retrain(review)
    assert result["trained_on"] == 2 and result["ranked"] == 10
    queue = list(
        ScreeningItem.objects.filter(review=review, status=ItemStatus.PENDING)
        .order_by(*services.queue_order().orm())
        .values_list("record__title", flat=True)
    )
    assert all("gardening" not in t.lower() for t in queue[:4])
    state = prio.ranking_state(review)
    assert state.trained_at and state.top_terms
    first = ScreeningItem.objects.filter(review=review, status=ItemStatus.PENDING).order_by(
        *services.queue_order().orm()
    )[0]
    assert str(first.pk) in state.why
    # The queue hands out the top-ranked record first.
    nxt = services.assignment_next(user=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    assert nxt.pk == first.pk


@pytest.mark.django_db
def test_unsettled_single_votes_never_train(review, reviewer_a, reviewer_b):
    items = _review_with_topics(review)
    services.vote_cast(user=reviewer_a, review=review, item=items[0], decision="include")
    services.vote_cast(user=reviewer_a, review=review, item=items[1], decision="exclude")
    result = prio.retrain(review)
    assert result["trained_on"] == 0 and result["ranked"] == 0
    assert not prio.retrain_due(review)


@pytest.mark.django_db
def test_votes_settle_and_queue_a_retrain_after_commit(
    review, reviewer_a, reviewer_b, django_capture_on_commit_callbacks
):
    items = _review_with_topics(review)
    with django_capture_on_commit_callbacks(execute=True):
        _settle(review, items[0], "include", reviewer_a, reviewer_b)
        _settle(review, items[1], "exclude", reviewer_a, reviewer_b)
    job = Job.objects.get(review=review, kind=prio.JOB_KIND)
    assert job.status == JobStatus.SUCCEEDED  # the tests run eager jobs in the request
    assert prio.ranking_state(review).trained_on == 2


@pytest.mark.django_db
@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING])
def test_votes_never_wait_for_a_retrain(
    review, reviewer_a, reviewer_b, django_capture_on_commit_callbacks, status
):
    items = _review_with_topics(review)
    busy = Job.objects.create(review=review, kind=prio.JOB_KIND, status=status)
    with django_capture_on_commit_callbacks(execute=True):
        for n, item in enumerate(items[:8]):
            _settle(review, item, "include" if n % 2 == 0 else "exclude", reviewer_a, reviewer_b)
    settled = ScreeningItem.objects.filter(review=review, status__in=["included", "excluded"])
    assert settled.count() == 8  # every vote went through
    assert list(Job.objects.filter(review=review, kind=prio.JOB_KIND)) == [busy]


@pytest.mark.django_db
def test_ranking_switch_is_lead_only_and_audited(review, lead, reviewer_a):
    items = _review_with_topics(review)
    with pytest.raises(PermissionDenied):
        prio.ranking_set(actor=reviewer_a, review=review, mode=RankingMode.RANDOM)
    prio.ranking_set(actor=lead, review=review, mode=RankingMode.RANDOM)
    assert AuditEvent.objects.filter(review=review, verb="changed ranking").count() == 1
    priorities = sorted(ScreeningItem.objects.filter(pk__in=[i.pk for i in items])
                        .values_list("priority", flat=True))  # fmt: skip
    assert priorities == [float(p) for p in range(1, 13)]
    prio.ranking_set(actor=lead, review=review, mode=RankingMode.IMPORT)
    assert set(ScreeningItem.objects.filter(review=review).values_list("priority", flat=True)) == {
        0.0
    }
    with pytest.raises(Exception, match="Choose one of"):
        prio.ranking_set(actor=lead, review=review, mode="alphabetical")


@pytest.mark.django_db
def test_stop_decision_lead_only_audited_and_exported(review, lead, reviewer_a, reviewer_b):
    items = _review_with_topics(review)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)
    _settle(review, items[1], "exclude", reviewer_a, reviewer_b)
    with pytest.raises(PermissionDenied):
        prio.stop_decide(actor=reviewer_a, review=review, reason="tired")
    with pytest.raises(Exception, match="Say why"):
        prio.stop_decide(actor=lead, review=review, reason="   ")
    decision = prio.stop_decide(actor=lead, review=review, reason="Test fired", recall_target=90)
    assert decision.recall_target == 0.9 and decision.estimate["screened"] == 2
    assert AuditEvent.objects.filter(review=review, verb="decided to stop screening").exists()
    client = client_for(lead)
    csv_text = client.get(reverse("screening:stop_csv", args=[review.slug])).content.decode()
    assert "Test fired" in csv_text and "90 %" in csv_text
    md = client.get(reverse("screening:stop_md", args=[review.slug])).content.decode()
    assert "Callaghan" in md and "after 2 of 12 records" in md


@pytest.mark.django_db
def test_prioritisation_page_permissions(review, lead, reviewer_a, outsider):
    _review_with_topics(review)
    url = reverse("screening:prioritisation", args=[review.slug])
    page = client_for(lead).get(url)
    assert page.status_code == 200 and b"data-stopping-panel" in page.content
    assert b"data-model-state" in page.content
    # The lead sees how far the records are prepared for ranking (none counted yet here).
    assert "prepared for ranking (their words counted" in page.content.decode()
    assert "<strong>0</strong> of 12" in page.content.decode()
    seen = client_for(reviewer_a).get(url)
    assert seen.status_code == 200 and b"data-model-state" not in seen.content
    assert b"data-features" not in seen.content
    assert client_for(outsider).get(url).status_code == 404
    stop = reverse("screening:stop", args=[review.slug])
    assert client_for(reviewer_a).post(stop, {"reason": "x"}).status_code == 403
    bad = client_for(lead).get(url, {"recall_target": "abc"})
    assert bad.status_code == 400 and b'role="alert"' in bad.content
    ranking = reverse("screening:ranking", args=[review.slug])
    assert client_for(reviewer_a).post(ranking, {"mode": "random"}).status_code == 403
    assert client_for(lead).post(ranking, {"mode": "nope"}).status_code == 400
    assert StopDecision.objects.count() == 0


# --- the API ------------------------------------------------------------------------------------


def _send(client, method, path, data=None):
    return getattr(client, method)(path, json.dumps(data or {}), content_type="application/json")


@pytest.mark.django_db
def test_api_model_state_stopping_and_stop_decision(review, lead, reviewer_a, reviewer_b, outsider):
    items = _review_with_topics(review)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)
    _settle(review, items[1], "exclude", reviewer_a, reviewer_b)
    api = f"/api/reviews/{review.slug}/screening/prioritisation"
    lead_c, rev_c = client_for(lead), client_for(reviewer_a)
    assert rev_c.get(f"{api}/ranking/").status_code == 403
    assert client_for(outsider).get(f"{api}/stopping/").status_code == 404
    changed = _send(lead_c, "patch", f"{api}/ranking/", {"mode": "model"})
    assert changed.status_code == 200
    prio.retrain(review)
    state = lead_c.get(f"{api}/ranking/").json()
    assert state["mode"] == "model" and state["trained_on"] == 2 and state["top_terms"]
    assert set(state["phases"]) == {"read", "fit", "rank", "write"}
    assert state["features"]["records"] == 12 and state["features"]["prepared"] == 12
    assert state["features"]["pending"] is False and state["features"]["built_at"]
    assert _send(lead_c, "patch", f"{api}/ranking/", {"mode": "x"}).status_code == 400
    panel = rev_c.get(f"{api}/stopping/", {"recall_target": "0.9"}).json()
    assert panel["screened"] == 2 and panel["total"] == 12 and panel["recall_target"] == 0.9
    assert rev_c.get(f"{api}/stopping/", {"confidence": "7"}).status_code == 400
    assert _send(rev_c, "post", f"{api}/stop-decisions/", {"reason": "x"}).status_code == 403
    assert _send(lead_c, "post", f"{api}/stop-decisions/", {}).status_code == 400
    made = _send(
        lead_c, "post", f"{api}/stop-decisions/", {"reason": "Budget", "recall_target": 95}
    )
    assert made.status_code == 201 and made.json()["estimate"]["screened"] == 2
    listed = rev_c.get(f"{api}/stop-decisions/").json()
    assert [d["reason"] for d in listed] == ["Budget"] and listed[0]["decided_by"] == "lead"


@pytest.mark.django_db
def test_the_card_says_why_a_record_ranks_high(review, reviewer_a, reviewer_b, lead):
    items = _review_with_topics(review)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)
    _settle(review, items[1], "exclude", reviewer_a, reviewer_b)
    prio.retrain(review)
    page = client_for(reviewer_a).get(reverse("screening:ta_screen", args=[review.slug]))
    assert page.status_code == 200
    assert b"data-why" in page.content and b"Ranked high for:" in page.content
    prio.ranking_set(actor=lead, review=review, mode=RankingMode.IMPORT)
    page = client_for(reviewer_b).get(reverse("screening:ta_screen", args=[review.slug]))
    assert b"data-why" not in page.content


def test_exploration_waits_for_the_stopping_test():
    # 100 relevant in the first 200 of 2,000 records, then irrelevant ones.
    seen = np.array([1, 0] * 100 + [0] * 19)
    assert not model.exploring(seen, 2000)  # fewer than EXPLORE_AFTER irrelevant in a row
    longer = np.concatenate([seen, [0] * 281])
    # Dry, but not yet enough to say that 95 % of the relevant records were found.
    assert stopping.p_value(longer, 2000) >= 0.05 and not model.exploring(longer, 2000)
    # After 1,000 irrelevant in a row the test fires: from there one place in fifty is random.
    done = np.concatenate([seen, [0] * 981])
    assert stopping.p_value(done, 2000) < 0.05 and model.exploring(done, 2000)
