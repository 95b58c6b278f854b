"""Issue 17, "done when": every kind of email that carries calendar data (confirmation of one
and of several sessions, a move, a new venue, a dropped session, a cancelled session, a
cancelled registration, a cancelled event) for sessions on both DST days and in another year,
with titles full of commas, semicolons, backslashes, line breaks, accents and emoji, read from
a real SMTP server: the MIME layout rules of docs/CALENDAR.md, one iTIP object per email, and
icalendar, vobject and ical.js agreeing on every UID, text and UTC instant."""

from datetime import UTC, datetime, timedelta

import pytest

from eventapp.extensions import db
from eventapp.services.mail.worker import send_pending
from eventapp.services.programme import schedule
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.calendar_parsers import agreed, icaljs_available
from tests.ical_checks import parse_ics
from tests.mail_layout import calendar_method, check_layout

pytestmark = pytest.mark.skipif(not icaljs_available(), reason="ical.js: make install-test")

TITLES = {
    "spring": "Spring, forward; \\n stays two — Zoë 🤖",
    "autumn": "Autumn: back\\ again, twice; 02:30",
    "later": "Next year; with\nno line break in a title",
}
DESCRIPTION = "Line one, with; punctuation\nLine two \\ backslash\n\nÜnïcödé ✓"


@pytest.fixture
def sessions(app, make_event, make_session, make_room):
    event = make_event(name="DST; days, \\ Zuid", venue="Hilversum")
    room = make_room(event, "Zaal \\ 1; noord, west", 50)
    made = {}
    for key, start in (
        ("spring", datetime(2027, 3, 28, 0, 30, tzinfo=UTC)),  # 01:30 CET to 03:30 CEST
        ("autumn", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),  # 02:30 +02:00, across the fold
        ("later", datetime(2028, 3, 26, 1, 30, tzinfo=UTC)),  # 03:30 CEST, another year
    ):
        session = make_session(
            event, title=TITLES[key], description=DESCRIPTION, room=room, capacity=10
        )
        session.starts_at, session.ends_at = start, start + timedelta(minutes=75)
        made[key] = session
    event.registration_closes_at = None
    db.session.commit()
    return event, made


def register(event, sessions, now, email):
    data = RegistrationInput(
        name="Zoë; de \\ Vries, 🤖",
        email=email,
        session_ids=[s.id for s in sessions],
        consent=True,
        locale="nl",
    )
    result = service.register(event, data, now)
    db.session.commit()
    return result.attendee


def check_email(message, expected):
    """Layout rules, then every calendar object read alike by all three parsers, with the
    stored instants and texts. Returns the (method, summary) pairs it carried."""
    itip, attachments = check_layout(message)
    carried = []
    datas = [itip.get_payload(decode=True)] if itip is not None else []
    datas += [data for method, data in attachments if method == "PUBLISH"]
    for data in datas:
        method = calendar_method(data)
        parse_ics(data, method)
        for reading in agreed(data):
            session = expected[reading.summary]
            assert (reading.start, reading.end) == (session.starts_at, session.ends_at)
            assert reading.description.startswith(DESCRIPTION)
            assert reading.location.startswith("Zaal \\ 1; noord, west, ")
            carried.append((method, reading.summary))
    return carried


def test_every_calendar_email_is_right_in_every_parser(app, smtp_server, sessions, now):
    event, made = sessions
    seen = []

    def send_and_check():
        """Mail renders at send time: send each step's mail, check it against the sessions
        as they are now."""
        done = len(smtp_server.received)
        send_pending(now=now)
        expected = {s.title: s for s in made.values()}
        for received in smtp_server.received[done:]:
            for method, title in check_email(received.message, expected):
                seen.append((received.rcpt_tos[0], method, title))

    several = register(event, list(made.values()), now, "zoe@example.org")
    register(event, [made["autumn"]], now, "bob@example.org")
    send_and_check()
    schedule.move_session(
        None,
        made["spring"],
        starts_at=made["spring"].starts_at + timedelta(minutes=30),
        ends_at=made["spring"].ends_at + timedelta(minutes=30),
        now=now,
        confirm=True,  # outside the event's hours: a warning, accepted
    )
    db.session.commit()
    send_and_check()
    schedule.update_event(None, event, {"venue": "Jaarbeurs; Utrecht"}, now)
    db.session.commit()
    send_and_check()
    service.change_sessions(
        several, [made["spring"].id, made["autumn"].id], waitlist=False, now=now
    )
    db.session.commit()
    send_and_check()
    schedule.cancel_session(None, made["autumn"], now)
    db.session.commit()
    send_and_check()
    schedule.cancel_event(None, event, now)
    db.session.commit()
    send_and_check()

    assert {(who, method) for who, method, _title in seen} == {
        ("zoe@example.org", "PUBLISH"),  # the confirmation of three sessions: one file
        ("zoe@example.org", "REQUEST"),  # the move and the new venue
        ("zoe@example.org", "CANCEL"),  # the dropped session, the cancelled ones
        ("bob@example.org", "REQUEST"),  # a confirmation of one session, the new venue
        ("bob@example.org", "CANCEL"),
    }
    cancelled_for_zoe = {t for who, m, t in seen if who == "zoe@example.org" and m == "CANCEL"}
    assert cancelled_for_zoe == set(TITLES.values())
