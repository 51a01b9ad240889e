"""An update round's records against the earlier ones (issue 21): a copy of an earlier record is
its duplicate, the earlier record keeps its decisions, and only new records are screened."""

from __future__ import annotations

import datetime as dt

import pytest

from core.constants import JobStatus
from deduplication import services as dedup_services
from deduplication.constants import PairStatus
from deduplication.models import DuplicatePair
from identification import rounds
from identification.models import Record, Search
from screening import services as screening
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem, Vote
from tests.identification.conftest import upload

FIRST = (
    "TY  - JOUR\nTI  - Problem gambling and household debt in a national cohort\n"
    "AU  - Smith, J\nPY  - 2020\nDO  - 10.1000/debt\nER  - \n\n"
    "TY  - JOUR\nTI  - Lottery spending among adolescents in three countries\n"
    "AU  - Jones, K\nPY  - 2019\nDO  - 10.1000/lottery\nER  - \n"
)
# The same two works, more complete (abstracts, journals), and one new work.
SECOND = (
    "TY  - JOUR\nTI  - Problem gambling and household debt in a national cohort\n"
    "AU  - Smith, J\nAU  - Doe, A\nPY  - 2020\nDO  - 10.1000/debt\nJO  - Addiction\n"
    "VL  - 12\nIS  - 3\nSP  - 1\nEP  - 9\nAB  - A long abstract about debt and gambling.\n"
    "ER  - \n\n"
    "TY  - JOUR\nTI  - Lottery spending among adolescents in three countries\n"
    "AU  - Jones, K\nAU  - Lee, P\nPY  - 2019\nDO  - 10.1000/lottery\nJO  - J Gambl Stud\n"
    "VL  - 4\nSP  - 10\nEP  - 20\nAB  - An abstract about lotteries.\nER  - \n\n"
    "TY  - JOUR\nTI  - Sports betting advertising and young men\nAU  - Brown, R\n"
    "PY  - 2024\nDO  - 10.1000/betting\nER  - \n"
)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _run(lead, review, content, name, search, on_commit):
    with on_commit():
        batch = upload(lead, review, content, name=name, search=search)
    batch.refresh_from_db()
    assert batch.job.status == JobStatus.SUCCEEDED, batch.job.error
    return batch


def test_copies_from_a_second_round_keep_the_earlier_decisions_and_are_not_screened(
    lead, review, on_commit
):
    screening.settings_update(actor=lead, review=review, reviewers_per_record=1)
    first = _run(lead, review, FIRST.encode(), "first.ris", None, on_commit)
    debt = Record.objects.get(batch=first, doi="10.1000/debt")
    lottery = Record.objects.get(batch=first, doi="10.1000/lottery")
    item = ScreeningItem.objects.get(record=debt, stage=Stage.TITLE_ABSTRACT)
    screening.vote_cast(user=lead, review=review, item=item, decision="include")

    new_round = rounds.round_open(actor=lead, review=review, date=dt.date(2026, 1, 5))
    rerun = Search.objects.get(review=review, round=new_round)
    second = _run(lead, review, SECOND.encode(), "second.ris", rerun, on_commit)

    copies = {r.doi: r for r in Record.objects.filter(batch=second)}
    # The copies are duplicates of the earlier records, though they are more complete: the
    # unscreened one (lottery) as much as the screened one (debt).
    assert copies["10.1000/debt"].duplicate_of_id == debt.pk
    assert copies["10.1000/lottery"].duplicate_of_id == lottery.pk
    assert copies["10.1000/betting"].duplicate_of_id is None
    debt.refresh_from_db()
    assert debt.duplicate_of_id is None
    # The earlier decision stands, and the earlier record took the copy's abstract.
    assert Vote.objects.filter(item__record=debt).count() == 1
    assert ScreeningItem.objects.get(pk=item.pk).status == ItemStatus.INCLUDED
    assert "debt and gambling" in debt.abstract
    # Only the new work entered screening.
    queued = ScreeningItem.objects.primary(review).filter(
        stage=Stage.TITLE_ABSTRACT, record__batch=second
    )
    assert [i.record.doi for i in queued] == ["10.1000/betting"]
    assert second.job.result["added_to_screening"] == 1
    assert second.job.result["earlier_round_copies"] == 2
    from identification.import_job import _present_import

    rows = {r.label: r.value for r in _present_import(second.job.result)}
    assert rows["Copies of records of earlier rounds"].startswith("2 (they keep their decisions")


def test_a_person_merging_a_later_copy_keeps_the_earlier_record_primary(lead, review, on_commit):
    first = _run(
        lead,
        review,
        b"TY  - JOUR\nTI  - Gambling harm in older adults\nAU  - Smith, J\nPY  - 2020\nER  - \n",
        "a.ris",
        None,
        on_commit,
    )
    earlier = Record.objects.get(batch=first)
    new_round = rounds.round_open(actor=lead, review=review, date=dt.date(2026, 1, 5))
    rerun = Search.objects.get(review=review, round=new_round)
    second = _run(
        lead,
        review,
        b"TY  - JOUR\nTI  - Harms of gambling: older people\nAU  - Smyth, J\nPY  - 2021\n"
        b"JO  - Addiction\nVL  - 2\nSP  - 5\nAB  - Long abstract.\nER  - \n",
        "b.ris",
        rerun,
        on_commit,
    )
    later = Record.objects.get(batch=second)
    assert later.duplicate_of_id is None  # too different to merge without a person
    # The pair as the queue holds one (whether the engine queued it depends on its weights).
    pair, _ = DuplicatePair.objects.get_or_create(
        review=review,
        left_id=earlier.pk,
        right_id=later.pk,
        defaults={"score": 3.0, "status": PairStatus.QUEUED},
    )
    dedup_services.pair_decide(actor=lead, pair=pair, same=True)
    later.refresh_from_db()
    earlier.refresh_from_db()
    assert later.duplicate_of_id == earlier.pk
    assert earlier.duplicate_of_id is None


def test_the_queue_and_the_dashboard_show_the_round(lead, reviewer_a, review, on_commit):
    from django.urls import reverse

    from tests.conftest import client_for

    _run(lead, review, FIRST.encode(), "first.ris", None, on_commit)
    client = client_for(reviewer_a)
    dashboard = reverse("reviews:dashboard", kwargs={"slug": review.slug})
    assert "1 round" in " ".join(client.get(dashboard).content.decode().split())
    screen = reverse("screening:ta_screen", kwargs={"slug": review.slug})
    assert "Round 2" not in client.get(screen).content.decode()
    new_round = rounds.round_open(actor=lead, review=review, date=dt.date(2026, 1, 5))
    # Screen the first round's records away, so that the queue reaches the new one.
    for item in ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT):
        for user in (reviewer_a, lead):
            screening.vote_cast(user=user, review=review, item=item, decision="exclude")
    rerun = Search.objects.get(review=review, round=new_round)
    _run(lead, review, SECOND.encode(), "second.ris", rerun, on_commit)
    assert "Round 2" in client.get(screen).content.decode()
    assert "2 rounds" in " ".join(client.get(dashboard).content.decode().split())
    new = Record.objects.filter(search=rerun).first()
    record_page = reverse("identification:record", kwargs={"slug": review.slug, "pk": new.pk})
    assert "(update round 2)" in client.get(record_page).content.decode()
