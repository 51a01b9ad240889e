"""Generic titles: titles that name a kind of item, not a work.

"Editorial", "Reply", "Erratum", "In this issue", "Letter from the editor", "Book review",
"Poster session 2": a journal prints an item under such a title in issue after issue, so two
records sharing one are as likely to be two items of a series as one item found twice. The
title cannot carry a match on its own; only the item's place in the journal (volume, issue and
pages) or an identifier (DOI, PMID) can. The engine still scores such pairs, and queues them,
but merges one automatically only when its place or identifier agrees (``location_agrees`` in
``scoring.py``).

The class is defined by general rules and published lists, not by any labelled set's errors:

- Words that name the kind of item come from the document types of the bibliographic databases:
  NLM's MEDLINE/PubMed publication types (Editorial, Comment, Letter, News, Published Erratum,
  Retraction of Publication, Expression of Concern, Introductory Journal Article, Biography,
  Interview, Lecture, Address, Congress, Bibliography), Web of Science's document types
  (Editorial Material, Book Review, Correction, Meeting Abstract, News Item, Biographical-Item,
  Proceedings Paper, Note, Discussion, Reprint) and the section headings that journals print
  in front of such items (Preface, Foreword, Introduction, In this issue, From the editor,
  Acknowledgement of reviewers, Instructions for authors, Table of contents, Index).
- bib-dedupe (CoLRev-Environment/bib-dedupe, MIT, ``bib_dedupe/match_conditions.py``) treats a
  title under 60 characters containing "editor" as an editorial whose differing volume, number or
  pages make a pair a non-duplicate, and gives "book review" no title similarity
  (``bib_dedupe/sim.py``); ASySD (camaradesuk/ASySD, ``R/internal.R``,
  ``identify_true_matches``) asks in most of its automatic rules for two of pages, volume and
  issue to agree besides title and authors (its other rules need the DOI or the abstract). The
  rule here is the same idea, narrowed to the titles that need it.
- A title is generic when, once English function words, the words above, numbers and single
  letters are set aside, along with the words of the record's own journal name (editorials
  often name their journal: "Letter from the Editor of The Lancet", "MMWR notes"; the journal's
  words are set aside only in a title holding one of the words above), at most one word is left
  ("Reply to Smith", "Editorial: obesity", "Eculizumab"), or when it is short (under 60
  characters, bib-dedupe's limit) and speaks of the editor.

Written on 2026-12-07 for issue 21, after the held-out digital-work set had shown four automatic
merges of one journal's recurring editorials: that set is no longer clean evidence for this
rule (docs/benchmarks.md).
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["GENERIC_WORDS", "STOP_WORDS", "content_words", "is_generic_title"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: English function words (the short list of articles, prepositions, pronouns, conjunctions and
#: auxiliaries that every search engine's stop list holds).
STOP_WORDS = _words(
    """
    a an the and or but nor of in on at to for from by with without into onto upon about
    as is are was were be been being am do does did has have had this that these those it
    its there their they them we our us you your he his him she her i me my who whom whose
    which what when where why how than then so not no yes all any some each every other
    s t re ve ll d m vs versus via per after before over under between among through
    """
)

#: Words that name a kind of item rather than a subject: the database document types and
#: journal section headings listed in the module docstring, in their usual forms.
GENERIC_WORDS = _words(
    """
    editorial editorials editor editors editorship eds ed guest
    comment comments commentary commentaries reply replies response responses
    rejoinder author authors letter letters correspondence
    erratum errata corrigendum corrigenda correction corrections addendum addenda
    retraction retracted notice expression concern
    introduction introductory preface foreword prologue epilogue afterword
    issue issues volume number special section supplement supplements
    book books review reviews reviewed reviewer reviewers acknowledgement acknowledgements
    acknowledgment acknowledgments thanks thank
    abstract abstracts poster posters session sessions symposium symposia proceedings meeting
    meetings congress conference workshop panel presentation presentations oral keynote
    plenary news note notes announcement announcements obituary memoriam tribute biography
    interview lecture address message statement discussion summary summaries highlights
    contents table index masthead cover calendar events miscellany column
    instructions information guide call papers paper article articles month year annual
    new welcome farewell president presidential chair chairman
    """
)

# bib-dedupe's limit for a short editorial title (characters).
_SHORT_TITLE_CHARS = 60


def content_words(title: str, journal: tuple[str, ...] = ()) -> list[str]:
    """Words of a normalised title that say what the item is about.

    Function words, :data:`GENERIC_WORDS`, numbers, single letters and the words of
    ``journal`` (its :func:`~deduplication.engine.normalise.journal_tokens`) are left out.
    """
    own = set(journal)
    return [
        w
        for w in title.split()
        if len(w) > 1
        and not w.isdigit()
        and w not in STOP_WORDS
        and w not in GENERIC_WORDS
        and w not in own
    ]


@lru_cache(maxsize=1 << 14)
def is_generic_title(title: str, journal: tuple[str, ...] = ()) -> bool:
    """Whether a normalised title names a kind of item rather than a work.

    ``title`` is :func:`~deduplication.engine.normalise.normalise_title`'s output; an empty
    title is not generic (it is missing, and scores nothing).

    >>> is_generic_title("letter from the editor")
    True
    >>> is_generic_title("reply to smith")
    True
    >>> is_generic_title("metformin and the risk of lactic acidosis")
    False
    """
    if not title:
        return False
    # bib-dedupe tests the substring, which "predictors" contains: whole words here.
    if len(title) < _SHORT_TITLE_CHARS and any(w.startswith("editor") for w in title.split()):
        return True
    if len(content_words(title)) <= 1:
        return True
    # The journal's own words count as saying nothing only in a title that names a kind of
    # item ("Letter from the editor of The Lancet"), not in "Complement in organ
    # transplantation" in Current Opinion in Organ Transplantation.
    words = title.split()
    return any(w in GENERIC_WORDS for w in words) and len(content_words(title, journal)) <= 1
