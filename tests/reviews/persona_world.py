"""The world the persona walk runs in: a review with blinded dual screening under way, and a
second review whose ids are tried in the first one's URLs (and the other way round)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from core.models import Job
from deduplication.models import DuplicatePair
from extraction.models import Extraction, Study
from identification.constants import BatchStatus
from identification.models import ImportBatch, Search
from reviews import services
from reviews.constants import Role
from reviews.models import Membership, Review
from screening import services as screening
from screening.constants import Stage
from screening.fulltext import services as fulltext
from screening.models import ExclusionReason, ScreeningItem, Vote
from tests.conftest import make_user
from tests.reviews.protocol_factories import amend_draft, register
from tests.screening.factories import PDF, make_records, reason

#: Written into reviewer B's notes: reviewer A must never read them while blinded.
B_NOTE_TA = "B-NOTE-MARKER-7f3a91 title-abstract"
B_NOTE_FT = "B-NOTE-MARKER-c41e07 full-text"
B_NOTE_ALONE = "B-NOTE-MARKER-95d2bb alone"
#: Reviewer B's extraction value (data extraction is blinded between extractors too).
B_EXTRACTION = "B-NOTE-MARKER-e8a2d4 extraction"
B_MARKERS = ("B-NOTE-MARKER",)
#: In a job's parameters (a lead's bulk add): for leads and whoever started the job only.
JOB_SECRET = "nobody-marker-3e1c@example.net"


@dataclass
class World:
    review: Review
    other: Review
    users: dict[str, object]
    # the objects of each kind whose ids the routes take, per review
    objects: dict[str, dict[str, int]] = field(default_factory=dict)
    conflict_titles: list[str] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)
    # (stage, record title) of reviewer B's votes that reviewer A may not see
    hidden_b_votes: list[tuple[str, str]] = field(default_factory=list)


def _batch(review: Review, search: Search, status: str, name: str) -> ImportBatch:
    digest = hashlib.sha256(f"{review.pk}-{search.pk}-{name}".encode()).hexdigest()
    return ImportBatch.objects.create(
        review=review,
        search=search,
        file=f"imports/test/{digest}",
        original_name=name,
        size=0,
        sha256=digest,
        status=status,
        column_mapping={"columns": ["Title", "Year"]},
    )


def _objects(review: Review, *, ta_item, ft_item, vote_pk: int, record_pk: int) -> dict[str, int]:
    search = Search.objects.filter(review=review).order_by("pk").first()
    return {
        "membership": Membership.objects.filter(review=review).order_by("pk").first().pk,
        "job": Job.objects.filter(review=review).order_by("pk").first().pk,
        "search": search.pk,
        "batch": ImportBatch.objects.filter(review=review, status=BatchStatus.NEEDS_MAPPING)
        .first()
        .pk,
        "record": record_pk,
        "pair": DuplicatePair.objects.filter(review=review).first().pk,
        "reason": ExclusionReason.objects.filter(review=review).order_by("pk").first().pk,
        "ta_item": ta_item.pk,
        "ft_item": ft_item.pk,
        "vote": vote_pk,
    }


def build_world() -> World:
    lead = make_user("lead")
    a = make_user("reviewer_a")
    b = make_user("reviewer_b")
    viewer = make_user("viewer")
    outsider = make_user("outsider")
    make_user("extra")
    review = services.review_create(
        user=lead, title="Exercise for depression", slug="exercise", research_question="Does it?"
    )
    for user, role in [(a, Role.REVIEWER), (b, Role.REVIEWER), (viewer, Role.VIEWER)]:
        services.membership_add(actor=lead, review=review, identifier=user.username, roles=[role])
    # Blinded dual screening (the defaults), resolved by leads and reviewers who did not vote.
    settings = screening.settings_update(
        actor=lead, review=review, reviewers_per_record=2, blinded=True, resolvers="third"
    )
    assert settings.blinded
    services.job_submit(
        actor=lead,
        review=review,
        kind="team_bulk_add",
        params={"identifiers": [JOB_SECRET, "extra"], "roles": ["viewer"]},
        enqueue=False,
    )
    records = make_records(review, 6)
    _batch(review, records[0].search, BatchStatus.NEEDS_MAPPING, "table.csv")
    DuplicatePair.objects.create(
        review=review, left=records[4], right=records[5], score=3.0, status="queued"
    )
    screening.screening_prepare(review=review)
    ta = list(
        ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT).order_by("pk")
    )

    def vote(user, item, decision, note=""):
        why = reason(review, item.stage) if decision == "exclude" else None
        return screening.vote_cast(
            user=user, review=review, item=item, decision=decision, note=note, reason=why
        )

    # 0: a conflict (A include, B exclude); 1, 2: only A voted; 3: both include, then a
    # conflict at full text; 4: only B voted.
    a_vote = vote(a, ta[0], "include", "A's own note")
    vote(b, ta[0], "exclude", B_NOTE_TA)
    vote(a, ta[1], "include")
    vote(a, ta[2], "exclude")
    vote(a, ta[3], "include")
    vote(b, ta[3], "include", "agreed")
    vote(b, ta[4], "exclude", B_NOTE_ALONE)
    ft = ScreeningItem.objects.get(record=ta[3].record, stage=Stage.FULL_TEXT)
    from django.core.files.uploadedfile import SimpleUploadedFile

    fulltext.report_attach(
        user=lead,
        review=review,
        item=ft,
        upload=SimpleUploadedFile("paper.pdf", PDF, content_type="application/pdf"),
    )
    vote(a, ft, "include")
    vote(b, ft, "exclude", B_NOTE_FT)
    for item in (ta[0], ft):
        item.refresh_from_db()
        assert item.status == "conflict", item.status
    # The protocol: registered, with an amendment in draft.
    protocol = register(review, lead)
    amend_draft(review, lead, {"objectives": {"text": "A sharper aim."}})

    # The second review: the outsider leads it and screens alone.
    other = services.review_create(user=outsider, title="Someone else's review", slug="elsewhere")
    screening.settings_update(actor=outsider, review=other, reviewers_per_record=1)
    services.job_submit(
        actor=outsider,
        review=other,
        kind="team_bulk_add",
        params={"identifiers": ["extra"], "roles": ["viewer"]},
        enqueue=False,
    )
    other_records = make_records(other, 3, prefix="Elsewhere: ")
    _batch(other, other_records[0].search, BatchStatus.NEEDS_MAPPING, "other.csv")
    DuplicatePair.objects.create(
        review=other, left=other_records[1], right=other_records[2], score=3.0, status="queued"
    )
    screening.screening_prepare(review=other)
    other_ta = list(
        ScreeningItem.objects.filter(review=other, stage=Stage.TITLE_ABSTRACT).order_by("pk")
    )
    other_vote = screening.vote_cast(
        user=outsider, review=other, item=other_ta[0], decision="include"
    )
    other_ft = ScreeningItem.objects.get(record=other_ta[0].record, stage=Stage.FULL_TEXT)
    other_protocol = register(other, outsider)

    world = World(
        review=review,
        other=other,
        users={
            "lead": lead,
            "reviewer": a,
            "reviewer_b": b,
            "viewer": viewer,
            "outsider": outsider,
        },
        conflict_titles=[ta[0].record.title, ft.record.title],
        hidden_b_votes=[
            (Stage.TITLE_ABSTRACT.value, ta[0].record.title),
            (Stage.TITLE_ABSTRACT.value, ta[4].record.title),
            (Stage.FULL_TEXT.value, ft.record.title),
        ],
        emails={u.username: u.email for u in (lead, a, b, viewer, outsider)},
    )
    world.objects["exercise"] = _objects(
        review, ta_item=ta[0], ft_item=ft, vote_pk=a_vote.pk, record_pk=records[0].pk
    )
    world.objects["elsewhere"] = _objects(
        other,
        ta_item=other_ta[0],
        ft_item=other_ft,
        vote_pk=other_vote.pk,
        record_pk=other_records[0].pk,
    )
    world.objects["exercise"]["b_vote"] = Vote.objects.get(item=ta[0], reviewer=b).pk
    world.objects["exercise"]["ft_vote"] = Vote.objects.get(item=ft, reviewer=a).pk
    world.objects["elsewhere"]["ft_vote"] = other_vote.pk  # a title/abstract vote: still foreign
    world.objects["exercise"]["free_ta_item"] = ta[5].pk
    world.objects["exercise"]["protocol_version"] = protocol.pk
    world.objects["elsewhere"]["protocol_version"] = other_protocol.pk
    world.objects["elsewhere"]["free_ta_item"] = other_ta[1].pk
    for slug, of in (("exercise", review), ("elsewhere", other)):  # data extraction's study
        world.objects[slug]["study"] = Study.objects.create(review=of, label="Walked 2020").pk
        world.objects[slug]["extraction_snapshot"] = _snapshot(of)
    _extractions(review, lead, a, b, world.objects["exercise"]["study"])
    _rob_assessment(review, b, world.objects["exercise"]["study"])
    for slug, of in (("exercise", review), ("elsewhere", other)):  # a synthesis analysis
        from tests.synthesis.app_world import sample_objects

        world.objects[slug] |= sample_objects(of)
        from tests.synthesis.sof_world import sof_sample

        world.objects[slug] |= sof_sample(of)  # a summary-of-findings row
    for slug, of in (("exercise", review), ("elsewhere", other)):  # a narrative synthesis
        from tests.synthesis.test_narrative_app_world import sample_narrative

        world.objects[slug]["narrative"] = sample_narrative(of)
    return world


def _snapshot(review: Review) -> int:
    """A finalised extraction snapshot (empty, so stale beside the walked study)."""
    from extraction.models import ExtractionSnapshot

    empty = {"studies": [], "left_out": []}
    return ExtractionSnapshot.objects.create(
        review=review, number=1, content=empty, sha256="0" * 64
    ).pk


def _rob_assessment(review: Review, b, study_pk: int) -> None:
    """B's risk-of-bias assessment of the walked study, not done: A must never read it (its
    support text holds a B marker)."""
    from extraction.rob.models import RobAssessment

    RobAssessment.objects.create(
        review=review,
        study_id=study_pk,
        assessor=b,
        tool="rob2",
        d2_variant="assignment",
        answers={"D1": {"1.1": "Y", "1.2": "Y", "1.3": "N"}},
        support={"D1": {"1.1": B_EXTRACTION + " risk of bias"}},
        domains={"D1": {"proposed": "Low", "judgement": "Low", "justification": ""}},
    )


def _extractions(review: Review, lead, a, b, study_pk: int) -> None:
    """A published extraction form, and A's and B's extractions of the walked study, neither
    done: A must never read B's values (B_EXTRACTION holds a B marker)."""
    from extraction import services as extraction

    extraction.form_use_template(actor=lead, review=review)
    version, _ = extraction.form_publish(actor=lead, review=review)
    for who, comparator in ((a, "A's comparator"), (b, B_EXTRACTION)):
        Extraction.objects.create(
            review=review,
            study_id=study_pk,
            extractor=who,
            form_version=version,
            values={"comparator": comparator, "design": "parallel"},
        )
