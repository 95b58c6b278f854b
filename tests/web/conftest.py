"""Fixtures of the door tests (the check-in pages and door mode): a crowd with a seat holder
and someone on a waiting list, and a client signed in with the check-in role."""

import pytest

from eventapp.extensions import db
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput


def sign_up(event, sessions, email, now, *, name=None, waitlist_ok=False, organisation=""):
    result = registration.register(
        event,
        RegistrationInput(
            name=name or email.split("@")[0].title(),
            email=email,
            organisation=organisation,
            session_ids=[s.id for s in sessions],
            waitlist=waitlist_ok,
            consent=True,
        ),
        now,
    )
    db.session.commit()
    return result.attendee


@pytest.fixture
def door(client, make_organiser, login):
    client.get("/lang/en")
    login(make_organiser("checkin"))
    return client


@pytest.fixture
def crowd(make_event, make_session, now):
    event = make_event()
    plenary = make_session(event, kind="plenary", capacity=100, title="Opening")
    workshop = make_session(event, start=1, capacity=1, title="Robots")
    ada = sign_up(event, [plenary, workshop], "ada@example.org", now, name="Ada Lovelace")
    bob = sign_up(
        event, [plenary, workshop], "bob@example.org", now, name="Bob Bakker", waitlist_ok=True
    )
    return event, plenary, workshop, ada, bob


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)
