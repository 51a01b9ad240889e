import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from core.models import AuditEvent
from reviews import services
from reviews.constants import ReviewStatus, Role
from reviews.models import Membership, Review
from tests.conftest import make_user


def test_it_makes_the_creator_the_first_lead(lead):
    review = services.review_create(user=lead, title="  Sleep and memory  ")
    assert review.title == "Sleep and memory"
    assert review.slug == "sleep-and-memory"
    assert list(Membership.objects.filter(review=review).values_list("user__username", "role")) == [
        ("lead", "lead")
    ]
    created, set_up = AuditEvent.objects.filter(review=review).order_by("pk")
    assert (created.actor, created.verb, created.object_id) == (lead, "created", str(review.pk))
    # Later steps set themselves up in the same transaction, attributed to the creator.
    assert (set_up.actor, set_up.verb) == (lead, "set up screening")


def test_it_suggests_a_free_slug_when_the_title_slug_is_taken(lead):
    first = services.review_create(user=lead, title="Sleep")
    second = services.review_create(user=lead, title="Sleep")
    assert (first.slug, second.slug) == ("sleep", "sleep-2")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "ok", "slug": "Has Spaces"}, "slug"),
        ({"title": "ok", "slug": "../etc/passwd"}, "slug"),
        ({"title": "ok", "slug": "a" * 81}, "slug"),
        ({"title": "ok", "research_question": "q" * 5001}, "research_question"),
        ({"title": 12}, "title"),
    ],
)
def test_it_rejects_bad_review_input_with_a_message_and_creates_nothing(lead, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        services.review_create(user=lead, **kwargs)
    assert field in exc.value.message_dict
    assert not Review.objects.exists()
    assert not AuditEvent.objects.exists()


def test_it_refuses_a_taken_slug_with_a_message(lead, review):
    with pytest.raises(ValidationError) as exc:
        services.review_create(user=lead, title="Other", slug=review.slug)
    assert "taken" in exc.value.message_dict["slug"][0]
    assert Review.objects.count() == 1


def test_it_strips_control_characters_from_titles(lead):
    review = services.review_create(user=lead, title="Bad\x00 title\x1b[31m")
    assert review.title == "Bad title[31m"
    assert services.review_create(user=lead, title="Del\x7fete").title == "Delete"


def test_it_adds_members_by_username_or_email_with_several_roles(lead, review):
    carol = make_user("carol", "Carol@Example.org")
    added = services.membership_add(
        actor=lead, review=review, identifier="carol@example.org", roles=["extractor", "viewer"]
    )
    assert sorted(m.role for m in added) == ["extractor", "viewer"]
    assert all(m.user == carol and m.added_by == lead for m in added)
    verbs = AuditEvent.objects.filter(review=review, verb="added member")
    assert {e.changes["role"] for e in verbs if e.changes["user"] == "carol"} == {
        "extractor",
        "viewer",
    }


def test_it_says_who_it_could_not_find(lead, review):
    with pytest.raises(ValidationError) as exc:
        services.membership_add(actor=lead, review=review, identifier="nobody", roles=["reviewer"])
    assert "nobody" in exc.value.message_dict["user"][0]


def test_it_refuses_unknown_roles_and_duplicate_roles(lead, review, reviewer_a):
    with pytest.raises(ValidationError):
        services.membership_add(actor=lead, review=review, identifier="reviewer_a", roles=["god"])
    with pytest.raises(ValidationError) as exc:
        services.membership_add(
            actor=lead, review=review, identifier="reviewer_a", roles=["reviewer"]
        )
    assert "already" in exc.value.message_dict["roles"][0]


def test_it_refuses_team_changes_from_a_reviewer(review, reviewer_a):
    make_user("dave")
    with pytest.raises(PermissionDenied):
        services.membership_add(actor=reviewer_a, review=review, identifier="dave", roles=["lead"])
    assert not Membership.objects.filter(user__username="dave").exists()


def test_it_refuses_team_changes_from_an_outsider_as_not_found(review, outsider):
    with pytest.raises(Http404):
        services.membership_add(
            actor=outsider, review=review, identifier="outsider", roles=["lead"]
        )


def test_it_never_removes_the_last_lead(lead, review):
    only_lead = Membership.objects.get(review=review, role=Role.LEAD)
    with pytest.raises(ValidationError):
        services.membership_remove(actor=lead, review=review, membership=only_lead)
    assert Membership.objects.filter(pk=only_lead.pk).exists()


def test_it_removes_a_role_and_records_who_did_it(lead, review, reviewer_a):
    m = Membership.objects.get(review=review, user=reviewer_a)
    services.membership_remove(actor=lead, review=review, membership=m)
    assert not Membership.objects.filter(pk=m.pk).exists()
    event = AuditEvent.objects.get(review=review, verb="removed member")
    assert event.actor == lead and event.changes == {"user": "reviewer_a", "role": "reviewer"}


def test_it_updates_settings_and_logs_old_and_new_values(lead, review):
    services.review_update(user=lead, review=review, title="New", status=ReviewStatus.SCREENING)
    event = AuditEvent.objects.get(review=review, verb="updated")
    assert event.changes == {
        "title": ["Exercise for depression", "New"],
        "status": ["planning", "screening"],
    }


def test_it_refuses_settings_from_a_reviewer(review, reviewer_a):
    with pytest.raises(PermissionDenied):
        services.review_update(user=reviewer_a, review=review, title="Hijacked")
    review.refresh_from_db()
    assert review.title == "Exercise for depression"
