"""Searching the record list as database searchers expect: "quoted phrases", prefix*,
AND/OR/NOT with AND binding tighter than OR, parentheses, field:term, whole words in any case,
and SQL and regex metacharacters searched for as typed.

The searches run through the record list's form and selector on whatever database the suite
runs on (SQLite here, PostgreSQL in CI's second stage), so the patterns are checked on both.
"""

from __future__ import annotations

import pytest

from identification.forms import record_filters
from identification.models import Record
from identification.selectors import records_filtered
from tests.screening.factories import make_records

TITLES = {
    "asthma": "Wildfire smoke and asthma admissions",
    "wildfires": "Smoke from wildfires and children's lung function",
    "hyphen": "Wildfire-smoke exposure among firefighters",
    "tobacco": "Tobacco smoke and smokers in Wildfire County",
    "meta": "Air pollution (PM2.5) and C++ [methods]: 100% of $cost | a^b \\ c",
}


@pytest.fixture
def records(review):
    made = make_records(review, len(TITLES))
    for record, (key, title) in zip(made, TITLES.items(), strict=True):
        record.title = title
        record.abstract = f"About {key}."
        record.authors = ["Müller, K", "Smith, J"] if key == "asthma" else ["Jones, A"]
        record.year = 2021 if key == "hyphen" else 2018
        record.save()
    return {key: record.pk for key, record in zip(TITLES, made, strict=True)}


def found(review, text: str, records) -> set[str]:
    form, filters = record_filters({"q": text})
    assert not form.errors, form.errors
    pks = set(records_filtered(review=review, filters=filters).values_list("pk", flat=True))
    return {key for key, pk in records.items() if pk in pks}


CASES = [
    # The issue as found: a quoted phrase found nothing, wildfire* one record.
    ('"wildfire smoke"', {"asthma", "hyphen"}),
    ("wildfire*", {"asthma", "wildfires", "hyphen", "tobacco"}),
    # Whole words, any case.
    ("wildfire", {"asthma", "hyphen", "tobacco"}),
    ("SMOKE", {"asthma", "wildfires", "hyphen", "tobacco"}),
    ("smok*", {"asthma", "wildfires", "hyphen", "tobacco"}),
    ("smokers", {"tobacco"}),
    ("wildfire smoke", {"asthma", "hyphen", "tobacco"}),
    ("asthma OR tobacco", {"asthma", "tobacco"}),
    ("smoke NOT tobacco", {"asthma", "wildfires", "hyphen"}),
    ("(asthma OR firefighters) AND wildfire", {"asthma", "hyphen"}),
    ("asthma OR firefighters AND lung", {"asthma"}),
    ('title:"wildfire smoke" OR title:lung', {"asthma", "hyphen", "wildfires"}),
    ("abstract:tobacco", {"tobacco"}),
    ("author:müller", {"asthma"}),
    ("author:MÜLLER", {"asthma"}),
    ("author:mül*", {"asthma"}),
    ("author:jones NOT year:2018", {"hyphen"}),
    ("year:2020-2022", {"hyphen"}),
    # Metacharacters are searched for as typed.
    ("PM2.5", {"meta"}),
    ("100%", {"meta"}),
    ("$cost", {"meta"}),
    ("[methods]", {"meta"}),
    ('"a^b"', {"meta"}),
    ("\\", {"meta"}),
    ("'; DROP TABLE reviews_record; --", set()),
    ('"wildfire smoke', {"asthma", "hyphen"}),
    ("(asthma OR tobacco", {"asthma", "tobacco"}),
]


def test_the_record_list_searches_as_database_searchers_expect(review, records):
    wrong = []
    for text, keys in CASES:
        got = found(review, text, records)
        if got != keys:
            wrong.append(f"{text!r}: found {sorted(got)}, want {sorted(keys)}")
    assert not wrong, "\n".join(wrong)
    assert Record.objects.filter(review=review).count() == len(TITLES)  # nothing dropped
