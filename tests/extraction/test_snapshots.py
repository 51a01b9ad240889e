"""Finalising the consensus extraction as numbered, immutable snapshots (issue 16, part 6)."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from extraction import selectors, services
from extraction.models import ExtractionSnapshot, SnapshotFrozenError, Study
from reviews.constants import Role
from synthesis.stats.escalc import escalc
from tests.conftest import client_for
from tests.extraction.test_extraction import FILLED, _member

API = "/api/reviews/exercise/extraction/snapshots/"
PAGE = "/reviews/exercise/extraction/snapshots/"


@pytest.fixture
def team(review, lead):
    return {
        "a": _member(review, lead, "ext_a", Role.EXTRACTOR),
        "b": _member(review, lead, "ext_b", Role.EXTRACTOR),
        "viewer": _member(review, lead, "viewer", Role.VIEWER),
    }


def _consensus(review, lead, team, label, values, b_values=None):
    """Two extractions (B's may differ), the consensus picking A's value wherever they do."""
    study = Study.objects.create(review=review, label=label)
    for who, mine in ((team["a"], values), (team["b"], b_values or values)):
        services.extraction_save(actor=who, review=review, study=study, values=mine)
        services.extraction_mark(actor=who, review=review, study=study, done=True)
    picks = {k: {"pick": "a"} for k in values if b_values and b_values.get(k) != values[k]}
    services.consensus_save(actor=lead, review=review, study=study, picks=picks, finish=True)
    return study


@pytest.fixture
def ready(review, lead, team):
    services.form_use_template(actor=lead, review=review)
    services.form_publish(actor=lead, review=review)
    one = _consensus(review, lead, team, "Smith 2020", FILLED, {**FILLED, "results.0.m1i": "9"})
    two = _consensus(review, lead, team, "Jones 2021", {**FILLED, "results.0.m1i": "12"})
    Study.objects.create(review=review, label="Late 2022")  # no consensus: left out
    return one, two


def test_a_lead_finalises_a_numbered_snapshot_with_a_sha256(review, lead, team, ready):
    snap = services.snapshot_finalise(actor=lead, review=review)
    assert snap.number == 1 and snap.studies == 2
    canonical = json.dumps(
        snap.content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert snap.sha256 == hashlib.sha256(canonical).hexdigest()
    studies = {s["label"]: s for s in snap.content["studies"]}
    assert set(studies) == {"Smith 2020", "Jones 2021"}
    assert snap.content["left_out"] == [{"label": "Late 2022"}]
    jones = studies["Jones 2021"]
    assert jones["form_version"] == 1 and jones["values"]["results.0.m1i"] == "12"
    ref = escalc("SMD", m1i=[12], sd1i=[2], n1i=[20], m2i=[8], sd2i=[2.5], n2i=[22])
    assert jones["effects"][0]["yi"] == pytest.approx(float(ref.yi[0]), rel=1e-12)
    assert jones["effects"][0]["vi"] == pytest.approx(float(ref.vi[0]), rel=1e-12)
    event = AuditEvent.objects.get(review=review, verb="extraction finalised")
    assert event.changes["number"] == 1 and event.changes["left_out"] == ["Late 2022"]
    assert not snap.stale
    with pytest.raises(ValidationError, match="has not changed since snapshot 1"):
        services.snapshot_finalise(actor=lead, review=review)
    assert ExtractionSnapshot.objects.count() == 1


def test_a_snapshot_never_changes(review, lead, team, ready):
    snap = services.snapshot_finalise(actor=lead, review=review)
    snap.content = {"studies": [], "left_out": []}
    with pytest.raises(SnapshotFrozenError):
        snap.save()
    snap.refresh_from_db()
    assert snap.studies == 2 and len(snap.content["studies"]) == 2


def test_a_consensus_edit_makes_the_snapshot_stale_and_the_next_one_possible(
    review, lead, team, ready
):
    one, _two = ready
    first = services.snapshot_finalise(actor=lead, review=review)
    services.consensus_save(
        actor=lead,
        review=review,
        study=one,
        picks={"results.0.m1i": {"pick": "b"}},
    )
    first.refresh_from_db()
    assert first.stale  # the consensus changed since
    second = services.snapshot_finalise(actor=lead, review=review)
    assert second.number == 2 and not second.stale
    assert first.stale  # a newer snapshot exists
    smith = next(s for s in second.content["studies"] if s["label"] == "Smith 2020")
    assert smith["values"]["results.0.m1i"] == "9"
    assert [s.is_stale for s in selectors.snapshots_with_stale(review)] == [False, True]
    listed = client_for(team["viewer"]).get(API).json()
    assert [(s["number"], s["stale"]) for s in listed] == [(2, False), (1, True)]


def test_nothing_to_finalise_is_refused(review, lead, team):
    with pytest.raises(ValidationError, match="No study has a finished consensus"):
        services.snapshot_finalise(actor=lead, review=review)
    answer = client_for(lead).post(API)
    assert answer.status_code == 400 and "finished consensus" in str(answer.json())
    assert not ExtractionSnapshot.objects.exists()


def test_leads_finalise_members_read_outsiders_get_404(review, lead, team, ready, outsider):
    for who in (team["a"], team["viewer"]):
        with pytest.raises(PermissionDenied):
            services.snapshot_finalise(actor=who, review=review)
        assert client_for(who).post(API).status_code == 403
        assert client_for(who).post(PAGE).status_code == 403
    assert not ExtractionSnapshot.objects.exists()
    answer = client_for(lead).post(PAGE)
    snap = ExtractionSnapshot.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(f"/snapshots/{snap.pk}/")
    viewer = client_for(team["viewer"])
    page = viewer.get(PAGE).content.decode()
    assert "Snapshot 1" in page and "data-current" in page and "data-finalise" not in page
    detail = viewer.get(f"{PAGE}{snap.pk}/").content.decode()
    assert snap.sha256 in detail and "Jones 2021" in detail
    data = viewer.get(f"{API}{snap.pk}/").json()
    assert data["sha256"] == snap.sha256 and len(data["content"]["studies"]) == 2
    assert data["stale"] is False
    out = client_for(outsider)
    for path in (PAGE, f"{PAGE}{snap.pk}/", API, f"{API}{snap.pk}/"):
        assert out.get(path).status_code == 404
    assert out.post(API).status_code == 404


def test_snapshots_travel_in_the_archive_and_stay_current(review, lead, team, ready, outsider):
    from reporting import archive

    snap = services.snapshot_finalise(actor=lead, review=review)
    data = archive.archive_bytes(review=review)
    imported = archive.review_import(stream=io.BytesIO(data), slug="again", actor=outsider)
    copy = ExtractionSnapshot.objects.get(review=imported)
    assert copy.created_by is None and copy.created_by_name == "lead"
    assert copy.sha256 == snap.sha256 and copy.content == snap.content
    assert not copy.stale


# --- Part 7: export ---------------------------------------------------------------------------

EXPORT = "/reviews/exercise/extraction/export/"
API_EXPORT = "/api/reviews/exercise/extraction/export/"


def _csv_rows(body: bytes) -> list[dict]:
    import csv

    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def test_export_of_a_snapshot_has_a_row_per_result_row_with_characteristics(
    review, lead, team, ready, outsider
):
    one, _two = ready
    snap = services.snapshot_finalise(actor=lead, review=review)
    viewer = client_for(team["viewer"])
    answer = viewer.get(f"{EXPORT}?format=csv&snapshot={snap.pk}")
    assert answer.status_code == 200 and answer["Content-Type"] == "text/csv"
    assert "extraction-snapshot-1.csv" in answer["Content-Disposition"]
    rows = _csv_rows(answer.content)
    assert [r["study"] for r in rows] == ["Jones 2021", "Smith 2020"]
    jones = rows[0]
    assert jones["design"] == "parallel" and jones["intervention"] == "Exercise"
    assert jones["outcome.name"] == "Depression" and jones["outcome.effect"] == "SMD"
    assert jones["arm1.name"] == "Exercise" and jones["arm2.name"] == "Waiting list"
    assert jones["result.m1i"] == "12" and jones["form_version"] == "1"
    ref = escalc("SMD", m1i=[12], sd1i=[2], n1i=[20], m2i=[8], sd2i=[2.5], n2i=[22])
    assert float(jones["effect.yi"]) == pytest.approx(float(ref.yi[0]), rel=1e-12)
    # A consensus edit after the snapshot: the snapshot's export is unchanged, the current one
    # follows the consensus.
    services.consensus_save(
        actor=lead, review=review, study=one, picks={"results.0.m1i": {"pick": "b"}}
    )
    again = _csv_rows(viewer.get(f"{EXPORT}?format=csv&snapshot={snap.pk}").content)
    assert again == rows
    current = _csv_rows(viewer.get(API_EXPORT, {"format": "csv"}).content)
    assert next(r for r in current if r["study"] == "Smith 2020")["result.m1i"] == "9"
    for path in (EXPORT, API_EXPORT):
        assert client_for(outsider).get(path).status_code == 404
    assert viewer.get(API_EXPORT, {"format": "pdf"}).status_code == 400
    assert viewer.get(f"{EXPORT}?format=csv&snapshot=999999").status_code == 404


def test_export_as_xlsx_keeps_numbers_and_makes_formulas_text(review, lead, team, ready):
    from openpyxl import load_workbook

    from extraction.models import Extraction

    consensus = Extraction.objects.get(study__label="Smith 2020", kind="consensus")
    Extraction.objects.filter(pk=consensus.pk).update(
        values={**consensus.values, "intervention": '=HYPERLINK("http://x")'}
    )
    answer = client_for(team["viewer"]).get(API_EXPORT, {"format": "xlsx"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(2)]
    smith = next(r for r in rows if r["study"] == "Smith 2020")
    assert smith["intervention"] == '\'=HYPERLINK("http://x")'
    assert smith["result.m1i"] == 10 and smith["result.sd2i"] == 2.5
    assert isinstance(smith["effect.yi"], float)


# --- Part 7: import ---------------------------------------------------------------------------

IMPORT = "/reviews/exercise/extraction/import/"
API_IMPORT = "/api/reviews/exercise/extraction/import/"


def _upload(name: str, body: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, body)


def _consensus_values(label: str) -> dict:
    from extraction.models import Extraction

    return Extraction.objects.get(study__label=label, kind="consensus").values


def test_an_exported_file_imports_back_unchanged_and_audited(review, lead, team, ready):
    before = {label: _consensus_values(label) for label in ("Smith 2020", "Jones 2021")}
    for fmt in ("csv", "xlsx"):
        body = client_for(lead).get(API_EXPORT, {"format": fmt}).content
        answer = client_for(lead).post(API_IMPORT, {"file": _upload(f"data.{fmt}", body)})
        assert answer.status_code == 200, answer.content
        report = answer.json()
        assert sorted(report["imported"]) == ["Jones 2021", "Smith 2020"]
        assert report["problems"] == []
        for label, values in before.items():
            assert _consensus_values(label) == values
    assert AuditEvent.objects.filter(review=review, verb="consensus imported").count() == 4


def test_a_spreadsheet_fills_a_study_s_consensus_through_the_mapping_page(
    review, lead, team, ready
):
    late = Study.objects.get(label="Late 2022")
    table = (
        b"Trial,Design,Outcome,Measure,Arm A,N A,Arm B,N B,Events A,Events B,Total A,Total B\n"
        b"Late 2022,parallel,Death,RR,Vaccine,100,Placebo,100,4,11,100,100\n"
        b"Nobody 1999,parallel,Death,RR,Vaccine,10,Placebo,10,1,2,10,10\n"
    )
    client = client_for(lead)
    step = client.post(IMPORT, {"file": _upload("mine.csv", table)})
    assert step.status_code == 200 and b"data-mapping" in step.content
    signed = step.context["table"]
    targets = {
        "Trial": "study",
        "Design": "design",
        "Outcome": "outcome.name",
        "Measure": "outcome.effect",
        "Arm A": "arm1.name",
        "N A": "arm1.n",
        "Arm B": "arm2.name",
        "N B": "arm2.n",
        "Events A": "result.ai",
        "Events B": "result.ci",
        "Total A": "result.n1i",
        "Total B": "result.n2i",
    }
    header = table.decode().splitlines()[0].split(",")
    mapping = {f"map:{i}": targets[c] for i, c in enumerate(header)}
    answer = client.post(IMPORT, {"table": signed, **mapping})
    page = answer.content.decode()
    assert answer.status_code == 200 and "data-imported" in page
    assert "unknown study" in page and "Nobody 1999" in page
    values = _consensus_values("Late 2022")
    assert values["arms.0.name"] == "Vaccine" and values["arms.1.name"] == "Placebo"
    assert values["results.0.arm1"] == "1" and values["results.0.arm2"] == "2"
    (effect,) = selectors.effect_sizes(late)
    ref = escalc("RR", ai=[4], bi=[96], ci=[11], di=[89])
    assert effect["yi"] == pytest.approx(float(ref.yi[0]), rel=1e-12)
    tampered = client.post(IMPORT, {"table": signed[:-2] + "xx", **mapping}, follow=True)
    assert b"damaged on the way" in tampered.content


def test_what_does_not_fit_is_reported_and_the_study_left_out_whole(review, lead, team, ready):
    smith = _consensus_values("Smith 2020")
    table = (
        b"study,design,result.m1i,result.sd1i,colour\n"
        b"Smith 2020,parallel,11,-2,blue\n"  # a negative SD is allowed by type; m1i fine
        b"Smith 2020,parallel,abc,2,blue\n"
        b"Jones 2021,parallel,13,2,red\n"
    )
    mapping = json.dumps(
        {"study": "study", "design": "design", "result.m1i": "result.m1i", "colour": "hue"}
    )
    answer = client_for(lead).post(
        API_IMPORT, {"file": _upload("x.csv", table), "mapping": mapping}
    )
    report = answer.json()
    assert answer.status_code == 200 and report["imported"] == ["Jones 2021"]
    problems = {(p["line"], p["column"]): p for p in report["problems"]}
    assert "unknown field 'hue'" in problems[(1, "colour")]["problem"]
    assert problems[(3, "result.m1i")]["study"] == "Smith 2020"
    assert "number" in problems[(3, "result.m1i")]["problem"]
    assert _consensus_values("Smith 2020") == smith  # left out whole
    assert _consensus_values("Jones 2021")["results.0.m1i"] == "13"


HOSTILE = {
    "doctype.xlsx": "DOCTYPE",
    "damaged.xlsx": "not a readable Excel workbook",
    "binary.csv": "not a CSV or XLSX table",
    "empty.csv": "empty",
}


def _hostile(name: str) -> bytes:
    from tests.identification.test_hostile_xlsx import SHEET, rewrite, valid_xlsx, with_doctype

    if name == "doctype.xlsx":
        return rewrite(valid_xlsx(3), SHEET, with_doctype(b'<!DOCTYPE x [<!ENTITY a "b">]>'))
    if name == "damaged.xlsx":
        return valid_xlsx(3)[:300]
    if name == "binary.csv":
        return b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4
    return b"  \n"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_get_a_message_and_change_nothing(review, lead, team, ready, name):
    from extraction.models import Extraction

    before = list(Extraction.objects.values_list("pk", "values", "updated_at"))
    events = AuditEvent.objects.count()
    answer = client_for(lead).post(API_IMPORT, {"file": _upload(name, _hostile(name))})
    assert answer.status_code == 400 and HOSTILE[name] in str(answer.json())
    page = client_for(lead).post(IMPORT, {"file": _upload(name, _hostile(name))}, follow=True)
    assert page.status_code == 200 and HOSTILE[name] in page.content.decode()
    assert list(Extraction.objects.values_list("pk", "values", "updated_at")) == before
    assert AuditEvent.objects.count() == events


def test_a_huge_file_or_an_unknown_encoding_is_handled(review, lead, team, ready, monkeypatch):
    from extraction import imports

    monkeypatch.setattr(imports, "MAX_IMPORT_BYTES", 200)
    big = b"study,design\n" + b"Smith 2020,parallel\n" * 20
    answer = client_for(lead).post(API_IMPORT, {"file": _upload("big.csv", big)})
    assert answer.status_code == 400 and "over" in str(answer.json())
    monkeypatch.undo()
    latin = "study,design,intervention\nSmith 2020,parallel,Caf\xe9 visits\n".encode("latin-1")
    answer = client_for(lead).post(API_IMPORT, {"file": _upload("latin.csv", latin)})
    assert answer.status_code == 200 and answer.json()["imported"] == ["Smith 2020"]
    assert _consensus_values("Smith 2020")["intervention"] == "Caf\xe9 visits"


def test_only_leads_import(review, lead, team, ready, outsider):
    body = b"study,design\nSmith 2020,cluster\n"
    for who in (team["a"], team["viewer"]):
        assert client_for(who).post(API_IMPORT, {"file": _upload("a.csv", body)}).status_code == 403
        assert client_for(who).post(IMPORT, {"file": _upload("a.csv", body)}).status_code == 403
    assert (
        client_for(outsider).post(API_IMPORT, {"file": _upload("a.csv", body)}).status_code == 404
    )
    assert client_for(outsider).get(IMPORT).status_code == 404
    assert client_for(team["viewer"]).get(IMPORT).status_code == 200
    assert _consensus_values("Smith 2020")["design"] == "parallel"
