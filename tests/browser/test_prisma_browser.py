"""The PRISMA diagram renders in Chromium, and the duplicate queue works from the keyboard."""

import io

import pytest

from deduplication.constants import PairStatus
from deduplication.models import DuplicateCluster, DuplicatePair
from identification import services as imports
from identification.models import Record
from tests.conftest import PASSWORD, make_user
from tests.deduplication.test_services import queued_title_pair
from tests.reporting.test_prisma import build_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My reviews").wait_for()


def test_the_prisma_svg_renders_with_every_box_in_the_browser(page, tmp_path):
    from reviews import services

    lead = make_user("lena")
    review = services.review_create(user=lead, title="Exercise for depression", slug="exercise")
    build_review(lead, review)
    login(page, "lena")
    page.goto("/reviews/exercise/prisma.svg?inline=1")
    svg = page.locator("svg")
    svg.wait_for()
    text = svg.text_content()
    for label in [
        "Records identified from",
        "Records screened",
        "Reports sought for retrieval",
        "Reports assessed for eligibility",
        "Studies included in review",
        "Scopus (n = 6)",
    ]:
        assert label in text, label
    box = svg.bounding_box()
    assert box["width"] > 400 and box["height"] > 400  # it lays out, not a blank element
    page.goto("/reviews/exercise/prisma/")
    img = page.locator("figure.prisma-figure img")
    page.wait_for_function("document.querySelector('figure.prisma-figure img').naturalWidth > 0")
    shot = img.screenshot(path=str(tmp_path / "prisma.png"))
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    assert "Consistency check" in page.content()
    assert img.get_attribute("alt").startswith("PRISMA 2020 flow diagram")


def test_the_diagram_fills_its_panel_legibly_on_a_laptop_screen(page):
    """At 1366 px the diagram filled half its panel with text a few pixels high (issue 12)."""
    from reporting.prisma.render import BODY_SIZE
    from reviews import services

    lead = make_user("lena")
    review = services.review_create(user=lead, title="Exercise for depression", slug="exercise")
    build_review(lead, review)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, "lena")
    page.goto("/reviews/exercise/prisma/")
    page.wait_for_function("document.querySelector('figure.prisma-figure img').naturalWidth > 0")
    sizes = page.evaluate(
        """() => {
            const figure = document.querySelector('figure.prisma-figure');
            const img = figure.querySelector('img');
            const style = getComputedStyle(figure);
            const inner = figure.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return {inner, shown: img.getBoundingClientRect().width, natural: img.naturalWidth};
        }"""
    )
    assert sizes["shown"] >= 0.98 * sizes["inner"], sizes
    # The drawing's body text is BODY_SIZE points at its natural size (4/3 px a point).
    text_px = BODY_SIZE * 4 / 3 * sizes["shown"] / sizes["natural"]
    assert text_px >= 13, (text_px, sizes)


RIS = (
    b"TY  - JOUR\nTI  - Gambling harm in young adults\nAU  - Smith, J\nPY  - 2020\nER  - \n\n"
    b"TY  - JOUR\nTI  - Gambling harms among young adults: a survey\nAU  - Smith, John\nPY  - 2021\nER  - \n\n"
    b"TY  - JOUR\nTI  - Lottery and wellbeing\nAU  - Ng, A\nPY  - 2019\nER  - \n\n"
    b"TY  - JOUR\nTI  - Lottery and well-being in Finland\nAU  - Ng, Anna\nPY  - 2019\nER  - \n"
)


def test_a_reviewer_clears_the_duplicate_queue_with_the_keyboard(page):
    from reviews import services

    lead = make_user("lena")
    make_user("ana")
    review = services.review_create(user=lead, title="Gambling", slug="gambling")
    services.membership_add(actor=lead, review=review, identifier="ana", roles=["reviewer"])
    search = imports.search_create(actor=lead, review=review, database="Scopus")
    imports.batch_upload(actor=lead, search=search, fileobj=io.BytesIO(RIS), filename="x.ris")
    a, b, c, d = Record.objects.filter(review=review).order_by("pk")
    DuplicatePair.objects.all().delete()
    DuplicateCluster.objects.all().delete()
    first = queued_title_pair(review, a, b, score=5.0, status="similar", similarity=0.8)
    second = queued_title_pair(review, c, d, score=4.0, status="similar", similarity=0.8)
    login(page, "ana")
    page.goto("/reviews/gambling/duplicates/queue/")
    page.get_by_text("Gambling harms among young adults").wait_for()
    page.keyboard.press("2")  # keep the right-hand record as primary
    page.keyboard.press("s")
    page.get_by_text("Lottery and well-being in Finland").wait_for()
    page.keyboard.press("d")
    page.get_by_text("No doubtful pairs are waiting").wait_for()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (PairStatus.SAME, PairStatus.DIFFERENT)
    assert DuplicateCluster.objects.get().primary_id == b.pk
