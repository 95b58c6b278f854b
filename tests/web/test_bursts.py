"""The organiser's view of suspicious bursts (many registrations from one address or
domain in the last hour) and its bulk cancel, which frees the seats and moves the
waiting list on."""

import re

import pytest
from flask import g
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, AuditEntry, Registration

BOT = {"REMOTE_ADDR": "203.0.113.66"}


@pytest.fixture
def burst(client, make_event, make_session, make_organiser, login):
    event = make_event(
        slug="si", max_registrations_per_address=None, max_registrations_per_domain=None
    )
    lab = make_session(event, capacity=8, title="Lab")
    for n in range(8):
        response = client.post(
            "/api/v1/events/si/registrations",
            json={
                "name": f"Bot {n}",
                "email": f"b{n}@x{n}.example",
                "session_ids": [lab.id],
                "consent": True,
            },
            environ_base=BOT,
        )
        assert response.status_code == 201
    waiting = client.post(
        "/api/v1/events/si/registrations",
        json={
            "name": "Real Person",
            "email": "real@company.example",
            "session_ids": [lab.id],
            "consent": True,
            "waitlist": True,
        },
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert waiting.json["status"] == "waitlisted"
    login(make_organiser())
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return lab.id


def page(client) -> str:
    g.pop("_login_user", None)
    return client.get("/organiser/events/si/bursts").get_data(as_text=True)


def test_a_burst_from_one_address_is_shown_and_cancelled_in_bulk(client, burst):
    shown = page(client)
    assert shown.count('class="burst"') == 1  # the address; the domains are all different
    assert "Bot 0" in shown and "Real Person" not in shown
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', shown).group(1)
    g.pop("_login_user", None)
    refused = client.post(
        "/organiser/events/si/bursts/cancel", data={"kind": "address", "key": key}
    )
    assert refused.status_code == 302
    assert db.session.scalar(select(Attendee).where(Attendee.status == "cancelled")) is None
    g.pop("_login_user", None)
    done = client.post(
        "/organiser/events/si/bursts/cancel",
        data={"kind": "address", "key": key, "confirm": "y"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Attendee.name, Attendee.status)).all())
    assert [n for n, s in statuses.items() if s == "cancelled"] == [f"Bot {n}" for n in range(8)]
    promoted = db.session.scalar(
        select(Registration.status).join(Attendee).where(Attendee.name == "Real Person")
    )
    assert promoted == "confirmed"  # the freed seat went to the waiting list
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "attendees.burst_cancelled")
    )
    assert 'class="burst"' not in page(client)


def test_another_events_team_cannot_see_or_cancel_the_bursts(
    client, burst, make_organiser, login, make_event
):
    other = make_event(slug="other", team=[])
    outsider = make_organiser("organiser", events=[other])
    g.pop("_login_user", None)
    client.post("/organiser/logout", data={})
    login(outsider)
    g.pop("_login_user", None)
    assert client.get("/organiser/events/si/bursts").status_code == 403
