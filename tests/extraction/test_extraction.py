"""Extraction forms, extraction, dual extraction with consensus, and effect sizes (issue 16,
parts 2-5)."""

from __future__ import annotations

import math

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from extraction import schema as forms
from extraction import selectors, services
from extraction.models import Extraction, FormVersion, Study
from reviews import services as review_services
from reviews.constants import Role
from synthesis.stats.escalc import escalc
from tests.conftest import client_for, make_user

B_MARKER = "B-EXTRACTION-MARKER-5d1e"


def _member(review, lead, name, role):
    user = make_user(name)
    review_services.membership_add(actor=lead, review=review, identifier=name, roles=[role])
    return user


@pytest.fixture
def ext_a(review, lead):
    return _member(review, lead, "ext_a", Role.EXTRACTOR)


@pytest.fixture
def ext_b(review, lead):
    return _member(review, lead, "ext_b", Role.EXTRACTOR)


@pytest.fixture
def viewer(review, lead):
    return _member(review, lead, "viewer", Role.VIEWER)


@pytest.fixture
def study(review):
    return Study.objects.create(review=review, label="Smith 2020")


@pytest.fixture
def published(review, lead):
    services.form_use_template(actor=lead, review=review)
    version, created = services.form_publish(actor=lead, review=review)
    assert created and version.number == 1
    return version


#: A complete RCT extraction: two arms, one outcome (SMD), one result row of means.
FILLED = {
    "design": "parallel",
    "intervention": "Exercise",
    "comparator": "Waiting list",
    "arms.0.name": "Exercise",
    "arms.0.n": "25",
    "arms.1.name": "Waiting list",
    "arms.1.n": "25",
    "outcomes.0.name": "Depression",
    "outcomes.0.timepoint": "12 weeks",
    "outcomes.0.effect": "SMD",
    "results.0.outcome": "1",
    "results.0.arm1": "1",
    "results.0.arm2": "2",
    "results.0.m1i": "10",
    "results.0.sd1i": "2",
    "results.0.n1i": "20",
    "results.0.m2i": "8",
    "results.0.sd2i": "2.5",
    "results.0.n2i": "22",
}


def test_publishing_a_changed_form_makes_a_version_and_no_value_is_lost(
    review, lead, ext_a, study, published
):
    services.extraction_save(
        actor=ext_a, review=review, study=study, values={**FILLED, "funding": "Ministry"}
    )
    assert services.form_publish(actor=lead, review=review) == (published, False)
    services.form_remove_field(actor=lead, review=review, key="funding")
    services.form_add_field(
        actor=lead, review=review, where="Methods", label="Unit of analysis", type_="text"
    )
    v2, created = services.form_publish(actor=lead, review=review)
    assert created and v2.number == 2 and FormVersion.objects.filter(review=review).count() == 2
    mine = selectors.own_extraction(ext_a, study)
    assert mine.form_version == published and mine.values["funding"] == "Ministry"
    page = client_for(ext_a).get(f"/reviews/exercise/extraction/studies/{study.pk}/extract/")
    assert b"From an earlier form version" in page.content and b"Ministry" in page.content
    assert b"Unit of analysis" in page.content
    services.extraction_save(
        actor=ext_a, review=review, study=study, values={"unit_of_analysis": "participant"}
    )
    mine.refresh_from_db()
    assert mine.form_version == v2 and mine.values["funding"] == "Ministry"
    with pytest.raises(ValidationError, match="not a field"):
        services.extraction_save(actor=ext_a, review=review, study=study, values={"funding": "x"})
    assert AuditEvent.objects.filter(review=review, verb="extraction form published").count() == 2


def test_the_form_builder_checks_fields_and_only_leads_edit_it(review, lead, ext_a):
    with pytest.raises(ValidationError, match="needs choices"):
        services.form_add_field(
            actor=lead, review=review, where="Methods", label="Design", type_=forms.CHOICE
        )
    with pytest.raises(ValidationError, match="choose one of"):
        services.form_add_field(actor=lead, review=review, where="M", label="X", type_="blob")
    with pytest.raises(ValidationError, match="at least one field"):
        services.form_publish(actor=lead, review=review)
    with pytest.raises(PermissionDenied):
        services.form_use_template(actor=ext_a, review=review)
    services.form_add_field(
        actor=lead, review=review, where="outcomes", label="Assessor", type_=forms.TEXT
    )
    draft = selectors.form_of(review).draft
    assert [f["key"] for f in draft["outcomes"]][-1] == "assessor"
    assert {f["key"] for f in draft["arms"]} >= {"name", "n"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"results.0.m1i": "ten"}, "is not a number"),
        ({"arms.0.n": "2.5"}, "not a whole number"),
        ({"design": "stepped"}, "not one of the choices"),
        ({"start_date": "31/12/2020"}, "is not a date"),
    ],
)
def test_bad_values_are_named_and_change_nothing(review, ext_a, study, published, values, message):
    with pytest.raises(ValidationError, match=message):
        services.extraction_save(actor=ext_a, review=review, study=study, values=values)
    assert not Extraction.objects.exists()


def test_cross_checks_explain_themselves_and_block_done(review, ext_a, study, published):
    bad = {
        **FILLED,
        "results.0.sd1i": "-2",
        "results.0.n2i": "30",
        "results.1.outcome": "1",
        "results.1.arm1": "1",
        "results.1.arm2": "2",
        "results.1.yi": "0.5",
        "results.1.ci_lb": "0.6",
        "results.1.ci_ub": "0.9",
    }
    services.extraction_save(actor=ext_a, review=review, study=study, values=bad)
    problems = forms.cross_checks(selectors.own_extraction(ext_a, study).values)
    assert problems["results.0.sd1i"] == "Result row 1: an SD cannot be negative (-2)."
    assert "more than the 25 randomised to arm 2" in problems["results.0.n2i"]
    assert "does not contain the estimate 0.5" in problems["results.1.yi"]
    with pytest.raises(ValidationError, match="SD cannot be negative"):
        services.extraction_mark(actor=ext_a, review=review, study=study, done=True)
    page = client_for(ext_a).get(f"/reviews/exercise/extraction/studies/{study.pk}/extract/")
    assert b"an SD cannot be negative" in page.content
    # Saved as you go: htmx posts one field and hears back what is wrong.
    answer = client_for(ext_a).post(
        f"/reviews/exercise/extraction/studies/{study.pk}/extract/",
        {"results.0.sd1i": "abc"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 400 and b"is not a number" in answer.content


def _dual(review, lead, ext_a, ext_b, study):
    services.extraction_save(actor=ext_a, review=review, study=study, values=FILLED)
    services.extraction_save(
        actor=ext_b,
        review=review,
        study=study,
        values={**FILLED, "results.0.m1i": "11", "comparator": B_MARKER},
    )


def test_extractors_are_blinded_until_both_are_done(review, lead, ext_a, ext_b, study, published):
    _dual(review, lead, ext_a, ext_b, study)
    a = client_for(ext_a)
    for path in ("extract/", "compare/", ""):
        body = a.get(f"/reviews/exercise/extraction/studies/{study.pk}/{path}").content
        assert B_MARKER.encode() not in body
    api = a.get(f"/api/reviews/exercise/extraction/studies/{study.pk}/extractions/").json()
    assert [e["extractor"] for e in api] == ["ext_a"]
    assert B_MARKER not in str(
        a.get(f"/api/reviews/exercise/extraction/studies/{study.pk}/comparison/").json()
    )
    assert (
        B_MARKER.encode()
        in client_for(lead).get(f"/reviews/exercise/extraction/studies/{study.pk}/compare/").content
    )  # a lead sees both at once
    services.extraction_mark(actor=ext_a, review=review, study=study, done=True)
    assert selectors.study_status(study) == "in progress"
    services.extraction_mark(actor=ext_b, review=review, study=study, done=True)
    assert selectors.study_status(study) == "done"
    body = a.get(f"/reviews/exercise/extraction/studies/{study.pk}/compare/").content.decode()
    assert B_MARKER in body and body.count("data-differs") == 2


def test_consensus_by_a_lead_picks_a_b_or_a_typed_value(
    review, lead, ext_a, ext_b, study, published
):
    _dual(review, lead, ext_a, ext_b, study)
    with pytest.raises(ValidationError, match="Both extractions"):
        services.consensus_save(actor=lead, review=review, study=study, picks={})
    for who in (ext_a, ext_b):
        services.extraction_mark(actor=who, review=review, study=study, done=True)
    with pytest.raises(PermissionDenied):  # an extractor of the study may not decide
        services.consensus_save(actor=ext_a, review=review, study=study, picks={})
    third = _member(review, lead, "ext_c", Role.EXTRACTOR)
    services.consensus_save(
        actor=third, review=review, study=study, picks={"comparator": {"pick": "a"}}
    )
    with pytest.raises(ValidationError, match=r"Still to resolve: results\.0\.m1i"):
        services.consensus_save(actor=lead, review=review, study=study, picks={}, finish=True)
    with pytest.raises(ValidationError, match="not a number"):
        services.consensus_save(
            actor=lead,
            review=review,
            study=study,
            picks={"results.0.m1i": {"pick": "value", "value": "x"}},
        )
    answer = client_for(lead).post(
        f"/reviews/exercise/extraction/studies/{study.pk}/compare/",
        {"pick:results.0.m1i": "value", "value:results.0.m1i": "10.5", "finish": "1"},
    )
    assert answer.status_code == 302
    consensus = selectors.consensus_of(study)
    assert consensus.done and consensus.values["results.0.m1i"] == "10.5"
    assert consensus.values["comparator"] == "Waiting list"
    assert selectors.study_status(study) == "consensus"
    assert AuditEvent.objects.filter(review=review, verb="consensus done").exists()

    # Part 5: the effect size of the consensus row, by synthesis.stats (metafor's escalc).
    (row,) = selectors.effect_sizes(study)
    ref = escalc("SMD", m1i=[10.5], sd1i=[2], n1i=[20], m2i=[8], sd2i=[2.5], n2i=[22])
    assert row["measure"] == "SMD" and row["outcome"] == "Depression"
    assert math.isclose(row["yi"], float(ref.yi[0]), rel_tol=1e-12)
    assert math.isclose(row["vi"], float(ref.vi[0]), rel_tol=1e-12)
    assert math.isclose(row["yi"], 2.5 / math.sqrt(207.25 / 40) * (1 - 3 / 159), rel_tol=1e-4)
    page = client_for(lead).get(f"/reviews/exercise/extraction/studies/{study.pk}/")
    assert b"data-effects" in page.content and b"SMD" in page.content
    api = client_for(lead).get(f"/api/reviews/exercise/extraction/studies/{study.pk}/effects/")
    assert api.json()[0]["yi"] == pytest.approx(row["yi"])


def test_effects_of_events_correlations_and_reported_cis():
    values = {
        "outcomes.0.effect": "OR",
        "outcomes.1.effect": "GEN",
        "outcomes.2.effect": "ZCOR",
        "outcomes.3.effect": "RR",
        "results.0.outcome": "1",
        "results.0.ai": "0",
        "results.0.n1i": "10",
        "results.0.ci": "3",
        "results.0.n2i": "10",
        "results.1.outcome": "2",
        "results.1.yi": "2",
        "results.1.ci_lb": "1",
        "results.1.ci_ub": "4",
        "results.1.ratio": "yes",
        "results.2.outcome": "3",
        "results.2.ri": "0.3",
        "results.2.ni": "50",
        "results.3.outcome": "4",
        "results.3.ai": "3",
    }
    from extraction.effects import row_effects

    rows = row_effects(values)
    a, b, c, d = 0.5, 10.5, 3.5, 7.5  # metafor adds 1/2 to every cell of a table with a zero
    assert rows[0]["yi"] == pytest.approx(math.log(a * d / (b * c)), rel=1e-12)
    assert rows[0]["vi"] == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d, rel=1e-12)
    assert rows[1]["yi"] == pytest.approx(math.log(2), rel=1e-12)
    assert rows[1]["vi"] == pytest.approx((math.log(4) / (2 * 1.959963984540054)) ** 2)
    assert rows[2]["yi"] == pytest.approx(math.atanh(0.3)) and rows[2]["vi"] == pytest.approx(
        1 / 47
    )
    assert rows[3]["problem"] == "Not computed: events and totals of both arms are needed."


def test_permissions_viewers_read_outsiders_get_404(
    review, lead, viewer, outsider, reviewer_a, study, published
):
    base = f"/reviews/exercise/extraction/studies/{study.pk}/"
    for path in ("extract/", "compare/"):
        assert client_for(viewer).get(base + path).status_code == 200
        assert client_for(outsider).get(base + path).status_code == 404
    assert client_for(viewer).post(base + "extract/", {"design": "parallel"}).status_code == 403
    assert client_for(reviewer_a).post(base + "compare/", {}).status_code == 403
    assert client_for(viewer).post("/reviews/exercise/extraction/form/", {}).status_code == 403
    assert client_for(viewer).get("/reviews/exercise/extraction/form/").status_code == 200
    api = f"/api/reviews/exercise/extraction/studies/{study.pk}/extractions/"
    assert (
        client_for(viewer)
        .post(api, {"values": {"design": "parallel"}}, content_type="application/json")
        .status_code
        == 403
    )
    assert client_for(outsider).get(api).status_code == 404
    assert client_for(viewer).get(base + "fulltext/").status_code == 404  # no PDF attached
    assert not Extraction.objects.exists()


def test_extractions_travel_in_the_archive(review, lead, ext_a, study, published, outsider):
    import io

    from reporting import archive

    services.extraction_save(actor=ext_a, review=review, study=study, values=FILLED)
    data = archive.archive_bytes(review=review)
    imported = archive.review_import(stream=io.BytesIO(data), slug="again", actor=outsider)
    copy = Extraction.objects.get(review=imported)
    assert copy.extractor is None and copy.extractor_name == "ext_a"
    assert copy.values == selectors.own_extraction(ext_a, study).values
    assert copy.form_version.review == imported and copy.study.review == imported
    imported.delete()  # the form version an extraction protects goes with its review
    assert not Extraction.objects.filter(review_id=copy.review_id).exists()


def test_the_extraction_page_shows_the_study_s_pdf_beside_the_form(
    review, lead, reviewer_a, reviewer_b, published
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from screening.constants import Stage
    from screening.fulltext import services as fulltext
    from screening.models import ScreeningItem
    from tests.extraction.test_studies import include_at_full_text
    from tests.screening.factories import PDF, make_records

    records = make_records(review, 2)
    include_at_full_text(review, reviewer_a, reviewer_b, records)
    item = ScreeningItem.objects.get(record=records[0], stage=Stage.FULL_TEXT)
    fulltext.report_attach(
        user=reviewer_a,
        review=review,
        item=item,
        upload=SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
    )
    study = services.study_create(actor=lead, review=review, records=[r.pk for r in records])
    base = f"/reviews/exercise/extraction/studies/{study.pk}/"
    page = client_for(lead).get(base + "extract/").content.decode()
    assert f'<iframe src="{base}fulltext/?record={records[0].pk}"' in page
    assert "https://example.org/a.pdf" in page  # the other report has a link only
    pdf = client_for(reviewer_a).get(base + "fulltext/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == PDF
    assert pdf["Content-Type"] == "application/pdf" and pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in pdf["Content-Security-Policy"]
    assert client_for(lead).get(base + f"fulltext/?record={records[1].pk}").status_code == 404


def test_the_api_builds_the_form_extracts_and_resolves(review, lead, ext_a, ext_b, study):
    api = "/api/reviews/exercise/extraction/"
    lead_api = client_for(lead)
    bad = lead_api.put(api + "form/", {"schema": {"sections": 3}}, content_type="application/json")
    assert bad.status_code == 400 and "sections must be a list" in str(bad.json())
    schema = {
        "sections": [
            {"title": "Methods", "fields": [{"key": "design", "label": "Design"}]},
        ],
        "arms": [],
        "outcomes": [],
    }
    put = lead_api.put(api + "form/", {"schema": schema}, content_type="application/json")
    assert put.status_code == 200 and put.json()["unpublished"] is True
    assert client_for(ext_a).post(api + "form/publish/").status_code == 403
    assert lead_api.post(api + "form/publish/").status_code == 201
    assert lead_api.post(api + "form/publish/").status_code == 200  # unchanged: no new version
    assert [v["number"] for v in client_for(ext_a).get(api + "form/versions/").json()] == [1]
    base = f"{api}studies/{study.pk}/"
    for who, design in ((ext_a, "parallel"), (ext_b, "crossover")):
        saved = client_for(who).post(
            base + "extractions/", {"values": {"design": design}}, content_type="application/json"
        )
        assert saved.status_code == 200 and saved.json()["form_version"] == 1
        done = client_for(who).post(base + "extractions/done/", {}, content_type="application/json")
        assert done.status_code == 200 and done.json()["done"] is True
    rows = client_for(ext_a).get(base + "comparison/").json()["rows"]
    assert rows == [
        {
            "key": "design",
            "label": "Design",
            "a": "parallel",
            "b": "crossover",
            "differs": True,
            "consensus": "",
            "resolved": False,
        }
    ]
    assert (
        client_for(ext_a).post(base + "consensus/", {}, content_type="application/json").status_code
        == 403
    )
    made = lead_api.post(
        base + "consensus/",
        {"picks": {"design": {"pick": "b"}}, "finish": True},
        content_type="application/json",
    )
    assert made.status_code == 200 and made.json()["values"] == {"design": "crossover"}
    assert client_for(ext_b).get(base + "consensus/").json()["done"] is True
    assert client_for(ext_b).get(base + "comparison/").json()["status"] == "consensus"
    assert client_for(ext_b).get(base).json()["extraction_status"] == "consensus"
