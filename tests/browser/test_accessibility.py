"""axe-core, vendored (tests/browser/vendor/, never fetched), run in Chromium on every page a
team works in, on the demo review: no violation of impact "serious" or "critical"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from demo.bcg import demo_bcg_build
from demo.build import DEMO_PASSWORD, demo_build
from demo.ranking import demo_ranking_build
from extraction.models import Study
from reviews import services
from screening.models import ScreeningItem
from synthesis.models import Analysis, AnalysisResult
from synthesis.narrative.models import NarrativeSynthesis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}
R = "/reviews/demo"
B = "/reviews/demo-bcg"
K = "/reviews/demo-ranking"

#: (name, address, who looks at it). The lead sees every link and form; reviewer A screens.
PAGES = [
    ("login", "/accounts/login/", None),
    ("sign-up", "/accounts/signup/", None),
    ("my reviews", "/reviews/", "lead"),
    ("new review", "/reviews/new/", "lead"),
    ("dashboard", f"{R}/", "lead"),
    ("dashboard (reviewer)", f"{R}/", "reviewer_a"),
    ("searches", f"{R}/searches/", "lead"),
    ("records", f"{R}/records/", "lead"),
    ("title/abstract stage", f"{R}/screening/title-abstract/", "lead"),
    ("title/abstract stage (reviewer)", f"{R}/screening/title-abstract/", "reviewer_a"),
    ("title/abstract screen", f"{R}/screening/title-abstract/screen/", "lead"),
    ("title/abstract conflicts", f"{R}/screening/title-abstract/conflicts/", "lead"),
    ("full text", f"{R}/screening/full-text/", "lead"),
    ("full-text screen", f"{R}/screening/full-text/screen/", "reviewer_a"),
    ("agreement", f"{R}/screening/agreement/", "lead"),
    ("screening settings", f"{R}/screening/settings/", "lead"),
    ("PRISMA", f"{R}/prisma/", "lead"),
    ("PRISMA, round 1", f"{R}/prisma/?round=1", "reviewer_a"),
    ("update rounds", f"{R}/rounds/", "lead"),
    ("change log", f"{R}/rounds/changelog/", "reviewer_a"),
    ("team", f"{R}/team/", "lead"),
    ("team (reviewer)", f"{R}/team/", "reviewer_a"),
    ("invite by e-mail", f"{R}/team/invite/", "lead"),
    ("an invitation's link", "{invitation}", None),
    ("review settings", f"{R}/settings/", "lead"),
    ("audit log", f"{R}/audit/", "lead"),
    ("protocol", f"{R}/protocol/", "lead"),
    ("protocol (reviewer)", f"{R}/protocol/", "reviewer_a"),
    ("protocol editor", f"{R}/protocol/edit/", "lead"),
    ("protocol versions compared", f"{R}/protocol/diff/", "reviewer_a"),
    ("differences from the protocol", f"{R}/protocol/deviations/", "lead"),
    ("prioritisation and stopping", f"{R}/screening/prioritisation/", "lead"),
    ("prioritisation and stopping (reviewer)", f"{R}/screening/prioritisation/", "reviewer_a"),
    # The third: screening under way in a ranked queue.
    ("ranked queue, screen", f"{K}/screening/title-abstract/screen/", "reviewer_a"),
    ("ranked queue, prioritisation", f"{K}/screening/prioritisation/", "lead"),
    # The second demo review (real BCG trials): extraction, risk of bias and synthesis.
    ("studies", f"{B}/extraction/studies/", "lead"),
    ("a study", f"{B}/extraction/studies/{{study}}/", "lead"),
    ("extraction form", f"{B}/extraction/form/", "lead"),
    ("extraction compared", f"{B}/extraction/studies/{{study}}/compare/", "lead"),
    ("data snapshots", f"{B}/extraction/snapshots/", "stats"),
    ("risk of bias", f"{B}/extraction/rob/", "lead"),
    ("risk-of-bias settings", f"{B}/extraction/rob/settings/", "lead"),
    ("risk-of-bias assessment", f"{B}/extraction/rob/studies/{{study}}/assess/", "reviewer_a"),
    ("risk of bias compared", f"{B}/extraction/rob/studies/{{study}}/compare/", "lead"),
    ("risk-of-bias figures", f"{B}/extraction/rob/figures/", "reviewer_b"),
    ("analyses", f"{B}/synthesis/", "stats"),
    ("an analysis", f"{B}/synthesis/{{analysis}}/", "stats"),
    ("an analysis's results", f"{B}/synthesis/results/{{result}}/", "reviewer_a"),
    ("summary of findings", f"{B}/synthesis/sof/", "stats"),
    ("narrative syntheses", f"{B}/synthesis/narrative/", "stats"),
    ("a narrative synthesis", f"{B}/synthesis/narrative/{{narrative}}/", "lead"),
]


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 200),
                                          summary: n.failureSummary})),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in BLOCKING]


def log_in(context, username: str) -> None:
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My reviews").wait_for()
    page.close()


def test_no_page_has_a_serious_or_critical_accessibility_violation(browser, live_server):
    assert AXE.read_text(encoding="utf-8")[:200].startswith("/*! axe v4.")
    review = demo_build()
    _, token = services.invitation_create(
        actor=review.created_by, review=review, email="new@example.org", roles=["reviewer"]
    )
    # The full-text stage has a record to show reviewer A (the demo leaves one to assess).
    assert ScreeningItem.objects.filter(record__review=review, stage="full_text").exists()
    people = {u.username: u for u in get_user_model().objects.all()}
    bcg = demo_bcg_build(people)
    demo_ranking_build(people)
    ids = {
        "invitation": f"/accounts/invitations/{token}/",
        "study": Study.objects.filter(review=bcg).order_by("pk").first().pk,
        "analysis": Analysis.objects.filter(review=bcg).order_by("pk").first().pk,
        "result": AnalysisResult.objects.filter(analysis__review=bcg).order_by("pk").first().pk,
        "narrative": NarrativeSynthesis.objects.filter(review=bcg).order_by("pk").first().pk,
    }
    contexts = {}
    found: dict[str, list[dict]] = {}
    try:
        for name, url, who in PAGES:
            if who not in contexts:
                contexts[who] = browser.new_context(base_url=live_server.url)
                if who:
                    log_in(contexts[who], who)
            page = contexts[who].new_page()
            page.set_default_timeout(15_000)
            response = page.goto(url.format(**ids))
            assert response.status == 200, (name, url, response.status)
            page.wait_for_load_state("networkidle")
            violations = axe_violations(page)
            if violations:
                found[name] = violations
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert not found, json.dumps(found, indent=1)
