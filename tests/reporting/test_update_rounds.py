"""The updated review's PRISMA 2020 diagram and change log, counted live on a two-round review
(issue 21)."""

from __future__ import annotations

import datetime as dt

import pytest

from identification import rounds
from identification.models import Record, Search
from reporting import changelog
from reporting import prisma as P
from reporting.selectors import prisma_report
from screening import services as screening
from screening.constants import Stage
from screening.fulltext import services as fulltext
from screening.models import ScreeningItem
from tests.identification.conftest import upload
from tests.screening.factories import reason


def _ris(*works: tuple[str, str]) -> bytes:
    return "".join(
        f"TY  - JOUR\nTI  - {title}\nAU  - Author, {doi[-1].upper()}\nPY  - 2020\n"
        f"DO  - 10.1000/{doi}\nER  - \n\n"
        for title, doi in works
    ).encode()


A = ("Problem gambling and household debt in a cohort", "a")
B = ("Lottery spending among adolescents in three countries", "b")
C = ("Online casino advertising and young adults on social media", "c")
D = ("Sports betting and suicidality among young men", "d")
E = ("Loot boxes in video games and gambling problems later", "e")


def _decide(lead, review, record, *decisions):
    """Take ``record`` through the stages with one reviewer's decisions (include/exclude)."""
    for stage, decision in zip((Stage.TITLE_ABSTRACT, Stage.FULL_TEXT), decisions, strict=False):
        item = ScreeningItem.objects.get(record=record, stage=stage)
        if stage == Stage.FULL_TEXT:
            fulltext.report_attach(
                user=lead, review=review, item=item, url="https://example.org/paper.pdf"
            )
        extra = {"reason": reason(review, stage).pk} if decision == "exclude" else {}
        screening.vote_cast(user=lead, review=review, item=item, decision=decision, **extra)


@pytest.fixture
def two_rounds(lead, review, django_capture_on_commit_callbacks):
    """Round 1: A included, B excluded at full text, C excluded at title/abstract.
    Round 2 (5 records): copies of A and C, D twice (a duplicate within the round) included,
    E excluded at title/abstract."""
    screening.settings_update(actor=lead, review=review, reviewers_per_record=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(lead, review, _ris(A, B, C), name="r1.ris")
    got = {r.doi[-1]: r for r in Record.objects.filter(batch=first)}
    _decide(lead, review, got["a"], "include", "include")
    _decide(lead, review, got["b"], "include", "exclude")
    _decide(lead, review, got["c"], "exclude")
    new = rounds.round_open(actor=lead, review=review, date=dt.date(2026, 1, 1), reason="Yearly")
    rerun = Search.objects.get(round=new)
    with django_capture_on_commit_callbacks(execute=True):
        second = upload(lead, review, _ris(A, C, D, D, E), name="r2.ris", search=rerun)
    fresh = Record.objects.filter(batch=second, duplicate_of__isnull=True)
    got2 = {r.doi[-1]: r for r in fresh}
    assert set(got2) == {"d", "e"}
    _decide(lead, review, got2["d"], "include", "include")
    _decide(lead, review, got2["e"], "exclude")
    return review


def test_the_updated_diagram_adds_up_on_a_two_round_review(two_rounds):
    report = prisma_report(review=two_rounds)
    c = report.counts
    assert c.template == P.Template.UPDATED_DATABASES
    assert c.databases == (("Scopus", 5),)
    assert c.duplicates_removed == 3
    assert (c.records_screened, c.records_excluded) == (2, 1)
    assert (c.reports_sought, c.reports_assessed, c.reports_excluded_total) == (1, 1, 0)
    assert (c.new_studies, c.new_reports) == (1, 1)
    assert c.update == P.ReviewUpdate(
        previous_studies=1, previous_reports=1, total_studies=2, total_reports=2
    )
    assert P.Box.PREVIOUS not in c.hand_entered  # counted, not typed in
    assert report.issues == []
    # The boxes add up: identified - removed = screened; screened - excluded = sought; ...
    assert c.identified - c.removed_before_screening == c.records_screened
    assert c.records_screened - c.records_excluded == c.reports_sought
    assert c.reports_assessed - c.reports_excluded_total == c.new_reports
    assert c.update.previous_studies + c.new_studies == c.update.total_studies
    # The first round alone is a new review's diagram of the first searches.
    first = prisma_report(review=two_rounds, round_number=1).counts
    assert first.template == P.Template.NEW_DATABASES
    assert (first.identified, first.records_screened, first.new_studies) == (3, 3, 1)


def test_the_csv_carries_the_previous_and_total_boxes(two_rounds):
    values = P.prisma2020_csv.prisma2020_values(prisma_report(review=two_rounds).counts)
    assert values["previous_studies"] == "1" and values["previous_reports"] == "1"
    assert values["total_studies"] == "2" and values["new_studies"] == "1"
    assert values["database_specific_results"] == "Scopus, 5"
    text = P.to_prisma2020_csv(prisma_report(review=two_rounds).counts)
    assert len(text.split("\r\n")) == 35  # the template's header and 34 rows


def test_the_change_log_lists_the_right_numbers(two_rounds):
    first, second = changelog.change_log(two_rounds)
    assert (first.identified_total, first.duplicates_earlier, first.new_records) == (3, 0, 3)
    assert (first.new_studies, first.total_studies) == (1, 1)
    assert second.identified_total == 5
    assert (second.duplicates_earlier, second.duplicates_within) == (2, 1)
    assert (second.new_records, second.records_screened) == (2, 2)
    assert (second.new_studies, second.total_studies) == (1, 2)
    assert second.reason == "Yearly" and second.date == dt.date(2026, 1, 1)
    text = changelog.change_log_markdown(two_rounds)
    assert "## Round 2 (2026-01-01)" in text
    assert "- Duplicates of records of earlier rounds: 2" in text
    assert "- New studies included: 1 (1 reports)" in text
    assert changelog.NO_ANALYSES in text


def test_a_round_the_review_does_not_have_is_refused(two_rounds):
    with pytest.raises(ValueError, match="no round 3"):
        prisma_report(review=two_rounds, round_number=3)


def test_rounds_travel_in_the_archive(two_rounds, lead):
    import io

    from identification.models import Round
    from reporting import archive

    data = archive.archive_bytes(review=two_rounds)
    copy = archive.review_import(stream=io.BytesIO(data), slug="rounds-copy", actor=lead)
    new_round = Round.objects.get(review=copy)
    assert (new_round.number, new_round.reason, new_round.created_by_name) == (
        2,
        "Yearly",
        lead.username,
    )
    rerun = Search.objects.get(review=copy, round=new_round)
    assert rerun.rerun_of.review_id == copy.pk and rerun.rerun_of.round is None
    assert (
        prisma_report(review=copy).counts.update == prisma_report(review=two_rounds).counts.update
    )


def test_the_pages_and_api_show_the_rounds(two_rounds, lead, reviewer_a, outsider):
    from tests.conftest import client_for

    slug = two_rounds.slug
    viewer = client_for(reviewer_a)
    page = viewer.get(f"/reviews/{slug}/prisma/?round=1")
    assert page.status_code == 200 and "Round 2" in page.content.decode()
    assert viewer.get(f"/reviews/{slug}/prisma/?round=9").status_code == 404
    assert viewer.get(f"/reviews/{slug}/prisma/?round=x").status_code == 404
    # A Unicode digit that str.isdigit accepts and int() refuses (found by the API contract
    # test as a 500): a 404 like any other round the review lacks.
    for odd in ("³", "٣", "²1"):
        assert viewer.get(f"/reviews/{slug}/prisma/?round={odd}").status_code == 404
        assert viewer.get(f"/api/reviews/{slug}/prisma.pdf?round={odd}").status_code == 404
    csv_text = viewer.get(f"/reviews/{slug}/prisma.csv").content.decode()
    assert "previous_studies" in csv_text
    log = viewer.get(f"/reviews/{slug}/rounds/changelog/")
    assert log.status_code == 200 and "Duplicates of records of earlier rounds" in log.text
    md = viewer.get(f"/reviews/{slug}/rounds/changelog.md")
    assert md["Content-Type"].startswith("text/markdown") and b"## Round 2" in md.content
    api = viewer.get(f"/api/reviews/{slug}/changelog/").json()
    assert [r["number"] for r in api] == [1, 2]
    assert api[1]["duplicates_earlier"] == 2 and api[1]["identified"] == [
        {"name": "Scopus", "count": 5}
    ]
    answer = viewer.get(f"/api/reviews/{slug}/prisma/?round=2").json()
    assert answer["counts"]["update"]["previous_studies"] == 1
    assert viewer.get(f"/api/reviews/{slug}/prisma/?round=7").status_code == 404
    stranger = client_for(outsider)
    for path in ("rounds/changelog/", "rounds/changelog.md", "prisma/?round=1"):
        assert stranger.get(f"/reviews/{slug}/{path}").status_code == 404
    assert stranger.get(f"/api/reviews/{slug}/changelog/").status_code == 404
