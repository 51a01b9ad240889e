"""A lead invites by e-mail: the link is e-mailed (Django's e-mail backend), works once and
expires; signing up through it joins the review with the invited roles; each step audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from core.models import AuditEvent
from reviews.models import Invitation, Membership
from tests.conftest import PASSWORD, client_for, make_user

User = get_user_model()
LINK = re.compile(r"http://testserver(/accounts/invitations/[^/\s]+/)")


def invite(lead, review, email="new.colleague@example.org", roles=("reviewer", "extractor")):
    response = client_for(lead).post(
        f"/reviews/{review.slug}/team/invite/", {"email": email, "roles": list(roles)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    (message,) = [m for m in mail.outbox if email in m.to]
    return LINK.search(message.body).group(1), message


def sign_up_through(path: str, username="newcolleague", email="new.colleague@example.org"):
    client = Client()
    response = client.post(
        path,
        {
            "username": username,
            "email": email,
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    return client, response


def test_a_lead_invites_by_email_and_sign_up_through_the_link_joins_the_review(lead, review):
    path, message = invite(lead, review)
    assert review.title in message.body and "reviewer, extractor" in message.body
    invitation = Invitation.objects.get(review=review)
    # Only the token's hash is stored: the table holds no usable link.
    assert path.split("/")[-2] not in invitation.token_hash
    page = Client().get(path)
    assert page.status_code == 200 and review.title in page.content.decode()
    client, response = sign_up_through(path)
    assert response.status_code == 302 and response["Location"] == f"/reviews/{review.slug}/"
    user = User.objects.get(username="newcolleague")
    roles = set(Membership.objects.filter(review=review, user=user).values_list("role", flat=True))
    assert roles == {"reviewer", "extractor"}
    assert client.get(f"/reviews/{review.slug}/").status_code == 200
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    verbs = list(
        AuditEvent.objects.filter(review=review).order_by("pk").values_list("verb", "actor_id")
    )
    assert ("invited", lead.pk) in verbs
    assert ("accepted invitation", user.pk) in verbs
    assert verbs.count(("added member", user.pk)) == 2
    accepted = AuditEvent.objects.get(review=review, verb="accepted invitation")
    assert accepted.changes["invited_by"] == "lead"


def test_someone_with_an_account_logs_in_and_joins(lead, review, outsider):
    path, _ = invite(lead, review, email="outsider@example.org", roles=["viewer"])
    client = client_for(outsider)
    page = client.get(path).content.decode()
    assert "Join the review" in page
    response = client.post(path)
    assert response.status_code == 302
    assert Membership.objects.filter(review=review, user=outsider, role="viewer").exists()
    # Anonymous, the page offers to log in and come back.
    anonymous = Client().get(f"/accounts/invitations/{'x' * 43}/")
    assert anonymous.status_code == 404


def test_the_link_works_once(lead, review):
    path, _ = invite(lead, review)
    sign_up_through(path)
    _, again = sign_up_through(path, username="someone_else", email="else@example.org")
    assert again.status_code == 410
    assert "used already" in again.content.decode()
    assert not User.objects.filter(username="someone_else").exists()


def test_an_expired_link_is_refused_and_changes_nothing(lead, review):
    path, _ = invite(lead, review)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    page = Client().get(path)
    assert page.status_code == 410 and "expired" in page.content.decode()
    _, response = sign_up_through(path)
    assert response.status_code == 410
    assert not User.objects.filter(username="newcolleague").exists()
    assert Membership.objects.filter(review=review).count() == 3


def test_a_lead_withdraws_an_invitation(lead, review):
    path, _ = invite(lead, review)
    invitation = Invitation.objects.get()
    page = client_for(lead).get(f"/reviews/{review.slug}/team/invite/").content.decode()
    assert "new.colleague@example.org" in page
    response = client_for(lead).post(
        f"/reviews/{review.slug}/team/invitations/withdraw/", {"invitation": invitation.pk}
    )
    assert response.status_code == 302
    assert Client().get(path).status_code == 410
    assert AuditEvent.objects.filter(review=review, verb="withdrew invitation").exists()


def test_a_new_invitation_to_the_same_address_replaces_the_old(lead, review):
    first, _ = invite(lead, review)
    mail.outbox.clear()
    second, _ = invite(lead, review, roles=["viewer"])
    assert Client().get(first).status_code == 410
    assert Client().get(second).status_code == 200


def test_only_a_lead_invites_and_sees_the_invitations(lead, review, reviewer_a, outsider):
    url = f"/reviews/{review.slug}/team/invite/"
    data = {"email": "x@example.org", "roles": ["viewer"]}
    assert client_for(reviewer_a).get(url).status_code == 403
    assert client_for(reviewer_a).post(url, data).status_code == 403
    assert client_for(outsider).post(url, data).status_code == 404
    assert Client().post(url, data).status_code == 302  # to log in
    assert not Invitation.objects.exists() and not mail.outbox
    # A reviewer's team page does not offer it either.
    assert url not in client_for(reviewer_a).get(f"/reviews/{review.slug}/team/").content.decode()


def test_a_foreign_invitation_cannot_be_withdrawn(lead, review, outsider):
    from reviews.models import Review

    elsewhere = Review.objects.get(slug="elsewhere")
    client_for(outsider).post(
        "/reviews/elsewhere/team/invite/", {"email": "y@example.org", "roles": ["viewer"]}
    )
    foreign = Invitation.objects.get(review=elsewhere)
    response = client_for(lead).post(
        f"/reviews/{review.slug}/team/invitations/withdraw/", {"invitation": foreign.pk}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not an address", "roles": ["viewer"]},
        {"email": "", "roles": ["viewer"]},
        {"email": "a@example.org", "roles": ["owner"]},
        {"email": "a@example.org"},
        {"email": "a" * 300 + "@example.org", "roles": ["viewer"]},
    ],
)
def test_bad_input_gets_a_message_and_changes_nothing(data, lead, review):
    response = client_for(lead).post(f"/reviews/{review.slug}/team/invite/", data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox


@pytest.mark.parametrize("token", ["", "a", "../../etc", "x" * 5000, "%00", "' OR 1=1 --"])
def test_a_forged_link_is_404(token, db):
    from urllib.parse import quote

    response = Client().get(f"/accounts/invitations/{quote(token, safe='')}/")
    assert response.status_code in (404,)


@override_settings(EMAIL_BACKEND="tests.reviews.test_invitations.BrokenBackend")
def test_a_mail_that_cannot_be_sent_leaves_the_invitation_and_shows_the_lead_the_link(lead, review):
    response = client_for(lead).post(
        f"/reviews/{review.slug}/team/invite/",
        {"email": "z@example.org", "roles": ["viewer"]},
        follow=True,
    )
    page = response.content.decode()
    assert "could not be sent" in page
    path = LINK.search(page).group(1)
    assert Client().get(path).status_code == 200


class BrokenBackend:
    """An e-mail backend whose server is down, as SMTP is when misconfigured."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server")


@override_settings(EVIDENT_SIGNUP_OPEN=False)
def test_with_sign_up_closed_the_link_asks_to_log_in(lead, review):
    path, _ = invite(lead, review)
    page = Client().get(path).content.decode()
    assert "Sign-up is closed" in page and "Sign up and join" not in page
    _, refused = sign_up_through(path)
    assert refused.status_code == 200  # the page again, with no sign-up form
    assert not User.objects.filter(username="newcolleague").exists()
    user = make_user("newcolleague")
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    assert client.post(path).status_code == 302
    assert Membership.objects.filter(review=review, user=user).exists()
