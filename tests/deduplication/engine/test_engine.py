from dataclasses import replace

import pytest

from deduplication.engine import DedupConfig, DedupRecord, deduplicate
from deduplication.engine.records import prepare_record
from deduplication.engine.scoring import score_pair

# One article as three databases export it.
PUBMED = DedupRecord(
    id=1,
    title="Intestinal lipoprotein overproduction in insulin-resistant states.",
    authors=["Adeli K", "Lewis GF"],
    year=2008,
    journal="Curr Opin Lipidol",
    volume="19",
    issue="3",
    pages="221-8",
    doi="10.1097/MOL.0b013e3282ffaf82",
    pmid="18460911",
    abstract="PURPOSE OF REVIEW: Excessive postprandial lipemia ...",
)
SCOPUS = DedupRecord(
    id=2,
    title="Intestinal Lipoprotein Overproduction in Insulin-Resistant States",
    authors=["Adeli, K.", "Lewis, G.F."],
    year=2008,
    journal="Current Opinion in Lipidology",
    volume="19",
    issue="3",
    pages="221-228",
    doi="https://doi.org/10.1097/MOL.0B013E3282FFAF82",
    abstract=(
        "PURPOSE OF REVIEW: Excessive postprandial lipemia is common in insulin resistance; "
        "this review covers the intestinal overproduction of lipoproteins."
    ),
)
EMBASE = DedupRecord(
    id=3,
    title="Intestinal lipoprotein overproduction in insulin-resistant states",
    authors=["K. Adeli", "G.F. Lewis"],
    year=2009,
    journal="Current Opinion in Lipidology",
    volume="19",
    pages="221-228",
)
OTHER = DedupRecord(
    id=4,
    title="Glucagon-like peptide-1 receptor activation reduces ischaemic brain damage",
    authors=["Darsalia V", "Mansouri S"],
    year=2012,
    journal="Clinical Science",
    volume="122",
    pages="473-483",
    doi="10.1042/CS20110374",
)


def test_it_merges_the_same_article_from_three_databases_into_one_cluster():
    result = deduplicate([PUBMED, SCOPUS, EMBASE, OTHER])
    assert len(result.clusters) == 1
    assert set(result.clusters[0].member_ids) == {1, 2, 3}
    assert result.cluster_for(4) is None
    assert result.counts.merged == 2
    assert result.counts.records == 4
    assert result.queued_pairs == ()


def test_it_merges_without_a_doi_on_title_authors_year_journal_and_pages():
    without_doi = replace(SCOPUS, doi=None)
    result = deduplicate([replace(PUBMED, doi=None, pmid=None), without_doi])
    assert [set(c.member_ids) for c in result.clusters] == [{1, 2}]


def test_it_reports_each_automatic_merge_with_its_score_and_fields():
    result = deduplicate([PUBMED, SCOPUS])
    (pair,) = result.merged_pairs
    assert (pair.left_id, pair.right_id) == (1, 2)
    assert pair.score >= DedupConfig().auto_threshold
    fields = {f.field: f for f in pair.fields}
    assert fields["doi"].status == "similar"  # same DOI, written differently
    assert fields["pages"].status == "similar"
    assert fields["year"].status == "same"
    assert fields["title"].status == "similar"


def test_it_leaves_fields_out_when_asked_to():
    result = deduplicate([PUBMED, SCOPUS], with_fields=False)
    assert result.merged_pairs[0].fields == ()


def test_it_does_not_merge_a_reply_with_the_same_title_years_later_by_other_authors():
    reply = DedupRecord(
        id=5,
        title=PUBMED.title,
        authors=["Nobody A", "Someone B"],
        year=2012,
        journal="Curr Opin Lipidol",
        volume="23",
        pages="101",
    )
    result = deduplicate([PUBMED, reply])
    assert result.clusters == ()
    assert result.queued_pairs == ()


def test_it_does_not_merge_a_reply_or_erratum_whose_title_quotes_the_article():
    erratum = DedupRecord(
        id=5,
        title="Reply to: " + PUBMED.title,
        authors=["Nobody A"],
        year=2008,
        journal="Curr Opin Lipidol",
        volume="19",
        pages="400",
    )
    result = deduplicate([PUBMED, erratum])
    assert result.clusters == ()


def test_it_does_not_merge_a_conference_abstract_with_the_article_automatically():
    abstract = DedupRecord(
        id=5,
        title=PUBMED.title,
        authors=PUBMED.authors,
        year=2008,
        journal="Journal of Vascular Research",
        volume="45",
        pages="1",
    )
    result = deduplicate([PUBMED, abstract])
    assert result.clusters == ()


def test_it_does_not_merge_two_articles_with_different_dois_and_different_titles():
    result = deduplicate([PUBMED, OTHER])
    assert result.clusters == ()
    assert result.queued_pairs == ()


def test_it_queues_a_doubtful_pair_with_the_fields_side_by_side():
    # Same title, and nothing else to confirm it: hand entry, or a grey-literature record.
    bare = DedupRecord(id=7, title=PUBMED.title)
    result = deduplicate([replace(PUBMED, doi=None, pmid=None), bare])
    assert result.clusters == ()
    (pair,) = result.queued_pairs
    assert (pair.left_id, pair.right_id) == (1, 7)
    config = DedupConfig()
    assert config.queue_threshold <= pair.score < config.auto_threshold
    fields = {f.field: f for f in pair.fields}
    assert fields["title"].status == "same"
    assert fields["year"].status == "missing"
    assert (fields["year"].left, fields["year"].right) == ("2008", "")


def test_it_scores_a_doi_conflict_as_strong_evidence_against():
    conflicting = replace(SCOPUS, doi="10.9999/another")
    a, b = prepare_record(PUBMED, 0), prepare_record(conflicting, 1)
    agreeing = prepare_record(SCOPUS, 1)
    assert score_pair(a, b) < score_pair(a, agreeing) - 10


def test_it_does_not_chain_two_different_dois_through_a_record_without_one():
    # 3 has no DOI and matches both 1 and 2 well; 1 and 2 have different DOIs.
    first = replace(PUBMED, pmid=None)
    second = replace(SCOPUS, doi="10.9999/another")
    bridge = replace(EMBASE, year=2008)
    result = deduplicate([first, second, bridge])
    for cluster in result.clusters:
        assert not {1, 2} <= set(cluster.member_ids)


def test_it_rejects_the_same_id_twice():
    with pytest.raises(ValueError, match="appears twice"):
        deduplicate([PUBMED, PUBMED])


def test_it_handles_no_records_and_records_without_any_fields():
    assert deduplicate([]).counts.records == 0
    result = deduplicate([DedupRecord(1), DedupRecord(2)])
    assert result.clusters == ()


def test_it_reports_progress():
    seen = []
    deduplicate([PUBMED, SCOPUS], progress=lambda stage, done, total: seen.append(stage))
    assert {"normalise", "block", "score"} <= set(seen)


# --- incremental mode --------------------------------------------------------------------------


def test_it_finds_duplicates_of_earlier_imports_in_a_new_search():
    result = deduplicate([EMBASE], existing=[PUBMED, OTHER])
    assert [set(c.member_ids) for c in result.clusters] == [{1, 3}]
    assert result.counts.new_records == 1
    assert result.counts.records == 3


def test_it_does_not_compare_existing_records_with_each_other_again():
    result = deduplicate([OTHER], existing=[PUBMED, SCOPUS])
    assert result.clusters == ()
    assert result.counts.candidate_pairs == 0


def test_it_adds_new_records_to_an_existing_cluster_and_keeps_its_key():
    result = deduplicate(
        [EMBASE], existing=[PUBMED, SCOPUS], existing_clusters={1: "c-1", 2: "c-1"}
    )
    (cluster,) = result.clusters
    assert set(cluster.member_ids) == {1, 2, 3}
    assert cluster.existing_keys == ("c-1",)


def test_it_never_splits_an_existing_cluster_even_of_unlike_records():
    # A person merged these two, whatever the engine thinks of them.
    result = deduplicate([EMBASE], existing=[PUBMED, OTHER], existing_clusters={1: 9, 4: 9})
    (cluster,) = result.clusters
    assert set(cluster.member_ids) == {1, 3, 4}
    assert cluster.existing_keys == (9,)


def test_it_reports_when_a_new_record_joins_two_existing_clusters():
    result = deduplicate(
        [EMBASE],
        existing=[PUBMED, replace(SCOPUS, doi=None)],
        existing_clusters={1: "a", 2: "b"},
    )
    (cluster,) = result.clusters
    assert set(cluster.member_ids) == {1, 2, 3}
    assert set(cluster.existing_keys) == {"a", "b"}


def test_it_ignores_cluster_keys_for_unknown_records():
    result = deduplicate([OTHER], existing_clusters={99: "x", 4: "x"})
    assert result.clusters == ()


def test_it_never_merges_a_pair_a_person_judged_different():
    result = deduplicate([PUBMED, SCOPUS], judged_different={(2, 1)})
    assert result.clusters == ()
    assert result.queued_pairs == ()


def test_it_never_queues_a_pair_a_person_judged_different():
    bare = DedupRecord(id=7, title=PUBMED.title)
    result = deduplicate([replace(PUBMED, doi=None, pmid=None), bare], judged_different=[(1, 7)])
    assert result.queued_pairs == ()


def test_it_keeps_a_judgement_for_the_whole_cluster():
    # 1 and 2 are one cluster; a person said 3 is not 1, so 3 joins neither.
    result = deduplicate(
        [EMBASE],
        existing=[PUBMED, SCOPUS],
        existing_clusters={1: "c", 2: "c"},
        judged_different=[(1, 3)],
    )
    (cluster,) = result.clusters
    assert set(cluster.member_ids) == {1, 2}
    assert result.queued_pairs == ()


def test_it_queues_at_most_one_pair_per_pair_of_clusters():
    bare = DedupRecord(id=7, title=PUBMED.title)
    cluster = [replace(PUBMED, doi=None, pmid=None), replace(SCOPUS, doi=None)]
    result = deduplicate([*cluster, bare])
    assert [set(c.member_ids) for c in result.clusters] == [{1, 2}]
    assert len(result.queued_pairs) == 1


def test_it_keeps_a_pinned_primary():
    result = deduplicate([PUBMED, SCOPUS, EMBASE], pinned_primaries={3})
    assert result.clusters[0].primary_id == 3
    assert set(result.clusters[0].duplicate_ids) == {1, 2}
