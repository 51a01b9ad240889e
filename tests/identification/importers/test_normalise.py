"""Field normalisers: DOI, pages, year, ISSN, HTML and whitespace, publication types."""

from __future__ import annotations

import pytest

from identification.importers import (
    clean_text,
    normalise_doi,
    normalise_issn,
    normalise_pages,
    ris_type,
)
from identification.importers.ids import accession_from_url, doi_from_url, pmid_from_text
from identification.importers.records import clean_list, first_doi, parse_year


@pytest.mark.parametrize(
    "given",
    [
        "10.1002/cpp.2398",
        "10.1002/CPP.2398",
        " 10.1002/cpp.2398 ",
        "doi:10.1002/cpp.2398",
        "DOI: 10.1002/cpp.2398",
        "http://dx.doi.org/10.1002/cpp.2398",
        "https://doi.org/10.1002/cpp.2398",
        "https://www.doi.org/10.1002/cpp.2398",
        "https://doi.org/10.1002%2Fcpp.2398",
        "10.1002/cpp.2398 [doi]",
        "10.1002/cpp.2398.",
    ],
)
def test_it_normalises_every_doi_spelling_to_the_bare_lower_case_doi(given):
    assert normalise_doi(given) == "10.1002/cpp.2398"


@pytest.mark.parametrize("given", ["", None, "No DOI", "Article", "S0048-9697(17)30912-9 [pii]"])
def test_it_returns_no_doi_for_text_that_holds_none(given):
    assert normalise_doi(given) == ""


def test_it_keeps_parentheses_that_belong_to_the_doi():
    assert normalise_doi("10.1002/(SICI)1097-4679(199901)55:1<1::AID-JCLP1>3.0.CO;2-D") == (
        "10.1002/(sici)1097-4679(199901)55:1<1::aid-jclp1>3.0.co;2-d"
    )


def test_it_takes_the_first_valid_doi_when_a_record_gives_several():
    given = ["Article", "http://dx.doi.org/10.1002/abc", "10.1016/def"]
    assert first_doi(given) == "10.1002/abc"


def test_it_finds_dois_in_resolver_and_scopus_links_but_not_in_arbitrary_urls():
    assert doi_from_url("https://doi.org/10.1000/XYZ") == "10.1000/xyz"
    assert doi_from_url(
        "https://www.scopus.com/inward/record.uri?eid=2-s2.0-1&doi=10.1016%2fj.x.2019.1&partnerID=40"
    ) == ("10.1016/j.x.2019.1")
    assert doi_from_url(
        "http://sfx.example/u?sid=EMBASE&id=doi:10.4103%2F2303-9027.138783&x=1"
    ) == ("10.4103/2303-9027.138783")
    assert doi_from_url("https://journal.example/article/10.1000/xyz") == ""


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("123-9", None, "123-129"),
        ("123-129", None, "123-129"),
        ("123", "129", "123-129"),
        ("123", "9", "123-129"),
        ("1535-41", None, "1535-1541"),
        ("466-75", None, "466-475"),
        ("98-102", None, "98-102"),
        ("123–129", None, "123-129"),  # en dash
        ("123 - 129", None, "123-129"),
        ("e5082", None, "e5082"),
        ("S1-S9", None, "S1-S9"),
        ("12", "12", "12"),
        ("", "", ""),
        (None, None, ""),
    ],
)
def test_it_normalises_pages_to_a_full_start_end_range(start, end, expected):
    assert normalise_pages(start, end) == expected


def test_it_makes_short_and_full_page_ranges_compare_equal():
    assert normalise_pages("123-9") == normalise_pages("123-129") == normalise_pages("123", "129")


def test_it_strips_html_tags_and_unescapes_entities():
    assert clean_text("<p>Background &amp; aims: <i>in vivo</i> &lt;5%</p>") == (
        "Background & aims: in vivo <5%"
    )


def test_it_unescapes_double_escaped_html():
    assert clean_text("&lt;p&gt;Results&lt;/p&gt; &amp;amp; more") == "Results & more"


def test_it_keeps_less_than_signs_that_are_not_tags():
    assert clean_text("p < 0.05 and n > 10") == "p < 0.05 and n > 10"


def test_it_collapses_whitespace_and_drops_control_characters():
    assert clean_text("  a\tb\n\n c\x00d\x1b\x7f e\ufeff ") == "a b cd e"


def test_it_separates_paragraphs_when_it_strips_block_tags():
    assert clean_text("<p>One.</p><p>Two.</p>") == "One. Two."


def test_a_value_of_nothing_but_markup_cleans_to_nothing():
    # Once raised IndexError (the emptied text's first character), failing the whole import.
    assert clean_text("<i></i>") == ""
    assert clean_text("&lt;b&gt;&lt;/b&gt;") == ""
    assert clean_list(["<i></i>", "Smith, J"]) == ["Smith, J"]


def test_a_list_is_cleaned_value_by_value_whether_or_not_it_needs_it():
    assert clean_list(["Smith, J", "Doe, A"]) == ["Smith, J", "Doe, A"]
    assert clean_list(["Smith, J ", " Doe,  A", "", None, "<b>Roe</b>", "Poe\tE"]) == [
        "Smith, J",
        "Doe, A",
        "Roe",
        "Poe E",
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2019//", 2019),
        ("2016/09//", 2016),
        ("2017 Nov 15", 2017),
        ("DEC 16 2020", 2020),
        ("", None),
    ],
)
def test_it_parses_the_year_from_vendor_date_forms(given, expected):
    assert parse_year(given) == expected


def test_it_takes_the_first_issn_and_ignores_isbns():
    assert normalise_issn("0894-9867, 0894-9867") == "0894-9867"
    assert normalise_issn("01678809") == "0167-8809"
    assert normalise_issn("1756-1833 0959-8138") == "1756-1833"
    assert normalise_issn("1068-316x") == "1068-316X"
    assert normalise_issn("9780191700200; 0199282544") == ""


def test_it_maps_source_publication_types_to_ris_codes():
    assert ris_type("JOUR") == "JOUR"
    assert ris_type("Journal Article") == "JOUR"
    assert ris_type("Article") == "JOUR"
    assert ris_type("Book Chapter") == "CHAP"
    assert ris_type("Conference Paper") == "CPAPER"
    assert ris_type("inproceedings") == "CPAPER"
    assert ris_type("Something else") == "GEN"


def test_it_reads_pmids_and_accession_numbers_from_text_and_links():
    assert pmid_from_text("PMID: 31421429") == "31421429"
    assert pmid_from_text("https://www.ncbi.nlm.nih.gov/pubmed/32424665") == "32424665"
    assert accession_from_url(
        "https://search.ebscohost.com/login.aspx?direct=true&db=psyh&AN=2022-96522-001&site=ehost"
    ) == ("2022-96522-001")
    assert accession_from_url("https://www.scopus.com/inward/record.uri?eid=2-s2.0-850&x=1") == (
        "2-s2.0-850"
    )


def test_it_leaves_ampersands_that_are_not_entities_alone():
    assert clean_text("R&D at AT&T; see a.php?x=1&copy=2&not=3") == (
        "R&D at AT&T; see a.php?x=1&copy=2&not=3"
    )
