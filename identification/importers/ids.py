"""Identifiers hidden in links: DOIs in doi.org and resolver URLs, Scopus EIDs, EBSCO/Ovid ANs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, unquote, urlsplit

from identification.importers.records import normalise_doi

_PMID_RE = re.compile(r"^\s*(?:PMID|PubMed ID)?\s*:?\s*(\d{1,9})\s*$", re.IGNORECASE)
_PMID_URL_RE = re.compile(
    r"(?:ncbi\.nlm\.nih\.gov/(?:pubmed|pmc/articles/pmid)|pubmed\.ncbi\.nlm\.nih\.gov)/(\d{1,9})"
)
_EID_RE = re.compile(r"[?&]eid=([^&#\s]+)")
_AN_RE = re.compile(r"[?&]AN=([^&#\s]+)", re.IGNORECASE)
_LENS_RE = re.compile(r"lens\.org/(\d{3}-\d{3}-\d{3}-\d{3}-\d{3})")


def _query(url: str) -> dict[str, list[str]]:
    try:
        return parse_qs(urlsplit(url).query)
    except ValueError:
        return {}


def doi_from_url(url: str | None) -> str:
    """The DOI a link points to: ``https://doi.org/10...``, ``...?doi=10...``, ``id=doi:10...``.

    Only links that name the DOI as such count: an arbitrary ``10.xxx`` inside a URL path (a
    journal site's own scheme) is not trusted.
    """
    if not url:
        return ""
    text = url.strip()
    lower = text.lower()
    if "doi.org/" in lower:
        return normalise_doi(unquote(text[lower.index("doi.org/") + len("doi.org/") :]))
    if "doi" not in lower:
        return ""
    query = _query(text)
    for key in ("doi", "DOI", "rft_id", "id", "rft.doi"):
        for value in query.get(key, ()):
            if key in ("doi", "DOI", "rft.doi") or value.lower().startswith(("doi:", "info:doi/")):
                doi = normalise_doi(value.removeprefix("info:doi/"))
                if doi:
                    return doi
    return ""


def first_doi_from_urls(urls: Iterable[str]) -> str:
    for url in urls:
        doi = doi_from_url(url)
        if doi:
            return doi
    return ""


def scopus_eid(url: str | None) -> str:
    """``2-s2.0-85074596690`` from a Scopus record link, else ``""``."""
    if not url or "eid=" not in url:
        return ""
    match = _EID_RE.search(url)
    return match.group(1) if match else ""


def accession_from_url(url: str | None) -> str:
    """The database's own id in a link: Scopus ``eid=``, EBSCO/Ovid ``AN=``, a Lens id."""
    if not url:
        return ""
    eid = scopus_eid(url)
    if eid:
        return eid
    if "AN=" in url or "an=" in url:
        lower = url.lower()
        if "ebsco" in lower or "ovid" in lower or "proquest" in lower:
            match = _AN_RE.search(url)
            if match:
                return unquote(match.group(1))
    match = _LENS_RE.search(url)
    return match.group(1) if match else ""


def pmid_from_text(value: str | None) -> str:
    """Digits of a PMID written as ``31421429``, ``PMID: 31421429`` or a PubMed link."""
    if not value:
        return ""
    match = _PMID_RE.match(value)
    if match:
        return match.group(1)
    match = _PMID_URL_RE.search(value)
    return match.group(1) if match else ""
