"""The shared form rendering (templates/_form.html): every aria-describedby points at an element
that exists, every control has a label, and a checkbox stands beside its label."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from identification.models import Search
from tests.conftest import client_for
from tests.reporting.test_prisma import build_review


class Page(HTMLParser):
    """The ids, labels and form controls of a page, and where each control sits."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described: list[tuple[str, str]] = []  # (element id or tag, referenced id)
        self.label_for: set[str] = set()
        self.controls: list[dict] = []
        self.stack: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for ref in (a.get("aria-describedby") or "").split():
            self.described.append((a.get("id") or tag, ref))
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit"}:
            self.controls.append(
                {
                    "tag": tag,
                    "attrs": a,
                    "in_label": any(t == "label" for t, _ in self.stack),
                    "in_fieldset": any(t == "fieldset" for t, _ in self.stack),
                }
            )
        if tag not in {"input", "br", "img", "meta", "link", "hr"}:
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def check_forms(html: str) -> Page:
    page = Page(html)
    dangling = [(el, ref) for el, ref in page.described if ref not in page.ids]
    assert not dangling, f"aria-describedby points at nothing: {dangling}"
    for c in page.controls:
        a = c["attrs"]
        labelled = c["in_label"] or a.get("id") in page.label_for or a.get("aria-label")
        assert labelled, f"no label for {c['tag']} {a}"
        if a.get("type") == "checkbox" and a.get("id") in page.label_for:
            # A single checkbox sits inside its label, on one line, not above it.
            assert c["in_label"] or c["in_fieldset"], f"checkbox outside its label: {a}"
    return page


@pytest.fixture
def built(lead, review):
    build_review(lead, review)
    return review


def test_sign_up_has_working_help_references(db):
    page = check_forms(Client().get("/accounts/signup/").content.decode())
    assert any(ref.endswith("_helptext") for _, ref in page.described)


def test_new_review_form_has_working_help_references(lead):
    page = check_forms(client_for(lead).get("/reviews/new/").content.decode())
    assert page.described  # the slug's help is referenced and exists


def test_searches_form_has_working_help_references_and_labels(built, lead):
    html = client_for(lead).get(f"/reviews/{built.slug}/searches/").content.decode()
    page = check_forms(html)
    assert page.described
    # The file input (several files at once) has a label of its own, not a bare legend.
    files = [c for c in page.controls if c["attrs"].get("type") == "file"]
    assert files and all(c["attrs"]["id"] in page.label_for for c in files)


def test_a_search_upload_form_has_working_help_references(built, lead):
    search = Search.objects.filter(review=built).first()
    html = client_for(lead).get(f"/reviews/{built.slug}/searches/{search.pk}/").content.decode()
    check_forms(html)


def test_screening_settings_have_working_help_references_and_checkboxes_beside_labels(built, lead):
    html = client_for(lead).get(f"/reviews/{built.slug}/screening/settings/").content.decode()
    page = check_forms(html)
    assert page.described
    boxes = [c for c in page.controls if c["attrs"].get("type") == "checkbox"]
    assert boxes and all(c["in_label"] or c["in_fieldset"] for c in boxes)


def test_the_prisma_form_has_working_help_references(built, lead):
    html = client_for(lead).get(f"/reviews/{built.slug}/prisma/").content.decode()
    page = check_forms(html)
    assert page.described


def test_the_team_and_settings_forms_have_working_references(review, lead):
    client = client_for(lead)
    check_forms(client.get(f"/reviews/{review.slug}/team/").content.decode())
    check_forms(client.get(f"/reviews/{review.slug}/settings/").content.decode())
    check_forms(client.get("/accounts/password/").content.decode())
