"""A protocol version as a document: Markdown, HTML (standalone) and the blocks the PDF lays
out, in the order of the PROSPERO registration form, so that a team can paste each part into
the registry's field of the same name.

Free text is the team's Markdown: the Markdown export keeps it as written; HTML and PDF show
its paragraphs, bullet lists and headings (``markdown_blocks``), with every character escaped,
so nothing a protocol says can become markup. (No Markdown library is in the stack; this small
subset is what protocols use.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reviews.protocol import sections
from reviews.protocol.models import ProtocolVersion

#: The PROSPERO form's fields, in its order, and the protocol fields each one holds. Every
#: field of the protocol appears once (``tests/reviews/test_protocol_documents.py``).
PROSPERO_ORDER: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Review title", (("administrative", "title"),)),
    ("Anticipated or actual start date", (("administrative", "start_date"),)),
    ("Anticipated completion date", (("administrative", "completion_date"),)),
    ("Named contact", (("administrative", "contact"),)),
    (
        "Review team members and their organisational affiliations",
        (("administrative", "authors"),),
    ),
    ("Funding sources/sponsors", (("administrative", "funding"),)),
    ("Conflicts of interest", (("administrative", "conflicts"),)),
    ("Review question", (("question", "review_question"), ("objectives", "text"))),
    (
        "Searches",
        (
            ("information_sources", "databases"),
            ("information_sources", "registers"),
            ("information_sources", "other"),
            ("information_sources", "coverage"),
            ("search_strategy", "text"),
        ),
    ),
    ("URL to search strategy", (("search_strategy", "url"),)),
    ("Condition or domain being studied", (("question", "condition"),)),
    (
        "Participants/population",
        (
            ("question", "population"),
            ("eligibility", "inclusion"),
            ("eligibility", "exclusion"),
            ("eligibility", "years"),
            ("eligibility", "notes"),
        ),
    ),
    ("Intervention(s), exposure(s)", (("question", "intervention"),)),
    ("Comparator(s)/control", (("question", "comparator"),)),
    ("Types of study to be included", (("question", "study_designs"),)),
    ("Context", (("question", "context"),)),
    ("Main outcome(s)", (("question", "outcomes_main"),)),
    ("Additional outcome(s)", (("question", "outcomes_additional"),)),
    (
        "Data extraction (selection and coding)",
        (("selection", "text"), ("data_collection", "text"), ("data_items", "text")),
    ),
    ("Risk of bias (quality) assessment", (("risk_of_bias", "tool"), ("risk_of_bias", "method"))),
    (
        "Strategy for data synthesis",
        (
            ("synthesis", "effect_measure"),
            ("synthesis", "model"),
            ("synthesis", "tau2_estimator"),
            ("synthesis", "knapp_hartung"),
            ("synthesis", "heterogeneity"),
            ("synthesis", "sensitivity"),
            ("synthesis", "publication_bias"),
            ("synthesis", "narrative"),
            ("certainty", "text"),
        ),
    ),
    ("Analysis of subgroups or subsets", (("synthesis", "subgroups"),)),
    ("Language", (("eligibility", "languages"),)),
    ("Any additional information", (("background", "text"), ("additional", "text"))),
)


@dataclass(frozen=True)
class Block:
    """One piece of the document: ``title``, ``meta`` (a line under the title), ``h2``,
    ``h3``, ``p``, ``li`` (a bullet) or ``md`` (the team's Markdown, as written)."""

    kind: str
    text: str


# --- Markdown, the small subset -------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")


def markdown_blocks(text: str) -> list[Block]:
    """The team's Markdown as ``p``, ``li`` and ``h4`` blocks (inline marks kept as written)."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            blocks.append(Block("p", "\n".join(paragraph)))
            paragraph.clear()

    for line in (text or "").split("\n"):
        if not line.strip():
            end_paragraph()
        elif _HEADING.match(line):
            end_paragraph()
            blocks.append(Block("h4", _HEADING.sub("", line).strip()))
        elif _BULLET.match(line):
            end_paragraph()
            blocks.append(Block("li", _BULLET.sub("", line).strip()))
        elif blocks and blocks[-1].kind == "li" and not paragraph and line.startswith(" "):
            blocks[-1] = Block("li", f"{blocks[-1].text} {line.strip()}")  # a bullet goes on
        else:
            paragraph.append(line.strip())
    end_paragraph()
    return blocks


def _html_of(blocks: list[Block], *, heading: str = "h4") -> str:
    out: list[str] = []
    in_list = False
    for block in blocks:
        if block.kind == "li" and not in_list:
            out.append("<ul>")
            in_list = True
        elif block.kind != "li" and in_list:
            out.append("</ul>")
            in_list = False
        text = escape(block.text)
        if block.kind == "li":
            out.append(f"<li>{text}</li>")
        elif block.kind == "h4":
            out.append(f"<{heading}>{text}</{heading}>")
        else:
            out.append(f"<p>{text.replace(chr(10), '<br>')}</p>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def markdown_html(text: str) -> SafeString:
    """The team's Markdown as HTML (paragraphs, bullets, headings), every character escaped."""
    return mark_safe(_html_of(markdown_blocks(text)))  # noqa: S308 - escaped in _html_of


# --- the document ---------------------------------------------------------------------------


def _status_lines(version: ProtocolVersion) -> list[str]:
    lines = []
    if version.is_draft:
        kind = "amendment" if version.kind == "amendment" else "protocol"
        lines.append(f"Version {version.number}: draft {kind}, not registered or published.")
    elif version.kind == "original":
        where = f"{version.registry_label} {version.registration_id}".strip()
        when = f" on {version.registered_on:%Y-%m-%d}" if version.registered_on else ""
        lines.append(f"Version {version.number}: registered with {where}{when}.")
        if version.registration_url:
            lines.append(f"Registry record: {version.registration_url}")
    else:
        by = f" by {version.author}" if version.author else ""
        lines.append(f"Version {version.number}: amendment of {version.date:%Y-%m-%d}{by}.")
        changed = ", ".join(
            sections.SECTION_TITLES.get(key, str(key)) for key in version.sections_changed or []
        )
        if changed:
            lines.append(f"Sections changed: {changed}.")
        if version.rationale:
            lines.append(f"Rationale: {version.rationale}")
    if version.fingerprint:
        lines.append(f"SHA-256 fingerprint: {version.fingerprint}")
    return lines


def document_blocks(version: ProtocolVersion, *, review_title: str = "") -> list[Block]:
    """The version as blocks, in the order of the PROSPERO form."""
    content = sections.clean_content(version.content, strict=False)
    title = content["administrative"]["title"] or review_title or "Untitled review"
    blocks = [Block("title", f"Protocol: {title}")]
    blocks += [Block("meta", line) for line in _status_lines(version)]
    for n, (heading, parts) in enumerate(PROSPERO_ORDER, start=1):
        blocks.append(Block("h2", f"{n}. {heading}"))
        filled = [
            (sections.section(sec).field(key), content[sec][key])
            for sec, key in parts
            if not sections.is_empty(sections.section(sec).field(key), content[sec][key])
        ]
        if not filled:
            blocks.append(Block("p", "Not stated."))
            continue
        for f, value in filled:
            labelled = len(parts) > 1
            if f.kind == "markdown":
                if labelled:
                    blocks.append(Block("h3", f.label))
                blocks.append(Block("md", value))
            elif f.kind in ("list", "choices", "items"):
                if labelled:
                    blocks.append(Block("h3", f.label))
                blocks += [Block("li", line) for line in sections.field_lines(f, value)]
            else:
                text = "; ".join(sections.field_lines(f, value))
                blocks.append(Block("p", f"{f.label}: {text}" if labelled else text))
    return blocks


def expanded(blocks: list[Block]) -> list[Block]:
    """``md`` blocks turned into ``p``, ``li`` and ``h4`` blocks (for HTML and PDF)."""
    out: list[Block] = []
    for block in blocks:
        out += markdown_blocks(block.text) if block.kind == "md" else [block]
    return out


def version_markdown(version: ProtocolVersion, *, review_title: str = "") -> str:
    lines: list[str] = []
    previous = ""
    for block in document_blocks(version, review_title=review_title):
        if block.kind != "li" and previous == "li":
            lines.append("")
        if block.kind == "title":
            lines += [f"# {block.text}", ""]
        elif block.kind == "meta":
            lines += [block.text, ""]
        elif block.kind == "h2":
            lines += [f"## {block.text}", ""]
        elif block.kind == "h3":
            lines += [f"### {block.text}", ""]
        elif block.kind == "li":
            lines.append(f"- {block.text}")
        else:
            lines += [block.text, ""]
        previous = block.kind
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 1.8rem; }
h3 { font-size: 1rem; margin-bottom: .2rem; } h4 { font-size: 1rem; font-style: italic; }
.meta { color: #555; margin: .2rem 0; overflow-wrap: anywhere; }
"""


def html_document(title: str, body: str) -> str:
    """A standalone HTML page (inline style, no scripts, nothing fetched)."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def version_html(version: ProtocolVersion, *, review_title: str = "") -> str:
    blocks = document_blocks(version, review_title=review_title)
    body: list[str] = []
    pending: list[Block] = []

    def flush() -> None:
        if pending:
            body.append(_html_of(pending))
            pending.clear()

    for block in expanded(blocks):
        if block.kind == "title":
            flush()
            body.append(f"<h1>{escape(block.text)}</h1>")
        elif block.kind == "meta":
            flush()
            body.append(f'<p class="meta">{escape(block.text)}</p>')
        elif block.kind in ("h2", "h3"):
            flush()
            body.append(f"<{block.kind}>{escape(block.text)}</{block.kind}>")
        else:
            pending.append(block)
    flush()
    return html_document(blocks[0].text, "\n".join(body))


def filename(version: ProtocolVersion, slug: str, ext: str) -> str:
    return f"{slug}-protocol-v{version.number}.{ext}"


#: The formats a version downloads in, and their media types.
DOWNLOADS = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def version_file(version: ProtocolVersion, *, review_title: str, slug: str, fmt: str):
    """``(body, media type, file name)`` of a version as Markdown, HTML or PDF (the page's
    download and the API's answer alike). ``fmt`` must be a key of ``DOWNLOADS``."""
    from reviews.protocol import pdf

    if fmt == "md":
        body: str | bytes = version_markdown(version, review_title=review_title)
    elif fmt == "html":
        body = version_html(version, review_title=review_title)
    elif fmt == "pdf":
        blocks = document_blocks(version, review_title=review_title)
        body = pdf.render(blocks, title=f"{review_title} – protocol version {version.number}")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return body, DOWNLOADS[fmt], filename(version, slug, fmt)


def display_sections(content: Any) -> list[dict[str, Any]]:
    """The content for the version page: sections in PRISMA-P order, their filled fields."""
    content = sections.clean_content(content, strict=False)
    out = []
    for sec in sections.SECTIONS:
        fields = []
        for f in sec.fields:
            value = content[sec.key][f.key]
            if sections.is_empty(f, value):
                continue
            fields.append(
                {
                    "label": f.label,
                    "kind": f.kind,
                    "html": markdown_html(value) if f.kind == "markdown" else None,
                    "lines": sections.field_lines(f, value),
                }
            )
        out.append({"key": sec.key, "title": sec.title, "fields": fields})
    return out
