import pytest

from deduplication.engine.normalise import (
    PageRange,
    author_key,
    author_keys,
    journal_similarity,
    journal_tokens,
    normalise_doi,
    normalise_pages,
    normalise_pmid,
    normalise_text,
    normalise_title,
    normalise_volume,
    normalise_year,
    pages_match,
    years_match,
)

# --- DOI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "10.1210/en.2012-1855",
        "10.1210/EN.2012-1855",
        "http://dx.doi.org/10.1210/en.2012-1855",
        "https://doi.org/10.1210/en.2012-1855",
        "doi:10.1210/en.2012-1855",
        "DOI: 10.1210/en.2012-1855.",
        " 10.1210/en.2012-1855; ",
        "https://doi.org/10.1210%2Fen.2012-1855",
        "10.1210/en.2012-1855 [doi]",
    ],
)
def test_it_reduces_every_doi_form_to_the_bare_lower_case_doi(raw):
    assert normalise_doi(raw) == "10.1210/en.2012-1855"


def test_it_keeps_a_closing_bracket_that_belongs_to_the_doi():
    assert normalise_doi("doi:10.1016/S0140-6736(20)30183-5.") == "10.1016/s0140-6736(20)30183-5"


def test_it_takes_the_first_doi_when_a_field_holds_two():
    doi = normalise_doi("http://dx.doi.org/10.1000/a http://dx.doi.org/10.2000/b")
    assert doi == "10.1000/a"


@pytest.mark.parametrize("raw", [None, "", "   ", "not a doi", "10.12/"])
def test_it_gives_none_for_a_missing_or_broken_doi(raw):
    assert normalise_doi(raw) is None


def test_it_is_idempotent_on_dois():
    once = normalise_doi("https://doi.org/10.1016/J.CELL.2020.01.001.")
    assert normalise_doi(once) == once


# --- PMID, year, volume ------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["12345", "PMID: 12345", "0012345", 12345, " 12345 [pmid]"])
def test_it_reduces_pmids_to_digits(raw):
    assert normalise_pmid(raw) == "12345"


def test_it_gives_none_for_a_pmid_without_digits():
    assert normalise_pmid("n/a") is None
    assert normalise_pmid(None) is None


@pytest.mark.parametrize(("raw", "year"), [(2011, 2011), ("2011", 2011), ("2016 Jan 15", 2016)])
def test_it_reads_years(raw, year):
    assert normalise_year(raw) == year


@pytest.mark.parametrize("raw", [None, "", "n.d.", 12, "20111"])
def test_it_gives_none_for_a_missing_year(raw):
    assert normalise_year(raw) is None


def test_it_accepts_years_one_apart_and_rejects_two_apart():
    assert years_match(2010, 2011) is True
    assert years_match(2011, 2011) is True
    assert years_match(2009, 2011) is False
    assert years_match(None, 2011) is None


@pytest.mark.parametrize(("raw", "volume"), [("9 (8) (no pagination)", "9"), ("019", "19")])
def test_it_keeps_the_leading_number_of_a_volume(raw, volume):
    assert normalise_volume(raw) == volume


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "pages"),
    [
        ("123-129", PageRange("123", "129")),
        ("123-9", PageRange("123", "129")),
        ("1260-70", PageRange("1260", "1270")),
        ("123–129", PageRange("123", "129")),
        ("pp. 123-9", PageRange("123", "129")),
        ("e0123", PageRange("e123")),
        ("E123", PageRange("e123")),
        ("S12-4", PageRange("s12", "s14")),
        ("45", PageRange("45")),
    ],
)
def test_it_expands_and_normalises_page_ranges(raw, pages):
    assert normalise_pages(raw) == pages


def test_it_treats_abbreviated_and_full_page_ranges_as_equal():
    assert normalise_pages("123-9") == normalise_pages("123-129")
    assert str(normalise_pages("123-9")) == "123-129"


def test_it_matches_pages_on_the_first_page_only():
    assert pages_match(normalise_pages("45"), normalise_pages("45-52")) is True
    assert pages_match(normalise_pages("e0068617"), normalise_pages("e68617")) is True
    assert pages_match(normalise_pages("c37-c42"), normalise_pages("37-42")) is True
    assert pages_match(normalise_pages("45"), normalise_pages("46")) is False
    assert pages_match(normalise_pages("e37"), normalise_pages("s37")) is False
    assert pages_match(None, normalise_pages("45")) is None


def test_it_gives_none_for_pages_without_a_number():
    assert normalise_pages("no pagination") is None
    assert normalise_pages("") is None


# --- titles ------------------------------------------------------------------------------------


def test_it_ignores_case_punctuation_and_a_trailing_period_in_titles():
    assert normalise_title("Anagliptin, a DPP-4 inhibitor: effects in mice.") == normalise_title(
        "ANAGLIPTIN A DPP 4 INHIBITOR EFFECTS IN MICE"
    )


def test_it_strips_html_tags_and_entities_from_titles():
    assert normalise_title("Effects of <i>Boswellia</i> &amp; resin in <sup>13</sup>C") == (
        "effects of boswellia and resin in 13 c"
    )
    assert normalise_title("A &lt;i&gt;tagged&lt;/i&gt; title") == "a tagged title"


def test_it_spells_out_greek_letters_so_symbols_and_names_compare_equal():
    assert normalise_title("TNF-α and IFN-β in β-cells") == normalise_title(
        "TNF-alpha and IFN-beta in beta-cells"
    )
    assert normalise_text("Μ") == "mu"


def test_it_folds_diacritics_and_ligatures():
    assert (
        normalise_text("Müller Gómez Ørsted Straße Œdème") == "muller gomez orsted strasse oedeme"
    )


def test_it_unwraps_square_bracketed_translated_titles_and_drops_language_notes():
    assert normalise_title("[Clinical aspects of the complement system]. [Japanese]") == (
        normalise_title("Clinical aspects of the complement system")
    )


def test_it_drops_database_notes_appended_to_titles():
    base = normalise_title("Severe deficiency of the specific protease activity in children")
    assert (
        normalise_title(
            "Severe deficiency of the specific protease activity in children."
            "[Erratum appears in J Pediatr. 2003 Jun"
        )
        == base
    )
    assert (
        normalise_title(
            "Severe deficiency of the specific protease activity in children [see comments]"
        )
        == base
    )


def test_it_drops_the_citation_a_correction_notice_adds_to_its_title():
    article = normalise_title("Eculizumab for atypical hemolytic-uremic syndrome")
    assert (
        normalise_title("Eculizumab for Atypical Hemolytic-Uremic Syndrome (vol 360, pg 542, 2009)")
        == article
    )
    assert (
        normalise_title(
            "Eculizumab for atypical hemolytic-uremic syndrome "
            "(New England Journal of Medicine (2009) 360, (542-544))"
        )
        == article
    )


def test_it_keeps_brackets_that_are_part_of_the_title():
    assert normalise_title("Outcomes of the trial (2001-2005)") == "outcomes of the trial 2001 2005"
    assert normalise_title("[Short]") == "short"


def test_it_gives_an_empty_title_for_nothing():
    assert normalise_title(None) == ""
    assert normalise_title("   ") == ""


# --- authors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Smith J", "Smith, John", "John Smith", "Smith JA", "Smith, J. A.", "J. A. Smith", "SMITH J"],
)
def test_it_reduces_every_author_style_to_surname_and_first_initial(name):
    key = author_key(name)
    assert key is not None
    assert (key.surname, key.initial) == ("smith", "j")


def test_it_keeps_particles_and_folds_accents_in_surnames():
    assert author_key("van der Berg, J").surname == "vanderberg"
    assert author_key("Ludwig van Beethoven").surname == "vanbeethoven"
    assert author_key("Kröller-Schön S.").surname == "krollerschon"


def test_it_remembers_the_last_word_of_a_compound_surname():
    assert author_key("Abed Alla S.").last == author_key("S. Abed Alla").last == "alla"
    assert author_key("Fremeaux-Bacchi V").last == "bacchi"


def test_it_skips_et_al_and_empty_names_and_splits_semicolon_lists():
    keys = author_keys(["Smith, J.; Jones, K.", "", "et al."])
    assert [str(k) for k in keys] == ["smith j", "jones k"]


def test_it_limits_very_long_author_lists():
    assert len(author_keys([f"Author{i} A" for i in range(200)], limit=50)) == 50


# --- journals ----------------------------------------------------------------------------------


def test_it_drops_joining_words_and_qualifiers_from_journal_names():
    assert journal_tokens("The Journal of Bone & Joint Surgery (American Volume)") == (
        "journal",
        "bone",
        "joint",
        "surgery",
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nat Rev Nephrol", "Nature Reviews Nephrology"),
        ("New Engl J Med", "New England Journal of Medicine"),
        ("Clin J Am Soc Nephrol.", "Clinical Journal of The American Society of Nephrology: CJASN"),
        ("Thrombosis & Haemostasis", "Thrombosis and Haemostasis"),
        ("Lancet", "The Lancet"),
        ("JAMA", "Journal of the American Medical Association"),
        ("PLOS ONE", "PLoS One"),
        ("Cardiology (Switzerland)", "Cardiology"),
    ],
)
def test_it_sees_abbreviated_and_full_journal_names_as_the_same(a, b):
    assert journal_similarity(journal_tokens(a), journal_tokens(b)) == 1.0


def test_it_does_not_take_a_journal_for_another_that_starts_with_its_name():
    similarity = journal_similarity(journal_tokens("Diabetes"), journal_tokens("Diabetes Care"))
    assert similarity is not None and similarity < 0.9


def test_it_sees_unrelated_journals_as_different():
    similarity = journal_similarity(
        journal_tokens("Journal of Vascular Research"), journal_tokens("Cardiology")
    )
    assert similarity is not None and similarity < 0.5


def test_it_cannot_compare_a_missing_journal():
    assert journal_similarity((), journal_tokens("Cardiology")) is None
