"""Every real export in tests/data/exports: record counts, and the first and last record.

Expected values were read off the files by hand (grep/awk over the raw text, not through our
parser): title, first author, year and DOI as the file gives them, normalised the documented
way (DOI bare and lower case, whitespace collapsed).
"""

from __future__ import annotations

import pytest

from identification.importers import Format, open_records
from tests.paths import EXPORTS

# file: (format, count, first (title, first author, year, doi), last (...))
EXPECTED = {
    "asreview__embase.csv": (
        Format.EMBASE_CSV,
        6,
        (
            "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound",
            "Liu R.",
            2014,
            "10.4103/2303-9027.138783",  # only in the OpenURL link, percent-encoded
        ),
        (
            "Completely Isolated Retroperitoneal Enteric Duplication Cyst with Adenocarcinoma "
            "Transformation Managed with Robotic Radical Nephrectomy",
            "Faraj K.",
            2017,
            "10.1089/cren.2017.0016",
        ),
    ),
    "asreview__ovid_psycinfo.ris": (
        Format.RIS,
        6,
        (
            "The influence of self-criticism on depression symptoms among ambulatory patients "
            "with inflammatory bowel disease.",
            "Trindade, Ines A",
            2019,
            "10.1002/cpp.2398",  # given twice as http://dx.doi.org/ URL
        ),
        (
            "Psychological outcomes of a cognitive behavioral therapy for youth with inflammatory "
            "bowel disease: Results of the happy-ibd randomized controlled trial at 6- and "
            "12-month follow-up.",
            "Stapersma, Luuk",
            2019,
            "10.1007/s10880-019-09649-9",
        ),
    ),
    "asreview__proquest.ris": (
        Format.RIS,
        6,
        (
            "Predictors of posttraumatic stress symptom trajectories following the fatal 2011 "
            "Christchurch, New Zealand earthquake",
            "Jones, Hannah",
            2019,
            "10.1002/jts.22387",
        ),
        (
            "Bayesian PTSD-trajectory analysis with informed priors based on a systematic "
            "literature search and expert elicitation",
            "van de Schoot, Rens",
            2018,
            "10.1080/00273171.2017.1412293",
        ),
    ),
    "asreview__pubmed_endnote.txt": (
        Format.RIS,
        6,
        (
            "Boswellia serrata: an overall assessment of in vitro, preclinical, pharmacokinetic "
            "and clinical data",
            "Abdel-Tawab, M.",
            2011,
            "10.2165/11586800-000000000-00000",
        ),
        (
            "Indigo Naturalis Ameliorates Oxazolone-Induced Dermatitis but Aggravates Colitis by "
            "Changing the Composition of Gut Microflora",
            "Adachi, S.",
            2017,
            "10.1159/000471923",
        ),
    ),
    "asreview__scopus.ris": (
        Format.RIS,
        6,
        (
            "Stress and the brain-gut axis in functional and chronic-inflammatory gastrointestinal "
            "diseases: A transdisciplinary challenge",
            "Labanski, A.",
            2020,
            "10.1016/j.psyneuen.2019.104501",
        ),
        (
            "Role of brain imaging in disorders of brain-gut interaction: A Rome Working Team "
            "Report",
            "Mayer, E.A.",
            2019,
            "10.1136/gutjnl-2019-318308",
        ),
    ),
    "asreview__web_of_science_ris.txt": (
        Format.RIS,
        10,
        (
            "Holding Yourself Captive: Perceptions of Custody During Interviews and Interrogations",
            "Alceste, F",
            2018,
            "10.1016/j.jarmac.2018.03.001",
        ),
        (
            "On the power of secondary confession evidence",
            "Wetmore, SA",
            2014,
            "10.1080/1068316x.2013.777963",  # file: 1068316X
        ),
    ),
    "asysd__ris_export.txt": (
        Format.RIS,
        69,
        (
            "Altered metabolism of familial Alzheimer's disease-linked amyloid precursor protein "
            "variants in yeast artificial chromosome transgenic mice",
            # One AU line holding ten authors: kept as the file gives it.
            "Wagner, Lamb B. T. Call L. M. Slunt H. H. Bardel K. A. Lawler A. M. Eckman C. B. "
            "Younkin S. G. Holtz G.",
            1997,
            "10.1093/hmg/6.9.1535",
        ),
        (
            "The amyloid precursor protein: beyond amyloid",
            "Zheng, Hui",
            2006,
            "10.1186/1750-1326-1-5",
        ),
    ),
    "asysd__wos_test.ris": (
        Format.RIS,
        50,
        (
            "Microangiography of the humeral condyle in Cocker Spaniel and non-Cocker Spaniel dogs",
            "Larsen, LJ",
            1999,
            "",
        ),
        ("Gallbladder mucocele in a 12-year-old cocker spaniel", "Norwich, A", 2011, ""),
    ),
    "asysd__zotero_endnote_export.xml": (
        Format.ENDNOTE_XML,
        1233,
        (
            "Myoclonus in older Cavalier King Charles Spaniels.",
            "Rotter, Carina",
            2022,
            "10.1111/jvim.16404",
        ),
        (
            "Virtual Histology of Cortical Thickness and Shared Neurobiology in 6 Psychiatric "
            "Disorders.",
            "Patel, Yash",
            2021,
            "10.1001/jamapsychiatry.2020.2694",
        ),
    ),
    "metaknowledge__medline_test.medline": (
        Format.MEDLINE,
        175,
        (
            "Bioinformatic survey of ABC transporters in dermatophytes.",
            "Gadzalski, Marek",
            2016,
            "10.1016/j.gene.2015.10.064",
        ),
        # The file itself stops in the middle of its last record ("endometriu"); MEDLINE has
        # no end tag, so the part that is there is what we read.
        (
            "Evaluation of the frequency of G-765C polymorphism in the promoter region of the "
            "COX-2 gene and its correlation with the expression of this gene in the endometriu",
            None,
            2016,
            "",
        ),
    ),
    "metaknowledge__scopus_testing.csv": (
        Format.SCOPUS_CSV,
        220,
        (
            "Strain Distribution of Complex-Bending YBCO Tape in Force-Balanced Coil Applied to "
            "SMES",
            "Yagai T.",
            2016,
            "10.1109/tasc.2016.2541670",
        ),
        (
            "The Case for a Sociology of Roman Law",
            "Pölönen J.",
            2012,
            "10.1093/acprof:oso/9780199282548.003.0022",
        ),
    ),
    "synthesisr__PubMed_medline_example.txt": (
        Format.MEDLINE,
        3,
        (
            "Differences in nitrate and phosphorus export between wooded and grassed riparian "
            "zones from farmland to receiving waterways under varying rainfall conditions.",
            "Neilen, Amanda D",
            2017,
            "10.1016/j.scitotenv.2017.04.075",
        ),
        (
            "Mulch and groundcover effects on soil temperature and moisture, surface reflectance, "
            "grapevine water potential, and vineyard weed management.",
            "Bavougian, Christina M",
            2018,
            "10.7717/peerj.5082",
        ),
    ),
    "synthesisr__Scopus_bib_example.bib": (
        Format.BIBTEX,
        3,
        (
            "Soil fauna diversity at different stages of reed restoration in a lakeshore wetland "
            "at Lake Taihu, China",
            "Li, W.",
            2020,
            "10.1080/20964129.2020.1722034",
        ),
        (
            "Application of Digital Processing in Relic Image Restoration Design",
            "Tang, H.",
            2020,
            "10.1007/s11220-019-0265-8",
        ),
    ),
    "synthesisr__WoS_txt_example.txt": (
        Format.WOS,
        4,
        (
            "Soil fauna diversity at different stages of reed restoration in a lakeshore wetland "
            "at Lake Taihu, China",
            "Li, Wei",
            2020,
            "10.1080/20964129.2020.1722034",
        ),
        (
            "miR-324-5p inhibits gallbladder carcinoma cell metastatic behaviours by "
            "downregulation of transforming growth factor beta 2 expression.",
            "Zhang, Xinrong",
            2020,
            "10.1080/21691401.2019.1703724",
        ),
    ),
    "synthesisr__ebsco_ASP_ris_example.ris": (
        Format.RIS,
        4,
        (
            "“Living on the edge”: The role of field margins for common vole (Microtus arvalis) "
            "populations in recently colonised Mediterranean farmland.",
            "Rodríguez-Pastor, Ruth",
            2016,
            "10.1016/j.agee.2016.06.041",  # EBSCO: in L3, not DO
        ),
        (
            "2ZGK-6 型可调宽窄行高速水稻插秧机设计与试验.",
            "朱德泉",
            2016,
            "10.11975/j.issn.1002-6819.2016.21.005",
        ),
    ),
    "synthesisr__scopus.ris": (
        Format.RIS,
        92,
        (
            "Black-backed woodpecker occupancy in burned and beetle-killed forests: Disturbance "
            "agent matters",
            "Tingley, M.W.",
            2020,
            "10.1016/j.foreco.2019.117694",
        ),
        (
            "Foraging behavior of black-backed and three-toed woodpeckers during spring and "
            "summer in a Canadian boreal forest",
            "Villard, P.",
            1994,
            "10.1139/z94-266",
        ),
    ),
    "synthesisr__zoorec_wos_tagged.txt": (
        Format.WOS,
        134,
        (
            "Nest site selection and nest survival of Black-backed Woodpeckers after wildfire.",
            "Stillman, Andrew N.",  # the file adds "(andrew.stillman@uconn.edu)"
            2019,
            "",
        ),
        ("A review of the Three-toed Woodpeckers of North America.", "Bangs, O.", 1900, ""),
    ),
}


def read(name: str):
    with (EXPORTS / name).open("rb") as binary:
        records = open_records(binary, filename=name)
        return records, list(records)


def test_it_has_expectations_for_every_export_file():
    files = {
        p.name for p in EXPORTS.iterdir() if p.name != "SOURCES.md" and not p.name.startswith(".")
    }
    assert files == set(EXPECTED)


def test_it_lists_every_export_file_in_sources():
    sources = (EXPORTS / "SOURCES.md").read_text(encoding="utf-8")
    for name in EXPECTED:
        assert f"| {name} |" in sources


def _summary(record):
    return (record.title, record.authors[0] if record.authors else None, record.year, record.doi)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_reads_each_export_with_the_exact_count_and_first_and_last_record(name):
    fmt, count, first, last = EXPECTED[name]
    opened, records = read(name)
    assert opened.format is fmt
    assert len(records) == count
    assert opened.report.parsed == count
    assert opened.report.skipped == []
    assert _summary(records[0]) == first
    assert _summary(records[-1]) == last


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_keeps_the_raw_record_and_the_line_it_starts_at(name):
    _, records = read(name)
    for record in records:
        assert record.raw
        assert record.source_line >= 1
    lines = [record.source_line for record in records]
    assert lines == sorted(lines)
