"""The protocol travels in the review archive, and its fingerprints still verify."""

from __future__ import annotations

import io
import json
import zipfile

from django.contrib.auth import get_user_model
from django.core.management import call_command

from reporting import archive
from reviews.models import Review
from reviews.protocol import selectors
from reviews.protocol.models import ProtocolVersion
from tests.reviews.protocol_factories import amend, amend_draft, register


def test_the_protocol_round_trips_and_its_fingerprints_verify(review, lead, capsys):
    register(review, lead)
    amend(
        review,
        lead,
        {"objectives": {"text": "Ünïcödé aim, “quoted”, τ² and 漢字."}},
        rationale="Sharper.",
    )
    amend_draft(review, lead, {"objectives": {"text": "A draft, not frozen."}})
    before = {
        v.number: (v.fingerprint, v.state, v.sections_changed)
        for v in ProtocolVersion.objects.filter(review=review)
    }
    data = archive.archive_bytes(review=review)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        rows = [
            json.loads(line) for line in zf.read("data/reviews.protocolversion.jsonl").splitlines()
        ]
    assert [row["number"] for row in rows] == [1, 2, 3]
    assert rows[0]["frozen_by"] == {"user": "lead"}

    Review.objects.all().delete()
    get_user_model().objects.all().delete()
    imported = archive.review_import(stream=io.BytesIO(data))
    after = {
        v.number: (v.fingerprint, v.state, v.sections_changed)
        for v in ProtocolVersion.objects.filter(review=imported)
    }
    assert after == before
    assert all(check.ok for check in selectors.fingerprint_checks(imported))
    assert ProtocolVersion.objects.get(review=imported, number=2).author == "lead"  # a name
    call_command("verify_protocol", "--review", imported.slug)
    out = capsys.readouterr().out
    assert "version 1 (registered): OK" in out and "version 2 (amendment): OK" in out
