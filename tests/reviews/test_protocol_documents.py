"""A protocol version as Markdown, HTML and PDF, in the order of the PROSPERO form."""

from __future__ import annotations

import math
import re

from reviews.protocol import documents, pdf, sections, services
from reviews.protocol.documents import PROSPERO_ORDER, Block
from tests.reviews.protocol_factories import CONTENT, amend_draft, content, register


def _pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


def test_every_protocol_field_has_one_place_in_the_prospero_order():
    placed = [part for _heading, parts in PROSPERO_ORDER for part in parts]
    every = [(s.key, f.key) for s in sections.SECTIONS for f in s.fields]
    assert sorted(placed) == sorted(every)
    assert len(placed) == len(set(placed))


def test_the_markdown_follows_the_prospero_form(review, lead):
    version = register(
        review,
        lead,
        content(
            question={"population": "Adults with depression.", "outcomes_main": "Symptoms."},
            background={"text": "Depression is common.\n\n- point one\n- point two"},
        ),
    )
    text = documents.version_markdown(version, review_title=review.title)
    headings = re.findall(r"^## \d+\. (.+)$", text, flags=re.M)
    assert headings == [heading for heading, _ in PROSPERO_ORDER]
    assert text.startswith("# Protocol: Exercise for depression\n")
    assert "registered with PROSPERO CRD42099000001 on 2024-03-01" in text
    assert f"SHA-256 fingerprint: {version.fingerprint}" in text
    # Criteria under Participants/population, the team's Markdown as written.
    population = text.split("## 12. Participants/population")[1].split("## 13.")[0]
    assert "Adults with depression." in population
    assert "### Exclusion criteria\n\n- Children only\n- No control group" in population
    assert "Depression is common.\n\n- point one\n- point two" in text
    assert "## 2. Anticipated or actual start date\n\nNot stated." in text
    strategy = text.split("Strategy for data synthesis")[1].split("## 22.")[0]
    assert "Tau-squared estimator: Restricted maximum likelihood (REML)" in strategy
    assert "Knapp-Hartung adjustment: Yes" in strategy


def test_an_amendment_says_what_changed_and_why(review, lead):
    register(review, lead)
    amend_draft(review, lead, {"objectives": {"text": "New aim."}})
    v2 = services.amendment_publish(
        actor=lead, review=review, rationale="Clearer.", amended_on="2024-04-02"
    )
    text = documents.version_markdown(v2)
    assert "Version 2: amendment of 2024-04-02 by lead." in text
    assert "Sections changed: Objectives." in text
    assert "Rationale: Clearer." in text


def test_the_html_is_standalone_and_escapes_everything(review, lead):
    version = register(
        review,
        lead,
        content(
            administrative={"title": "<img src=x onerror=alert(1)>"},
            additional={"text": "# Heading\n\n<script>alert('x')</script> & more\n* bullet"},
        ),
    )
    html = documents.version_html(version)
    assert html.startswith("<!doctype html>")
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html
    assert "<h4>Heading</h4>" in html and "<li>bullet</li>" in html
    assert "http" not in html.split("<body>")[0]  # nothing fetched


def test_a_pdf_of_long_text_has_the_pages_its_lines_need():
    per_page = math.floor((pdf.BOTTOM - pdf.TOP) / pdf.STYLES["p"].leading)
    for lines in (1, per_page, per_page + 1, 200):
        data = pdf.render([Block("p", "\n".join(["word"] * lines))], title="t")
        assert data.startswith(b"%PDF")
        assert _pages(data) == math.ceil(lines / per_page), lines
    # The same text gives the same bytes (no creation date).
    assert pdf.render([Block("p", "\n".join(["word"] * 200))], title="t") == data


def test_a_long_protocol_is_a_pdf_of_many_pages(review, lead):
    paragraphs = "\n\n".join(
        f"Paragraph {n}: " + "the effect of exercise on depressive symptoms " * 12
        for n in range(30)
    )
    version = register(review, lead, content(additional={"text": paragraphs}))
    blocks = documents.document_blocks(version, review_title=review.title)
    data = pdf.render(blocks, title="Protocol")
    assert data.startswith(b"%PDF-")
    laid_out = pdf.layout(blocks)
    assert _pages(data) == len(laid_out) > 4
    # Every line fits the page's width.
    for page in laid_out:
        for line in page:
            style = pdf.STYLES.get(line.kind, pdf.STYLES["p"])
            assert line.x + pdf.text_width(line.text, style.size, style.bold) <= (
                pdf.PAGE_WIDTH - pdf.MARGIN + 0.5
            )


def test_a_word_longer_than_the_line_is_cut_not_lost():
    style = pdf.STYLES["p"]
    word = "x" * 400
    lines = pdf.wrap(word, style, pdf.CONTENT_WIDTH)
    assert "".join(lines) == word and len(lines) > 1


def test_the_content_of_the_version_page_is_escaped(review, lead, reviewer_a):
    from tests.conftest import client_for

    version = register(review, lead, content(background={"text": "<b>bold?</b>"}))
    html = client_for(reviewer_a).get(f"/reviews/exercise/protocol/versions/{version.pk}/")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html.content.decode()
    assert CONTENT["eligibility"]["exclusion"][0] in html.content.decode()
