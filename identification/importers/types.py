"""Publication types, normalised to RIS ``TY`` codes whatever the source format said.

The RIS code is the one vocabulary every format maps onto without loss for screening purposes,
and it makes a RIS export re-import to the same ``publication_type``. The source's own wording
stays in ``ParsedRecord.raw``.
"""

from __future__ import annotations

import re

#: RIS reference types (RIS specification, Research Information Systems 2011, plus the
#: ``CPAPER``/``EJOUR`` codes that EndNote and Zotero write).
RIS_TYPES = frozenset(
    [
        "ABST",
        "ADVS",
        "AGGR",
        "ANCIENT",
        "ART",
        "BILL",
        "BLOG",
        "BOOK",
        "CASE",
        "CHAP",
        "CHART",
        "CLSWK",
        "COMP",
        "CONF",
        "CPAPER",
        "CTLG",
        "DATA",
        "DBASE",
        "DICT",
        "EBOOK",
        "ECHAP",
        "EDBOOK",
        "EJOUR",
        "ELEC",
        "ENCYC",
        "EQUA",
        "FIGURE",
        "GEN",
        "GOVDOC",
        "GRANT",
        "HEAR",
        "ICOMM",
        "INPR",
        "JFULL",
        "JOUR",
        "LEGAL",
        "MANSCPT",
        "MAP",
        "MGZN",
        "MPCT",
        "MULTI",
        "MUSIC",
        "NEWS",
        "PAMP",
        "PAT",
        "PCOMM",
        "RPRT",
        "SER",
        "SLIDE",
        "SOUND",
        "STAND",
        "STAT",
        "THES",
        "UNBILL",
        "UNPB",
        "VIDEO",
        "WEB",
    ]
)

# Lower-cased source labels (MEDLINE PT, WoS PT/DT, Scopus "Document Type", EndNote ref-type
# names, BibTeX entry types) to RIS codes. Checked in order of the keys' appearance by
# :func:`ris_type` only as exact matches; the keyword rules below catch the rest.
_LABELS = {
    "journal article": "JOUR",
    "article": "JOUR",
    "review": "JOUR",
    "letter": "JOUR",
    "editorial": "JOUR",
    "note": "JOUR",
    "short survey": "JOUR",
    "erratum": "JOUR",
    "article in press": "JOUR",
    "comment": "JOUR",
    "j": "JOUR",  # WoS PT J
    "s": "SER",  # WoS PT S (book in series)
    "b": "BOOK",  # WoS PT B
    "p": "PAT",  # WoS PT P
    "book": "BOOK",
    "edited book": "EDBOOK",
    "book chapter": "CHAP",
    "book section": "CHAP",
    "chapter": "CHAP",
    "inbook": "CHAP",
    "incollection": "CHAP",
    "conference paper": "CPAPER",
    "conference proceedings": "CONF",
    "conference review": "CONF",
    "proceedings paper": "CPAPER",
    "inproceedings": "CPAPER",
    "conference": "CPAPER",
    "proceedings": "CONF",
    "thesis": "THES",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "dissertation": "THES",
    "report": "RPRT",
    "techreport": "RPRT",
    "preprint": "UNPB",
    "unpublished": "UNPB",
    "patent": "PAT",
    "web page": "WEB",
    "dataset": "DATA",
    "data set": "DATA",
    "newspaper article": "NEWS",
    "magazine article": "MGZN",
    "generic": "GEN",
    "misc": "GEN",
    "manual": "GEN",
    "electronic article": "EJOUR",
}

# EndNote XML ``<ref-type>`` numbers (EndNote X9 reference types). Mendeley writes 0 for
# everything it does not map ("Generic").
ENDNOTE_REF_TYPES = {
    0: "GEN",
    2: "ART",
    3: "HEAR",
    5: "CHAP",
    6: "BOOK",
    7: "CHAP",
    10: "CONF",
    12: "WEB",
    13: "GEN",
    16: "ELEC",
    17: "JOUR",
    19: "MGZN",
    23: "NEWS",
    25: "PAT",
    27: "RPRT",
    28: "EDBOOK",
    31: "STAT",
    32: "THES",
    34: "UNPB",
    43: "EJOUR",
    47: "CPAPER",
    59: "DATA",
}

_KEYWORD_RULES = (
    (re.compile(r"chapter|section"), "CHAP"),
    (re.compile(r"conference|proceeding|congress|symposium|meeting"), "CPAPER"),
    (re.compile(r"thes[ie]s|dissertation"), "THES"),
    (re.compile(r"\bbook\b"), "BOOK"),
    (re.compile(r"report"), "RPRT"),
    (re.compile(r"article|journal|review|letter|editorial|comment"), "JOUR"),
)


def ris_type(label: str | None, default: str = "GEN") -> str:
    """Map a source's publication type (``Article``, ``Journal Article``, ``17``) to a RIS code.

    A valid RIS code is kept as it is; an unknown label gives ``default``.
    """
    if not label:
        return default
    text = label.strip()
    upper = text.upper()
    if upper in RIS_TYPES:
        return upper
    lower = text.lower()
    if lower in _LABELS:
        return _LABELS[lower]
    for pattern, code in _KEYWORD_RULES:
        if pattern.search(lower):
            return code
    return default
