import pytest

from deduplication.engine import DedupRecord, best_fields, choose_primary, deduplicate

BARE = DedupRecord(id=1, title="A trial", authors=["Smith J"], year=2010, journal="BMJ")
WITH_DOI = DedupRecord(id=2, title="A trial", authors=["Smith J"], doi="10.1136/bmj.1")
WITH_ABSTRACT = DedupRecord(id=3, title="A trial", abstract="Short abstract.")
FULL = DedupRecord(
    id=4,
    title="A trial",
    authors=["Smith J"],
    year=2010,
    doi="https://doi.org/10.1136/BMJ.1",
    abstract="A longer abstract than the short one.",
    pmid="123",
)


def test_it_prefers_a_record_with_doi_and_abstract_as_primary():
    assert choose_primary([BARE, WITH_DOI, WITH_ABSTRACT, FULL]).id == 4


def test_it_prefers_a_doi_to_an_abstract():
    assert choose_primary([WITH_ABSTRACT, WITH_DOI]).id == 2


def test_it_prefers_the_longer_abstract_among_otherwise_equal_records():
    short = DedupRecord(id=5, title="t", abstract="short")
    long = DedupRecord(id=6, title="t", abstract="a much longer abstract")
    assert choose_primary([short, long]).id == 6


def test_it_breaks_ties_on_the_lowest_id_so_reruns_agree():
    assert choose_primary([DedupRecord(id=9, title="t"), DedupRecord(id=3, title="t")]).id == 3


def test_it_keeps_a_pinned_record_as_primary_however_incomplete():
    assert choose_primary([BARE, FULL], pinned={1}).id == 1


def test_it_refuses_an_empty_cluster():
    with pytest.raises(ValueError):
        choose_primary([])


def test_it_fills_the_primary_gaps_from_the_other_members():
    merged = best_fields(BARE, [BARE, WITH_DOI, WITH_ABSTRACT, FULL])
    assert merged.record.id == 1
    assert merged.record.abstract == FULL.abstract  # the longest
    assert merged.record.doi == "10.1136/bmj.1"  # two members agree once normalised
    assert merged.record.pmid == "123"
    assert merged.record.journal == "BMJ"  # the primary's own value is kept
    assert merged.sources == {"abstract": 4, "doi": 4, "pmid": 4}


def test_it_changes_nothing_when_the_primary_is_complete():
    merged = best_fields(FULL, [WITH_ABSTRACT, FULL])
    assert merged.record == FULL
    assert merged.sources == {}


def test_it_names_the_primary_of_each_cluster_it_finds():
    pubmed = DedupRecord(
        id=10,
        title="Intestinal lipoprotein overproduction in insulin-resistant states",
        authors=["Adeli K", "Lewis GF"],
        year=2008,
        journal="Curr Opin Lipidol",
        pages="221-8",
    )
    scopus = DedupRecord(
        id=11,
        title="Intestinal Lipoprotein Overproduction in Insulin-Resistant States.",
        authors=["Adeli, K.", "Lewis, G.F."],
        year=2008,
        journal="Current Opinion in Lipidology",
        pages="221-228",
        doi="10.1097/MOL.0b013e3282ffaf82",
        abstract="PURPOSE OF REVIEW: ...",
    )
    (cluster,) = deduplicate([pubmed, scopus]).clusters
    assert cluster.primary_id == 11
    assert cluster.duplicate_ids == (10,)
