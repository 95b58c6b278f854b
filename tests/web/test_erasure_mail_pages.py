"""Erasure through each door (the manage page, the API, the organiser's attendee page)
first cancels the attendee's sessions in their calendar with an email; their personal feed
then shows every session cancelled until the event is over, and 410 Gone after it
(docs/CALENDAR.md, "Erasure"). The email itself is checked in
tests/services/test_erasure_mail.py."""

from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, AuditEntry, OutboxMessage
from eventapp.models.types import utcnow
from eventapp.services import privacy
from eventapp.services.links import feed_token, manage_token
from eventapp.services.mail.worker import send_pending
from tests.mail_layout import calendar_method, check_layout
from tests.web.conftest import fresh, sign_up


def _erase_on_manage_page(client, attendee, organiser_login):
    token = manage_token(attendee)
    return client.post(f"/manage/{token}/delete", data={})


def _erase_through_the_api(client, attendee, organiser_login):
    return client.delete(f"/api/v1/registrations/{manage_token(attendee)}/data")


def _erase_as_organiser(client, attendee, organiser_login):
    organiser_login()
    return client.post(f"/organiser/events/{attendee.event.slug}/attendees/{attendee.id}/erase")


@pytest.fixture
def organiser_login(make_organiser, login):
    return lambda: login(make_organiser("organiser"))


@pytest.fixture
def programme(make_event, make_session):
    event = make_event()
    return event, [make_session(event, start=hour) for hour in (0, 2)]


@pytest.mark.parametrize(
    "erase", [_erase_on_manage_page, _erase_through_the_api, _erase_as_organiser]
)
def test_every_door_sends_the_cancels_before_the_data_goes(
    app, client, smtp_server, programme, organiser_login, erase
):
    event, sessions = programme
    attendee = sign_up(event, sessions, "ada@example.org", utcnow(), name="Ada Lovelace")
    send_pending()
    feed = f"/calendar/{feed_token(attendee)}.ics"
    assert client.get(feed).status_code == 200

    response = erase(client, attendee, organiser_login)
    assert response.status_code in (204, 302, 303), response.status_code

    erased = fresh(Attendee, attendee.id)
    assert erased.anonymised_at is not None
    audited = db.session.scalars(select(AuditEntry.action)).all()
    assert ("attendee.erase" in audited) == (erase is _erase_as_organiser)
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "erased"))
    assert (row.recipient, row.attendee_id) == ("ada@example.org", None)
    assert send_pending().failed == 0
    cancels = [m for m in smtp_server.messages[1:] if "ada@example.org" in str(m["To"])]
    methods = set()
    for message in cancels:
        itip, _attachments = check_layout(message)
        methods.add(calendar_method(itip.get_payload(decode=True)))
    assert len(cancels) == 2 and methods == {"CANCEL"}
    assert fresh(OutboxMessage, row.id).recipient == "(erased)"

    # Until the event is over, a subscribed calendar is told every session is cancelled.
    answer = client.get(feed)
    assert answer.status_code == 200
    statuses = [str(e["STATUS"]) for e in icalendar.Calendar.from_ical(answer.data).walk("VEVENT")]
    assert statuses == ["CANCELLED", "CANCELLED"]
    assert b"Ada" not in answer.data and b"ada@example.org" not in answer.data


def test_the_organisers_button_is_on_the_attendee_page(client, programme, organiser_login, now):
    event, sessions = programme
    attendee = sign_up(event, sessions[:1], "ada@example.org", now, name="Ada Lovelace")
    organiser_login()
    page = client.get(f"/organiser/events/{event.slug}/attendees/{attendee.id}")
    assert f"/attendees/{attendee.id}/erase".encode() in page.data


def test_the_feed_of_an_erased_attendee_is_gone_once_the_event_is_over(
    client, make_event, make_session, now
):
    """Past sessions are history in the attendee's calendar: no CANCEL, and the feed answers
    410 Gone (a calendar app stops polling it)."""
    start = utcnow() - timedelta(days=3)
    event = make_event(
        starts_at=start,
        ends_at=start + timedelta(hours=9),
        registration_opens_at=start - timedelta(days=30),
        registration_closes_at=None,
    )
    session = make_session(event)
    session.starts_at, session.ends_at = start + timedelta(hours=1), start + timedelta(hours=2)
    db.session.commit()
    attendee = sign_up(event, [session], "ada@example.org", start - timedelta(days=1))
    feed = f"/calendar/{feed_token(attendee)}.ics"

    privacy.erase_attendee(fresh(Attendee, attendee.id), utcnow())
    db.session.commit()

    assert not db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "erased")).all()
    answer = client.get(feed)
    assert answer.status_code == 410
    assert client.get(f"/calendar/{'x' * 43}.ics").status_code == 404  # unknown stays 404
