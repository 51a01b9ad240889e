"""Sign-up tells nobody whether an e-mail address is registered (issue 13, item 8), and still
keeps one account per address."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.test import Client

User = get_user_model()


def sign_up(username: str, email: str):
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": email,
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        follow=True,
    )
    return client, response


def _answer(response, username: str) -> tuple:
    text = response.content.decode().replace(username, "NAME")
    text = re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", text)
    return response.status_code, response.redirect_chain, text


def test_a_registered_address_gets_the_same_answer_as_a_free_one(lead):
    _, free = sign_up("newcomer", "newcomer@example.org")
    _, taken = sign_up("prober", "lead@example.org")
    _, taken_other_case = sign_up("prober2", " LEAD@Example.org ")
    assert _answer(free, "newcomer") == _answer(taken, "prober")
    assert _answer(free, "newcomer") == _answer(taken_other_case, "prober2")
    assert "exists" not in _answer(taken, "prober")[2]


def test_the_address_stays_with_its_first_account(lead):
    client, _ = sign_up("prober", "lead@example.org")
    assert client.get("/reviews/").status_code == 200  # signed up and logged in
    assert User.objects.get(username="prober").email == ""
    assert list(User.objects.filter(email__iexact="lead@example.org")) == [lead]


def test_a_free_address_is_kept(db):
    sign_up("newcomer", "newcomer@example.org")
    assert User.objects.get(username="newcomer").email == "newcomer@example.org"


def test_the_form_says_why_an_address_may_be_missing_to_everybody(db):
    text = Client().get("/accounts/signup/").content.decode()
    assert "not linked to a second account" in text
