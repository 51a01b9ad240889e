from __future__ import annotations

import pytest

from reporting.prisma import Box, Issue, ReviewUpdate, check_consistency

from .factories import databases_only, other_methods, update, with_other_methods


def test_it_finds_nothing_wrong_with_a_consistent_diagram(any_review):
    assert check_consistency(any_review) == []


# Each case breaks one equation of reference README §3 and names every rule that must fire:
# breaking one box often breaks the next equation down too, and that must show.
BROKEN = {
    "screened is not identified minus removed": (
        databases_only(
            records_screened=880, reports_sought=123, reports_assessed=117, new_reports=30
        ),
        {("error", "H2")},
        [
            "Records screened (n = 880)",
            "records identified from databases and registers (n = 1,230)",
            "records removed before screening (n = 348)",
            "that is 882",
        ],
    ),
    "more removed than identified": (
        databases_only(
            duplicates_removed=1_500,
            records_screened=0,
            records_excluded=0,
            reports_sought=0,
            reports_not_retrieved=0,
            reports_assessed=0,
            reports_excluded=[],
            new_studies=0,
            new_reports=0,
        ),
        {("error", "H2")},
        ["More records were removed before screening than were identified"],
    ),
    "more excluded than screened": (
        databases_only(records_excluded=900),
        {("error", "H4")},
        ["Records excluded (n = 900) is more than records screened (n = 882)"],
    ),
    "sought is not screened minus excluded": (
        databases_only(reports_sought=126, reports_not_retrieved=7),
        {("warning", "S1")},
        [
            "Reports sought for retrieval (n = 126)",
            "records screened (n = 882)",
            "records excluded (n = 757)",
            "that is 125",
        ],
    ),
    "title/abstract reasons do not add up": (
        databases_only(records_excluded_reasons=[("By a human", 700), ("By automation", 50)]),
        {("error", "H1")},
        ["add up to 750", "records excluded is (n = 757)"],
    ),
    "assessed is not sought minus not retrieved": (
        databases_only(reports_not_retrieved=7),
        {("error", "H5")},
        [
            "Reports assessed for eligibility (n = 119)",
            "reports sought for retrieval (n = 125)",
            "reports not retrieved (n = 7)",
            "that is 118",
        ],
    ),
    "more reports excluded than assessed": (
        databases_only(
            reports_excluded=[("Wrong population", 100), ("Wrong outcome", 20)],
            new_studies=0,
            new_reports=0,
        ),
        {("error", "H6"), ("error", "H8")},
        ["Reports excluded (n = 120), summed over 2 reasons", "assessed for eligibility (n = 119)"],
    ),
    "included reports are not assessed minus excluded": (
        databases_only(new_reports=33),
        {("error", "H8")},
        [
            "Reports of included studies (n = 33)",
            "reports assessed for eligibility (n = 119)",
            "reports excluded (n = 87)",
            "that is 32",
        ],
    ),
    "included reports miss the other-methods column": (
        with_other_methods(new_reports=32, new_studies=28),
        {("error", "H8")},
        ["databases and registers:", "plus other methods: reports assessed (n = 16)", "that is 42"],
    ),
    "more studies than reports": (
        databases_only(new_studies=33),
        {("error", "H9")},
        ["Studies included in review (n = 33) is more than reports of included studies (n = 32)"],
    ),
    "reports without studies in a new review": (
        databases_only(new_studies=0),
        {("error", "H9")},
        ["Reports of included studies (n = 32) but studies included in review is 0"],
    ),
    "other methods: assessed is not sought minus not retrieved": (
        with_other_methods(other_methods=other_methods(reports_not_retrieved=4)),
        {("error", "H7")},
        ["Other methods: Reports assessed for eligibility (n = 16)", "that is 15"],
    ),
    "other methods: more reports excluded than assessed": (
        with_other_methods(
            other_methods=other_methods(reports_excluded=[("No usable data", 17)]),
            new_reports=32,
            new_studies=28,
        ),
        {("error", "H6"), ("error", "H8")},
        ["Other methods: Reports excluded (n = 17), summed over 1 reason, is more"],
    ),
    "other methods: more sought than identified": (
        with_other_methods(
            other_methods=other_methods(websites=5, organisations=None, citation_searching=10),
        ),
        {("warning", "S2")},
        ["Other methods: reports sought for retrieval (n = 19)", "(n = 15)"],
    ),
    "previous version has more studies than reports": (
        databases_only(
            update=ReviewUpdate(
                previous_studies=20, previous_reports=19, total_studies=48, total_reports=51
            )
        ),
        {("error", "H10")},
        ["Studies included in previous version of review (n = 20) is more than reports"],
    ),
    "total has more studies than reports": (
        databases_only(
            update=ReviewUpdate(
                previous_studies=15, previous_reports=19, total_studies=43, total_reports=42
            )
        ),
        {("error", "H10"), ("warning", "S4")},
        [
            "Total studies included in review (n = 43) is more than reports of total included "
            "studies (n = 42)"
        ],
    ),
    "total studies are not previous plus new": (
        databases_only(
            update=ReviewUpdate(
                previous_studies=15, previous_reports=19, total_studies=40, total_reports=51
            )
        ),
        {("warning", "S3")},
        ["Total studies included in review (n = 40)", "(n = 15)", "(n = 28)", "that is 43"],
    ),
    "total reports are not previous plus new": (
        databases_only(
            update=ReviewUpdate(
                previous_studies=15, previous_reports=19, total_studies=43, total_reports=50
            )
        ),
        {("warning", "S4")},
        ["Reports of total included studies (n = 50)", "that is 51"],
    ),
    "more studies in the meta-analysis than in the review": (
        databases_only(meta_analysis_studies=29, meta_analysis_reports=33),
        {("error", "H11")},
        [
            "Total studies included in meta-analysis (n = 29) is more than studies included in "
            "review (n = 28)",
            "(n = 33) is more than reports of included studies (n = 32)",
        ],
    ),
    "more studies in the meta-analysis than in the updated review's total": (
        databases_only(update=update(28, 32), meta_analysis_studies=44),
        {("error", "H11")},
        ["(n = 44) is more than total studies included in review (n = 43)"],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_it_catches_each_broken_equation_and_names_the_boxes_and_numbers(case):
    counts, expected, fragments = BROKEN[case]

    issues = check_consistency(counts)

    assert {(i.severity, i.code) for i in issues} == expected
    text = " ".join(i.message for i in issues)
    for fragment in fragments:
        assert fragment in text


def test_it_says_which_boxes_an_issue_is_about():
    [issue] = check_consistency(databases_only(reports_not_retrieved=7))

    assert issue.boxes == (Box.SOUGHT, Box.NOT_RETRIEVED, Box.ASSESSED)


def test_it_allows_new_reports_of_previously_included_studies_in_an_update():
    # Two new reports, both of studies already in the previous version: no new study.
    counts = databases_only(
        reports_excluded=[("Wrong population", 117)],
        new_studies=0,
        new_reports=2,
        update=ReviewUpdate(
            previous_studies=15, previous_reports=19, total_studies=15, total_reports=21
        ),
    )

    assert check_consistency(counts) == []


def test_it_appends_the_callers_warnings_after_its_own_findings():
    issues = check_consistency(
        databases_only(new_reports=33),
        warnings=["12 records still unscreened", "3 conflicts unresolved"],
    )

    assert [i.code for i in issues] == ["H8", "caller", "caller"]
    assert issues[1:] == [
        Issue("warning", "caller", "12 records still unscreened"),
        Issue("warning", "caller", "3 conflicts unresolved"),
    ]


def test_it_reports_caller_warnings_even_when_the_numbers_add_up(new_review):
    assert check_consistency(new_review, warnings=["3 conflicts unresolved"]) == [
        Issue("warning", "caller", "3 conflicts unresolved")
    ]


def test_records_and_reports_still_open_are_no_arithmetic_error():
    """Mid-review (issue 12): 882 records to screen, 21 decided, the rest open; 4 reports
    sought, none assessed yet. The boxes hold what is decided, and the checks count the open
    ones in instead of reporting broken equations."""
    mid_review = databases_only(
        records_screened=21,
        records_excluded=17,
        records_open=861,
        reports_sought=4,
        reports_not_retrieved=1,
        reports_assessed=0,
        reports_open=3,
        reports_excluded=[],
        new_studies=0,
        new_reports=0,
    )
    assert check_consistency(mid_review, warnings=["title/abstract screening: open"]) == [
        Issue("warning", "caller", "title/abstract screening: open")
    ]


def test_open_counts_that_do_not_explain_the_boxes_are_named_in_the_error():
    counts = databases_only(records_screened=21, records_excluded=17, records_open=800,
                            reports_sought=4, reports_not_retrieved=0, reports_assessed=1,
                            reports_open=2, reports_excluded=[], new_studies=1,
                            new_reports=1)  # fmt: skip
    messages = {i.code: i.message for i in check_consistency(counts)}
    assert set(messages) == {"H2", "H5"}
    assert "Records screened (n = 21) plus records not yet screened (n = 800)" in messages["H2"]
    assert "that is 882" in messages["H2"]
    assert "(n = 1) plus reports not yet assessed (n = 2)" in messages["H5"]
    assert "that is 4" in messages["H5"]


def test_open_counts_are_counts():
    with pytest.raises(ValueError, match="records_open"):
        databases_only(records_open=-1)
    with pytest.raises(TypeError, match="reports_open"):
        databases_only(reports_open=True)
