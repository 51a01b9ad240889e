"""The second demo review: the 13 BCG trials of metadat's dat.bcg, extracted, checked in
consensus and finalised, their effect sizes those of metafor's escalc (issue 16, part 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from demo.bcg import BCG_SLUG, DISAGREEMENT
from demo.build import DEMO_PASSWORD
from extraction import selectors
from extraction.models import Extraction, Study
from reviews.models import Review

#: Made with the R line it records (metafor 3.8-1, metadat 1.2.0).
REFERENCE = json.loads((Path(__file__).parent / "bcg_escalc_rr.json").read_text())


def test_the_bcg_demo_has_13_finalised_studies_with_metafor_s_log_risk_ratios(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    review = Review.objects.get(slug=BCG_SLUG)
    assert Study.objects.filter(review=review).count() == 13
    assert selectors.counts(review) == {"studies": 13, "reports": 13, "unlinked_reports": 0}
    assert Extraction.objects.filter(review=review, kind="consensus", done=True).count() == 13
    snapshot = selectors.latest_snapshot(review)
    assert snapshot.number == 1 and snapshot.studies == 13 and not snapshot.stale
    assert len(REFERENCE["trials"]) == 13
    by_label = {s["label"]: s for s in snapshot.content["studies"]}
    for trial in REFERENCE["trials"]:
        (effect,) = by_label[f"{trial['author']} {trial['year']}"]["effects"]
        assert effect["measure"] == "RR"
        assert effect["yi"] == pytest.approx(trial["yi"], rel=1e-10)
        assert effect["vi"] == pytest.approx(trial["vi"], rel=1e-10)
    resolved = Extraction.objects.get(
        review=review, kind="consensus", study__label__startswith="Hart"
    )
    assert DISAGREEMENT == 4 and resolved.resolved == ["results.0.ci"]
    client = Client()
    assert client.login(username="reviewer_b", password=DEMO_PASSWORD)
    listing = client.get("/reviews/").content.decode()
    assert "/reviews/demo/" in listing and f"/reviews/{BCG_SLUG}/" in listing
    page = client.get(f"/reviews/{BCG_SLUG}/extraction/snapshots/{snapshot.pk}/")
    assert page.status_code == 200 and b"Aronson 1948" in page.content
