"""People see the links their roles open: no link of the review's pages leads to a 403, and a
count on a link is the count of what the page behind it shows. The header's user name opens an
account menu (password, log out), and the first words after sign-up say where to go."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from reviews import services
from reviews.constants import Role
from screening import services as screening
from screening.constants import Stage
from tests.conftest import client_for, make_user
from tests.screening.factories import make_records


class Links(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


@pytest.fixture
def viewer(review, lead):
    user = make_user("viewer")
    services.membership_add(actor=lead, review=review, identifier="viewer", roles=[Role.VIEWER])
    return user


@pytest.fixture
def conflict(review, lead, reviewer_a, reviewer_b):
    """A conflict between A and B at title/abstract."""
    make_records(review, 2)
    screening.screening_prepare(review=review)
    item = screening.assignment_next(user=reviewer_a, review=review, stage=Stage.TITLE_ABSTRACT)
    screening.vote_cast(user=reviewer_a, review=review, item=item, decision="include")
    screening.assignment_next(user=reviewer_b, review=review, stage=Stage.TITLE_ABSTRACT)
    screening.vote_cast(user=reviewer_b, review=review, item=item.pk, decision="exclude",
                        stage=Stage.TITLE_ABSTRACT)  # fmt: skip
    return item


PAGES = [
    "/reviews/{slug}/",
    "/reviews/{slug}/team/",
    "/reviews/{slug}/jobs/",
    "/reviews/{slug}/searches/",
    "/reviews/{slug}/screening/title-abstract/",
    "/reviews/{slug}/screening/full-text/",
    "/reviews/{slug}/screening/agreement/",
    "/reviews/{slug}/prisma/",
]


@pytest.mark.parametrize("who", ["lead", "reviewer_a", "viewer"])
def test_no_link_on_the_review_pages_leads_to_a_403(who, request, review, viewer, conflict):
    user = request.getfixturevalue(who)
    client = client_for(user)
    seen: set[str] = set()
    for page in PAGES:
        html = client.get(page.format(slug=review.slug)).content.decode()
        for href in Links(html).hrefs:
            if not href.startswith(f"/reviews/{review.slug}/") or href in seen:
                continue
            seen.add(href)
            status = client.get(href).status_code
            assert status != 403, f"{who} is shown a link to {href} that answers 403"
    assert f"/reviews/{review.slug}/audit/" in seen or who != "lead"


@pytest.mark.parametrize("who", ["reviewer_a", "viewer"])
def test_members_who_are_not_leads_see_no_audit_log_or_settings_link(who, request, review, viewer):
    html = client_for(request.getfixturevalue(who)).get(f"/reviews/{review.slug}/").content
    nav = re.search(r'<nav class="review-nav".*?</nav>', html.decode(), re.S).group(0)
    assert "Audit log" not in nav and "Settings" not in nav
    assert "Team" in nav and "Jobs" in nav
    assert "Manage the team" not in html.decode()  # they may read the team, not manage it


def test_a_lead_sees_the_audit_log_and_settings_links(review, lead):
    html = client_for(lead).get(f"/reviews/{review.slug}/").content.decode()
    nav = re.search(r'<nav class="review-nav".*?</nav>', html, re.S).group(0)
    assert f'href="/reviews/{review.slug}/audit/"' in nav
    assert f'href="/reviews/{review.slug}/settings/"' in nav


def conflicts_shown(client, review) -> tuple[int | None, int]:
    """The count on the stage page's conflicts link, and the conflicts its page lists."""
    stage = client.get(f"/reviews/{review.slug}/screening/title-abstract/").content.decode()
    found = re.search(r"Conflicts \((\d+)\)", stage)
    page = client.get(f"/reviews/{review.slug}/screening/title-abstract/conflicts/")
    listed = (
        page.content.decode().count('class="record conflict"') if page.status_code == 200 else 0
    )
    return (int(found.group(1)) if found else None), listed


@pytest.mark.parametrize("blinded", [True, False])
def test_the_conflicts_link_counts_what_its_page_lists(blinded, review, lead, reviewer_a, conflict):
    screening.settings_update(actor=lead, review=review, blinded=blinded)
    # A voted on the conflict: under the default policy a third person resolves it, not A.
    count, listed = conflicts_shown(client_for(reviewer_a), review)
    assert count in (None, listed), (count, listed)
    assert listed == 0
    count, listed = conflicts_shown(client_for(lead), review)
    assert count == listed == 1


def test_the_header_offers_the_account_menu_not_a_bare_link_to_the_password_page(review, lead):
    html = client_for(lead).get("/reviews/").content.decode()
    header = re.search(r'<header class="site-header">.*?</header>', html, re.S).group(0)
    menu = re.search(r'<details class="account-menu">.*?</details>', header, re.S).group(0)
    assert "<summary>lead" in menu
    assert 'href="/accounts/password/"' in menu and "Change password" in menu
    assert 'action="/accounts/logout/"' in menu and "Log out" in menu
    # The user name is no longer itself a link to the password page.
    assert '<a href="/accounts/password/">lead</a>' not in header


def test_the_welcome_after_sign_up_points_at_the_button_where_it_is(db):
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "email": "new@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "below" not in html
    assert "“New review” at the top of this page" in html
    # The button it names is there, on the page it lands on.
    assert ">New review</a>" in html


def test_the_team_page_says_people_sign_up_before_a_lead_adds_them(review, lead):
    html = client_for(lead).get(f"/reviews/{review.slug}/team/").content.decode()
    assert "need an account of their own before you can add them" in html
    assert 'href="/accounts/signup/"' in html
    response = client_for(lead).post(
        f"/reviews/{review.slug}/team/", {"identifier": "nobody@example.org", "roles": ["viewer"]}
    )
    assert "ask them to sign up first" in response.content.decode()
