"""Every kind of calendar file read by icalendar, vobject and ical.js (issue 17, item 2): on
the DST days themselves, in the repeated autumn hour, across it, and in another year than the
event's, all three parsers must land on the instant that was stored."""

from datetime import UTC, datetime, timedelta

import pytest

from eventapp.extensions import db
from eventapp.services import calendar
from eventapp.services.registration import register as registration_service
from eventapp.services.registration.register import RegistrationInput
from tests.calendar_parsers import agreed, icaljs_available
from tests.ical_checks import parse_ics

pytestmark = pytest.mark.skipif(not icaljs_available(), reason="ical.js: make install-test")

# (title, start in UTC, minutes): Europe/Amsterdam springs forward on 2027-03-28 at 01:00 UTC
# and falls back on 2027-10-31 at 01:00 UTC.
DST_SESSIONS = [
    ("Spring, before", datetime(2027, 3, 28, 0, 15, tzinfo=UTC), 30),  # 01:15 CET
    ("Spring, across", datetime(2027, 3, 28, 0, 30, tzinfo=UTC), 60),  # 01:30 CET-03:30 CEST
    ("Spring, after", datetime(2027, 3, 28, 1, 30, tzinfo=UTC), 60),  # 03:30 CEST
    ("Autumn, first 02:30", datetime(2027, 10, 31, 0, 30, tzinfo=UTC), 30),  # +02:00
    ("Autumn, second 02:30", datetime(2027, 10, 31, 1, 30, tzinfo=UTC), 30),  # +01:00
    ("Autumn, across", datetime(2027, 10, 31, 0, 30, tzinfo=UTC), 45),  # 02:30+2 to 02:15+1
    ("Another year", datetime(2031, 7, 1, 8, 0, tzinfo=UTC), 60),
    ("Another year, spring", datetime(2030, 3, 31, 1, 30, tzinfo=UTC), 60),  # 03:30 CEST
    ("Before the event", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 60),  # 02:30+02:00
]


@pytest.fixture
def programme(app, make_event, make_session):
    event = make_event(name="DST, ; \\ days")
    made = []
    for title, start, minutes in DST_SESSIONS:
        session = make_session(event, title=title, capacity=10)
        session.starts_at, session.ends_at = start, start + timedelta(minutes=minutes)
        made.append(session)
    db.session.commit()
    with app.test_request_context("/", base_url="https://events.example.org"):
        yield event, made


def expected(sessions):
    return {s.title: (s.starts_at, s.ends_at) for s in sessions}


def instants(data: bytes) -> dict:
    return {r.summary: (r.start, r.end) for r in agreed(data)}


def test_the_programme_feed_gives_the_same_instants_in_every_parser(programme):
    event, sessions = programme
    data = calendar.programme_feed(event, sessions)
    parse_ics(data, "PUBLISH")
    assert instants(data) == expected(sessions)


def test_each_session_file_gives_the_same_instants_in_every_parser(programme):
    event, sessions = programme
    for session in sessions:
        assert instants(calendar.session_file(session)) == expected([session]), session.title


def test_invitations_and_the_personal_feed_give_the_same_instants(programme, now):
    event, sessions = programme
    event.registration_closes_at = None
    data = RegistrationInput(
        name="Ada", email="ada@example.org", session_ids=[sessions[0].id], consent=True
    )
    result = registration_service.register(event, data, now)
    db.session.commit()
    [registration] = result.registrations
    for session in sessions:  # the same registration, moved through every time in turn
        registration.session = session
        data = calendar.invitation(registration, now=now)
        parse_ics(data, "REQUEST")
        assert instants(data) == expected([session]), session.title
    feed = calendar.personal_feed(result.attendee, "Mine")
    assert list(instants(feed).values()) == [(sessions[-1].starts_at, sessions[-1].ends_at)]


def test_the_vtimezone_starts_daylight_time_at_two_in_the_night(programme):
    event, sessions = programme
    text = calendar.programme_feed(event, sessions).decode()
    daylight = text.split("BEGIN:DAYLIGHT\r\n")[1:]
    assert daylight, "no DAYLIGHT part"
    onsets = {part.split("DTSTART:")[1][:15] for part in daylight}
    assert "20270328T020000" in onsets  # RFC 5545: the local time before the change
    standard = {p.split("DTSTART:")[1][:15] for p in text.split("BEGIN:STANDARD\r\n")[1:]}
    assert "20271031T030000" in standard
