import pytest

from screening.keywords import KeywordError, build_highlighter, check_keyword


def test_it_highlights_include_and_exclude_terms_with_wildcards():
    h = build_highlighter(["gambl*", "harm?"], ["animal*", "rat"])
    segments = h.segments("Gamblers' harms in rats, and animal models; gambling-related harm.")
    marked = [(t, k) for t, k in segments if k]
    assert ("Gamblers", "include") in marked
    assert ("harms", "include") in marked
    assert ("rats", "") not in marked  # 'rat' is a whole word only
    assert ("animal", "exclude") in marked
    assert ("gambling", "include") in marked
    # "harm" (no letter after it) does not match "harm?"
    assert ("harm", "include") not in marked
    assert "".join(t for t, _ in segments).startswith("Gamblers' harms in rats")


def test_phrases_match_any_spacing_and_longer_terms_win():
    h = build_highlighter(["problem gambling"], ["gambling"])
    segments = h.segments("Problem   gambling and gambling")
    assert segments[0] == ("Problem   gambling", "include")
    assert segments[-1] == ("gambling", "exclude")


def test_it_refuses_unusable_keywords():
    for bad in ["", "<script>", "a*b*c*d*", "***", "x" * 101, "(a+)+"]:
        with pytest.raises(KeywordError):
            check_keyword(bad)
    assert check_keyword("  slot   machine* ") == "slot machine*"


def test_hostile_text_is_returned_unchanged_for_escaping():
    h = build_highlighter(["script"], [])
    text = "<script>alert(1)</script>"
    assert "".join(t for t, _ in h.segments(text)) == text
    assert build_highlighter([], []).segments(text) == [(text, "")]


def test_a_long_hostile_record_does_not_take_long():
    import time

    h = build_highlighter(["a*b*c*"], ["a?a?a*"])
    start = time.perf_counter()
    h.segments(("a" * 5000 + " ") * 20)
    assert time.perf_counter() - start < 2.0
