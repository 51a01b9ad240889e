"""The interface in Chromium: the screening page's `?` hides and shows the shortcut list, the
account menu opens from the header, and a checkbox stands beside its label."""

from __future__ import annotations

import pytest

from reviews import services as review_services
from reviews.constants import Role
from screening import services
from tests.conftest import PASSWORD, make_user
from tests.screening.factories import make_records

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review():
    lead = make_user("lead")
    make_user("reviewer_a")
    review = review_services.review_create(user=lead, title="Exercise", slug="exercise")
    review_services.membership_add(
        actor=lead, review=review, identifier="reviewer_a", roles=[Role.REVIEWER]
    )
    make_records(review, 3)
    services.screening_prepare(review=review)
    return review


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My reviews").wait_for()


def test_question_mark_hides_and_shows_the_shortcut_list(page, review):
    log_in(page, "reviewer_a")
    page.goto("/reviews/exercise/screening/title-abstract/screen/")
    shortcuts = page.locator(".shortcuts dl")
    shortcuts.wait_for(state="visible")
    page.locator("#current article.record h2").focus()
    page.keyboard.press("?")
    shortcuts.wait_for(state="hidden")
    assert not shortcuts.is_visible()
    assert "hidden" in page.locator("#screen-status").inner_text()
    page.keyboard.press("?")
    shortcuts.wait_for(state="visible")
    assert shortcuts.is_visible()


def test_the_user_name_opens_an_account_menu_with_password_and_log_out(page, review):
    log_in(page, "reviewer_a")
    change = page.get_by_role("link", name="Change password")
    assert not change.is_visible()
    page.locator(".account-menu summary").click()
    change.wait_for(state="visible")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()


def test_a_checkbox_sits_beside_its_label(page, review):
    log_in(page, "lead")
    page.goto("/reviews/exercise/screening/settings/")
    box = page.get_by_role("checkbox").first
    label = page.locator(f"label[for='{box.get_attribute('id')}']")
    b, t = box.bounding_box(), label.bounding_box()
    # On one line: the box's middle lies within the label's height, and the box is at its left.
    assert t["y"] <= b["y"] + b["height"] / 2 <= t["y"] + t["height"]
    assert b["x"] <= t["x"] + 4
