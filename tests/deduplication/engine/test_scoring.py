import gc

from deduplication.engine import DedupRecord, deduplicate
from deduplication.engine.records import prepare_record
from deduplication.engine.scoring import compare_fields, score_pair, title_similarity

LONG = "inheritedcomplementregulatoryproteindeficiencypredisposestohumandisease"


def test_it_scores_identical_titles_one_and_unrelated_titles_low():
    assert title_similarity(LONG, LONG) == 1.0
    assert title_similarity(LONG, "glucagonlikepeptide1receptoractivationinrats") < 0.6


def test_it_treats_a_long_truncated_title_as_nearly_the_same():
    assert title_similarity(LONG + "inacuteinjury", LONG) == 0.95


def test_it_treats_a_title_inside_another_as_similar_but_not_the_same():
    prefixed = "replytothecommentsof" + LONG
    assert title_similarity(prefixed, LONG) == 0.9
    assert title_similarity(prefixed, LONG) < title_similarity(LONG + "inacuteinjury", LONG)


def test_it_gives_short_identical_titles_less_weight_than_long_ones():
    short = [prepare_record(DedupRecord(i, title="Editorial"), i) for i in (1, 2)]
    long = [prepare_record(DedupRecord(i, title=LONG), i) for i in (1, 2)]
    assert score_pair(*short) < score_pair(*long)


def test_it_counts_agreeing_identifiers_for_and_conflicting_ones_against():
    base = DedupRecord(1, title="A title long enough to count as informative", doi="10.1000/a")
    same = prepare_record(DedupRecord(2, title=base.title, doi="10.1000/A"), 1)
    other = prepare_record(DedupRecord(2, title=base.title, doi="10.1000/b"), 1)
    missing = prepare_record(DedupRecord(2, title=base.title), 1)
    a = prepare_record(base, 0)
    assert score_pair(a, same) > score_pair(a, missing) > score_pair(a, other)


def test_it_stops_early_below_the_floor_with_an_upper_bound():
    a = prepare_record(DedupRecord(1, title=LONG, authors=["Smith J"], year=2000), 0)
    b = prepare_record(DedupRecord(2, title="somethingelseentirelyhere", year=2000), 1)
    full = score_pair(a, b)
    bounded = score_pair(a, b, floor=1.5)
    assert full <= bounded < 1.5


def test_it_lays_out_every_field_with_a_status_for_the_review_screen():
    left = DedupRecord(
        1,
        title="TNF-α in mice.",
        authors=["Smith J"],
        year=2010,
        journal="Nat Rev Nephrol",
        pages="123-9",
        doi="10.1000/X",
        abstract="Same words.",
    )
    right = DedupRecord(
        2,
        title="TNF-alpha in mice",
        authors=["Smith, John"],
        year=2011,
        journal="Nature Reviews Nephrology",
        volume="7",
        pages="123-129",
        doi="https://doi.org/10.1000/x",
        abstract="Other words entirely, nothing alike at all.",
    )
    fields = {
        f.field: f
        for f in compare_fields(left, right, prepare_record(left, 0), prepare_record(right, 1))
    }
    assert list(fields) == [
        "title",
        "authors",
        "year",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "abstract",
    ]
    assert fields["title"].status == "similar"
    assert fields["authors"].status == "similar"
    assert fields["year"].status == "similar"  # one year apart
    assert fields["journal"].status == "similar"
    assert fields["volume"].status == "missing"
    assert fields["pages"].status == "similar"
    assert fields["doi"].status == "similar"
    assert fields["abstract"].status == "different"
    assert (fields["pages"].left, fields["pages"].right) == ("123-9", "123-129")


def test_it_accepts_authors_given_as_one_string():
    a = prepare_record(DedupRecord(1, authors="Smith J; Jones K"), 0)  # type: ignore[arg-type]
    assert [k.surname for k in a.authors] == ["smith", "jones"]


def test_it_leaves_the_garbage_collector_as_it_found_it():
    assert gc.isenabled()
    deduplicate([DedupRecord(1, title="x")])
    assert gc.isenabled()
    gc.disable()
    try:
        deduplicate([DedupRecord(1, title="x")])
        assert not gc.isenabled()
    finally:
        gc.enable()
