"""The ranking's text features: the same TF-IDF as scikit-learn's vectoriser (to the bit, so the
benchmark's replays equal ASReview's), counted incrementally, and built by a background job after
an import so that a retrain only fits and scores; an import never waits for that job."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from core.constants import JobStatus
from core.models import Job
from screening import services
from screening.constants import Stage
from screening.models import ScreeningItem
from screening.prioritisation import services as prio
from screening.prioritisation.engine import features, simulate
from screening.prioritisation.models import RankingFeatures
from tests.identification.conftest import upload
from tests.paths import DATA

from .factories import make_records

FIXTURE = DATA / "screening" / "kitchenham_150.csv"

RIS = "".join(
    f"TY  - JOUR\nTI  - {title} ({i})\nAB  - {abstract}\nPY  - 2020\nER  - \n\n"
    for i, (title, abstract) in enumerate(
        [("Problem gambling in adolescents", "Survey of gamblers and lottery play.")] * 3
        + [("Tomato gardening", "Soil, compost and greenhouse tomatoes.")] * 3
    )
)


def _texts():
    return simulate.load_csv(FIXTURE.read_bytes()).texts()


# --- the pure engine ----------------------------------------------------------------------------


def test_featurize_equals_scikit_learns_vectoriser_to_the_bit():
    texts = _texts()
    vec = features.vectorizer()
    expected = vec.fit_transform(texts).tocsr()
    names = list(vec.get_feature_names_out())
    matrix, terms = features.featurize(texts)
    # Terms in more than 95 % of the records keep an empty column; the others are the same.
    column = {t: i for i, t in enumerate(names)}
    mapping = np.asarray([column.get(t, -1) for t in terms])
    assert set(names) <= set(terms)
    assert not np.isin(np.flatnonzero(mapping < 0), matrix.indices).any()
    assert np.array_equal(matrix.indptr, expected.indptr)
    assert np.array_equal(mapping[matrix.indices], expected.indices)  # same order in every row
    assert np.array_equal(matrix.data, expected.data)  # bit for bit


def test_accents_are_kept_as_asreview_keeps_them():
    """ASReview's TF-IDF (scikit-learn's defaults) keeps accents; folding them changed which
    records tie and parted the benchmark's replays from ASReview's (see ``terms_of``)."""
    texts = ["Café culture and naïve gamblers", "Cafe culture and naive gamblers", "Tomatoes"]
    assert features.terms_of(texts[0])[:2] == ["café", "culture"]
    vec = features.vectorizer()
    expected = vec.fit_transform(texts).tocsr()
    matrix, terms = features.featurize(texts)
    assert sorted(terms) == sorted(vec.get_feature_names_out()) and "café" in terms
    assert np.array_equal(matrix.data, expected.data)
    assert matrix[0].multiply(matrix[1]).sum() < matrix[0].multiply(matrix[0]).sum()


def test_counts_made_in_two_parts_weigh_as_one_build():
    texts = _texts()
    whole, terms = features.featurize(texts)
    first, vocab = features.count(texts[:90])
    second, vocab = features.count(texts[90:], vocab)
    assert vocab[: first.shape[1]] == list(features.count(texts[:90])[1])  # columns kept
    parts = sparse.vstack([features.pad_columns(first, len(vocab)), second]).tocsr()
    weighed = features.weigh(parts)
    # Same values, columns numbered differently: compare term by term, row by row.
    position = {t: i for i, t in enumerate(terms)}
    perm = np.asarray([position[t] for t in vocab])
    for row in (0, 45, 90, 149):
        got = dict(zip(perm[weighed[row].indices], weighed[row].data, strict=True))
        want = dict(zip(whole[row].indices, whole[row].data, strict=True))
        assert got.keys() == want.keys()
        assert np.allclose([got[k] for k in want], list(want.values()), rtol=0, atol=1e-15)


def test_weigh_keeps_every_term_when_each_is_in_almost_every_record():
    counts, _ = features.count(["gambling debt", "gambling debt"])
    weighed = features.weigh(counts)
    assert weighed.nnz == 6 and np.allclose(weighed.multiply(weighed).sum(axis=1), 1)
    empty, _ = features.featurize(["", ""])
    assert empty.shape == (2, 0)


# --- the app ------------------------------------------------------------------------------------


def _settle(review, item, decision, a, b):
    services.vote_cast(user=a, review=review, item=item, decision=decision)
    services.vote_cast(user=b, review=review, item=item, decision=decision)


def _items(review):
    return list(ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT))


def _features_jobs(review):
    return list(Job.objects.filter(review=review, kind=prio.FEATURES_JOB))


@pytest.mark.django_db
def test_an_import_queues_the_features_job_and_never_waits_for_it(
    review, lead, django_capture_on_commit_callbacks
):
    # The import's own job runs on commit; the features job it queues must start only after
    # the import committed: with the callbacks held, the import is whole and nothing counted.
    with django_capture_on_commit_callbacks(execute=False) as held:
        upload(lead, review, RIS.encode())
    for callback in held:  # the import commits and runs; the job it queued is held again
        with django_capture_on_commit_callbacks(execute=False) as after_import:
            callback()
    assert len(_items(review)) == 6
    (job,) = _features_jobs(review)
    assert job.status == JobStatus.QUEUED
    assert not RankingFeatures.objects.filter(review=review, rows__gt=0).exists()
    for callback in after_import:
        callback()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["featurised"] == 6
    assert RankingFeatures.objects.get(review=review).rows == 6


@pytest.mark.django_db
def test_an_import_succeeds_when_the_features_job_fails(
    review, lead, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("tokeniser down")

    monkeypatch.setattr(features, "count", broken)
    with django_capture_on_commit_callbacks(execute=True):
        upload(lead, review, RIS.encode())
    imported = Job.objects.get(review=review, kind="import_records")
    assert imported.status == JobStatus.SUCCEEDED, imported.error
    assert len(_items(review)) == 6
    (job,) = _features_jobs(review)
    assert job.status == JobStatus.FAILED


@pytest.mark.django_db
def test_a_retrain_after_an_import_finds_the_features_ready(
    review, lead, reviewer_a, reviewer_b, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(lead, review, RIS.encode())
    assert _features_jobs(review)[0].status == JobStatus.SUCCEEDED
    prio._STORES.clear()  # a fresh worker process: the store is read from the database
    prio._WEIGHED.clear()
    calls = []
    real = features.count
    monkeypatch.setattr(features, "count", lambda *a, **k: calls.append(1) or real(*a, **k))
    items = sorted(_items(review), key=lambda i: i.pk)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)  # gambling
    _settle(review, items[3], "exclude", reviewer_a, reviewer_b)  # gardening
    result = prio.retrain(review)
    assert result["featurised"] == 0 and calls == []  # only weighed, fitted and scored
    assert result["ranked"] == 4
    top = ScreeningItem.objects.filter(review=review, status="pending").order_by("-priority")
    assert [i.record.title.split(" (")[0] for i in top[:2]] == [
        "Problem gambling in adolescents"
    ] * 2
    state = prio.ranking_state(review)
    assert state.why and all(state.why.values())  # "why ranked high" terms still there
    assert "gambling" in " ".join(state.top_terms)


@pytest.mark.django_db
def test_records_imported_after_the_features_were_built_are_featurised(
    review, reviewer_a, reviewer_b
):
    make_records(review, 4)
    services.screening_prepare(review=review, full=True)
    assert prio.features_refresh(review)["featurised"] == 4
    assert prio.features_refresh(review)["featurised"] == 0  # nothing new: nothing read
    make_records(review, 3, prefix="Lottery ")
    services.screening_prepare(review=review)
    prio._STORES.clear()  # a fresh worker process: the stored counts are read back first
    result = prio.features_refresh(review)
    assert result["featurised"] == 3 and result["records"] == 7
    # The stored counts weigh to the matrix a build from scratch gives (same terms, same values).
    ids = prio._items(review).ids
    matrix, terms, featurised = prio._features(review, ids)
    assert featurised == 0
    whole, whole_terms = features.featurize(prio._texts(review, ids))
    for row in range(7):
        got = {terms[c]: v for c, v in zip(matrix[row].indices, matrix[row].data, strict=True)}
        want = {whole_terms[c]: v for c, v in zip(whole[row].indices, whole[row].data, strict=True)}
        assert got.keys() == want.keys()
        assert all(abs(got[t] - want[t]) < 1e-12 for t in want)


@pytest.mark.django_db
def test_a_retrain_counts_records_whose_features_job_has_not_run(review, reviewer_a, reviewer_b):
    make_records(review, 4)
    services.screening_prepare(review=review, full=True)
    prio.features_refresh(review)
    make_records(review, 4, prefix="Tomato gardening ")
    services.screening_prepare(review=review)  # no job ran for these
    items = sorted(_items(review), key=lambda i: i.pk)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)
    _settle(review, items[5], "exclude", reviewer_a, reviewer_b)
    result = prio.retrain(review)
    assert result["featurised"] == 4 and result["ranked"] == 6
    assert RankingFeatures.objects.get(review=review).rows == 8
    assert prio.ranking_state(review).trained_on == 2


@pytest.mark.django_db
def test_features_of_a_review_without_records(review):
    result = prio.features_refresh(review)
    assert result["featurised"] == 0 and result["records"] == 0
    matrix, terms, featurised = prio._features(review, prio._items(review).ids)
    assert matrix.shape[0] == 0 and terms == [] and featurised == 0


@pytest.mark.django_db
def test_a_review_s_ranking_reads_only_its_own_records(
    review, lead, reviewer_a, reviewer_b, django_capture_on_commit_callbacks
):
    """``ScreeningItem.objects.primary(review)`` once returned every review's items, so the
    ranking trained on (and its "why ranked high" terms came from) other reviews' records."""
    from reviews import services as review_services

    other = review_services.review_create(user=lead, title="Other", slug="other-review")
    secret = "".join(
        f"TY  - JOUR\nTI  - Unrelated secret topic {i}\nAB  - Secret words.\nER  - \n\n"
        for i in range(5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        upload(lead, other, secret.encode())
        upload(lead, review, RIS.encode())
    assert len(_items(other)) == 5
    mine = {i.pk for i in _items(review)}
    assert set(ScreeningItem.objects.primary(review).values_list("pk", flat=True)) == mine
    assert set(prio._items(review).ids.tolist()) == mine
    items = sorted(_items(review), key=lambda i: i.pk)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)
    _settle(review, items[3], "exclude", reviewer_a, reviewer_b)
    result = prio.retrain(review)
    assert result["ranked"] == 4
    state = prio.ranking_state(review)
    assert "secret" not in " ".join(state.top_terms)
    assert set(map(int, state.why)) <= mine


@pytest.mark.django_db
def test_counts_made_by_another_analyser_are_counted_again(review):
    """A store counted by an earlier analyser (accents stripped) is never mixed with new
    counts: the next refresh counts every record again, with the current analyser."""
    make_records(review, 4, prefix="Café ")
    services.screening_prepare(review=review, full=True)
    assert prio.features_refresh(review)["featurised"] == 4
    RankingFeatures.objects.filter(review=review).update(analyser="words-bigrams/1")
    prio._STORES.clear()
    ids = prio._items(review).ids
    _matrix, terms, featurised = prio._features(review, ids)
    assert featurised == 4
    store = RankingFeatures.objects.get(review=review)
    assert store.analyser == features.ANALYSER and store.rows == 4
    assert "café" in terms and "cafe" not in terms
    assert prio.features_refresh(review)["featurised"] == 0


@pytest.mark.django_db
def test_stored_features_split_into_parts_read_back_the_same(review, monkeypatch):
    """The arrays are stored in pieces (a 100,000-record review's counts are too large for one
    PostgreSQL message); read back in a fresh process they weigh to the same matrix."""
    make_records(review, 6)
    services.screening_prepare(review=review, full=True)
    monkeypatch.setattr(prio, "PART_BYTES", 64)
    prio.features_refresh(review)
    store = RankingFeatures.objects.get(review=review)
    parts = list(store.parts.values_list("name", "seq"))
    assert {n for n, _ in parts} == set(prio.PARTS)
    assert sum(1 for n, _ in parts if n == "indices") > 1  # really split
    ids = prio._items(review).ids
    built, built_terms, _ = prio._features(review, ids)
    prio._STORES.clear()  # a fresh worker process: read from the database
    read, read_terms, featurised = prio._features(review, ids)
    assert featurised == 0 and read_terms == built_terms
    assert (read != built).nnz == 0
    whole, whole_terms = features.featurize(prio._texts(review, ids))
    assert sorted(read_terms) == sorted(whole_terms)
    assert abs(read.sum() - whole.sum()) < 1e-9


@pytest.mark.django_db
def test_a_retrain_writes_only_the_priorities_that_changed(review, reviewer_a, reviewer_b):
    make_records(review, 4, prefix="Gambling ")
    make_records(review, 4, prefix="Tomato gardening ")
    services.screening_prepare(review=review, full=True)
    items = sorted(_items(review), key=lambda i: i.pk)
    _settle(review, items[0], "include", reviewer_a, reviewer_b)
    _settle(review, items[5], "exclude", reviewer_a, reviewer_b)
    first = prio.retrain(review)
    assert first["written"] == 6 and first["ranked"] == 6
    priorities = dict(ScreeningItem.objects.filter(review=review).values_list("pk", "priority"))
    assert sorted(priorities[i.pk] for i in items if i.pk not in (items[0].pk, items[5].pk)) == [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0
    ]  # fmt: skip
    again = prio.retrain(review)  # nothing new: the same order, nothing written
    assert again["written"] == 0
    assert set(again["phases"]) == {"read", "fit", "rank", "write"}
