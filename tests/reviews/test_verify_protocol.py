"""``manage.py verify_protocol``: fingerprints recomputed; tampering in the database is caught."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from reviews.protocol.models import ProtocolVersion
from tests.conftest import client_for
from tests.reviews.protocol_factories import amend, register


@pytest.fixture
def amended(review, lead):
    register(review, lead)
    amend(review, lead, {"objectives": {"text": "A sharper aim."}})
    return review


def test_it_prints_each_version_ok_when_nothing_changed(amended, capsys):
    call_command("verify_protocol", "--review", "exercise")
    out = capsys.readouterr().out
    v1, v2 = ProtocolVersion.objects.filter(review=amended).order_by("number")
    assert f"version 1 (registered): OK, sha256 {v1.fingerprint}" in out
    assert f"version 2 (amendment): OK, sha256 {v2.fingerprint}" in out


def test_a_raw_sql_update_of_a_frozen_version_is_caught_and_named(amended, lead, capsys):
    v1 = ProtocolVersion.objects.get(review=amended, number=1)
    content = dict(v1.content)
    content["eligibility"] = {**content["eligibility"], "exclusion": ["Children only"]}
    table = ProtocolVersion._meta.db_table
    with connection.cursor() as cursor:
        # Around the model (whose save() refuses): what someone with the database could do.
        cursor.execute(
            f"UPDATE {table} SET content = %s WHERE id = %s",  # noqa: S608 - table name is ours
            [json.dumps(content), v1.pk],
        )
    with pytest.raises(CommandError, match=r"protocol version 1 of 'exercise' no longer matches"):
        call_command("verify_protocol", "--review", "exercise")
    out = capsys.readouterr().out
    assert "version 1 (registered): MISMATCH" in out
    assert "version 2 (amendment): OK" in out
    # The pages and the API say so too.
    client = client_for(lead)
    page = client.get("/reviews/exercise/protocol/").content.decode()
    assert 'data-fingerprint="mismatch"' in page
    listing = client.get("/api/reviews/exercise/protocol/versions/").json()["results"]
    assert [v["fingerprint_ok"] for v in listing] == [False, True]


def test_the_command_line_exits_non_zero_naming_the_version(amended, capsys, monkeypatch):
    from django.core.management import ManagementUtility
    from django.db import connections

    # A command run from the command line closes every connection when it exits with an
    # error; here that would be the test's own (its transaction holds the data).
    monkeypatch.setattr(connections, "close_all", lambda: None)
    v2 = ProtocolVersion.objects.get(review=amended, number=2)
    ProtocolVersion.objects.filter(pk=v2.pk).update(rationale="ignored", content={"x": 1})
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "verify_protocol", "--review", "exercise"]).execute()
    assert exc.value.code != 0
    assert "protocol version 2 of 'exercise'" in capsys.readouterr().err
    ProtocolVersion.objects.filter(pk=v2.pk).update(content=v2.content)
    ManagementUtility(["manage.py", "verify_protocol", "--review", "exercise"]).execute()


def test_an_unknown_review_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No review 'nope'"):
        call_command("verify_protocol", "--review", "nope")


def test_a_review_without_a_registered_protocol_has_nothing_to_verify(review, capsys):
    call_command("verify_protocol", "--review", "exercise")
    assert "no registered protocol version" in capsys.readouterr().out
