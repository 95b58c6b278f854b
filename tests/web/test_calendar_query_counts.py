"""Calendar data costs a fixed number of SQL queries, however many sessions an attendee has.

The personal feed's first request per process (before its body is cached under its ETag)
used to lazy-load each registration's session, room and speakers: 30 statements for 9
sessions. The mail worker's invitations and cancellations must not do that either.
docs/PERFORMANCE.md has the numbers.
"""

import pytest
from sqlalchemy import select

from eventapp.calendar.views import _bodies
from eventapp.extensions import db
from eventapp.models import Attendee, OutboxMessage, Speaker
from eventapp.services import calendar
from eventapp.services.links import feed_token
from eventapp.services.mail.render import render
from eventapp.services.registration import register as service
from eventapp.services.registration.register import RegistrationInput
from tests.ical_checks import parse_ics
from tests.query_counter import QueryCounter

# The cold feed: the attendee (with its event), the time of its last change (Last-Modified,
# DTSTAMP), the version's three narrow queries, then
# the registrations with their sessions and rooms, and the speakers.
PERSONAL_FEED_COLD_MAX = 7


def _fresh_session() -> None:
    """Start each request as production does, with nothing already in the identity map."""
    db.session.remove()


def _sessions_with_rooms_and_speakers(event, count, make_session, make_room):
    """Each session in its own room with 2 speakers: every lazy relationship would cost a
    query per session."""
    sessions = []
    for index in range(count):
        room = make_room(event, f"Studio {index}")
        session = make_session(
            event, start=index * 0.75, hours=0.5, room=room, title=f"Talk {index}"
        )
        session.description = f"About talk {index}"
        session.speakers = [
            Speaker(event=event, name=f"Speaker {index}-{n}", organisation="TNO" if n else "")
            for n in range(2)
        ]
        sessions.append(session)
    db.session.commit()
    return sessions


@pytest.fixture
def attendees(make_event, make_session, make_room, now):
    """Two attendees of one event: one with 1 session, one with 9."""
    event = make_event()
    sessions = _sessions_with_rooms_and_speakers(event, 9, make_session, make_room)
    one = _register(event, sessions[:1], now, "one@example.org")
    nine = _register(event, sessions, now, "nine@example.org")
    return one, nine


def _register(event, sessions, now, email):
    data = RegistrationInput(
        name="Ada", email=email, session_ids=[s.id for s in sessions], consent=True, locale="en"
    )
    attendee = service.register(event, data, now).attendee
    db.session.commit()
    return attendee.id, feed_token(attendee)


def _cold_feed(client, token: str) -> tuple[int, bytes]:
    """The feed's statements and body when its body is not cached yet."""
    return _cold_get(client, f"/calendar/{token}.ics")


def _cold_count(client, url: str) -> int:
    return _cold_get(client, url)[0]


def _cold_get(client, url: str) -> tuple[int, bytes]:
    """A calendar's statements and body with no body cached (`_bodies` keeps the last ones
    built, by version) and nothing in the identity map, as a fresh worker would see."""
    _fresh_session()
    _bodies.items.clear()
    with QueryCounter(db.engine) as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count, response.data


def _lazy_registrations(attendee):
    """The old way: the attendee's registrations, each session, room and speakers loaded
    on first touch (the control, and the reference the eager feed is compared with)."""
    return [r for r in attendee.registrations if r.status in ("confirmed", "cancelled")]


def _vevents(body: bytes) -> list[list[tuple]]:
    parsed = parse_ics(body, "PUBLISH")
    return [
        [(line.name, line.value, line.params) for line in vevent.lines()]
        for vevent in parsed.contents["vevent"]
    ]


def test_cold_personal_feed_costs_the_same_queries_for_1_or_9_sessions(client, attendees):
    (_, one), (_, nine) = attendees
    client.get(f"/calendar/{one}.ics")  # warms per-process caches (VTIMEZONE, Babel)

    with_one, _body = _cold_feed(client, one)
    with_nine, body = _cold_feed(client, nine)

    assert with_nine == with_one
    assert with_one <= PERSONAL_FEED_COLD_MAX, with_one
    assert len(_vevents(body)) == 9


def test_eager_feed_is_the_lazy_feed_byte_for_byte_and_the_lazy_one_is_counted(
    client, attendees, now, monkeypatch
):
    (_, one), (nine_id, nine) = attendees
    attendee = db.session.get(Attendee, nine_id)
    service.cancel_session(attendee, attendee.registrations[4].session_id, now)  # kept, cancelled
    db.session.commit()
    client.get(f"/calendar/{one}.ics")

    eager_count, eager = _cold_feed(client, nine)
    monkeypatch.setattr(calendar, "personal_feed_registrations", _lazy_registrations)
    lazy_one, _body = _cold_feed(client, one)
    lazy_nine, lazy = _cold_feed(client, nine)

    assert eager == lazy
    assert _vevents(eager) == _vevents(lazy)
    statuses = [dict((n, v) for n, v, _p in lines)["STATUS"] for lines in _vevents(eager)]
    assert statuses.count("CANCELLED") == 1 and len(statuses) == 9
    assert b"Speaker 8-1 (TNO)" in eager and b"Studio 8" in eager
    # The control: the counter does see the per-row loads of the lazy path.
    assert lazy_nine >= lazy_one + 8 * 2, (lazy_one, lazy_nine)
    assert eager_count < lazy_nine


def test_cold_programme_feed_and_session_file_cost_the_same_queries_for_1_or_9_sessions(
    client, make_event, make_session, make_room
):
    """Already eager (programme.sessions_of); kept so, like the personal feed."""
    counts = []
    for size in (1, 9):
        event = make_event()
        sessions = _sessions_with_rooms_and_speakers(event, size, make_session, make_room)
        slug, last_id = event.slug, sessions[-1].id
        counts.append(
            (
                _cold_count(client, f"/events/{slug}/calendar.ics"),
                _cold_count(client, f"/events/{slug}/sessions/{last_id}.ics"),
            )
        )
    assert counts[0] == counts[1], counts


def _calendar_events(outgoing) -> int:
    """VEVENTs carried by an email and the calendar-only emails that follow it."""
    parts = [p for m in outgoing.all_messages for p in [m.itip, *m.calendar_parts] if p]
    return sum(part.data.count(b"BEGIN:VEVENT") for part in parts)


@pytest.mark.parametrize("kind", ["confirmation", "cancelled"])
def test_mail_calendar_parts_cost_the_same_queries_for_1_or_9_sessions(app, attendees, now, kind):
    """The mail worker renders an outbox row with every session in calendar data (a schedule
    file for a confirmation, a CANCEL per session for a cancellation): the same statements
    for 1 or 9."""
    counts = []
    for attendee_id, _token in attendees:
        if kind == "cancelled":
            service.cancel_registration(db.session.get(Attendee, attendee_id), now)
            db.session.commit()
        message_id = db.session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.attendee_id == attendee_id, OutboxMessage.kind == kind
            )
        )
        _fresh_session()
        with app.test_request_context("/", base_url="http://localhost"):
            message = db.session.get(OutboxMessage, message_id)
            with QueryCounter(db.engine) as counter:
                outgoing = render(message, now)
        counts.append((counter.count, _calendar_events(outgoing)))
    assert [events for _count, events in counts] == [1, 9]
    assert counts[0][0] == counts[1][0], counts
