"""Generic titles (issue 21): "Editorial", "Reply", "In this issue" cannot carry a match alone.

An editorial pair of one journal and year, same editor, merges automatically only when its DOI,
PMID or volume and pages agree; otherwise it waits for a person (or stays apart when little
else agrees). An ordinary title still merges as before.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from deduplication.engine import DedupConfig, DedupRecord, deduplicate
from deduplication.engine.generic import content_words, is_generic_title
from deduplication.engine.normalise import journal_tokens, normalise_title
from deduplication.engine.records import prepare_record
from deduplication.engine.scoring import location_agrees, needs_location, score_pair


def generic(title: str, journal: str | None = None) -> bool:
    return is_generic_title(normalise_title(title), journal_tokens(journal))


@pytest.mark.parametrize(
    "title",
    [
        "Editorial",
        "Introduction",
        "Reply",
        "In reply",
        "Author's reply",
        "Erratum",
        "Corrigendum.",
        "In this issue",
        "Letter from the editor",
        "From the Editors",
        "Book review",
        "Book Reviews",
        "Poster session 3",
        "Abstracts of the 2017 annual meeting",
        "Reply to Smith",
        "Editorial: obesity",
        "Guest editorial",
        "Acknowledgement of reviewers 2019",
        "Instructions for authors",
        "Table of contents",
        "Eculizumab",
    ],
)
def test_titles_that_name_a_kind_of_item_are_generic(title):
    assert generic(title)


@pytest.mark.parametrize(
    "title",
    [
        "Metformin and the risk of lactic acidosis",
        "Predictors of outcome after stroke",  # "editor" inside a word is not the editor
        "A review of insulin pumps in type 1 diabetes",
        "Reply to the comments on: Heparin versus saline for catheter locks",
        "Complement in organ transplantation",
        "",
    ],
)
def test_titles_about_a_subject_are_not(title):
    assert not generic(title, "Current Opinion in Organ Transplantation")


def test_the_journals_own_words_say_nothing_in_a_title_that_names_an_item():
    # "Notes from The Lancet": two content words alone, none once the journal's are set aside.
    assert content_words(normalise_title("Notes from Lancet Oncology")) == ["lancet", "oncology"]
    assert generic("Notes from Lancet Oncology", "The Lancet Oncology")
    assert not generic("Notes from Lancet Oncology", "Nature")
    # Without a word naming an item, the journal's words count: a real title.
    assert not generic("Organ transplantation outcomes", "Organ Transplantation")


def test_a_short_title_speaking_of_the_editor_is_generic_as_in_bib_dedupe():
    assert generic("Comments of the Journal Editor on Methods Research")
    long = "Comments of the Journal Editor on the Methods of Qualitative Research in Sociology"
    assert len(normalise_title(long)) >= 60
    assert not generic(long)


# One journal's recurring editorial: same title, editor, journal, year and volume, different
# issues and pages.
EDITORIAL = DedupRecord(
    id=1,
    title="Letter from the editors: introduction to this special issue",
    authors=["Rai, Arun"],
    year=2017,
    journal="Journal of Information Systems Research",
    volume="41",
    issue="1",
    pages="1-3",
)
NEXT_ISSUE = replace(EDITORIAL, id=2, issue="2", pages="301-303")


def test_an_editorial_pair_with_different_pages_is_not_merged():
    a, b = prepare_record(EDITORIAL, 0), prepare_record(NEXT_ISSUE, 1)
    assert a.generic_title and b.generic_title
    assert needs_location(a, b) and not location_agrees(a, b)
    result = deduplicate([EDITORIAL, NEXT_ISSUE])
    assert result.clusters == ()


def test_an_editorial_pair_with_different_issues_is_not_merged_whatever_its_score():
    # The same pages in two issues (a supplement's numbering restarting): the issue decides.
    right = replace(NEXT_ISSUE, pages=EDITORIAL.pages)
    a, b = prepare_record(EDITORIAL, 0), prepare_record(right, 1)
    assert score_pair(a, b) >= DedupConfig().auto_threshold
    assert not location_agrees(a, b)
    assert deduplicate([EDITORIAL, right]).clusters == ()


def test_an_editorial_pair_without_pages_waits_for_a_person():
    left = replace(EDITORIAL, pages=None)
    right = replace(NEXT_ISSUE, pages=None)
    score = score_pair(prepare_record(left, 0), prepare_record(right, 1))
    assert score >= DedupConfig().auto_threshold  # would merge on its score alone
    result = deduplicate([left, right])
    assert result.clusters == ()
    assert [(p.left_id, p.right_id) for p in result.queued_pairs] == [(1, 2)]
    assert result.counts.generic_held_back == 1
    # The rule switched off (for the bench's before/after) merges them, as before.
    off = deduplicate([left, right], config=DedupConfig(generic_titles_need_location=False))
    assert [c.member_ids for c in off.clusters] == [(1, 2)]


def test_an_editorial_pair_with_the_same_volume_issue_and_pages_still_merges():
    copy = replace(EDITORIAL, id=2, authors=["Rai A"], pages="1-3")
    result = deduplicate([EDITORIAL, copy])
    assert [c.member_ids for c in result.clusters] == [(1, 2)]
    assert result.counts.generic_held_back == 0


def test_an_editorial_pair_with_the_same_doi_still_merges():
    left = replace(EDITORIAL, pages=None, doi="10.25300/MISQ/2017/41.1.EDITOR")
    right = replace(
        NEXT_ISSUE, issue=None, pages=None, doi="https://doi.org/10.25300/misq/2017/41.1.editor"
    )
    result = deduplicate([left, right])
    assert [c.member_ids for c in result.clusters] == [(1, 2)]


def test_a_real_duplicate_with_an_ordinary_title_still_merges_without_its_location():
    article = DedupRecord(
        id=1,
        title="Platform work and the erosion of employment protections in Europe",
        authors=["Rai, Arun", "Smith, Jane"],
        year=2017,
        journal="Journal of Information Systems Research",
        volume="41",
        issue="1",
    )
    copy = replace(article, id=2, authors=["Rai A", "Smith J"], issue="2")
    a, b = prepare_record(article, 0), prepare_record(copy, 1)
    assert not needs_location(a, b)
    result = deduplicate([article, copy])
    assert [c.member_ids for c in result.clusters] == [(1, 2)]
    assert result.counts.generic_held_back == 0
