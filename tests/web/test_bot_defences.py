"""Registrations bots cannot exhaust: per-address and per-domain limits on successful
registrations, and the form's honeypot and minimum fill time; each on by default and
switchable per event; organiser API clients spared."""

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee

OFFICE = {"REMOTE_ADDR": "192.0.2.10"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def event_and_plenary(make_event, make_session):
    event = make_event(slug="si", max_registrations_per_address=3, max_registrations_per_domain=5)
    plenary = make_session(event, kind="plenary", capacity=100)
    return event, plenary.id


def api_register(client, plenary_id, email, environ=OFFICE, **kwargs):
    return client.post(
        "/api/v1/events/si/registrations",
        json={"name": "P", "email": email, "session_ids": [plenary_id], "consent": True},
        environ_base=environ,
        **kwargs,
    )


def attendees() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Attendee))


def test_one_address_gets_its_limit_then_429(client, event_and_plenary):
    _, plenary = event_and_plenary
    statuses = [api_register(client, plenary, f"p{n}@d{n}.example").status_code for n in range(3)]
    assert statuses == [201, 201, 201]
    refused = api_register(client, plenary, "p9@d9.example")
    assert refused.status_code == 429
    assert refused.json["error"] == "too_many_registrations"
    assert int(refused.headers["Retry-After"]) >= 60
    assert api_register(client, plenary, "p9@d9.example", ELSEWHERE).status_code == 201
    assert attendees() == 4


def test_one_domain_gets_its_limit_from_any_address(client, event_and_plenary):
    _, plenary = event_and_plenary
    for n in range(5):
        address = {"REMOTE_ADDR": f"203.0.113.{n + 1}"}
        assert api_register(client, plenary, f"p{n}@bulk.example", address).status_code == 201
    sixth = api_register(client, plenary, "p6@bulk.example", {"REMOTE_ADDR": "203.0.113.99"})
    assert sixth.status_code == 429
    other = api_register(client, plenary, "p6@other.example", {"REMOTE_ADDR": "203.0.113.99"})
    assert other.status_code == 201


def test_the_limits_switch_off_per_event(client, event_and_plenary):
    event, plenary = event_and_plenary
    event.max_registrations_per_address = None
    db.session.commit()
    statuses = [api_register(client, plenary, f"p{n}@d{n}.example").status_code for n in range(6)]
    assert statuses == [201] * 6


def test_organiser_api_clients_are_not_limited(
    client, event_and_plenary, make_organiser, api_token
):
    _, plenary = event_and_plenary
    headers = {"Authorization": f"Bearer {api_token(make_organiser())}"}
    statuses = [
        api_register(client, plenary, f"p{n}@d{n}.example", headers=headers).status_code
        for n in range(6)
    ]
    assert statuses == [201] * 6


def test_the_limits_are_organiser_settings(client, login, make_organiser, event_and_plenary):
    login(make_organiser("admin"))
    page = client.get("/organiser/events/si/edit").get_data(as_text=True)
    assert 'name="max_registrations_per_address"' in page
    assert 'name="bot_form_checks"' in page


def form_data(plenary_id, **extra):
    return {
        "name": "Ada",
        "email": "ada@example.org",
        "plenary": [str(plenary_id)],
        "consent": "y",
        **extra,
    }


def served_stamp(client, seconds_ago: float, monkeypatch) -> str:
    """The `started` value of the form as served `seconds_ago`."""
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: int(time.time() - seconds_ago)
    )
    page = client.get("/events/si/register").get_data(as_text=True)
    monkeypatch.undo()
    return re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)


def test_a_filled_honeypot_is_refused(client, event_and_plenary):
    _, plenary = event_and_plenary
    page = client.get("/events/si/register").get_data(as_text=True)
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1"' in page
    response = client.post("/events/si/register", data=form_data(plenary, website="http://x"))
    assert response.status_code == 422
    assert attendees() == 0


def test_the_honeypot_switches_off_per_event(client, event_and_plenary):
    event, plenary = event_and_plenary
    event.bot_form_checks = False
    db.session.commit()
    response = client.post("/events/si/register", data=form_data(plenary, website="http://x"))
    assert response.status_code == 302


def test_a_form_sent_at_once_is_refused_and_one_sent_after_a_while_accepted(
    app, client, event_and_plenary, monkeypatch
):
    app.config["REGISTRATION_MIN_FILL_SECONDS"] = 3
    _, plenary = event_and_plenary
    fresh = served_stamp(client, 0, monkeypatch)
    too_quick = client.post("/events/si/register", data=form_data(plenary, started=fresh))
    assert too_quick.status_code == 422
    without = client.post("/events/si/register", data=form_data(plenary))
    assert without.status_code == 422
    forged = client.post("/events/si/register", data=form_data(plenary, started="form.1.x"))
    assert forged.status_code == 422
    assert attendees() == 0
    earlier = served_stamp(client, 10, monkeypatch)
    accepted = client.post("/events/si/register", data=form_data(plenary, started=earlier))
    assert accepted.status_code == 302
    assert attendees() == 1
