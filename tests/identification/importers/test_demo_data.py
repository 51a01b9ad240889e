"""The five-database gambling-harms search the demo review imports (demo_data/)."""

from __future__ import annotations

import pytest

from identification.importers import Format, open_records
from tests.paths import DEMO_DATA

DEMO = DEMO_DATA

# file: (count, encoding, first (title, first author, year, doi), last (...)), read by hand.
EXPECTED = {
    "20221207_gambling-harms_crimjust_41.ris": (
        41,
        "utf-8",
        (
            "Discourses of responsible gambling and gambling harm: observations from Victoria, "
            "Australia.",
            "Francis, Louise",
            2021,
            "10.1080/16066359.2020.1867111",
        ),
        (
            "A Prospective Investigation of Affect, the Desire to Gamble, Gambling Motivations and "
            "Gambling Behavior in the Mood Disorders.",
            "Quilty, Lena C",
            2016,
            "10.1007/s10899-016-9616-8",
        ),
    ),
    "20221207_gambling-harms_lens_49.ris": (
        49,
        "utf-8-sig",
        (
            "Benchmarking gambling screens to health-state utility: The PGSI and the SGHS "
            "estimate similar levels of population gambling-harm",
            "Browne, Matthew",
            2021,
            "10.31234/osf.io/fu4mj",
        ),
        ("Social Costs of Gambling Harm in Italy", "Lucchini, Fabio", 2022, "10.29173/cgs50"),
    ),
    "20221207_gambling-harms_psycinfo_124.ris": (
        124,
        "utf-8",
        (
            "Frameworks of gambling harms: A comparative review and synthesis",
            "Marionneau, Virve",
            2022,
            "10.1080/16066359.2022.2113071",
        ),
        (
            "Harm Reduction for the Prevention of Youth Gambling Problems: Lessons Learned From "
            "Adolescent High-Risk Behavior Prevention Programs",
            "Dickson, Laurie M.",
            2004,
            "10.1177/0743558403258272",
        ),
    ),
    "20221207_gambling-harms_pubmed_176.ris": (
        176,
        "utf-8",
        (
            "The Evolution of Gambling-Related Harm Measurement: Lessons from the Last Decade.",
            "Browne, Matthew",
            2021,
            "10.3390/ijerph18094395",
        ),
        (
            # The file has a double space before "need"; whitespace is collapsed.
            "Open letter from UK based academic scientists to the secretaries of state for "
            "digital, culture, media and sport and for health and social care regarding the need "
            "for independent funding for the prevention and treatment of gambling harms.",
            None,  # no authors in the file
            2020,
            "10.1136/bmj.m2832",
        ),
    ),
    "20221207_gambling-harms_scopus_255.ris": (
        255,
        "utf-8",
        (
            "How gambling problems relate to health and wellbeing in Australian households: "
            "Evidence from the Household Income and Labour Dynamics of Australia Survey",
            "Tulloch, C.",
            2023,
            "10.1016/j.addbeh.2022.107538",
        ),
        (
            "Harm Reduction for the Prevention of Youth Gambling Problems: Lessons Learned from "
            "Adolescent High-Risk Behavior Prevention Programs",
            "Dickson, L.M.",
            2004,
            "10.1177/0743558403258272",
        ),
    ),
}


def test_it_has_expectations_for_every_demo_file():
    files = {p.name for p in DEMO.glob("*.ris")}
    assert files == set(EXPECTED)
    sources = (DEMO / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"| {name} |" in sources for name in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_imports_each_demo_database_export_completely(name):
    count, encoding, first, last = EXPECTED[name]
    with (DEMO / name).open("rb") as binary:
        opened = open_records(binary, filename=name)
        records = list(opened)
    assert (opened.format, opened.encoding, opened.fell_back) == (Format.RIS, encoding, False)
    assert len(records) == count
    assert opened.report.as_dict()["skipped"] == []

    def summary(r):
        return (r.title, r.authors[0] if r.authors else None, r.year, r.doi)

    assert summary(records[0]) == first
    assert summary(records[-1]) == last


def test_it_finds_the_same_paper_in_two_databases_by_doi():
    def dois(name):
        with (DEMO / name).open("rb") as binary:
            return {r.doi for r in open_records(binary, filename=name) if r.doi}

    shared = dois("20221207_gambling-harms_scopus_255.ris") & dois(
        "20221207_gambling-harms_psycinfo_124.ris"
    )
    assert "10.1177/0743558403258272" in shared
