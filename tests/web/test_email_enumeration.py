"""Registering someone else's address is no free look-up of who registered: a full session
answers `full` whoever owns the address, and where a known address is refused as
`already_registered` its owner is sent their link, so the probe leaves a trace."""

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, OutboxMessage


@pytest.fixture
def full_and_free(make_event, make_session, client):
    event = make_event(slug="si")
    full = make_session(event, start=0, capacity=1, title="Lab 4")
    free = make_session(event, start=2, capacity=10, title="Cobots")
    first = client.post(
        "/api/v1/events/si/registrations",
        json={
            "name": "Vic Tim",
            "email": "victim@example.org",
            "session_ids": [full.id],
            "consent": True,
        },
    )
    assert first.status_code == 201
    return full.id, free.id


def attempt(client, email, session_ids, **extra):
    return client.post(
        "/api/v1/events/si/registrations",
        json={
            "name": "Probe",
            "email": email,
            "session_ids": session_ids,
            "consent": True,
            **extra,
        },
    )


def lost_link_mails(email) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .join(Attendee, OutboxMessage.attendee_id == Attendee.id)
        .where(OutboxMessage.kind == "lost_link", Attendee.email == email)
    )


def test_a_full_session_answers_the_same_for_a_known_and_an_unknown_address(client, full_and_free):
    full, _ = full_and_free
    known = attempt(client, "victim@example.org", [full])
    unknown = attempt(client, "nobody@example.org", [full])
    assert (known.status_code, known.get_json()["error"]) == (409, "full")
    assert (unknown.status_code, unknown.get_json()["error"]) == (409, "full")
    assert known.get_json()["sessions"] == unknown.get_json()["sessions"]


def test_refusing_a_known_address_tells_its_owner(client, full_and_free):
    _, free = full_and_free
    assert lost_link_mails("victim@example.org") == 0
    response = attempt(client, "Victim@Example.org", [free])
    assert (response.status_code, response.get_json()["error"]) == (409, "already_registered")
    assert lost_link_mails("victim@example.org") == 1
    again = attempt(client, "victim@example.org", [free])
    assert again.status_code == 409
    assert lost_link_mails("victim@example.org") == 1  # one pending link, no mail flood


def test_the_form_tells_the_owner_too(client, make_event, make_session):
    event = make_event(slug="si")
    plenary = make_session(event, start=0, kind="plenary", capacity=10, title="Opening")
    data = {
        "name": "Vic Tim",
        "email": "victim@example.org",
        "plenary": [str(plenary.id)],
        "consent": "y",
    }
    assert client.post("/events/si/register", data=data).status_code == 302
    probe = client.post("/events/si/register", data=data | {"name": "Probe"})
    assert probe.status_code == 422
    assert lost_link_mails("victim@example.org") == 1
