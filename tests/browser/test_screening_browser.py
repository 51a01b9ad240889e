"""Two reviewers screen the same records with the keyboard only, blinded; a conflict appears and
a third member resolves it. Every response the first reviewer's browser receives is kept, and
none of them, nor the page's DOM, ever holds the second reviewer's vote before resolution."""

from __future__ import annotations

import pytest

from reviews import services as review_services
from reviews.constants import Role
from screening import services
from screening.constants import Stage
from screening.models import ScreeningItem, Vote
from tests.conftest import PASSWORD, make_user
from tests.screening.factories import make_records

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

B_NOTE = "note-from-B-7f3a"
A_NOTE = "note-from-A-91c2"
SCREEN = "/reviews/exercise/screening/title-abstract/screen/"
API = "/api/reviews/exercise/screening/title-abstract"


@pytest.fixture
def team():
    lead = make_user("lead")
    make_user("reviewer_a")
    make_user("reviewer_b")
    review = review_services.review_create(user=lead, title="Exercise", slug="exercise")
    for name in ("reviewer_a", "reviewer_b"):
        review_services.membership_add(
            actor=lead, review=review, identifier=name, roles=[Role.REVIEWER]
        )
    records = make_records(review, 3)
    services.screening_prepare(review=review)
    return review, records


class Recorder:
    """Keeps the text of every response a browser context receives."""

    def __init__(self, context) -> None:
        self.bodies: list[tuple[str, str]] = []
        context.route("**/*", self._handle)

    def _handle(self, route) -> None:
        response = route.fetch()
        body = response.body()
        self.bodies.append((route.request.url, body.decode("utf-8", "replace")))
        route.fulfill(response=response, body=body)

    def containing(self, needle: str) -> list[str]:
        return [url for url, text in self.bodies if needle in text]


def browser_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def log_in_by_keyboard(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My reviews").wait_for()


def current_item(page) -> str:
    return page.evaluate(
        "(document.querySelector('#current article.record') || {dataset: {}}).dataset.item || ''"
    )


def settled(page) -> None:
    page.wait_for_function("document.getElementById('screen').dataset.busy !== '1'")


def vote_by_key(page, key: str) -> None:
    before = current_item(page)
    page.keyboard.press(key)
    page.wait_for_function(
        "(prev) => ((document.querySelector('#current article.record') || {dataset: {}})"
        ".dataset.item || '') !== prev",
        arg=before,
    )
    settled(page)


def note_by_key(page, text: str) -> None:
    page.keyboard.press("n")
    page.keyboard.type(text)
    page.keyboard.press("Escape")


def test_two_blinded_reviewers_screen_by_keyboard_and_a_third_resolves_the_conflict(
    browser, live_server, team
):
    _review, records = team
    items = {i.record_id: i for i in ScreeningItem.objects.filter(stage=Stage.TITLE_ABSTRACT)}
    first, second, third = (items[r.pk] for r in records)

    # Reviewer A: include, exclude with reason 1 and a note, exclude; then undo and redo.
    context_a, page_a = browser_page(browser, live_server)
    seen_by_a = Recorder(context_a)
    log_in_by_keyboard(page_a, "reviewer_a")
    page_a.goto(SCREEN)
    page_a.get_by_role("heading", name="Keyboard shortcuts").wait_for()
    assert current_item(page_a) == str(first.pk)
    assert page_a.locator("#upcoming article.record").get_attribute("data-item") == str(second.pk)
    vote_by_key(page_a, "i")
    assert current_item(page_a) == str(second.pk)
    page_a.keyboard.press("1")
    note_by_key(page_a, A_NOTE)
    vote_by_key(page_a, "e")
    assert current_item(page_a) == str(third.pk)
    vote_by_key(page_a, "e")
    assert "Nothing left" in page_a.locator("#current").inner_text()
    vote_by_key(page_a, "u")  # undo brings the third record back
    assert current_item(page_a) == str(third.pk)
    assert not Vote.objects.filter(item=third, reviewer__username="reviewer_a").exists()
    vote_by_key(page_a, "e")
    assert "You have screened 3" in page_a.locator("#current").inner_text()
    a_votes = dict(
        Vote.objects.filter(reviewer__username="reviewer_a").values_list("item_id", "decision")
    )
    assert a_votes == {first.pk: "include", second.pk: "exclude", third.pk: "exclude"}
    assert Vote.objects.get(item=second, reviewer__username="reviewer_a").note == A_NOTE

    # Reviewer B: include, include (the conflict) with a note, exclude.
    context_b, page_b = browser_page(browser, live_server)
    log_in_by_keyboard(page_b, "reviewer_b")
    page_b.goto(SCREEN)
    page_b.get_by_role("heading", name="Keyboard shortcuts").wait_for()
    assert A_NOTE not in page_b.content()
    vote_by_key(page_b, "i")
    note_by_key(page_b, B_NOTE)
    vote_by_key(page_b, "i")
    vote_by_key(page_b, "e")
    assert "Nothing left" in page_b.locator("#current").inner_text()
    assert A_NOTE not in page_b.content()
    context_b.close()

    second.refresh_from_db()
    first.refresh_from_db()
    third.refresh_from_db()
    assert (first.status, second.status, third.status) == ("included", "conflict", "excluded")

    # Reviewer A looks everywhere they can before the conflict is resolved.
    for path in [
        SCREEN,
        "/reviews/exercise/screening/title-abstract/",
        "/reviews/exercise/screening/title-abstract/conflicts/",
        "/reviews/exercise/screening/agreement/",
    ]:
        page_a.goto(path)
        assert B_NOTE not in page_a.content()
    for path in [
        f"{API}/items/{second.pk}/",
        f"{API}/votes/",
        f"{API}/next/",
        f"{API}/conflicts/",
        f"{API}/progress/",
        f"{API}/agreement/",
        "/reviews/exercise/screening/title-abstract/votes.csv",
    ]:
        # The API and the CSV as a script of A's would fetch them, with A's session.
        response = page_a.request.get(path)
        assert response.ok, path
        seen_by_a.bodies.append((path, response.text()))
    item_view = page_a.request.get(f"{API}/items/{second.pk}/").json()
    assert [v["reviewer"] for v in item_view["votes"]] == ["reviewer_a"]
    assert item_view["status"] == "pending"
    assert seen_by_a.containing(A_NOTE)  # the recorder does see what A may see
    assert seen_by_a.containing(B_NOTE) == []
    b_vote = Vote.objects.get(item=second, reviewer__username="reviewer_b")
    assert seen_by_a.containing(f'"id":{b_vote.pk},') == []
    assert page_a.request.get(f"{API}/votes/{b_vote.pk}/").status == 404

    # The lead, a third member, resolves the conflict from the queue.
    context_l, page_l = browser_page(browser, live_server)
    log_in_by_keyboard(page_l, "lead")
    page_l.goto("/reviews/exercise/screening/title-abstract/conflicts/")
    conflict = page_l.locator(f'section.conflict[data-item="{second.pk}"]')
    assert B_NOTE in conflict.inner_text() and A_NOTE in conflict.inner_text()
    conflict.get_by_label("Include").check()
    conflict.get_by_label("Note").fill("Adults with gambling problems: include.")
    conflict.get_by_role("button", name="Resolve").click()
    page_l.get_by_text("Conflict resolved: record included").wait_for()
    context_l.close()
    second.refresh_from_db()
    assert second.status == "included" and second.resolution.resolved_by.username == "lead"
    assert ScreeningItem.objects.filter(record=second.record, stage=Stage.FULL_TEXT).exists()

    # Once settled, the other vote may be seen.
    after = page_a.request.get(f"{API}/items/{second.pk}/").json()
    assert {v["note"] for v in after["votes"]} == {A_NOTE, B_NOTE}
    context_a.close()


def test_a_missing_reason_is_explained_and_nothing_moves(browser, live_server, team):
    review, _records = team
    services.settings_update(
        actor=review.created_by, review=review, reasons_title_abstract="required"
    )
    context, page = browser_page(browser, live_server)
    log_in_by_keyboard(page, "reviewer_a")
    page.goto(SCREEN)
    page.get_by_role("heading", name="Keyboard shortcuts").wait_for()
    shown = current_item(page)
    page.keyboard.press("e")
    page.get_by_role("alert").filter(has_text="Choose a reason").wait_for()
    assert current_item(page) == shown
    assert not Vote.objects.exists()
    page.keyboard.press("2")
    vote_by_key(page, "e")
    vote = Vote.objects.get()
    assert vote.decision == "exclude" and vote.reason.label == "Wrong intervention or exposure"
    context.close()
