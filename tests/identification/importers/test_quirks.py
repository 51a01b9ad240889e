"""The vendor quirks that break other tools, each on the real file that has it where we can."""

from __future__ import annotations

from pathlib import Path

from identification.importers import Format, iter_records, open_records, sniff
from tests.paths import DEMO_DATA, EXPORTS

from .helpers import parse_bytes

DEMO = DEMO_DATA


def records_of(path: Path):
    with path.open("rb") as binary:
        return list(open_records(binary, filename=path.name))


def test_it_reads_ovid_exports_with_record_numbers_and_link_lines():
    records = records_of(EXPORTS / "asreview__ovid_psycinfo.ris")
    assert len(records) == 6
    # "Link to the Ovid Full Text or citation: ..." must not leak into any field.
    assert not any("Link to the Ovid" in v for r in records for vs in r.raw.values() for v in vs)
    # Ovid writes NL after ER; it belongs to the record just closed.
    assert records[0].raw["NL"] == ["Clin Psychol Psychother"]
    assert records[0].accession_number == "2019-65183-001"
    # "SP - No" + "EP - Specified" is Ovid for "No Pagination Specified".
    assert records[0].pages == ""


def test_it_takes_the_first_doi_when_ovid_gives_it_twice_as_a_url():
    first = records_of(EXPORTS / "asreview__ovid_psycinfo.ris")[0]
    assert first.raw["DO"] == ["http://dx.doi.org/10.1002/cpp.2398"] * 2
    assert first.doi == "10.1002/cpp.2398"


def test_it_reads_the_doi_ebsco_puts_in_l3():
    records = records_of(DEMO / "20221207_gambling-harms_crimjust_41.ris")
    assert "DO" not in records[0].raw
    assert records[0].doi == "10.1080/16066359.2020.1867111"
    assert sum(1 for r in records if r.doi) == 41
    # EBSCO's "N.PAG" means no page numbers.
    assert records[-1].pages == ""
    assert records[0].accession_number == "150283836"


def test_it_leaves_the_ebsco_copyright_notice_out_of_the_abstract():
    first = records_of(EXPORTS / "synthesisr__ebsco_ASP_ris_example.ris")[0]
    assert len(first.raw["AB"]) == 2
    assert first.abstract.endswith("crop-damaging common vole outbreaks. [ABSTRACT FROM AUTHOR]")


def test_it_joins_untagged_continuation_lines_of_abstracts_and_keywords():
    wos_ris = records_of(EXPORTS / "asysd__wos_test.ris")[0]
    assert "   Microangiography was performed" not in wos_ris.abstract
    assert "delayed healing. Microangiography was performed" in wos_ris.abstract
    endnote = records_of(EXPORTS / "asysd__ris_export.txt")[1]
    # One KW tag, one keyword a line after it.
    assert endnote.keywords[:3] == ["Access", "Cancer", "Comparative effectiveness"]
    assert len(endnote.raw["KW"]) == len(endnote.keywords)


def test_it_keeps_pubmed_endnote_notes_as_one_multi_line_value():
    first = records_of(EXPORTS / "asreview__pubmed_endnote.txt")[0]
    assert first.raw["N1"][0].splitlines()[:2] == ["1179-1926", "Abdel-Tawab, Mona"]
    assert first.pmid == "21553931"


def test_it_keeps_every_continuation_line_of_a_long_note_in_order():
    # Scopus puts the cited references in N1, one a line: thousands of lines for one value,
    # read in chunks whose boundaries fall inside it.
    references = [
        f"Author{i}, A., Title number {i} (2019) Journal, {i}, pp. 1-9;" for i in range(5000)
    ]
    text = "TY  - JOUR\nTI  - Cited\nN1  - References: " + "\n".join(references)
    _, (record,) = parse_bytes((text + "\nKW  - after\nER  - \n").encode())
    assert record.raw["N1"] == ["References: " + "\n".join(references)]
    assert record.keywords == ["after"]
    (from_list,) = iter_records((text + "\nER  - ").split("\n"), "ris")
    assert from_list.raw["N1"] == record.raw["N1"]


def test_it_reads_web_of_science_tagged_headers_and_three_space_continuations():
    records = records_of(EXPORTS / "synthesisr__WoS_txt_example.txt")
    assert records[0].authors[:3] == ["Li, Wei", "Dou, Zhiguo", "Cui, Lijuan"]
    assert len(records[0].authors) == 10
    assert records[0].accession_number == "WOS:000514379300001"
    assert "FN" not in records[0].raw and "VR" not in records[0].raw


def test_it_drops_e_mail_addresses_inside_web_of_science_author_lines():
    records = records_of(EXPORTS / "synthesisr__zoorec_wos_tagged.txt")
    assert records[0].raw["AU"][0] == "Stillman, Andrew N. (andrew.stillman@uconn.edu)"
    assert records[0].authors[0] == "Stillman, Andrew N."
    assert not any("@" in a for r in records for a in r.authors)


def test_it_reads_records_with_hundreds_of_authors_in_order():
    last = records_of(EXPORTS / "asysd__zotero_endnote_export.xml")[-1]
    assert len(last.authors) == 299
    assert last.authors[0] == "Patel, Yash"


def test_it_reads_records_without_abstracts():
    records = records_of(DEMO / "20221207_gambling-harms_pubmed_176.ris")
    assert sum(1 for r in records if not r.abstract) == 176 - 157
    assert records[-1].abstract == ""
    assert records[-1].authors == []


def test_it_strips_html_from_lens_abstracts():
    records = records_of(DEMO / "20221207_gambling-harms_lens_49.ris")
    assert records[0].raw["AB"][0].startswith("<p>Background and aims:")
    assert records[0].abstract.startswith("Background and aims: Both the Problem Gambling")
    assert not any("<p>" in r.abstract or "</p>" in r.abstract for r in records)


def test_it_reads_scopus_pmids_and_eids():
    last = records_of(EXPORTS / "asreview__scopus.ris")[-1]
    assert (last.pmid, last.accession_number) == ("31175206", "2-s2.0-85068558935")


def test_it_reads_both_scopus_csv_column_sets():
    old = records_of(EXPORTS / "metaknowledge__scopus_testing.csv")[0]
    assert old.authors[:2] == ["Yagai T.", "Kimura Y."]
    assert old.accession_number == "2-s2.0-84963944162"
    new = (
        '"Authors","Author full names","Author(s) ID","Title","Year","Source title","Volume",'
        '"Issue","Page start","Page end","DOI","Link","Abstract","Author Keywords",'
        '"Index Keywords","ISSN","PubMed ID","Language of Original Document",'
        '"Document Type","Source","EID"\n'
        '"Tulloch C.; Hing N.","Tulloch, Catherine (57190000001); Hing, Nerilee (7003359811)",'
        '"57190000001; 7003359811","Gambling harms","2023","Addictive Behaviors","137","",'
        '"123","9","10.1016/J.ADDBEH.2022.107538","https://www.scopus.com/x","[No abstract '
        'available]","harm; gambling","Humans","03064603","36115123","English","Article",'
        '"Scopus","2-s2.0-85141483180"\n'
    )
    opened, records = parse_bytes(new.encode(), filename="scopus.csv")
    assert opened.format is Format.SCOPUS_CSV
    record = records[0]
    assert record.authors == ["Tulloch, Catherine", "Hing, Nerilee"]
    assert (record.pages, record.doi, record.issn) == (
        "123-129",
        "10.1016/j.addbeh.2022.107538",
        "0306-4603",
    )
    assert record.abstract == ""
    assert record.keywords == ["harm", "gambling", "Humans"]
    assert (record.pmid, record.publication_type) == ("36115123", "JOUR")


def test_it_splits_embase_source_and_emtree_terms():
    first = records_of(EXPORTS / "asreview__embase.csv")[0]
    assert (first.journal, first.year, first.volume, first.issue, first.pages) == (
        "Endoscopic Ultrasound",
        2014,
        "3",
        "3",
        "152-160",
    )
    assert first.authors == ["Liu R.", "Adler D.G."]
    assert "bronchogenic duplication cyst (diagnosis, surgery)" in first.keywords


def test_it_reads_endnote_xml_with_style_wrappers_and_endnote_numbers():
    xml = (
        '<?xml version="1.0" encoding="UTF-8" ?><xml><records><record>'
        '<database name="My.enl">My.enl</database><source-app name="EndNote">EndNote</source-app>'
        '<ref-type name="Journal Article">17</ref-type><contributors><authors><author>'
        '<style face="normal" font="default" size="100%">Smith, Jane</style></author>'
        '<author><style>Doe, </style><style face="italic">John</style></author></authors>'
        '</contributors><titles><title><style>A <style face="italic">styled</style> title'
        "</style></title><secondary-title><style>J Test</style></secondary-title></titles>"
        "<pages><style>123-9</style></pages><volume>4</volume><number>2</number>"
        "<dates><year><style>2019</style></year></dates><accession-num>31000001</accession-num>"
        "<remote-database-provider>NLM</remote-database-provider>"
        "<urls><related-urls><url>https://doi.org/10.1000/ABC</url></related-urls></urls>"
        "</record></records></xml>"
    )
    opened, records = parse_bytes(xml.encode(), filename="My.xml")
    record = records[0]
    assert opened.format is Format.ENDNOTE_XML
    assert record.authors == ["Smith, Jane", "Doe, John"]
    assert (record.title, record.journal, record.pages) == ("A styled title", "J Test", "123-129")
    assert (record.issue, record.doi, record.pmid) == ("2", "10.1000/abc", "31000001")
    assert record.publication_type == "JOUR"


def test_it_reads_mendeley_endnote_xml_with_ref_type_zero():
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><xml><records><record>'
        '<source-app name="Mendeley" version="1.19">Mendeley</source-app>'
        "<ref-type>0</ref-type><contributors><authors><author>Roe, R.</author></authors>"
        "</contributors><titles><title>Generic thing</title></titles>"
        "<periodical><full-title>Some Journal</full-title></periodical>"
        "<dates><year>2018</year></dates><electronic-resource-num>doi:10.1000/M1"
        "</electronic-resource-num><urls><web-urls><url>http://example.org/m1</url></web-urls>"
        "</urls></record></records></xml>"
    )
    _, records = parse_bytes(xml.encode(), filename="mendeley.xml")
    record = records[0]
    assert (record.title, record.publication_type, record.doi) == (
        "Generic thing",
        "GEN",
        "10.1000/m1",
    )
    assert (record.journal, record.url) == ("Some Journal", "http://example.org/m1")


def test_it_reads_medline_continuations_and_prefers_full_author_names():
    first = records_of(EXPORTS / "synthesisr__PubMed_medline_example.txt")[0]
    assert first.authors[0] == "Neilen, Amanda D"
    assert (first.pages, first.pmid, first.issn) == ("188-197", "28441597", "1879-1026")
    assert first.journal == "The Science of the total environment"


def test_it_reads_scopus_bibtex_despite_repeated_fields():
    records = records_of(EXPORTS / "synthesisr__Scopus_bib_example.bib")
    assert len(records[0].raw["funding_details"]) == 2
    assert records[0].accession_number == "2-s2.0-85079532227"
    assert records[0].keywords[:2] == ["Environmental factors", "Lake Taihu"]


def test_it_decodes_latex_in_bibtex():
    text = (
        '@article{k, author={M{\\"u}ller, J. and G\\\'omez, A.}, title={{\\"O}kologie}, year=2001}'
    )
    _, records = parse_bytes(text.encode(), filename="x.bib")
    assert records[0].authors == ["Müller, J.", "Gómez, A."]
    assert records[0].title == "Ökologie"


def test_sniff_uses_content_first_and_the_name_only_as_a_hint():
    assert sniff(b"1.\nTY  - JOUR\n", "export.txt").format is Format.RIS
    assert sniff(b"PMID- 123\nTI  - x\n", "pubmed.nbib").format is Format.MEDLINE
    assert sniff(b"FN Clarivate\nVR 1.0\nPT J\nAU X\n", "savedrecs.txt").format is Format.WOS
    assert sniff(b"@article{a,\n title={x}}\n", "refs.txt").format is Format.BIBTEX
    assert sniff(b"Title\tAuthors\nA\tB\n", "x.tsv").delimiter == "\t"


def test_iter_records_reads_any_iterable_of_lines():
    lines = ["TY  - JOUR", "TI  - From a list", "ER  -"]
    assert [r.title for r in iter_records(lines, "ris")] == ["From a list"]
