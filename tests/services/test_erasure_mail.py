"""Issue 17, item 5: erasing an attendee first cancels their sessions in their calendar.

Read from a real SMTP server: the CANCELs carry the UIDs of the confirmation's calendar data
with a higher SEQUENCE, in the MIME layout of docs/CALENDAR.md, read alike by icalendar,
vobject and ical.js; the outbox row holds the address only until it is sent (every column
of every table is searched afterwards); past sessions get none, and neither does an event
anonymised after it ended.
"""

import threading
from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import Attendee, OutboxMessage
from eventapp.services import privacy
from eventapp.services.mail.outbox import ERASED_RECIPIENT, ERASURE_KIND
from eventapp.services.mail.worker import send_pending
from eventapp.services.programme import schedule
from eventapp.services.registration import register as service
from tests import registering
from tests.calendar_parsers import agreed, icaljs_available
from tests.ical_checks import parse_ics
from tests.mail_layout import calendar_method, check_layout
from tests.mailserver import SmtpServer

NAME = "Zoë; de \\ Vries, 🤖"
ADDRESS = "zoe.devries@example.org"


def register(event, sessions, now, email=ADDRESS, *, waitlist=False):
    """Zoë, in Dutch, with a seat or (waitlist=True) a place on the waiting list."""
    return registering.register(
        event,
        sessions,
        now,
        email,
        waitlist=waitlist,
        locale="nl",
        name=NAME,
        organisation="Vries & Zonen",
    )


def calendar_objects(message) -> list[tuple[str, bytes]]:
    """(METHOD, data) of every calendar object of an email, checked against the layout."""
    itip, attachments = check_layout(message)
    if itip is None:
        return attachments
    data = itip.get_payload(decode=True)
    return [(calendar_method(data), data), *attachments]


def versions(data: bytes) -> dict[str, tuple[int, str]]:
    """UID -> (SEQUENCE, STATUS) of every VEVENT."""
    calendar = icalendar.Calendar.from_ical(data)
    return {
        str(e["UID"]): (int(e.get("SEQUENCE", 0)), str(e["STATUS"]))
        for e in calendar.walk("VEVENT")
    }


def everything_stored() -> str:
    """Every column of every row of every table, as text: where a leftover would show."""
    texts = []
    for table in db.metadata.sorted_tables:
        texts += [repr(tuple(row)) for row in db.session.execute(table.select())]
    return "\n".join(texts)


@pytest.fixture
def programme(make_event, make_session):
    event = make_event(name="Smart Industry; 2027", organiser_email="info@example.org")
    sessions = [make_session(event, start=hour, title=f"Workshop {hour}") for hour in (0, 2, 4)]
    return event, sessions


def sent_to(smtp_server, address):
    return [m for m in smtp_server.messages if address in str(m["To"])]


@pytest.mark.skipif(not icaljs_available(), reason="ical.js: make install-test")
@pytest.mark.parametrize("held", [1, 3])
def test_erasure_cancels_what_the_confirmation_put_in_the_calendar(
    app, smtp_server, programme, now, held
):
    """One session: its REQUEST; several: the PUBLISH schedule file. Either way the CANCELs
    name the same UIDs with a higher SEQUENCE and reach the attendee before the address is
    gone, one iTIP object per email (the first in the message, the rest in followers)."""
    event, sessions = programme
    attendee = register(event, sessions[:held], now)
    assert send_pending(now=now).sent == 1
    [confirmation] = smtp_server.messages
    confirmed = {}
    for _method, data in calendar_objects(confirmation):
        confirmed |= versions(data)
    assert len(confirmed) == held

    privacy.erase_attendee(db.session.get(Attendee, attendee.id), now)
    db.session.commit()
    assert send_pending(now=now).sent == 1

    emails = sent_to(smtp_server, ADDRESS)[1:]
    assert len(emails) == held  # the email and its calendar-only followers
    assert emails[0]["Subject"] == f"Je gegevens voor {event.name} zijn verwijderd"
    assert "Zoë" in emails[0].get_body(("plain",)).get_content()
    cancelled = {}
    for message in emails:
        [(method, data)] = [o for o in calendar_objects(message) if o[0] != "PUBLISH"][:1]
        assert method == "CANCEL"
        parse_ics(data, "CANCEL")  # STATUS:CANCELLED, ORGANIZER, ATTENDEE, no VALARM
        assert f"mailto:{ADDRESS}" in icalendar.Calendar.from_ical(data).to_ical().decode()
        cancelled |= versions(data)
        for reading in agreed(data):  # icalendar, vobject and ical.js alike
            session = next(s for s in sessions if s.title == reading.summary)
            assert (reading.start, reading.end) == (session.starts_at, session.ends_at)
    assert set(cancelled) == set(confirmed)
    for uid, (sequence, status) in cancelled.items():
        assert status == "CANCELLED"
        assert sequence > confirmed[uid][0]


def test_after_sending_the_address_is_gone_from_every_table(app, smtp_server, programme, now):
    event, sessions = programme
    attendee = register(event, sessions[:2], now)
    send_pending(now=now)
    privacy.erase_attendee(db.session.get(Attendee, attendee.id), now)
    db.session.commit()

    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == ERASURE_KIND))
    assert (row.recipient, row.locale, row.attendee_id) == (ADDRESS, "nl", None)
    assert ADDRESS in everything_stored()  # held until it is sent, and only there

    assert send_pending(now=now).sent == 1
    stored = everything_stored()
    for personal in (ADDRESS, "zoe.devries", "Zoë", "Vries"):
        assert personal not in stored
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert (row.status, row.recipient, row.payload) == ("sent", ERASED_RECIPIENT, {})


class RefusingHandler:
    """A mail server that refuses the attendee's address for good."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address == ADDRESS:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_erasure_email_forgets_the_address_too(app, programme, now):
    """Given up (the server refuses the address for good): nothing will ever be sent, so the
    row forgets the address, in its error text as well."""
    event, sessions = programme
    attendee = register(event, sessions[:1], now)  # its confirmation is never sent
    privacy.erase_attendee(db.session.get(Attendee, attendee.id), now)
    db.session.commit()
    server = SmtpServer()
    server.handler = RefusingHandler()
    server.start()
    server.configure(app)
    try:
        assert send_pending(now=now).failed == 1
    finally:
        server.stop()

    stored = everything_stored()
    assert ADDRESS not in stored and "Zoë" not in stored
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == ERASURE_KIND))
    assert row.status == "failed" and "550" in row.last_error
    assert ERASED_RECIPIENT in row.last_error


def test_sessions_that_have_ended_get_no_cancel(app, smtp_server, programme, now):
    """Erased during the event: only what is still to come leaves their calendar."""
    event, sessions = programme
    attendee = register(event, sessions, now)
    send_pending(now=now)
    during = sessions[1].starts_at + timedelta(minutes=10)  # the first is over, one running

    privacy.erase_attendee(db.session.get(Attendee, attendee.id), during)
    db.session.commit()
    send_pending(now=during)

    emails = sent_to(smtp_server, ADDRESS)[1:]
    uids = set()
    for message in emails:
        for method, data in calendar_objects(message):
            assert method == "CANCEL"
            uids |= set(versions(data))
    assert uids == {
        f"reg-{attendee.id}-session-{s.id}@{app.config['UID_DOMAIN']}" for s in sessions[1:]
    }


def test_nothing_in_a_calendar_means_no_email(app, smtp_server, programme, now):
    """A cancelled registration (its CANCELs went out then), a waiting-list place, or an
    event that is over: erasing sends nothing."""
    event, sessions = programme
    full = sessions[0]
    full.capacity = 0
    db.session.commit()
    waiting = register(event, [full], now, email="waiting@example.org", waitlist=True)
    cancelled = register(event, sessions[1:2], now, email="cancelled@example.org")
    service.cancel_registration(db.session.get(Attendee, cancelled.id), now)
    after = register(event, sessions[2:], now, email="after@example.org")
    db.session.commit()
    send_pending(now=now)
    before = len(smtp_server.messages)

    privacy.erase_attendee(db.session.get(Attendee, waiting.id), now)
    privacy.erase_attendee(db.session.get(Attendee, cancelled.id), now)
    privacy.erase_attendee(db.session.get(Attendee, after.id), event.ends_at + timedelta(hours=1))
    db.session.commit()

    assert not db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == ERASURE_KIND)
    ).all()
    assert send_pending(now=now).sent == 0 and len(smtp_server.messages) == before


def test_retention_anonymises_a_past_event_without_cancels(app, smtp_server, programme, now):
    event, sessions = programme
    register(event, sessions[:2], now)
    send_pending(now=now)
    event.retention_days = 30
    db.session.commit()
    later = event.ends_at + timedelta(days=31)

    assert privacy.apply_retention(later) == 1
    db.session.commit()

    assert send_pending(now=later).sent == 0
    assert ADDRESS not in everything_stored()


def test_a_session_changed_after_the_erasure_is_cancelled_with_its_newer_sequence(
    app, smtp_server, programme, now
):
    """The row holds the SEQUENCE of the erasure; an organiser's change before it is sent
    raises the session's, and the CANCEL must still be the newest version."""
    event, sessions = programme
    attendee = register(event, sessions[:1], now)
    send_pending(now=now)
    privacy.erase_attendee(db.session.get(Attendee, attendee.id), now)
    db.session.commit()
    session = sessions[0]
    schedule.update_session(None, session, {"title": "Cobots and twins"}, now)
    db.session.commit()
    assert send_pending(now=now).sent == 1

    [message] = sent_to(smtp_server, ADDRESS)[1:]
    [(method, data)] = calendar_objects(message)[:1]
    [(sequence, _status)] = versions(data).values()
    assert method == "CANCEL"
    assert sequence == session.sequence + 1
