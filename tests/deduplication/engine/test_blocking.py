from deduplication.engine.blocking import blocking_keys, candidate_pairs
from deduplication.engine.records import DedupRecord, prepare_record


def prepared(*records: DedupRecord, existing: int = 0):
    return [prepare_record(r, i, is_new=i >= existing) for i, r in enumerate(records)]


def test_it_pairs_records_with_the_same_doi_whatever_their_titles():
    records = prepared(
        DedupRecord(1, title="Alpha study of things", doi="10.1000/xyz"),
        DedupRecord(2, title="Entirely other words here", doi="https://doi.org/10.1000/XYZ"),
        DedupRecord(3, title="Unrelated", doi="10.1000/other"),
    )
    assert candidate_pairs(records) == {(0, 1)}


def test_it_pairs_records_with_the_same_pmid():
    records = prepared(
        DedupRecord(1, title="One title for the record", pmid="123456"),
        DedupRecord(2, title="Quite another heading", pmid="PMID: 123456"),
    )
    assert candidate_pairs(records) == {(0, 1)}


def test_it_pairs_records_whose_titles_differ_in_style_only():
    records = prepared(
        DedupRecord(1, title="TNF-α in <i>vivo</i>: a randomised trial."),
        DedupRecord(2, title="TNF-alpha in vivo - A Randomised Trial"),
        DedupRecord(3, title="Something else entirely about other matters"),
    )
    assert candidate_pairs(records) == {(0, 1)}


def test_it_pairs_a_truncated_title_with_the_full_one():
    full = "Inherited complement regulatory protein deficiency predisposes to human disease"
    records = prepared(
        DedupRecord(1, title=full + " in acute injury and chronic inflammatory states"),
        DedupRecord(2, title=full),
    )
    assert candidate_pairs(records) == {(0, 1)}


def test_it_pairs_a_title_with_a_prefix_added():
    title = "Gain-of-function mutations in complement factor B are associated with aHUS"
    records = prepared(DedupRecord(1, title=title), DedupRecord(2, title="Erratum: " + title))
    assert candidate_pairs(records) == {(0, 1)}


def test_it_pairs_records_by_first_author_and_year_when_titles_differ():
    records = prepared(
        DedupRecord(
            1, title="Eculizumab in severe Shiga-toxin HUS", authors=["Lapeyraque, A"], year=2011
        ),
        DedupRecord(
            2,
            title="Complement blockade in severe Shiga-toxin HUS",
            authors=["Lapeyraque AL"],
            year=2011,
        ),
    )
    assert candidate_pairs(records) == {(0, 1)}


def test_it_does_not_pair_two_existing_records_again():
    records = prepared(
        DedupRecord(1, title="The same title twice over"),
        DedupRecord(2, title="The same title twice over"),
        DedupRecord(3, title="The same title twice over"),
        existing=2,
    )
    assert candidate_pairs(records) == {(0, 2), (1, 2)}


def test_it_pairs_only_neighbours_inside_a_very_large_block():
    records = prepared(*(DedupRecord(i, title="Editorial", year=2000 + i % 20) for i in range(200)))
    pairs = candidate_pairs(records, max_block=20, window=5)
    assert len(pairs) <= 200 * 5
    assert all(i < j for i, j in pairs)


def test_it_gives_no_title_keys_to_a_record_without_title():
    keys = blocking_keys(prepare_record(DedupRecord(1, doi="10.1000/x"), 0))
    assert keys == ["doi:10.1000/x"]
